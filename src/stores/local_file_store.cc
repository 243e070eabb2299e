#include "stores/local_file_store.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file_io.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

/// Holds an exclusive flock on the state file's directory for the lifetime of the object,
/// so concurrent orc runs serialise their read-merge-write. The directory (not the file) is
/// locked because the file is replaced by rename, and no lock file is left behind.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& target) {
    fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
      throw Error(fmt::format("cannot open directory {} of state file {}: {}", dir.string(),
                              target.string(), std::strerror(errno)));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR)
        throw Error(fmt::format("cannot lock {}: {}", dir.string(), std::strerror(errno)));
    }
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

LocalFileStore::LocalFileStore(fs::path path, std::string origin)
    : path_(std::move(path)), origin_(std::move(origin)) {}

std::string LocalFileStore::describe() const { return path_.string(); }

State LocalFileStore::load() {
  std::error_code ec;
  if (!fs::exists(path_, ec)) {
    throw Error(fmt::format(
        "state file {} (from {}) does not exist. Create it first, e.g.: mkdir -p {} && echo "
        "'{{\"state\":{{}}}}' > {}",
        path_.string(), origin_, path_.parent_path().string(), path_.string()));
  }
  return parse_state(read_file(path_), path_.string());
}

void LocalFileStore::update(const std::function<void(State&)>& change) {
  DirectoryLock lock(path_);
  State current = load();  // under the lock: sees every earlier writer's entries
  change(current);
  write_file_atomic(path_, serialize_state(current));
}

}  // namespace orc
