// AWS Signature Version 4 against AWS's published examples: the aws-sig-v4-test-suite
// (get-vanilla, get-vanilla-query-order-key-case, post-vanilla, get-utf8) and the worked
// examples of the S3 API reference (GET object with Range, PUT object, list objects).
#include <gtest/gtest.h>

#include "core/sha256.h"
#include "net/http_client.h"
#include "state/aws/sigv4.h"

namespace orc {
namespace {

const AwsCredentials kSuiteKeys{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "",
                                "test"};
const AwsCredentials kS3DocKeys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                "", "test"};
const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Signature suite(const std::string& method, const std::string& path, const std::string& query) {
  SigV4Request r{method, path, query,
                 {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                 kEmptyHash};
  return sigv4_sign(r, kSuiteKeys, "us-east-1", "service", "20150830T123600Z");
}

TEST(SigV4, SuiteGetVanilla) {
  SigV4Signature s = suite("GET", "/", "");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" + std::string(kEmptyHash));
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, SuiteGetVanillaQueryOrderKeyCase) {
  EXPECT_EQ(suite("GET", "/", "Param2=value2&Param1=value1").signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, SuitePostVanilla) {
  EXPECT_EQ(suite("POST", "/", "").signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, SuiteGetUtf8) {
  EXPECT_EQ(uri_encode("/\xE1\x88\xB4", false), "/%E1%88%B4");
  EXPECT_EQ(suite("GET", "/%E1%88%B4", "").signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4, S3GetObjectExample) {
  SigV4Request r{"GET", "/test.txt", "",
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Range", "bytes=0-9"},
                  {"x-amz-content-sha256", kEmptyHash},
                  {"x-amz-date", "20130524T000000Z"}},
                 kEmptyHash};
  SigV4Signature s = sigv4_sign(r, kS3DocKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObjectExample) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = sha256_hex(body);
  ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // The key "test$file.text" is sent (and signed) percent-encoded.
  SigV4Request r{"PUT", "/" + uri_encode("test$file.text", false), "",
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                  {"x-amz-content-sha256", hash},
                  {"x-amz-date", "20130524T000000Z"},
                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                 hash};
  SigV4Signature s = sigv4_sign(r, kS3DocKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.canonical_request.substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3ListObjectsExampleSortsTheQuery) {
  SigV4Request r{"GET", "/", "max-keys=2&prefix=J",
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"x-amz-content-sha256", kEmptyHash},
                  {"x-amz-date", "20130524T000000Z"}},
                 kEmptyHash};
  EXPECT_EQ(sigv4_sign(r, kS3DocKeys, "us-east-1", "s3", "20130524T000000Z").signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, CanonicalHeadersTrimAndJoinRepeats) {
  SigV4Request r{"GET", "/", "",
                 {{"Host", "h"}, {"X-Multi", " a  b "}, {"x-multi", "c"}, {"x-amz-date", "20150830T123600Z"}},
                 kEmptyHash};
  SigV4Signature s = sigv4_sign(r, kSuiteKeys, "us-east-1", "service", "20150830T123600Z");
  EXPECT_NE(s.canonical_request.find("x-multi:a b,c\n"), std::string::npos) << s.canonical_request;
  EXPECT_EQ(s.signed_headers, "host;x-amz-date;x-multi");
}

TEST(SigV4, UriEncodingAndDates) {
  EXPECT_EQ(uri_encode("a b+c/d~e", false), "a%20b%2Bc/d~e");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(sigv4_canonical_query("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(sigv4_canonical_query("k=a%20b"), "k=a%20b");  // not encoded twice
  EXPECT_EQ(amz_date_from_unix(1440938160), "20150830T123600Z");
}

TEST(HttpUrl, SplitsAuthorityPathAndQuery) {
  UrlParts p = split_url("http://127.0.0.1:5000/bucket/k%20y?x=1", "u");
  EXPECT_EQ(p.scheme, "http");
  EXPECT_EQ(p.authority(), "127.0.0.1:5000");
  EXPECT_EQ(p.path, "/bucket/k%20y");
  EXPECT_EQ(p.query, "x=1");
  EXPECT_EQ(split_url("https://s3.amazonaws.com:443", "u").authority(), "s3.amazonaws.com");
  EXPECT_EQ(split_url("https://s3.amazonaws.com", "u").path, "/");
  EXPECT_THROW(split_url("ftp://x/y", "u"), Error);
  EXPECT_THROW(split_url("no-scheme", "u"), Error);
}

}  // namespace
}  // namespace orc
