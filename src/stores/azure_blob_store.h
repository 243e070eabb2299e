#pragma once
// State as one Azure block blob: GET with ETag, merge, conditional PUT (If-Match /
// If-None-Match: *), under the retry policy every object store shares.
#include <map>
#include <optional>
#include <string>

#include "stores/cloud/azure_credentials.h"
#include "stores/conditional_save.h"
#include "stores/state_store.h"

namespace orc {
struct Environment;
}

namespace orc::remote {

/// The Blob endpoint for an `abfs(s)://container@host/...` authority host: `dfs.` becomes
/// `blob.` (https://acct.blob.core.windows.net); both schemes use TLS.
std::string azure_default_blob_endpoint(const std::string& account, const std::string& host);

/// The URL of a blob: `{endpoint}/{container}/{blob}` (blob path percent-encoded, '/' kept).
std::string azure_blob_url(const std::string& endpoint, const std::string& container,
                           const std::string& blob);

class AzureBlobStore : public StateStore {
 public:
  /// Keeps a copy of `env`; credentials are chosen on first use. `original` is the URI as
  /// configured (named in messages).
  AzureBlobStore(std::string original, std::string account, std::string host,
                 std::string container, std::string blob, const Environment& env);
  std::string describe() const override;
  /// Missing blob (404 BlobNotFound) -> empty state; anything else that is not 200 (missing
  /// container, 403, network failure) -> orc::Error naming the URI and the status/error code.
  State load() override;
  /// Re-GET (ETag), merge, PUT with If-Match (If-None-Match: * when absent); 412/409 start
  /// over under update_with_retries, anything else -> orc::Error, nothing written.
  void update(const std::function<void(State&)>& change) override;

 private:
  /// GET with transient retries; the version is the ETag.
  ObjectSnapshot fetch();
  /// A request for the blob with date, version, `extra` headers and the authorization.
  HttpRequest authorized_request(const std::string& method, const std::string& body,
                                 std::vector<std::pair<std::string, std::string>> extra);
  const AzureCredentialPlan& plan();

  std::string original_, account_, host_, container_, blob_;
  std::map<std::string, std::string> env_vars_;
  std::optional<AzureCredentialPlan> plan_;
  std::string token_;  ///< bearer token, once acquired
};

}  // namespace orc::remote
