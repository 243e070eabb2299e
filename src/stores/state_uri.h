#pragma once
// Which kind of store a state location names: s3://, gs://, abfs(s):// or a local path.
#include <string>

namespace orc::remote {

enum class StateUriKind { LocalPath, S3, Gcs, Azure };

/// A parsed state location.
struct StateUri {
  StateUriKind kind = StateUriKind::LocalPath;
  std::string original;
  std::string bucket;   ///< S3/GCS bucket, Azure container
  std::string key;      ///< object key / blob path (no leading '/')
  std::string account;  ///< Azure storage account (from `container@account.dfs.core.windows.net`)
  std::string host;     ///< Azure: the authority's host (`account.dfs.core.windows.net`)
};

/// Parses `location`. URIs must name a bucket (container@account for Azure) and a non-empty
/// key; a malformed URI throws orc::Error naming it and the expected shape. Anything without
/// a known scheme is a local path.
StateUri parse_state_uri(const std::string& location);

}  // namespace orc::remote
