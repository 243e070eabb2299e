// Parsing state locations: s3://, gs://, abfs(s):// URIs and local paths.
#include <gtest/gtest.h>

#include "core/error.h"
#include "stores/s3_store.h"
#include "stores/state_uri.h"

namespace orc::remote {
namespace {

TEST(RemoteStateUri, S3) {
  StateUri u = parse_state_uri("s3://my-bucket/dir/sub/state.json");
  EXPECT_EQ(u.kind, StateUriKind::S3);
  EXPECT_EQ(u.bucket, "my-bucket");
  EXPECT_EQ(u.key, "dir/sub/state.json");
}

TEST(RemoteStateUri, Gcs) {
  StateUri u = parse_state_uri("gs://bucket/state.json");
  EXPECT_EQ(u.kind, StateUriKind::Gcs);
  EXPECT_EQ(u.bucket, "bucket");
  EXPECT_EQ(u.key, "state.json");
}

TEST(RemoteStateUri, Azure) {
  for (const char* scheme : {"abfs", "abfss"}) {
    StateUri u = parse_state_uri(std::string(scheme) +
                                 "://container@account.dfs.core.windows.net/path/to/state.json");
    EXPECT_EQ(u.kind, StateUriKind::Azure);
    EXPECT_EQ(u.bucket, "container");
    EXPECT_EQ(u.account, "account");
    EXPECT_EQ(u.host, "account.dfs.core.windows.net");
    EXPECT_EQ(u.key, "path/to/state.json");
  }
}

TEST(RemoteStateUri, LocalPaths) {
  EXPECT_EQ(parse_state_uri("/abs/state.json").kind, StateUriKind::LocalPath);
  EXPECT_EQ(parse_state_uri("rel/s3:/state.json").kind, StateUriKind::LocalPath);
}

TEST(RemoteStateUri, MalformedUrisNameTheExpectedShape) {
  for (const char* bad : {"s3://bucket-only", "s3://bucket/", "s3:///key", "gs://b",
                          "abfss://container/path", "abfss://@account.dfs.core.windows.net/p",
                          "abfss://container@account.dfs.core.windows.net"}) {
    try {
      parse_state_uri(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
  }
}

TEST(RemoteS3Url, VirtualHostedAndPathStyle) {
  S3Location loc{"bucket", "dir/state file.json", "eu-west-1", std::nullopt};
  EXPECT_EQ(s3_object_url(loc), "https://bucket.s3.eu-west-1.amazonaws.com/dir/state%20file.json");
  loc.endpoint = "http://127.0.0.1:9000/";
  EXPECT_EQ(s3_object_url(loc), "http://127.0.0.1:9000/bucket/dir/state%20file.json");
}

}  // namespace
}  // namespace orc::remote
