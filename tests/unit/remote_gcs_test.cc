// GCS: the RS256 JWT assertion (verified with an RSA key generated here), the Application
// Default Credentials order with fake environments and files, the API base.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/base64.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/json_writer.h"
#include "scratch_dir.h"
#include "stores/cloud/gcs_credentials.h"
#include "stores/gcs_store.h"

namespace orc::remote {
namespace {
namespace fs = std::filesystem;

/// A fresh 2048-bit RSA key: its PEM private key and the EVP_PKEY to verify with.
struct TestKey {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::string pem;
};

TestKey generate_key() {
  TestKey k;
  k.key.reset(EVP_RSA_gen(2048));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), k.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  k.pem.assign(data, static_cast<size_t>(n));
  return k;
}

std::string base64url_decode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  return base64_decode(s).value_or("<invalid>");
}

TEST(RemoteGcsJwt, HeaderClaimsAndVerifiableRs256Signature) {
  TestKey k = generate_key();
  std::string jwt = gcs_jwt_assertion("orc@p.iam.gserviceaccount.com", "kid1", k.pem,
                                      "https://oauth2.googleapis.com/token",
                                      "https://www.googleapis.com/auth/devstorage.read_write",
                                      1700000000);
  auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  ASSERT_NE(dot1, dot2);
  EXPECT_EQ(base64url_decode(jwt.substr(0, dot1)), R"({"alg":"RS256","typ":"JWT","kid":"kid1"})");
  EXPECT_EQ(base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)),
            R"({"iss":"orc@p.iam.gserviceaccount.com",)"
            R"("scope":"https://www.googleapis.com/auth/devstorage.read_write",)"
            R"("aud":"https://oauth2.googleapis.com/token","iat":1700000000,"exp":1700003600})");
  EXPECT_EQ(jwt.find_first_of("+/="), std::string::npos);  // base64url, unpadded

  std::string signed_part = jwt.substr(0, dot2);
  std::string sig = base64url_decode(jwt.substr(dot2 + 1));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k.key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                             sig.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()),
            1);
  // A different message does not verify with the same signature.
  std::string tampered = signed_part + "x";
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k.key.get()), 1);
  EXPECT_NE(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                             sig.size(), reinterpret_cast<const unsigned char*>(tampered.data()),
                             tampered.size()),
            1);
}

TEST(RemoteGcsJwt, UnreadableKeyIsAnErrorWithoutTheKey) {
  try {
    gcs_jwt_assertion("e", "k", "-----BEGIN PRIVATE KEY-----\nsecretbits\n", "a", "s", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("secretbits"), std::string::npos);
  }
}

class RemoteGcsChain : public ScratchDirTest {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / ".config/gcloud");
    std::ofstream(dir_ / "sa.json") << R"({"type": "service_account", "client_email": "e"})";
    std::ofstream(dir_ / ".config/gcloud/application_default_credentials.json")
        << R"({"type": "authorized_user", "refresh_token": "r"})";
    env_.vars = {{"HOME", dir_.string()},
                 {"STORAGE_EMULATOR_HOST", "127.0.0.1:4443"},
                 {"GOOGLE_APPLICATION_CREDENTIALS", (dir_ / "sa.json").string()}};
  }
  GcsCredentialPlan choose() { return choose_gcs_credential(env_, "gs://b/k"); }

  Environment env_;
};

TEST_F(RemoteGcsChain, EmulatorThenEnvFileThenGcloudFileThenMetadata) {
  EXPECT_EQ(choose().source, GcsCredentialSource::Emulator);
  EXPECT_EQ(gcs_api_base(env_), "http://127.0.0.1:4443");

  env_.vars.erase("STORAGE_EMULATOR_HOST");
  EXPECT_EQ(gcs_api_base(env_), "https://storage.googleapis.com");
  GcsCredentialPlan p = choose();
  EXPECT_EQ(p.source, GcsCredentialSource::EnvironmentFile);
  EXPECT_EQ(p.type, "service_account");

  env_.vars.erase("GOOGLE_APPLICATION_CREDENTIALS");
  p = choose();
  EXPECT_EQ(p.source, GcsCredentialSource::GcloudAdcFile);
  EXPECT_EQ(p.type, "authorized_user");

  env_.vars["CLOUDSDK_CONFIG"] = (dir_ / "elsewhere").string();
  p = choose();
  EXPECT_EQ(p.source, GcsCredentialSource::MetadataServer);
  EXPECT_EQ(p.metadata_host, "metadata.google.internal");
  env_.vars["GCE_METADATA_HOST"] = "127.0.0.1:9";
  EXPECT_EQ(choose().metadata_host, "127.0.0.1:9");
}

TEST_F(RemoteGcsChain, MissingOrMalformedFileIsAnErrorNamingTheUri) {
  env_.vars.erase("STORAGE_EMULATOR_HOST");
  env_.vars["GOOGLE_APPLICATION_CREDENTIALS"] = (dir_ / "missing.json").string();
  EXPECT_THROW(choose(), Error);
  std::ofstream(dir_ / "bad.json") << "{not json";
  env_.vars["GOOGLE_APPLICATION_CREDENTIALS"] = (dir_ / "bad.json").string();
  try {
    choose();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gs://b/k"), std::string::npos);
  }
}

TEST_F(RemoteGcsChain, ExternalAccountIsRefusedClearly) {
  std::ofstream(dir_ / "ext.json") << R"({"type": "external_account"})";
  env_.vars.erase("STORAGE_EMULATOR_HOST");
  env_.vars["GOOGLE_APPLICATION_CREDENTIALS"] = (dir_ / "ext.json").string();
  try {
    acquire_gcs_token(choose(), "gs://b/k");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("external_account"), std::string::npos);
  }
}

}  // namespace
}  // namespace orc::remote
