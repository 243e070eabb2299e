#include "plan/target_entries.h"

#include <cctype>
#include <set>

#include "core/timestamp.h"

namespace orc {

TargetEntries::TargetEntries(const State& state, std::string target)
    : target_(std::move(target)) {
  for (const auto& [key, entry] : state.entries) {
    if (entry.target != target_ || entry.is_clone()) continue;
    std::string_view base = std::string_view(key).substr(0, key.find('@'));
    auto [it, added] = by_key_.emplace(base, &entry);
    if (added) continue;
    auto mine = parse_timestamp(entry.last_updated), theirs = parse_timestamp(it->second->last_updated);
    if (mine && (!theirs || *mine > *theirs)) it->second = &entry;
  }
}

const StateEntry* TargetEntries::find(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

std::vector<std::pair<std::string, std::string>> TargetEntries::schemas() const {
  std::set<std::pair<std::string, std::string>> found;  // sorted: the same probe every run
  for (const auto& [key, entry] : by_key_) {
    if (!entry->fingerprint) continue;
    if (auto parts = split_relation_name(entry->fingerprint->relation))
      found.emplace(std::move(parts->database), std::move(parts->schema));
  }
  return {found.begin(), found.end()};
}

std::optional<RelationParts> split_relation_name(std::string_view name) {
  std::vector<std::string> parts(1);
  char close = 0;  // the quote that ends the part being read, 0 outside quotes
  for (char c : name) {
    if (close) {
      if (c == close) close = 0;
      else parts.back().push_back(c);
    } else if (c == '"' || c == '`') {
      close = c;
    } else if (c == '[') {
      close = ']';
    } else if (c == '.') {
      parts.emplace_back();
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      parts.back().push_back(c);
    }
  }
  if (close || parts.size() != 3) return std::nullopt;
  for (const auto& p : parts)
    if (p.empty()) return std::nullopt;
  return RelationParts{parts[0], parts[1], parts[2]};
}

bool reads_target_variable(std::string_view code) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = code.find("target"); at != std::string_view::npos;
       at = code.find("target", at + 1)) {
    if (at > 0 && (word_char(code[at - 1]) || code[at - 1] == '.')) continue;
    size_t next = at + 6;
    while (next < code.size() && code[next] == ' ') ++next;
    if (next < code.size() && (code[next] == '.' || code[next] == '[')) return true;
  }
  return false;
}

}  // namespace orc
