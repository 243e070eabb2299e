// Parsing of state locations: s3://, gs://, abfs(s)://, local paths, malformed URIs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "state/state_location.h"

namespace orc {
namespace {

TEST(StateUri, S3BucketAndKey) {
  StateLocation l = parse_state_location("s3://my-bucket/orc/dir/state.json", "X");
  EXPECT_EQ(l.kind, StateLocationKind::S3);
  EXPECT_EQ(l.bucket, "my-bucket");
  EXPECT_EQ(l.key, "orc/dir/state.json");
}

TEST(StateUri, GsBucketAndObject) {
  StateLocation l = parse_state_location("gs://b/state.json", "X");
  EXPECT_EQ(l.kind, StateLocationKind::Gcs);
  EXPECT_EQ(l.bucket, "b");
  EXPECT_EQ(l.key, "state.json");
}

TEST(StateUri, AbfsContainerAccountAndPath) {
  for (const char* scheme : {"abfs", "abfss"}) {
    StateLocation l = parse_state_location(
        std::string(scheme) + "://state@myacct.dfs.core.windows.net/orc/state.json", "X");
    EXPECT_EQ(l.kind, StateLocationKind::Azure);
    EXPECT_EQ(l.bucket, "state");
    EXPECT_EQ(l.account, "myacct");
    EXPECT_EQ(l.host, "myacct.dfs.core.windows.net");
    EXPECT_EQ(l.key, "orc/state.json");
  }
}

TEST(StateUri, AnythingElseIsALocalPath) {
  for (const char* p : {"/abs/state.json", "rel/state.json", "s3:/not-a-uri", "S3.json"}) {
    StateLocation l = parse_state_location(p, "X");
    EXPECT_EQ(l.kind, StateLocationKind::Local) << p;
    EXPECT_EQ(l.path, p);
  }
}

TEST(StateUri, MalformedUrisNameTheValueTheOriginAndTheExpectedForm) {
  for (const char* bad : {"s3://bucket-only", "s3://bucket/", "s3:///key", "s3://b/dir/",
                          "gs://b", "abfss://acct.dfs.core.windows.net/p",
                          "abfss://c@acct.dfs.core.windows.net", "abfs://c@nodots/p",
                          "abfss://@acct.dfs.core.windows.net/p"}) {
    try {
      parse_state_location(bad, "ORCHESTRA_STATE_FILE");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_NE(m.find(bad), std::string::npos) << m;
      EXPECT_NE(m.find("ORCHESTRA_STATE_FILE"), std::string::npos) << m;
      EXPECT_NE(m.find("expected"), std::string::npos) << m;
    }
  }
}

}  // namespace
}  // namespace orc
