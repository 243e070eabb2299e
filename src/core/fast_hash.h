#pragma once
// A fast, stable 64-bit content hash (XXH3) for fingerprint components: stable across runs,
// machines and orc versions, since its hex form is stored in state files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orc {

/// XXH3-64 of `data`.
uint64_t fast_hash(std::string_view data);
/// XXH3-64 of `data` with `seed` (e.g. the hash of a key, to hash a key/value pair without
/// joining them).
uint64_t fast_hash(std::string_view data, uint64_t seed);

/// `h` as 16 lower-case hex digits.
std::string hash_hex(uint64_t h);
/// Same, into `out` (no allocation).
void hash_hex(uint64_t h, char (&out)[16]);

/// Incremental hashing of several parts (each part length-prefixed, so ("ab","c") and
/// ("a","bc") differ).
class HashBuilder {
 public:
  HashBuilder();
  HashBuilder(const HashBuilder&) = delete;
  HashBuilder& operator=(const HashBuilder&) = delete;
  HashBuilder& add(std::string_view part);
  uint64_t value() const;
  std::string hex() const { return hash_hex(value()); }
  static constexpr size_t kStateSize = 576;  ///< bytes of XXH3's streaming state

 private:
  /// XXH3's streaming state, held inline (no allocation per builder); fast_hash.cc checks
  /// that it fits.
  alignas(64) unsigned char state_[kStateSize];
};

/// JSON text with the whitespace outside string literals removed, so that two writers that
/// indent differently hash alike.
std::string minify_json(std::string_view json);

}  // namespace orc
