// The AWS credential chain and region, in the SDKs' order, with fake files and environment;
// the HTTP links (STS, ECS, IMDS) talk to a recording sender.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "state/aws/aws_credentials.h"
#include "state/backends/s3_store.h"

namespace orc {
namespace {
namespace fs = std::filesystem;

class AwsChain : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orc-aws-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / ".aws");
    env_.vars["HOME"] = dir_.string();
    env_.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const fs::path& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
  }
  AwsCredentials resolve() { return resolve_aws_credentials(env_, sender()); }
  HttpSender sender() {
    return [this](const HttpRequest& r) {
      requests_.push_back(r);
      if (responses_.empty()) throw NetworkError("nothing listening");
      HttpResponse resp = responses_.front();
      responses_.erase(responses_.begin());
      return resp;
    };
  }
  static std::string header(const HttpRequest& r, const std::string& name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return "<absent>";
  }

  fs::path dir_;
  Environment env_;
  std::vector<HttpRequest> requests_;
  std::vector<HttpResponse> responses_;
};

const char* kCredentialsFile =
    "# comment\n[default]\naws_access_key_id = FILEDEFAULT\naws_secret_access_key = s1\n\n"
    "[dev]\naws_access_key_id=FILEDEV\naws_secret_access_key=s2\naws_session_token=t2\n";
const char* kConfigFile =
    "[default]\nregion = eu-west-1\n; comment\n"
    "[profile dev]\nregion = ap-south-1\ns3 =\n  addressing_style = path\n"
    "[profile cfgonly]\naws_access_key_id = CFGONLY\naws_secret_access_key = s3\n"
    "[profile assumer]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n";

const char* kStsAnswer =
    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
    "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>stssecret</SecretAccessKey>"
    "<SessionToken>ststoken&amp;x</SessionToken></Credentials>"
    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";

TEST_F(AwsChain, EnvironmentKeysComeFirst) {
  write(".aws/credentials", kCredentialsFile);
  write("token", "jwt");
  env_.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env_.vars["AWS_SESSION_TOKEN"] = "envtoken";
  env_.vars["AWS_PROFILE"] = "dev";
  env_.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "token").string();
  env_.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  AwsCredentials c = resolve();
  EXPECT_EQ(c.access_key_id, "ENVKEY");
  EXPECT_EQ(c.secret_access_key, "envsecret");
  EXPECT_EQ(c.session_token, "envtoken");
  EXPECT_TRUE(requests_.empty());
}

TEST_F(AwsChain, PartialEnvironmentKeysAreAnError) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  try {
    resolve();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  }
}

TEST_F(AwsChain, WebIdentityComesBeforeTheSharedFiles) {
  write(".aws/credentials", kCredentialsFile);
  write("token", "the-jwt\n");
  env_.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "token").string();
  env_.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123:role/ci";
  env_.vars["AWS_ROLE_SESSION_NAME"] = "job1";
  env_.vars["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9/";
  responses_.push_back(HttpResponse{200, {}, kStsAnswer});
  AwsCredentials c = resolve();
  EXPECT_EQ(c.access_key_id, "ASIASTS");
  EXPECT_EQ(c.secret_access_key, "stssecret");
  EXPECT_EQ(c.session_token, "ststoken&x");
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].method, "POST");
  EXPECT_EQ(requests_[0].url, "http://127.0.0.1:9/");
  EXPECT_NE(requests_[0].body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  EXPECT_NE(requests_[0].body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fci"),
            std::string::npos);
  EXPECT_NE(requests_[0].body.find("RoleSessionName=job1"), std::string::npos);
  const std::string tail = "&WebIdentityToken=the-jwt";  // trimmed, last
  EXPECT_EQ(requests_[0].body.substr(requests_[0].body.size() - tail.size()), tail);
}

