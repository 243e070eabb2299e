// Choosing the CA certificates for libcurl: SSL_CERT_FILE / SSL_CERT_DIR first, then the
// distributions' well-known bundle files in order, else libcurl's own default.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ca_bundle.h"

using orc::CaBundle;
using orc::Environment;
using orc::find_ca_bundle;

namespace {

/// find_ca_bundle with `vars` as the environment and exactly the files in `present` existing;
/// every probed path is recorded in `probed` when given.
CaBundle choose(std::map<std::string, std::string> vars, std::set<std::string> present,
                std::vector<std::string>* probed = nullptr) {
  return find_ca_bundle(Environment{std::move(vars)}, [&](const std::string& path) {
    if (probed) probed->push_back(path);
    return present.count(path) > 0;
  });
}

}  // namespace

TEST(CaBundle, SslCertFileWinsAndNothingIsProbed) {
  std::vector<std::string> probed;
  CaBundle b = choose({{"SSL_CERT_FILE", "/opt/corp/ca.pem"}},
                      {"/etc/ssl/certs/ca-certificates.crt"}, &probed);
  EXPECT_EQ(b.file, "/opt/corp/ca.pem");
  EXPECT_FALSE(b.directory);
  EXPECT_TRUE(probed.empty());
}

TEST(CaBundle, SslCertFileIsTakenEvenIfMissing) {
  // A typo should fail loudly in libcurl, not fall back silently to another bundle.
  EXPECT_EQ(choose({{"SSL_CERT_FILE", "/nowhere/ca.pem"}}, {}).file, "/nowhere/ca.pem");
}

TEST(CaBundle, SslCertDirAloneSetsOnlyTheDirectory) {
  std::vector<std::string> probed;
  CaBundle b = choose({{"SSL_CERT_DIR", "/etc/ssl/certs"}},
                      {"/etc/ssl/certs/ca-certificates.crt"}, &probed);
  EXPECT_FALSE(b.file);
  EXPECT_EQ(b.directory, "/etc/ssl/certs");
  EXPECT_TRUE(probed.empty());
}

TEST(CaBundle, BothVariablesAreUsed) {
  CaBundle b = choose({{"SSL_CERT_FILE", "/a.pem"}, {"SSL_CERT_DIR", "/certs"}}, {});
  EXPECT_EQ(b.file, "/a.pem");
  EXPECT_EQ(b.directory, "/certs");
}

TEST(CaBundle, EmptyVariablesCountAsUnset) {
  CaBundle b = choose({{"SSL_CERT_FILE", ""}, {"SSL_CERT_DIR", ""}},
                      {"/etc/pki/tls/certs/ca-bundle.crt"});
  EXPECT_EQ(b.file, "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_FALSE(b.directory);
}

TEST(CaBundle, ProbesTheWellKnownFilesInOrderAndStopsAtTheFirst) {
  std::vector<std::string> probed;
  CaBundle b = choose({}, {"/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"}, &probed);
  EXPECT_EQ(b.file, "/etc/ssl/ca-bundle.pem");  // openSUSE's comes before Alpine's
  EXPECT_FALSE(b.directory);
  EXPECT_EQ(probed, (std::vector<std::string>{"/etc/ssl/certs/ca-certificates.crt",
                                              "/etc/pki/tls/certs/ca-bundle.crt",
                                              "/etc/ssl/ca-bundle.pem"}));
}

TEST(CaBundle, EachDistributionsBundleIsFoundOnItsOwn) {
  for (const char* path :
       {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"}) {
    EXPECT_EQ(choose({}, {path}).file, path);
  }
}

TEST(CaBundle, NothingFoundLeavesLibcurlsDefault) {
  std::vector<std::string> probed;
  CaBundle b = choose({{"HOME", "/root"}}, {}, &probed);
  EXPECT_FALSE(b.file);
  EXPECT_FALSE(b.directory);
  EXPECT_EQ(probed.size(), orc::kCaBundleCandidates.size());
}
