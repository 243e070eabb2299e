#include "stores/cloud/azure_credentials.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "stores/cloud/aws_sigv4.h"
#include "stores/cloud/oauth_token.h"

namespace orc::remote {

namespace {

constexpr const char* kStorageScope = "https://storage.azure.com/.default";
constexpr const char* kStorageResource = "https://storage.azure.com/";
// Azurite's documented well-known development account.
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string strip_question_mark(const std::string& sas) {
  return !sas.empty() && sas.front() == '?' ? sas.substr(1) : sas;
}

std::string get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

AzureCredentialPlan from_connection_string(const std::string& text, const std::string& account,
                                           const std::string& default_endpoint,
                                           const std::string& purpose) {
  add_log_secret(text);
  auto cs = parse_azure_connection_string(text);
  AzureCredentialPlan plan;
  plan.source = AzureCredentialSource::ConnectionString;
  plan.endpoint = default_endpoint;
  std::string cs_account = get(cs, "accountname");
  if (get(cs, "usedevelopmentstorage") == "true") {
    cs_account = kDevAccount;
    cs["accountkey"] = kDevKey;
    plan.endpoint = fmt::format("http://127.0.0.1:10000/{}", kDevAccount);
  }
  if (!cs_account.empty() && cs_account != account)
    throw Error(fmt::format(
        "AZURE_STORAGE_CONNECTION_STRING is for storage account {}, but the state location {} "
        "is on account {}",
        cs_account, purpose, account));
  if (auto blob = get(cs, "blobendpoint"); !blob.empty()) {
    plan.endpoint = blob;
  } else if (auto suffix = get(cs, "endpointsuffix"); !suffix.empty() && !cs_account.empty()) {
    std::string protocol = get(cs, "defaultendpointsprotocol");
    plan.endpoint = fmt::format("{}://{}.blob.{}", protocol.empty() ? "https" : protocol,
                                cs_account, suffix);
  }
  while (!plan.endpoint.empty() && plan.endpoint.back() == '/') plan.endpoint.pop_back();
  if (auto key = get(cs, "accountkey"); !key.empty()) {
    add_log_secret(key);
    plan.kind = AzureAuthKind::SharedKey;
    plan.account_key = key;
    plan.description = "AZURE_STORAGE_CONNECTION_STRING (account key)";
  } else if (auto sas = get(cs, "sharedaccesssignature"); !sas.empty()) {
    plan.kind = AzureAuthKind::Sas;
    plan.sas = strip_question_mark(sas);
    add_log_secret(plan.sas);
    plan.description = "AZURE_STORAGE_CONNECTION_STRING (shared access signature)";
  } else {
    throw Error(fmt::format(
        "AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature "
        "(needed for {})",
        purpose));
  }
  return plan;
}

}  // namespace

std::map<std::string, std::string> parse_azure_connection_string(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    std::string part = trim(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    auto eq = part.find('=');
    if (eq != std::string::npos) {
      std::string key = trim(part.substr(0, eq));
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out[key] = trim(part.substr(eq + 1));
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

AzureCredentialPlan choose_azure_credential(const Environment& env, const std::string& account,
                                            const std::string& default_endpoint,
                                            const std::string& purpose) {
  if (auto cs = env.get_nonempty("AZURE_STORAGE_CONNECTION_STRING"))
    return from_connection_string(*cs, account, default_endpoint, purpose);

  AzureCredentialPlan plan;
  plan.endpoint = default_endpoint;
  if (auto key = env.get_nonempty("AZURE_STORAGE_KEY")) {
    add_log_secret(*key);
    plan.source = AzureCredentialSource::AccountKey;
    plan.kind = AzureAuthKind::SharedKey;
    plan.account_key = *key;
    plan.description = "AZURE_STORAGE_KEY";
    return plan;
  }
  if (auto sas = env.get_nonempty("AZURE_STORAGE_SAS_TOKEN")) {
    plan.source = AzureCredentialSource::SasToken;
    plan.kind = AzureAuthKind::Sas;
    plan.sas = strip_question_mark(*sas);
    add_log_secret(plan.sas);
    plan.description = "AZURE_STORAGE_SAS_TOKEN";
    return plan;
  }
  plan.kind = AzureAuthKind::Bearer;
  plan.authority = env.get_nonempty("AZURE_AUTHORITY_HOST").value_or("https://login.microsoftonline.com");
  while (!plan.authority.empty() && plan.authority.back() == '/') plan.authority.pop_back();
  plan.tenant_id = env.get_nonempty("AZURE_TENANT_ID").value_or("");
  plan.client_id = env.get_nonempty("AZURE_CLIENT_ID").value_or("");
  auto secret = env.get_nonempty("AZURE_CLIENT_SECRET");
  auto token_file = env.get_nonempty("AZURE_FEDERATED_TOKEN_FILE");
  if (secret && !plan.tenant_id.empty() && !plan.client_id.empty()) {
    add_log_secret(*secret);
    plan.source = AzureCredentialSource::ServicePrincipal;
    plan.client_secret = *secret;
    plan.description = fmt::format("service principal {} (AZURE_CLIENT_SECRET)", plan.client_id);
    return plan;
  }
  if (token_file && !plan.tenant_id.empty() && !plan.client_id.empty()) {
    plan.source = AzureCredentialSource::WorkloadIdentity;
    plan.federated_token_file = *token_file;
    plan.description = fmt::format("workload identity {} ({})", plan.client_id, *token_file);
    return plan;
  }
  plan.source = AzureCredentialSource::ManagedIdentity;
  plan.identity_endpoint = env.get_nonempty("IDENTITY_ENDPOINT").value_or("");
  plan.identity_header = env.get_nonempty("IDENTITY_HEADER").value_or("");
  if (!plan.identity_header.empty()) add_log_secret(plan.identity_header);
  plan.description = plan.identity_endpoint.empty()
                         ? "managed identity (IMDS)"
                         : fmt::format("managed identity ({})", plan.identity_endpoint);
  return plan;
}

std::string acquire_azure_token(const AzureCredentialPlan& plan, const std::string& purpose) {
  switch (plan.source) {
    case AzureCredentialSource::ServicePrincipal:
    case AzureCredentialSource::WorkloadIdentity: {
      std::string url = fmt::format("{}/{}/oauth2/v2.0/token", plan.authority, plan.tenant_id);
      std::vector<std::pair<std::string, std::string>> fields = {
          {"grant_type", "client_credentials"}, {"client_id", plan.client_id}, {"scope", kStorageScope}};
      if (plan.source == AzureCredentialSource::ServicePrincipal) {
        fields.emplace_back("client_secret", plan.client_secret);
      } else {
        std::string assertion = trim(read_file(plan.federated_token_file));
        add_log_secret(assertion);
        fields.emplace_back("client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        fields.emplace_back("client_assertion", assertion);
      }
      return fetch_access_token(form_post(url, fields),
                                fmt::format("{} at {}", plan.description, url), purpose);
    }
    case AzureCredentialSource::ManagedIdentity: {
      HttpRequest req;
      req.connect_timeout_ms = 2000;
      req.total_timeout_ms = 10000;
      std::string client = plan.client_id.empty()
                               ? ""
                               : "&client_id=" + aws_uri_encode(plan.client_id, false);
      if (!plan.identity_endpoint.empty()) {
        req.url = fmt::format("{}?api-version=2019-08-01&resource={}{}", plan.identity_endpoint,
                              aws_uri_encode(kStorageResource, false), client);
        req.headers = {{"X-IDENTITY-HEADER", plan.identity_header}};
      } else {
        req.url = fmt::format(
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&"
            "resource={}{}",
            aws_uri_encode(kStorageResource, false), client);
        req.headers = {{"Metadata", "true"}};
      }
      try {
        return fetch_access_token(req, plan.description, purpose, /*attempts=*/1);
      } catch (const Error& e) {
        throw Error(fmt::format(
            "no Azure credentials found for {}: tried AZURE_STORAGE_CONNECTION_STRING, "
            "AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, a service principal "
            "(AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID), workload identity "
            "(AZURE_FEDERATED_TOKEN_FILE) and managed identity, which failed: {}",
            purpose, e.what()));
      }
    }
    default:
      throw Error(fmt::format("internal: no token to acquire for {} ({})", purpose,
                              plan.description));
  }
}

}  // namespace orc::remote
