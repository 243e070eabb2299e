#include "stores/cloud/gcs_credentials.h"

#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include "core/base64.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/timestamp.h"
#include "stores/cloud/oauth_token.h"

namespace orc::remote {
namespace fs = std::filesystem;

namespace {

constexpr const char* kScope = "https://www.googleapis.com/auth/devstorage.read_write";
constexpr const char* kDefaultTokenUri = "https://oauth2.googleapis.com/token";

/// A key file's string fields (simdjson), "" when absent.
struct KeyFile {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string field(const char* name) {
    std::string_view v;
    return doc[name].get(v) ? std::string() : std::string(v);
  }
};

void load_key_file(KeyFile& k, const std::string& path, const std::string& purpose,
                   std::string& text) {
  text = read_file(path);
  if (k.parser.parse(text).get(k.doc))
    throw Error(fmt::format("the Google credentials file {} (for {}) is not valid JSON", path,
                            purpose));
}

std::string rs256_sign(const std::string& pem, const std::string& data) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
      EVP_PKEY_free);
  if (!key) throw Error("the service account's private_key is not a readable PEM private key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    throw Error("RS256 signing failed (OpenSSL)");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    throw Error("RS256 signing failed (OpenSSL)");
  sig.resize(len);
  return sig;
}

std::string token_from_file(const GcsCredentialPlan& plan, const std::string& purpose) {
  KeyFile k;
  std::string text;
  load_key_file(k, plan.file, purpose, text);
  std::string token_uri = k.field("token_uri");
  if (token_uri.empty()) token_uri = kDefaultTokenUri;
  if (plan.type == "service_account") {
    std::string key = k.field("private_key");
    add_log_secret(key);
    std::string assertion = gcs_jwt_assertion(k.field("client_email"), k.field("private_key_id"),
                                              key, token_uri, kScope, now_micros() / 1'000'000);
    add_log_secret(assertion);
    return fetch_access_token(
        form_post(token_uri, {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                              {"assertion", assertion}}),
        fmt::format("service account {} at {}", k.field("client_email"), token_uri), purpose);
  }
  if (plan.type == "authorized_user") {
    std::string secret = k.field("client_secret"), refresh = k.field("refresh_token");
    add_log_secret(secret);
    add_log_secret(refresh);
    return fetch_access_token(
        form_post(token_uri, {{"grant_type", "refresh_token"},
                              {"client_id", k.field("client_id")},
                              {"client_secret", secret},
                              {"refresh_token", refresh}}),
        fmt::format("authorized_user refresh token at {}", token_uri), purpose);
  }
  throw Error(fmt::format(
      "the Google credentials file {} (for {}) is of type \"{}\", which orc does not support "
      "yet (service_account and authorized_user are supported)",
      plan.file, purpose, plan.type));
}

}  // namespace

GcsCredentialPlan choose_gcs_credential(const Environment& env, const std::string& purpose) {
  GcsCredentialPlan plan;
  if (auto host = env.get_nonempty("STORAGE_EMULATOR_HOST")) {
    plan.source = GcsCredentialSource::Emulator;
    plan.description = "STORAGE_EMULATOR_HOST (no credentials)";
    return plan;
  }
  auto with_file = [&](GcsCredentialSource source, const std::string& path) {
    KeyFile k;
    std::string text;
    load_key_file(k, path, purpose, text);
    plan.source = source;
    plan.file = path;
    plan.type = k.field("type");
    plan.description = fmt::format("{} ({})", path, plan.type);
    return plan;
  };
  if (auto file = env.get_nonempty("GOOGLE_APPLICATION_CREDENTIALS"))
    return with_file(GcsCredentialSource::EnvironmentFile, *file);
  fs::path config = env.get_nonempty("CLOUDSDK_CONFIG")
                        ? fs::path(*env.get_nonempty("CLOUDSDK_CONFIG"))
                        : fs::path(env.get_nonempty("HOME").value_or("")) / ".config" / "gcloud";
  fs::path adc = config / "application_default_credentials.json";
  std::error_code ec;
  if (fs::is_regular_file(adc, ec)) return with_file(GcsCredentialSource::GcloudAdcFile, adc.string());
  plan.source = GcsCredentialSource::MetadataServer;
  plan.metadata_host = env.get_nonempty("GCE_METADATA_HOST").value_or("metadata.google.internal");
  plan.description = fmt::format("the metadata server ({})", plan.metadata_host);
  return plan;
}

std::string gcs_jwt_assertion(const std::string& email, const std::string& key_id,
                              const std::string& private_key_pem, const std::string& token_uri,
                              const std::string& scope, int64_t now_seconds) {
  std::string header = fmt::format(R"({{"alg":"RS256","typ":"JWT","kid":{}}})", json_quote(key_id));
  std::string claims = fmt::format(R"({{"iss":{},"scope":{},"aud":{},"iat":{},"exp":{}}})",
                                   json_quote(email), json_quote(scope), json_quote(token_uri),
                                   now_seconds, now_seconds + 3600);
  std::string signing_input = base64url_encode(header) + "." + base64url_encode(claims);
  return signing_input + "." + base64url_encode(rs256_sign(private_key_pem, signing_input));
}

std::string acquire_gcs_token(const GcsCredentialPlan& plan, const std::string& purpose) {
  switch (plan.source) {
    case GcsCredentialSource::EnvironmentFile:
    case GcsCredentialSource::GcloudAdcFile:
      return token_from_file(plan, purpose);
    case GcsCredentialSource::MetadataServer: {
      HttpRequest req;
      req.url = fmt::format(
          "http://{}/computeMetadata/v1/instance/service-accounts/default/token", plan.metadata_host);
      req.headers = {{"Metadata-Flavor", "Google"}};
      req.connect_timeout_ms = 2000;
      req.total_timeout_ms = 10000;
      try {
        return fetch_access_token(req, plan.description, purpose, /*attempts=*/1);
      } catch (const Error& e) {
        throw Error(fmt::format(
            "no Google credentials found for {}: tried GOOGLE_APPLICATION_CREDENTIALS, the gcloud "
            "application default credentials file and the metadata server, which failed: {}",
            purpose, e.what()));
      }
    }
    case GcsCredentialSource::Emulator:
      break;
  }
  throw Error(fmt::format("internal: no token to acquire for {} ({})", purpose, plan.description));
}

}  // namespace orc::remote
