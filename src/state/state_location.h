#pragma once
// Where a configured state_file / ORCHESTRA_STATE_FILE value points: a local path or an
// object-store URI (s3://, gs://, abfs:// / abfss://).
#include <string>

namespace orc {

enum class StateLocationKind { Local, S3, Gcs, Azure };

/// A parsed state location. Which fields are set depends on `kind`.
struct StateLocation {
  StateLocationKind kind = StateLocationKind::Local;
  std::string path;       ///< Local: the path as configured
  std::string bucket;     ///< S3/GCS bucket; Azure container
  std::string key;        ///< S3 key, GCS object name, Azure blob path (no leading '/')
  std::string account;    ///< Azure storage account (first label of the host)
  std::string host;       ///< Azure endpoint host, e.g. acct.dfs.core.windows.net
};

/// Parses `value`: `s3://bucket/key`, `gs://bucket/object`,
/// `abfs[s]://container@account.dfs.core.windows.net/path`; anything else is a local path.
/// Throws orc::Error naming `origin` and the expected form for a malformed URI (no bucket,
/// no key, no container/account).
StateLocation parse_state_location(const std::string& value, const std::string& origin);

}  // namespace orc
