// Azure Blob: SharedKey string-to-sign and signature, SAS appending, connection strings,
// the credential chain's order with fake environments and files, endpoints and URLs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "scratch_dir.h"
#include "stores/azure_blob_store.h"
#include "stores/cloud/azure_credentials.h"
#include "stores/cloud/azure_shared_key.h"

namespace orc::remote {
namespace {

constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Microsoft's documented example ("Authorize with Shared Key", Blob service, version
/// 2009-09-19 and later): Get Container Metadata with a timeout, whose canonicalized resource
/// is documented as /myaccount/myaccount/mycontainer.
AzureSignRequest documented_example() {
  AzureSignRequest r;
  r.method = "GET";
  r.account = "myaccount";
  r.path = "/myaccount/mycontainer";
  r.query = {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}};
  r.headers = {{"x-ms-version", "2009-09-19"}, {"x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"}};
  return r;
}

TEST(RemoteAzureSharedKey, StringToSignMatchesDocumentedExample) {
  EXPECT_EQ(azure_shared_key_string_to_sign(documented_example()),
            "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
            "/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
}

TEST(RemoteAzureSharedKey, SignatureIsBase64HmacOfStringToSignUnderDecodedKey) {
  // Expected values from Python's hmac/hashlib/base64 over the same strings (independent).
  EXPECT_EQ(azure_shared_key_authorization(documented_example(), kDevKey),
            "SharedKey myaccount:Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=");

  AzureSignRequest put;
  put.method = "PUT";
  put.account = "devstoreaccount1";
  put.path = "/devstoreaccount1/cont/dir/state.json";
  put.content_length = 42;
  put.headers = {{"x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"}, {"x-ms-version", "2021-08-06"},
                 {"X-Ms-Blob-Type", "BlockBlob"}, {"Content-Type", "application/json"},
                 {"If-Match", "\"0x8D\""}};
  EXPECT_EQ(azure_shared_key_string_to_sign(put),
            "PUT\n\n\n42\n\napplication/json\n\n\n\"0x8D\"\n\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\n"
            "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/cont/dir/state.json");
  EXPECT_EQ(azure_shared_key_authorization(put, kDevKey),
            "SharedKey devstoreaccount1:rJS5RXw29IFEnjK3I0AiuL6sIGMMDbABPvKnyIfv8Rk=");
}

TEST(RemoteAzureSharedKey, InvalidKeyIsAnErrorWithoutTheKey) {
  try {
    azure_shared_key_authorization(documented_example(), "not base64!");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("not base64!"), std::string::npos);
  }
}

TEST(RemoteAzureSas, AppendedWithOrWithoutQuestionMark) {
  EXPECT_EQ(append_sas("https://a.blob.core.windows.net/c/b", "?sv=2021&sig=x%2B"),
            "https://a.blob.core.windows.net/c/b?sv=2021&sig=x%2B");
  EXPECT_EQ(append_sas("https://a.blob.core.windows.net/c/b", "sv=2021&sig=x"),
            "https://a.blob.core.windows.net/c/b?sv=2021&sig=x");
  EXPECT_EQ(append_sas("https://a/c/b?timeout=5", "sv=1"), "https://a/c/b?timeout=5&sv=1");
  EXPECT_EQ(append_sas("https://a/c/b", ""), "https://a/c/b");
}

TEST(RemoteAzureConnectionString, KeysCaseInsensitiveValuesKeepEquals) {
  auto cs = parse_azure_connection_string(
      " DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc==;"
      "BlobEndpoint=http://127.0.0.1:10000/acct;SharedAccessSignature=sv=1&sig=a%3D;");
  EXPECT_EQ(cs["defaultendpointsprotocol"], "https");
  EXPECT_EQ(cs["accountname"], "acct");
  EXPECT_EQ(cs["accountkey"], "abc==");
  EXPECT_EQ(cs["blobendpoint"], "http://127.0.0.1:10000/acct");
  EXPECT_EQ(cs["sharedaccesssignature"], "sv=1&sig=a%3D");
}

TEST(RemoteAzureEndpoint, DfsHostBecomesBlobHostAlwaysTls) {
  EXPECT_EQ(azure_default_blob_endpoint("acct", "acct.dfs.core.windows.net"),
            "https://acct.blob.core.windows.net");
  EXPECT_EQ(azure_default_blob_endpoint("acct", "acct.dfs.core.chinacloudapi.cn"),
            "https://acct.blob.core.chinacloudapi.cn");
  EXPECT_EQ(azure_blob_url("http://127.0.0.1:1/devstoreaccount1/", "cont", "dir/a b.json"),
            "http://127.0.0.1:1/devstoreaccount1/cont/dir/a%20b.json");
}

class RemoteAzureChain : public ScratchDirTest {
 protected:
  void SetUp() override {
    // Everything configured: each test removes what should not win.
    env_.vars = {
        {"AZURE_STORAGE_CONNECTION_STRING",
         "AccountName=acct;AccountKey=Y3Mta2V5;BlobEndpoint=http://127.0.0.1:9/acct"},
        {"AZURE_STORAGE_KEY", "ZW52LWtleQ=="},
        {"AZURE_STORAGE_SAS_TOKEN", "?sv=2021&sig=secret"},
        {"AZURE_CLIENT_ID", "client"},
        {"AZURE_CLIENT_SECRET", "client-secret"},
        {"AZURE_TENANT_ID", "tenant"},
        {"AZURE_FEDERATED_TOKEN_FILE", (dir_ / "token").string()},
        {"IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi"},
        {"IDENTITY_HEADER", "identity-secret"}};
    std::ofstream(dir_ / "token") << "federated.jwt\n";
  }
  AzureCredentialPlan choose() {
    return choose_azure_credential(env_, "acct", "https://acct.blob.core.windows.net",
                                   "abfss://c@acct.dfs.core.windows.net/s.json");
  }

