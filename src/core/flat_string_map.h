#pragma once
// A string-to-string map kept as one sorted vector (docs/design.md, "Engine performance").
#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orc {

/// What a state entry and a fingerprint hold per parent, source, macro, var or config key: a
/// small string -> string map, in key order like std::map, stored as one sorted vector of pairs
/// (one allocation per map instead of one tree node per pair; a 100k-node state holds about
/// 2.5 million pairs). Unlike std::map, inserting a key invalidates iterators and references
/// into the map: look up again after an insert.
class FlatStringMap {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  FlatStringMap() = default;
  /// Pairs in any order; a repeated key keeps its last value (as std::map assignment would).
  FlatStringMap(std::initializer_list<value_type> pairs) {
    for (const auto& [k, v] : pairs) insert_or_assign(k, v);
  }

  /// The map of `pairs` given in any order; a repeated key keeps its last value. One sort
  /// instead of an insertion per pair (building a fingerprint's macro closure).
  static FlatStringMap from_pairs(std::vector<value_type> pairs) {
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const value_type& a, const value_type& b) { return a.first < b.first; });
    FlatStringMap out;
    out.pairs_.reserve(pairs.size());
    for (auto& p : pairs) {
      if (!out.pairs_.empty() && out.pairs_.back().first == p.first)
        out.pairs_.back().second = std::move(p.second);
      else
        out.pairs_.push_back(std::move(p));
    }
    return out;
  }

  iterator begin() { return pairs_.begin(); }
  iterator end() { return pairs_.end(); }
  const_iterator begin() const { return pairs_.begin(); }
  const_iterator end() const { return pairs_.end(); }
  size_t size() const { return pairs_.size(); }
  bool empty() const { return pairs_.empty(); }
  void clear() { pairs_.clear(); }
  void reserve(size_t n) { pairs_.reserve(n); }

  /// The pair with key `key`, or end().
  const_iterator find(std::string_view key) const {
    auto it = lower(key);
    return it != pairs_.end() && it->first == key ? it : pairs_.end();
  }
  iterator find(std::string_view key) {
    auto it = lower(key);
    return it != pairs_.end() && it->first == key ? it : pairs_.end();
  }
  size_t count(std::string_view key) const { return find(key) == end() ? 0 : 1; }
  /// The value of `key`; throws std::out_of_range when absent (as std::map::at).
  const std::string& at(std::string_view key) const {
    auto it = find(key);
    if (it == end()) throw std::out_of_range("FlatStringMap::at");
    return it->second;
  }
  std::string& at(std::string_view key) {
    auto it = find(key);
    if (it == end()) throw std::out_of_range("FlatStringMap::at");
    return it->second;
  }

  /// The value of `key`, inserted empty when absent.
  std::string& operator[](std::string_view key) {
    auto it = lower(key);
    if (it == pairs_.end() || it->first != key)
      it = pairs_.emplace(it, std::string(key), std::string());
    return it->second;
  }
  /// Sets `key` to `value`. Appending keys in ascending order (what a parse of a map orc wrote
  /// does) costs no search.
  void insert_or_assign(std::string key, std::string value) {
    if (pairs_.empty() || pairs_.back().first < key) {
      pairs_.emplace_back(std::move(key), std::move(value));
      return;
    }
    auto it = lower(key);
    if (it != pairs_.end() && it->first == key) it->second = std::move(value);
    else pairs_.emplace(it, std::move(key), std::move(value));
  }
  /// Inserts `key` -> `value` unless `key` is present. Returns the pair and whether it was added.
  std::pair<iterator, bool> emplace(std::string key, std::string value) {
    auto it = lower(key);
    if (it != pairs_.end() && it->first == key) return {it, false};
    return {pairs_.emplace(it, std::move(key), std::move(value)), true};
  }
  /// Removes `key`; returns how many pairs were removed (0 or 1).
  size_t erase(std::string_view key) {
    auto it = find(key);
    if (it == pairs_.end()) return 0;
    pairs_.erase(it);
    return 1;
  }

  bool operator==(const FlatStringMap&) const = default;

 private:
  const_iterator lower(std::string_view key) const {
    return std::lower_bound(pairs_.begin(), pairs_.end(), key,
                            [](const value_type& p, std::string_view k) { return p.first < k; });
  }
  iterator lower(std::string_view key) {
    return std::lower_bound(pairs_.begin(), pairs_.end(), key,
                            [](const value_type& p, std::string_view k) { return p.first < k; });
  }

  std::vector<value_type> pairs_;  ///< sorted by key, keys unique
};

}  // namespace orc
