// AWS credential and region resolution order, with fake environments and files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/environment.h"
#include "core/error.h"
#include "scratch_dir.h"
#include "stores/cloud/aws_credentials.h"

namespace orc::remote {
namespace {
namespace fs = std::filesystem;

class RemoteCredentials : public ScratchDirTest {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / ".aws");
    env_.vars = {{"HOME", dir_.string()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  Environment env_;
};

TEST_F(RemoteCredentials, EnvironmentVariablesWinOverFiles) {
  write(dir_ / ".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  env_.vars["AWS_ACCESS_KEY_ID"] = "ENV";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "e";
  env_.vars["AWS_SESSION_TOKEN"] = "tok";
  AwsCredentials c = resolve_aws_credentials(env_, "s3://b/k");
  EXPECT_EQ(c.access_key_id, "ENV");
  EXPECT_EQ(c.session_token, "tok");
  EXPECT_EQ(c.source, "environment variables");
}

TEST_F(RemoteCredentials, KeyIdWithoutSecretFallsThroughToFiles) {
  write(dir_ / ".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  env_.vars["AWS_ACCESS_KEY_ID"] = "ENV";
  EXPECT_EQ(resolve_aws_credentials(env_, "s3://b/k").access_key_id, "FILE");
}

TEST_F(RemoteCredentials, DefaultProfileFromHomeCredentialsFile) {
  write(dir_ / ".aws/credentials",
        "# comment\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = o\n"
        "[default]\n aws_access_key_id = DEF \naws_secret_access_key=d\naws_session_token = t\n");
  AwsCredentials c = resolve_aws_credentials(env_, "s3://b/k");
  EXPECT_EQ(c.access_key_id, "DEF");
  EXPECT_EQ(c.secret_access_key, "d");
  EXPECT_EQ(c.session_token, "t");
}

TEST_F(RemoteCredentials, NamedProfileCredentialsFileBeforeConfigFile) {
  write(dir_ / "creds", "[ci]\naws_access_key_id = CREDS\naws_secret_access_key = c\n");
  write(dir_ / "conf", "[profile ci]\naws_access_key_id = CONF\naws_secret_access_key = c\n");
  env_.vars["AWS_PROFILE"] = "ci";
  env_.vars["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "creds").string();
  env_.vars["AWS_CONFIG_FILE"] = (dir_ / "conf").string();
  EXPECT_EQ(resolve_aws_credentials(env_, "s3://b/k").access_key_id, "CREDS");
  fs::remove(dir_ / "creds");
  AwsCredentials c = resolve_aws_credentials(env_, "s3://b/k");
  EXPECT_EQ(c.access_key_id, "CONF");
  EXPECT_NE(c.source.find("profile ci"), std::string::npos);
}

TEST_F(RemoteCredentials, ConfigFileUsesProfilePrefixExceptDefault) {
  write(dir_ / ".aws/config",
        "[ci]\naws_access_key_id = WRONG\naws_secret_access_key = w\n"
        "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n");
  EXPECT_EQ(resolve_aws_credentials(env_, "s3://b/k").access_key_id, "DEF");
  env_.vars["AWS_PROFILE"] = "ci";  // [ci] is not a config-file profile section
  EXPECT_THROW(resolve_aws_credentials(env_, "s3://b/k"), Error);
}

TEST_F(RemoteCredentials, NothingFoundNamesWhatWasTried) {
  try {
    resolve_aws_credentials(env_, "s3://bucket/key.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("s3://bucket/key.json"), std::string::npos) << m;
    EXPECT_NE(m.find("AWS_ACCESS_KEY_ID"), std::string::npos) << m;
    EXPECT_NE(m.find("profile default"), std::string::npos) << m;
    EXPECT_NE(m.find("instance metadata"), std::string::npos) << m;
  }
}

TEST_F(RemoteCredentials, WebIdentityFailureIsAnErrorNotAFallThrough) {
  write(dir_ / "token", "jwt\n");
  env_.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "token").string();
  env_.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/orc";
  env_.vars["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:1";  // nothing listens there
  try {
    resolve_aws_credentials(env_, "s3://b/k");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AssumeRoleWithWebIdentity"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("arn:aws:iam::123456789012:role/orc"), std::string::npos);
  }
}

TEST_F(RemoteCredentials, RegionOrder) {
  EXPECT_EQ(resolve_aws_region(env_), "us-east-1");
  write(dir_ / ".aws/config", "[default]\nregion = eu-west-1\n[profile ci]\nregion = ap-south-1\n");
  EXPECT_EQ(resolve_aws_region(env_), "eu-west-1");
  env_.vars["AWS_PROFILE"] = "ci";
  EXPECT_EQ(resolve_aws_region(env_), "ap-south-1");
  env_.vars["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(resolve_aws_region(env_), "us-west-2");
  env_.vars["AWS_REGION"] = "eu-central-1";
  EXPECT_EQ(resolve_aws_region(env_), "eu-central-1");
}

TEST(RemoteIni, ParsesSectionsKeysAndComments) {
  IniFile ini = parse_ini("; c\n[a]\nKey = v = w\n\n[ b ]\nx=1\n#y=2\n");
  EXPECT_EQ(ini["a"]["key"], "v = w");
  EXPECT_EQ(ini["b"]["x"], "1");
  EXPECT_EQ(ini["b"].count("#y"), 0u);
}

}  // namespace
}  // namespace orc::remote
