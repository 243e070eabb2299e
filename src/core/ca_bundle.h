#pragma once
// Where TLS clients find trusted CA certificates. The portable binary wheel bundles its own
// libcurl, whose compiled-in CA path is the build machine's; other distributions keep theirs
// elsewhere, so orc names the bundle to use explicitly.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/environment.h"

namespace orc {

/// The CA certificates libcurl should trust. An empty field leaves libcurl's own default.
struct CaBundle {
  std::optional<std::string> file;       ///< a PEM bundle (CURLOPT_CAINFO)
  std::optional<std::string> directory;  ///< a hashed certificate directory (CURLOPT_CAPATH)
};

/// The well-known CA bundle files, in the order they are probed: Debian/Ubuntu, RHEL/Fedora,
/// openSUSE, older RHEL, the RHEL/Fedora extracted trust store, Alpine (and macOS).
inline constexpr std::array<std::string_view, 6> kCaBundleCandidates = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

/// Chooses the CA certificates: `SSL_CERT_FILE` and `SSL_CERT_DIR` from `env` when set
/// (non-empty; taken as given, even if missing, so a typo fails loudly in libcurl); with
/// neither set, the first of kCaBundleCandidates for which `exists` is true; else nothing.
CaBundle find_ca_bundle(const Environment& env,
                        const std::function<bool(const std::string&)>& exists);

/// find_ca_bundle over the process environment and the real filesystem, computed once.
const CaBundle& process_ca_bundle();

}  // namespace orc
