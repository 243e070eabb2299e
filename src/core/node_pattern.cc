#include "core/node_pattern.h"

#include <fnmatch.h>

namespace orc {

std::string_view strip_relation_suffix(std::string_view key) {
  auto at = key.find('@');
  return at == std::string_view::npos ? key : key.substr(0, at);
}

namespace {

/// Whether `pattern` names `full` or one of its dot-separated tails.
bool matches_whole_or_tail(const std::string& pattern, const std::string& full) {
  if (pattern == full || ::fnmatch(pattern.c_str(), full.c_str(), 0) == 0) return true;
  for (size_t dot = full.find('.'); dot != std::string::npos; dot = full.find('.', dot + 1)) {
    const char* tail = full.c_str() + dot + 1;
    if (pattern == tail || ::fnmatch(pattern.c_str(), tail, 0) == 0) return true;
  }
  return false;
}

}  // namespace

bool matches_node_pattern(const std::string& pattern, std::string_view id) {
  const std::string full(strip_relation_suffix(id));
  if (matches_whole_or_tail(pattern, full)) return true;
  // An account-scoped key names a relation: `42."db"."main"."fct_orders"` is also named by
  // `fct_orders` and `main.fct_orders`, as the warehouse spells it without quotes.
  if (full.find('"') == std::string::npos) return false;
  std::string unquoted;
  for (char c : full)
    if (c != '"') unquoted.push_back(c);
  return matches_whole_or_tail(pattern, unquoted);
}

}  // namespace orc
