#include "core/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

#include "core/error.h"

namespace orc {
namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw Error(fmt::format("cannot create a temporary directory {}: {}", tmpl,
                            std::strerror(errno)));
  path_ = fs::canonical(tmpl, ec);
  if (ec) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace orc
