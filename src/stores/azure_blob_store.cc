#include "stores/azure_blob_store.h"

#include <fmt/format.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "stores/cloud/aws_sigv4.h"
#include "stores/cloud/azure_shared_key.h"
#include "stores/cloud/http_client.h"
#include "stores/cloud/url_parts.h"
#include "stores/cloud/xml_text.h"

namespace orc::remote {

namespace {

constexpr const char* kApiVersion = "2021-08-06";

/// The storage error code: the x-ms-error-code header, else <Code> in an XML body, else "".
std::string azure_error_code(const HttpResponse& r) {
  std::string code = r.header("x-ms-error-code");
  if (!code.empty()) return code;
  return xml_element_text(r.body, "Code");
}

std::string describe_failure(const HttpResponse& r) {
  if (r.status == 0) return "network error: " + r.network_error;
  std::string code = azure_error_code(r);
  return code.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {} {}", r.status, code);
}

}  // namespace

std::string azure_default_blob_endpoint(const std::string& account, const std::string& host) {
  std::string blob_host = host;
  std::string dfs = account + ".dfs.";
  if (blob_host.rfind(dfs, 0) == 0)
    blob_host = account + ".blob." + blob_host.substr(dfs.size());
  else if (blob_host.find('.') == std::string::npos)
    blob_host = account + ".blob.core.windows.net";
  return "https://" + blob_host;
}

std::string azure_blob_url(const std::string& endpoint, const std::string& container,
                           const std::string& blob) {
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/{}/{}", base, aws_uri_encode(container, false),
                     aws_uri_encode(blob, true));
}

AzureBlobStore::AzureBlobStore(std::string original, std::string account, std::string host,
                               std::string container, std::string blob, const Environment& env)
    : original_(std::move(original)),
      account_(std::move(account)),
      host_(std::move(host)),
      container_(std::move(container)),
      blob_(std::move(blob)),
      env_vars_(env.vars) {}

std::string AzureBlobStore::describe() const { return original_; }

const AzureCredentialPlan& AzureBlobStore::plan() {
  if (!plan_) {
    plan_ = choose_azure_credential(Environment{env_vars_}, account_,
                                    azure_default_blob_endpoint(account_, host_), describe());
    log_debug("Azure credentials for {} from {}, endpoint {}", describe(), plan_->description,
              plan_->endpoint);
  }
  return *plan_;
}

HttpRequest AzureBlobStore::authorized_request(
    const std::string& method, const std::string& body,
    std::vector<std::pair<std::string, std::string>> extra) {
  const AzureCredentialPlan& p = plan();
  if (p.kind == AzureAuthKind::Bearer && token_.empty()) token_ = acquire_azure_token(p, describe());
  std::string url = azure_blob_url(p.endpoint, container_, blob_);
  HttpRequest req;
  req.method = method;
  req.body = body;
  req.headers = {{"x-ms-date", rfc1123_date_now()}, {"x-ms-version", kApiVersion}};
  for (auto& h : extra) req.headers.push_back(std::move(h));
  switch (p.kind) {
    case AzureAuthKind::SharedKey: {
      AzureSignRequest sig;
      sig.method = method;
      sig.account = account_;
      sig.path = split_url(url).path;
      sig.headers = req.headers;
      sig.content_length = body.size();
      req.headers.emplace_back("Authorization", azure_shared_key_authorization(sig, p.account_key));
      break;
    }
    case AzureAuthKind::Sas:
      url = append_sas(url, p.sas);
      break;
    case AzureAuthKind::Bearer:
      req.headers.emplace_back("Authorization", "Bearer " + token_);
      break;
  }
  req.url = url;
  return req;
}

ObjectSnapshot AzureBlobStore::fetch() {
  HttpResponse r = perform_with_transient_retries(
      [&] { return authorized_request("GET", "", {}); }, "GET " + describe());
  std::string code = azure_error_code(r);
  if (r.status == 404 && (code == "BlobNotFound" || code.empty())) {
    log_debug("{} does not exist yet: starting from empty state", describe());
    return ObjectSnapshot{State{}, std::nullopt};
  }
  if (r.status != 200) {
    std::string hint;
    if (r.status == 403)
      hint = " (check the Azure credentials and their access to the container)";
    if (code == "ContainerNotFound") hint = " (does the container exist?)";
    throw Error(fmt::format("cannot read state from {}: {}{}", describe(), describe_failure(r), hint));
  }
  return ObjectSnapshot{parse_state(r.body, describe()), r.header("etag")};
}

State AzureBlobStore::load() { return fetch().state; }

void AzureBlobStore::update(const std::function<void(State&)>& change) {
  update_with_retries(
      change, describe(), [&] { return fetch(); },
      [&](const State& merged, const ObjectSnapshot& snap) {
        std::vector<std::pair<std::string, std::string>> headers = {
            {"x-ms-blob-type", "BlockBlob"}, {"Content-Type", "application/json"}};
        if (!snap.version)
          headers.emplace_back("If-None-Match", "*");
        else if (!snap.version->empty())
          headers.emplace_back("If-Match", *snap.version);
        HttpResponse r =
            http_perform(authorized_request("PUT", serialize_state(merged), headers));
        if (r.ok()) return WriteAttempt{true, ""};
        if (r.status == 412 || r.status == 409) return WriteAttempt{false, describe_failure(r)};
        throw Error(fmt::format("cannot write state to {}: {}; the stored state is unchanged",
                                describe(), describe_failure(r)));
      });
}

}  // namespace orc::remote
