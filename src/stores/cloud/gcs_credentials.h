#pragma once
// Google Cloud Storage credentials in Application Default Credentials order, and the RS256
// JWT assertion a service-account key is exchanged with.
#include <cstdint>
#include <string>

namespace orc {
struct Environment;
}

namespace orc::remote {

/// Where credentials come from, first found wins.
enum class GcsCredentialSource {
  Emulator,         ///< STORAGE_EMULATOR_HOST: no credentials at all
  EnvironmentFile,      ///< GOOGLE_APPLICATION_CREDENTIALS
  GcloudAdcFile,        ///< ~/.config/gcloud/application_default_credentials.json
  MetadataServer,       ///< GCE metadata server (GCE_METADATA_HOST overrides the host)
};

/// The chosen source and, for files, the path and its `type` (no network involved yet).
struct GcsCredentialPlan {
  GcsCredentialSource source = GcsCredentialSource::MetadataServer;
  std::string file;  ///< key file (EnvironmentFile / GcloudAdcFile)
  std::string type;  ///< service_account, authorized_user, external_account
  std::string metadata_host;  ///< metadata.google.internal or GCE_METADATA_HOST
  std::string description;    ///< for messages, never a secret
};

/// Picks the first configured source (no network): STORAGE_EMULATOR_HOST, then
/// GOOGLE_APPLICATION_CREDENTIALS (must exist), then the gcloud ADC file under
/// CLOUDSDK_CONFIG or ~/.config/gcloud, then the metadata server. Throws orc::Error naming
/// `purpose` for an unreadable or malformed key file.
GcsCredentialPlan choose_gcs_credential(const Environment& env, const std::string& purpose);

/// A signed JWT bearer assertion (RFC 7523) for a service account: header
/// {"alg":"RS256","typ":"JWT","kid":key_id}, claims iss=email, scope, aud=token_uri,
/// iat=now, exp=now+3600; signed RS256 with the PEM `private_key`. Throws orc::Error
/// (without the key) when the key cannot be read or signing fails.
std::string gcs_jwt_assertion(const std::string& email, const std::string& key_id,
                              const std::string& private_key_pem,
                              const std::string& token_uri, const std::string& scope,
                              int64_t now_seconds);

/// The access token for a non-emulator plan: service-account JWT exchanged at its token_uri,
/// an authorized_user refresh token exchanged at its token_uri, or the metadata server's
/// token. Throws orc::Error naming `purpose` (external_account: not supported, said so).
std::string acquire_gcs_token(const GcsCredentialPlan& plan, const std::string& purpose);

}  // namespace orc::remote
