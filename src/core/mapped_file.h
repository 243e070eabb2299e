#pragma once
// A read-only file mapped into memory with zeroed padding after its end, so a SIMD parser can
// read past the last byte without the file ever being copied.
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace orc {

class MappedFile {
 public:
  /// Maps `path` with at least `padding` readable zero bytes after its end. Throws orc::Error
  /// naming the path when it cannot be opened or mapped.
  MappedFile(const std::filesystem::path& path, size_t padding);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  /// Readable bytes from data(): size() plus the padding.
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_, size_}; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t mapped_ = 0;
};

}  // namespace orc
