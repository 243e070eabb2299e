// SigV4 signing against AWS's published Signature Version 4 test-suite vectors.
#include <gtest/gtest.h>

#include "core/sha256.h"
#include "stores/cloud/aws_sigv4.h"

namespace orc::remote {
namespace {

const AwsCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test"};
const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* kScope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

SigV4Request suite_request(const std::string& method) {
  SigV4Request r;
  r.method = method;
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = kEmptySha;
  return r;
}

std::string sign_suite(const SigV4Request& r) {
  return sign_request(r, kSuite, "us-east-1", "service", "20150830T123600Z");
}

TEST(RemoteSigV4, GetVanilla) {
  SigV4Request r = suite_request("GET");
  EXPECT_EQ(sigv4_canonical_request(r),
            std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "host;x-amz-date\n") + kEmptySha);
  EXPECT_EQ(sign_suite(r), std::string(kScope) +
                               "SignedHeaders=host;x-amz-date, "
                               "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(RemoteSigV4, PostVanilla) {
  EXPECT_EQ(sign_suite(suite_request("POST")),
            std::string(kScope) + "SignedHeaders=host;x-amz-date, "
                                  "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(RemoteSigV4, GetVanillaQueryOrderKeyCase) {
  SigV4Request r = suite_request("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(sign_suite(r),
            std::string(kScope) + "SignedHeaders=host;x-amz-date, "
                                  "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(RemoteSigV4, PostHeaderValueCase) {
  SigV4Request r = suite_request("POST");
  r.headers.emplace_back("My-Header1", "VALUE1");
  EXPECT_EQ(sign_suite(r),
            std::string(kScope) + "SignedHeaders=host;my-header1;x-amz-date, "
                                  "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
}

// The S3 documentation's "GET Object" example (examplebucket/test.txt, Range header).
TEST(RemoteSigV4, S3GetObjectExample) {
  AwsCredentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "t"};
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.payload_sha256 = sha256_hex("");
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(sign_request(r, creds, "us-east-1", "s3", "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(RemoteSigV4, UriEncoding) {
  EXPECT_EQ(aws_uri_encode("a b/c~d.e_f-g+h", true), "a%20b/c~d.e_f-g%2Bh");
  EXPECT_EQ(aws_uri_encode("a/b", false), "a%2Fb");
}

}  // namespace
}  // namespace orc::remote
