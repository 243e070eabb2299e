#include "state/state_location.h"

#include <fmt/format.h>

#include "core/error.h"

namespace orc {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

[[noreturn]] void malformed(const std::string& value, const std::string& origin,
                            const char* expected) {
  throw Error(fmt::format("state location \"{}\" (from {}) is malformed: expected {}", value,
                          origin, expected));
}

/// Splits "bucket/key..." into bucket and key; both must be non-empty.
bool split_bucket_key(const std::string& rest, std::string& bucket, std::string& key) {
  auto slash = rest.find('/');
  if (slash == std::string::npos) return false;
  bucket = rest.substr(0, slash);
  key = rest.substr(slash + 1);
  return !bucket.empty() && !key.empty() && key.back() != '/';
}

}  // namespace

StateLocation parse_state_location(const std::string& value, const std::string& origin) {
  StateLocation loc;
  if (starts_with(value, "s3://")) {
    loc.kind = StateLocationKind::S3;
    if (!split_bucket_key(value.substr(5), loc.bucket, loc.key))
      malformed(value, origin, "s3://<bucket>/<key>, e.g. s3://my-bucket/orc/state.json");
    return loc;
  }
  if (starts_with(value, "gs://")) {
    loc.kind = StateLocationKind::Gcs;
    if (!split_bucket_key(value.substr(5), loc.bucket, loc.key))
      malformed(value, origin, "gs://<bucket>/<object>, e.g. gs://my-bucket/orc/state.json");
    return loc;
  }
  if (starts_with(value, "abfs://") || starts_with(value, "abfss://")) {
    loc.kind = StateLocationKind::Azure;
    const char* expected =
        "abfs[s]://<container>@<account>.dfs.core.windows.net/<path>, e.g. "
        "abfss://state@myaccount.dfs.core.windows.net/orc/state.json";
    std::string rest = value.substr(value.find("://") + 3);
    auto at = rest.find('@');
    auto slash = rest.find('/');
    if (at == std::string::npos || slash == std::string::npos || at > slash)
      malformed(value, origin, expected);
    loc.bucket = rest.substr(0, at);
    loc.host = rest.substr(at + 1, slash - at - 1);
    loc.key = rest.substr(slash + 1);
    loc.account = loc.host.substr(0, loc.host.find('.'));
    if (loc.bucket.empty() || loc.account.empty() || loc.host.find('.') == std::string::npos ||
        loc.key.empty() || loc.key.back() == '/')
      malformed(value, origin, expected);
    return loc;
  }
  loc.path = value;
  return loc;
}

}  // namespace orc
