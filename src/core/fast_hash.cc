#include "core/fast_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace orc {

uint64_t fast_hash(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

std::string hash_hex(uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = digits[h & 15];
  return out;
}

HashBuilder::HashBuilder() : state_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

HashBuilder::~HashBuilder() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

HashBuilder& HashBuilder::add(std::string_view part) {
  auto* s = static_cast<XXH3_state_t*>(state_);
  uint64_t len = part.size();
  XXH3_64bits_update(s, &len, sizeof len);
  XXH3_64bits_update(s, part.data(), part.size());
  return *this;
}

uint64_t HashBuilder::value() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
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
