#include "core/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace orc {

MappedFile::MappedFile(const std::filesystem::path& path, size_t padding) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(fmt::format("cannot read {}: not a regular file", path.string()));
  }
  size_ = static_cast<size_t>(st.st_size);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  capacity_ = size_ + padding;
  mapped_ = (capacity_ + page - 1) / page * page;
  // Reserve zeroed anonymous memory for file + padding, then map the file over its start:
  // bytes past the end of the file are zero, whether in the file's last page or beyond it.
  void* base = ::mmap(nullptr, mapped_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    ::close(fd);
    throw Error(fmt::format("cannot map {}: {}", path.string(), std::strerror(errno)));
  }
  if (size_ > 0) {
    void* file = ::mmap(base, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0);
    if (file == MAP_FAILED) {
      int e = errno;
      ::munmap(base, mapped_);
      ::close(fd);
      throw Error(fmt::format("cannot map {}: {}", path.string(), std::strerror(e)));
    }
    ::madvise(base, size_, MADV_SEQUENTIAL);
  }
  ::close(fd);
  data_ = static_cast<char*>(base);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, mapped_);
}

}  // namespace orc
