#pragma once
// Azure Storage credentials, in the order dbt-orchestra documents: the connection string,
// then DefaultAzureCredential's chain as far as it applies to a CLI.
#include <map>
#include <optional>
#include <string>

namespace orc {
struct Environment;
}

namespace orc::remote {

/// An Azure Storage connection string (`Key=Value;...`) with lower-cased keys; values keep
/// any '=' they contain (SAS tokens, base64 keys).
std::map<std::string, std::string> parse_azure_connection_string(const std::string& text);

/// Where credentials come from, first configured wins.
enum class AzureCredentialSource {
  ConnectionString,  ///< AZURE_STORAGE_CONNECTION_STRING (AccountKey or SharedAccessSignature)
  AccountKey,        ///< AZURE_STORAGE_KEY (SharedKey for the URI's account)
  SasToken,          ///< AZURE_STORAGE_SAS_TOKEN
  ServicePrincipal,  ///< AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + AZURE_TENANT_ID
  WorkloadIdentity,  ///< AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID
  ManagedIdentity,   ///< IDENTITY_ENDPOINT (App Service) or IMDS at 169.254.169.254
};

/// How requests are authorized once a source is chosen.
enum class AzureAuthKind { SharedKey, Sas, Bearer };

/// The chosen source and everything needed to use it (no network involved yet).
struct AzureCredentialPlan {
  AzureCredentialSource source = AzureCredentialSource::ManagedIdentity;
  AzureAuthKind kind = AzureAuthKind::Bearer;
  std::string endpoint;     ///< Blob service endpoint, e.g. https://acct.blob.core.windows.net
  std::string account_key;  ///< SharedKey: base64 account key
  std::string sas;          ///< Sas: the token, without '?'
  std::string tenant_id, client_id, client_secret, federated_token_file;
  std::string authority;          ///< AZURE_AUTHORITY_HOST or https://login.microsoftonline.com
  std::string identity_endpoint;  ///< App Service IDENTITY_ENDPOINT, or "" for IMDS
  std::string identity_header;    ///< App Service IDENTITY_HEADER
  std::string description;        ///< for debug lines, never a secret
};

/// Picks the first configured source for `account` (no network). `default_endpoint` is used
/// unless a connection string names a BlobEndpoint (or EndpointSuffix/protocol). Throws
/// orc::Error naming `purpose` when a connection string is for another account or carries
/// neither AccountKey nor SharedAccessSignature. Registers every secret it sees for
/// redaction.
AzureCredentialPlan choose_azure_credential(const Environment& env, const std::string& account,
                                            const std::string& default_endpoint,
                                            const std::string& purpose);

/// The bearer token for a ServicePrincipal, WorkloadIdentity or ManagedIdentity plan (scope
/// https://storage.azure.com/). Throws orc::Error naming `purpose` and the token endpoint.
std::string acquire_azure_token(const AzureCredentialPlan& plan, const std::string& purpose);

}  // namespace orc::remote
