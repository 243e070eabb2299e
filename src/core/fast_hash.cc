#include "core/fast_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace orc {

static_assert(sizeof(XXH3_state_t) <= HashBuilder::kStateSize && alignof(XXH3_state_t) <= 64,
              "HashBuilder::state_ must hold an XXH3_state_t");

uint64_t fast_hash(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

uint64_t fast_hash(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

void hash_hex(uint64_t h, char (&out)[16]) {
  static const char* digits = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = digits[h & 15];
}

std::string hash_hex(uint64_t h) {
  char buf[16];
  hash_hex(h, buf);
  return std::string(buf, 16);
}

HashBuilder::HashBuilder() {
  XXH3_64bits_reset(reinterpret_cast<XXH3_state_t*>(state_));
}

HashBuilder& HashBuilder::add(std::string_view part) {
  auto* s = reinterpret_cast<XXH3_state_t*>(state_);
  uint64_t len = part.size();
  XXH3_64bits_update(s, &len, sizeof len);
  XXH3_64bits_update(s, part.data(), part.size());
  return *this;
}

uint64_t HashBuilder::value() const {
  return XXH3_64bits_digest(reinterpret_cast<const XXH3_state_t*>(state_));
}

std::string minify_json(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace orc
