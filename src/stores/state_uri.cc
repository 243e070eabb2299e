#include "stores/state_uri.h"

#include <fmt/format.h>

#include "core/error.h"

namespace orc::remote {

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// Splits "bucket/key..." into bucket and key; both must be non-empty.
void split_bucket_key(const std::string& rest, const std::string& original, const char* shape,
                      StateUri& uri) {
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size())
    throw Error(fmt::format("state location {} is not a valid URI: expected {}", original, shape));
  uri.bucket = rest.substr(0, slash);
  uri.key = rest.substr(slash + 1);
}

}  // namespace

StateUri parse_state_uri(const std::string& location) {
  StateUri uri;
  uri.original = location;
  if (starts_with(location, "s3://")) {
    uri.kind = StateUriKind::S3;
    split_bucket_key(location.substr(5), location, "s3://bucket/key", uri);
  } else if (starts_with(location, "gs://")) {
    uri.kind = StateUriKind::Gcs;
    split_bucket_key(location.substr(5), location, "gs://bucket/path", uri);
  } else if (starts_with(location, "abfs://") || starts_with(location, "abfss://")) {
    uri.kind = StateUriKind::Azure;
    const char* shape = "abfss://container@account.dfs.core.windows.net/path";
    std::string rest = location.substr(location.find("://") + 3);
    split_bucket_key(rest, location, shape, uri);  // bucket = "container@host"
    std::string authority = uri.bucket;
    auto at = authority.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= authority.size())
      throw Error(fmt::format("state location {} is not a valid URI: expected {}", location, shape));
    uri.bucket = authority.substr(0, at);
    std::string host = authority.substr(at + 1);
    auto dot = host.find('.');
    if (dot == 0)
      throw Error(fmt::format("state location {} is not a valid URI: expected {}", location, shape));
    uri.account = host.substr(0, dot);
    uri.host = host;
  }
  return uri;
}

}  // namespace orc::remote
