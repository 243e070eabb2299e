#include "core/ca_bundle.h"

#include <filesystem>

namespace orc {

CaBundle find_ca_bundle(const Environment& env,
                        const std::function<bool(const std::string&)>& exists) {
  CaBundle bundle;
  bundle.file = env.get_nonempty("SSL_CERT_FILE");
  bundle.directory = env.get_nonempty("SSL_CERT_DIR");
  if (bundle.file || bundle.directory) return bundle;
  for (std::string_view candidate : kCaBundleCandidates) {
    std::string path(candidate);
    if (exists(path)) {
      bundle.file = std::move(path);
      break;
    }
  }
  return bundle;
}

const CaBundle& process_ca_bundle() {
  static const CaBundle bundle =
      find_ca_bundle(Environment::from_process(), [](const std::string& path) {
        std::error_code ec;
        return std::filesystem::is_regular_file(path, ec);  // follows symlinks
      });
  return bundle;
}

}  // namespace orc