  Environment env_;
};

TEST_F(RemoteAzureChain, ConnectionStringFirstWithItsBlobEndpoint) {
  AzureCredentialPlan p = choose();
  EXPECT_EQ(p.source, AzureCredentialSource::ConnectionString);
  EXPECT_EQ(p.kind, AzureAuthKind::SharedKey);
  EXPECT_EQ(p.account_key, "Y3Mta2V5");
  EXPECT_EQ(p.endpoint, "http://127.0.0.1:9/acct");
  EXPECT_EQ(redact_secrets("k=Y3Mta2V5"), "k=***");  // secrets are registered for redaction
}

TEST_F(RemoteAzureChain, ConnectionStringWithSasAndEndpointSuffix) {
  env_.vars["AZURE_STORAGE_CONNECTION_STRING"] =
      "DefaultEndpointsProtocol=https;AccountName=acct;EndpointSuffix=core.usgovcloudapi.net;"
      "SharedAccessSignature=sv=1&sig=s";
  AzureCredentialPlan p = choose();
  EXPECT_EQ(p.kind, AzureAuthKind::Sas);
  EXPECT_EQ(p.sas, "sv=1&sig=s");
  EXPECT_EQ(p.endpoint, "https://acct.blob.core.usgovcloudapi.net");
}

TEST_F(RemoteAzureChain, ConnectionStringForAnotherAccountIsRefused) {
  env_.vars["AZURE_STORAGE_CONNECTION_STRING"] = "AccountName=other;AccountKey=Y3Mta2V5";
  EXPECT_THROW(choose(), Error);
  env_.vars["AZURE_STORAGE_CONNECTION_STRING"] = "AccountName=acct";
  EXPECT_THROW(choose(), Error);  // neither key nor SAS
}

TEST_F(RemoteAzureChain, AccountKeyThenSasThenServicePrincipalThenWorkloadThenManaged) {
  // Each step removes the variable the previous winner came from; `field` is what it sets.
  using S = AzureCredentialSource;
  using Plan = AzureCredentialPlan;
  struct Step {
    const char* removed;
    S source;
    std::string Plan::*field;
    std::string value;
  };
  const Step chain[] = {
      {"AZURE_STORAGE_CONNECTION_STRING", S::AccountKey, &Plan::endpoint,
       "https://acct.blob.core.windows.net"},
      {"AZURE_STORAGE_KEY", S::SasToken, &Plan::sas, "sv=2021&sig=secret"},
      {"AZURE_STORAGE_SAS_TOKEN", S::ServicePrincipal, &Plan::tenant_id, "tenant"},
      {"AZURE_CLIENT_SECRET", S::WorkloadIdentity, &Plan::federated_token_file,
       (dir_ / "token").string()},
      {"AZURE_FEDERATED_TOKEN_FILE", S::ManagedIdentity, &Plan::identity_endpoint,
       "http://127.0.0.1:9/msi"},
      {"IDENTITY_ENDPOINT", S::ManagedIdentity, &Plan::identity_endpoint, ""}};  // "": IMDS
  for (const Step& step : chain) {
    env_.vars.erase(step.removed);
    Plan p = choose();
    EXPECT_EQ(p.source, step.source) << "without " << step.removed;
    EXPECT_EQ(p.*step.field, step.value) << "without " << step.removed;
  }
}

TEST_F(RemoteAzureChain, TokenAuthorityIsMicrosoftOnlineUnlessAzureAuthorityHostIsSet) {
  for (const char* v : {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY",
                        "AZURE_STORAGE_SAS_TOKEN"})
    env_.vars.erase(v);
  EXPECT_EQ(choose().authority, "https://login.microsoftonline.com");  // service principal
  env_.vars["AZURE_AUTHORITY_HOST"] = "https://login.example/";
  env_.vars.erase("AZURE_CLIENT_SECRET");
  AzureCredentialPlan p = choose();
  EXPECT_EQ(p.source, AzureCredentialSource::WorkloadIdentity);
  EXPECT_EQ(p.authority, "https://login.example");
}

TEST_F(RemoteAzureChain, ServicePrincipalNeedsTenantAndClient) {
  for (const char* v : {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY",
                        "AZURE_STORAGE_SAS_TOKEN", "AZURE_TENANT_ID"})
    env_.vars.erase(v);
  EXPECT_EQ(choose().source, AzureCredentialSource::ManagedIdentity);
}

TEST_F(RemoteAzureChain, TokenEndpointFailureNamesTheUriNotTheSecret) {
  for (const char* v : {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY",
                        "AZURE_STORAGE_SAS_TOKEN"})
    env_.vars.erase(v);
  env_.vars["AZURE_AUTHORITY_HOST"] = "http://127.0.0.1:9";  // nothing listens on port 9
  try {
    acquire_azure_token(choose(), "abfss://c@acct.dfs.core.windows.net/s.json");
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("abfss://c@acct.dfs.core.windows.net/s.json"), std::string::npos) << m;
    EXPECT_NE(m.find("http://127.0.0.1:9/tenant/oauth2/v2.0/token"), std::string::npos) << m;
    EXPECT_EQ(m.find("client-secret"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace orc::remote