TEST_F(AwsChain, WebIdentityFailureNamesRoleButNotToken) {
  write("token", "secret-jwt");
  env_.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "token").string();
  env_.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123:role/ci";
  responses_.push_back(HttpResponse{403, {}, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"});
  try {
    resolve();
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("AccessDenied"), std::string::npos) << m;
    EXPECT_NE(m.find("arn:aws:iam::123:role/ci"), std::string::npos) << m;
    EXPECT_EQ(m.find("secret-jwt"), std::string::npos) << m;
  }
  EXPECT_EQ(requests_[0].url, "https://sts.us-east-1.amazonaws.com");
}

TEST_F(AwsChain, ProfileFromCredentialsFileThenConfigFile) {
  write(".aws/credentials", kCredentialsFile);
  write(".aws/config", kConfigFile);
  EXPECT_EQ(resolve().access_key_id, "FILEDEFAULT");
  env_.vars["AWS_PROFILE"] = "dev";
  AwsCredentials dev = resolve();
  EXPECT_EQ(dev.access_key_id, "FILEDEV");
  EXPECT_EQ(dev.session_token, "t2");
  EXPECT_NE(dev.source.find("profile \"dev\""), std::string::npos);
  env_.vars["AWS_PROFILE"] = "cfgonly";
  EXPECT_EQ(resolve().access_key_id, "CFGONLY");
  EXPECT_TRUE(requests_.empty());
}

TEST_F(AwsChain, FileLocationsFromEnvironment) {
  write("creds.ini", "[p]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = x\n");
  write("conf.ini", "[profile p]\nregion = sa-east-1\n");
  env_.vars["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "creds.ini").string();
  env_.vars["AWS_CONFIG_FILE"] = (dir_ / "conf.ini").string();
  env_.vars["AWS_PROFILE"] = "p";
  EXPECT_EQ(resolve().access_key_id, "ELSEWHERE");
  EXPECT_EQ(resolve_aws_region(env_), "sa-east-1");
}

TEST_F(AwsChain, UnknownProfileAndUnsupportedProfilesAreClearErrors) {
  write(".aws/config", kConfigFile);
  env_.vars["AWS_PROFILE"] = "nope";
  EXPECT_THROW(
      {
        try {
          resolve();
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("\"nope\""), std::string::npos);
          throw;
        }
      },
      Error);
  env_.vars["AWS_PROFILE"] = "assumer";
  try {
    resolve();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("role_arn"), std::string::npos) << e.what();
  }
}

TEST_F(AwsChain, ContainerEndpointBeforeInstanceMetadata) {
  env_.vars.erase("AWS_EC2_METADATA_DISABLED");
  env_.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  env_.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ecs-token";
  responses_.push_back(HttpResponse{
      200, {}, R"({"AccessKeyId":"ECSKEY","SecretAccessKey":"es","Token":"et","Expiration":"x"})"});
  AwsCredentials c = resolve();
  EXPECT_EQ(c.access_key_id, "ECSKEY");
  EXPECT_EQ(c.session_token, "et");
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(header(requests_[0], "Authorization"), "ecs-token");
}

