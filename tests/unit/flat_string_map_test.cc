// FlatStringMap: the sorted-vector map of state entries and fingerprints behaves as the
// std::map it replaced (order, lookups, last value wins).
#include "core/flat_string_map.h"

#include <gtest/gtest.h>

#include <map>

namespace orc {
namespace {

/// The map's pairs in iteration order.
std::vector<std::pair<std::string, std::string>> pairs_of(const FlatStringMap& m) {
  return {m.begin(), m.end()};
}

TEST(FlatStringMap, IteratesInKeyOrderWhateverTheInsertionOrder) {
  FlatStringMap m;
  m.insert_or_assign("model.b", "2");
  m.insert_or_assign("model.a", "1");
  m["model.c"] = "3";
  m.emplace("model.0", "0");
  std::map<std::string, std::string> expected{
      {"model.0", "0"}, {"model.a", "1"}, {"model.b", "2"}, {"model.c", "3"}};
  EXPECT_EQ(pairs_of(m), (std::vector<std::pair<std::string, std::string>>(expected.begin(),
                                                                             expected.end())));
}

TEST(FlatStringMap, AssignmentReplacesAndEmplaceKeeps) {
  FlatStringMap m;
  m.insert_or_assign("k", "first");
  m.insert_or_assign("k", "second");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.at("k"), "second");
  auto [it, added] = m.emplace("k", "third");
  EXPECT_FALSE(added);
  EXPECT_EQ(it->second, "second");
  m["k"] = "fourth";
  EXPECT_EQ(m.at("k"), "fourth");
}

TEST(FlatStringMap, LookupsAndErase) {
  FlatStringMap m{{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(m.count("a"), 1u);
  EXPECT_EQ(m.count("z"), 0u);
  EXPECT_EQ(m.find("z"), m.end());
  EXPECT_THROW(m.at("z"), std::out_of_range);
  EXPECT_EQ(m.erase("a"), 1u);
  EXPECT_EQ(m.erase("a"), 0u);
  EXPECT_EQ(pairs_of(m), (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
}

TEST(FlatStringMap, FromPairsSortsAndKeepsTheLastValueOfARepeatedKey) {
  FlatStringMap m = FlatStringMap::from_pairs({{"c", "1"}, {"a", "1"}, {"c", "2"}, {"b", "1"}});
  EXPECT_EQ(pairs_of(m), (std::vector<std::pair<std::string, std::string>>{
                             {"a", "1"}, {"b", "1"}, {"c", "2"}}));
  EXPECT_EQ(m, (FlatStringMap{{"b", "1"}, {"c", "2"}, {"a", "1"}}));
}

}  // namespace
}  // namespace orc
