#pragma once
// A private directory under $TMPDIR (outside any project), removed with everything in it.
#include <filesystem>
#include <string>

namespace orc {

class TempDir {
 public:
  /// Creates `<tmp>/<prefix>-XXXXXX`. Throws orc::Error when it cannot.
  explicit TempDir(const std::string& prefix = "orc");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace orc
