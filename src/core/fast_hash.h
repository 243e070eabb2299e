#pragma once
// A fast, stable 64-bit content hash (XXH3) for fingerprint components: stable across runs,
// machines and orc versions, since its hex form is stored in state files.
#include <cstdint>
#include <string>
#include <string_view>

namespace orc {

/// XXH3-64 of `data`.
uint64_t fast_hash(std::string_view data);

/// `h` as 16 lower-case hex digits.
std::string hash_hex(uint64_t h);

/// Incremental hashing of several parts (each part length-prefixed, so ("ab","c") and
/// ("a","bc") differ).
class HashBuilder {
 public:
  HashBuilder();
  ~HashBuilder();
  HashBuilder(const HashBuilder&) = delete;
  HashBuilder& operator=(const HashBuilder&) = delete;
  HashBuilder& add(std::string_view part);
  uint64_t value() const;
  std::string hex() const { return hash_hex(value()); }

 private:
  void* state_;
};

/// JSON text with the whitespace outside string literals removed, so that two writers that
/// indent differently hash alike.
std::string minify_json(std::string_view json);

}  // namespace orc