TEST_F(AwsChain, ContainerFullUriMustBeLoopbackOrHttps) {
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://evil.example.com/creds";
  EXPECT_THROW(resolve(), Error);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(AwsChain, InstanceMetadataUsesAnImdsV2Token) {
  env_.vars.erase("AWS_EC2_METADATA_DISABLED");
  env_.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9/";
  responses_ = {HttpResponse{200, {}, "tok123"}, HttpResponse{200, {}, "my-role\n"},
                HttpResponse{200, {}, R"({"Code":"Success","AccessKeyId":"IMDSKEY",)"
                                      R"("SecretAccessKey":"is","Token":"it"})"}};
  AwsCredentials c = resolve();
  EXPECT_EQ(c.access_key_id, "IMDSKEY");
  ASSERT_EQ(requests_.size(), 3u);
  EXPECT_EQ(requests_[0].method, "PUT");
  EXPECT_EQ(requests_[0].url, "http://127.0.0.1:9/latest/api/token");
  EXPECT_EQ(header(requests_[0], "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests_[1].url, "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(header(requests_[1], "X-aws-ec2-metadata-token"), "tok123");
  EXPECT_EQ(requests_[2].url,
            "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/my-role");
  EXPECT_EQ(header(requests_[2], "X-aws-ec2-metadata-token"), "tok123");
}

TEST_F(AwsChain, NothingFoundListsEveryOption) {
  env_.vars.erase("AWS_EC2_METADATA_DISABLED");
  env_.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9";
  try {
    resolve();  // the sender throws NetworkError: metadata unreachable, as off EC2
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    for (const char* s : {"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "ECS",
                          "instance metadata"})
      EXPECT_NE(m.find(s), std::string::npos) << s << " in " << m;
  }
  EXPECT_EQ(requests_.size(), 1u);  // one token PUT, then give up
}

TEST_F(AwsChain, RegionOrder) {
  write(".aws/config", kConfigFile);
  EXPECT_EQ(resolve_aws_region(env_), "eu-west-1");
  env_.vars["AWS_PROFILE"] = "dev";
  EXPECT_EQ(resolve_aws_region(env_), "ap-south-1");
  env_.vars["AWS_DEFAULT_REGION"] = "us-west-1";
  EXPECT_EQ(resolve_aws_region(env_), "us-west-1");
  env_.vars["AWS_REGION"] = "us-west-2";
  EXPECT_EQ(resolve_aws_region(env_), "us-west-2");
  Environment bare;
  EXPECT_EQ(resolve_aws_region(bare), "us-east-1");
}

TEST(AwsIni, SectionsKeysCommentsAndNestedSettings) {
  AwsIniFile f = parse_aws_ini(
      "[default]\n  # indented comment\nRegion = x \n[profile a]\ns3 =\n  max_concurrent = 2\n"
      "region=y\nno equals sign\n");
  EXPECT_EQ(f["default"]["region"], "x");
  EXPECT_EQ(f["profile a"]["region"], "y");
  EXPECT_EQ(f["profile a"].count("max_concurrent"), 0u);
  EXPECT_EQ(f["profile a"]["s3"], "");
}

TEST(S3Addressing, VirtualHostedPathStyleAndSignedHeaders) {
  std::vector<HttpRequest> seen;
  HttpSender sender = [&](const HttpRequest& r) {
    seen.push_back(r);
    return HttpResponse{404, {}, "<Error><Code>NoSuchKey</Code></Error>"};
  };
  Environment env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "S"},
              {"AWS_SESSION_TOKEN", "T"}, {"AWS_REGION", "eu-central-1"}};
  EXPECT_TRUE(S3Store("bkt", "dir/state file.json", env, sender).load().entries.empty());
  EXPECT_EQ(seen.back().url, "https://bkt.s3.eu-central-1.amazonaws.com/dir/state%20file.json");
  S3Store("my.dotted", "k", env, sender).load();
  EXPECT_EQ(seen.back().url, "https://s3.eu-central-1.amazonaws.com/my.dotted/k");
  env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/";
  S3Store("bkt", "k", env, sender).load();
  EXPECT_EQ(seen.back().url, "http://127.0.0.1:9000/bkt/k");
  env.vars["AWS_ENDPOINT_URL_S3"] = "http://localhost:9001";
  S3Store("bkt", "k", env, sender).load();
  EXPECT_EQ(seen.back().url, "http://localhost:9001/bkt/k");
  std::string auth, token, host;
  for (const auto& [n, v] : seen.back().headers) {
    if (n == "Authorization") auth = v;
    if (n == "x-amz-security-token") token = v;
    if (n == "Host") host = v;
  }
  EXPECT_EQ(host, "localhost:9001");
  EXPECT_EQ(token, "T");
  EXPECT_NE(auth.find("/eu-central-1/s3/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos)
      << auth;
}

TEST(S3Addressing, MissingBucketIsAnErrorNotAnEmptyState) {
  HttpSender sender = [](const HttpRequest&) {
    return HttpResponse{404, {}, "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>"};
  };
  Environment env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "S"}};
  try {
    S3Store("bkt", "k.json", env, sender).load();
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("s3://bkt/k.json"), std::string::npos) << m;
    EXPECT_NE(m.find("NoSuchBucket"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace orc
