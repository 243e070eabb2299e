// The state key policy (plan/state_keys.h) in its four configurations (account id or not,
// local_run true or false): key shapes, per-relation lookup, what a run sees, which stored
// keys name which node, and what prune removes.
#include <gtest/gtest.h>

#include <algorithm>

#include "plan/state_keys.h"

using namespace orc;

namespace {

const std::string kAcct = "42";
const std::string kOrders = "\"db\".\"main\".\"orders\"";
const std::string kMart = "\"db\".\"main\".\"mart\"";

/// model.p.orders and model.p.mart (relations in db.main), test.p.t (no relation name), a
/// source whose relation is raw.orders.
Graph project() {
  Graph g;
  auto add = [&g](std::string uid, NodeKind kind, std::string relation, std::string alias) {
    Node n;
    n.unique_id = std::move(uid);
    n.kind = kind;
    n.relation_name = std::move(relation);
    n.alias = std::move(alias);
    n.database = "db";
    n.schema = "main";
    g.add(std::move(n));
  };
  add("source.p.raw.orders", NodeKind::Source, "\"db\".\"raw\".\"orders\"", "orders");
  add("model.p.orders", NodeKind::Model, kOrders, "orders");
  add("model.p.mart", NodeKind::Model, kMart, "mart");
  add("test.p.t", NodeKind::Test, "", "t");
  g.link();
  return g;
}

StateEntry entry(const std::string& checksum, const std::string& relation = "") {
  StateEntry e;
  e.checksum = checksum;
  e.last_updated = "2024-01-01T00:00:00Z";
  if (!relation.empty()) {
    e.fingerprint.emplace();
    e.fingerprint->relation = relation;
  }
  return e;
}

State with_keys(const std::vector<std::string>& keys) {
  State s;
  for (const auto& k : keys) s.entries[k] = entry(k);
  return s;
}

/// The configurations in which keys are bare unique_ids.
struct Config {
  std::optional<std::string> account;
  bool local_run;
};
const Config kBare[] = {{std::nullopt, true}, {std::nullopt, false}, {kAcct, true},
                        {std::string(), false}};

}  // namespace

TEST(StateKeys, KeyShapesInTheFourConfigurations) {
  const Graph g = project();
  const NodeId orders = *g.find("model.p.orders"), test = *g.find("test.p.t");
  for (const Config& c : kBare) {
    StateKeys keys(g, c.account, c.local_run);
    EXPECT_FALSE(keys.scoped());
    EXPECT_EQ(keys.key(orders), "model.p.orders");
    EXPECT_EQ(keys.key(test), "test.p.t");
  }
  StateKeys scoped(g, kAcct, false);
  EXPECT_TRUE(scoped.scoped());
  EXPECT_EQ(scoped.key(orders), "42." + kOrders);
  EXPECT_EQ(scoped.key(test), "42.test.p.t") << "no relation name: the unique_id";
}

TEST(StateKeys, EntryIsTheOneOfTheNodesCurrentRelation) {
  const Graph g = project();
  const NodeId orders = *g.find("model.p.orders"), test = *g.find("test.p.t");
  State s;
  s.entries["model.p.orders"] = entry("prod", "\"db\".\"prod\".\"orders\"");
  s.entries["model.p.orders@" + kOrders] = entry("main", kOrders);
  s.entries["42." + kOrders] = entry("scoped", kOrders);
  s.entries["42.test.p.t"] = entry("test-other", "db.other");
  s.entries["42.test.p.t@db.main"] = entry("test-main", "db.main");
  EXPECT_EQ(StateKeys(g, std::nullopt, true).entry(s, orders)->checksum, "main");
  EXPECT_EQ(StateKeys(g, kAcct, true).entry(s, orders)->checksum, "main");
  StateKeys scoped(g, kAcct, false);
  EXPECT_EQ(scoped.entry(s, orders)->checksum, "scoped");
  EXPECT_EQ(scoped.entry(s, test)->checksum, "test-main");
  EXPECT_EQ(scoped.entry(s, *g.find("model.p.mart")), nullptr);
}

// Bug: with an account id and local_run at its default, runs wrote bare unique_id keys but
// the loaded state was filtered to "<account>." keys, so every run rebuilt everything.
TEST(StateKeys, OnlyScopedKeysFilterTheLoadedState) {
  const Graph g = project();
  const State stored = with_keys({"model.p.orders", "42." + kOrders, "7." + kOrders,
                                  "42x." + kOrders, "42.test.p.t@db.main"});
  for (const Config& c : kBare) {
    State s = stored;
    StateKeys(g, c.account, c.local_run).filter(s);
    EXPECT_EQ(s.entries.size(), stored.entries.size()) << "bare keys: nothing filtered";
  }
  State s = stored;
  StateKeys(g, kAcct, false).filter(s);
  std::vector<std::string> seen;
  for (const auto& [k, e] : s.entries) seen.push_back(k);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"42." + kOrders, "42.test.p.t@db.main"}));
}

TEST(StateKeys, NodeOfReadsEveryKeyShape) {
  const Graph g = project();
  const NodeId orders = *g.find("model.p.orders"), test = *g.find("test.p.t");
  for (bool local_run : {true, false}) {
    StateKeys keys(g, kAcct, local_run);
    EXPECT_EQ(keys.node_of("model.p.orders"), orders);
    EXPECT_EQ(keys.node_of("model.p.orders@\"db\".\"prod\".\"orders\""), orders);
    EXPECT_EQ(keys.node_of("42." + kOrders), orders);
    EXPECT_EQ(keys.node_of("42.model.p.orders"), orders);
    EXPECT_EQ(keys.node_of("42.test.p.t"), test);
    EXPECT_EQ(keys.node_of("42.test.p.t@db.other"), test);
    EXPECT_EQ(keys.node_of("42.\"db\".\"raw\".\"orders\""), std::nullopt) << "a source's";
    EXPECT_EQ(keys.node_of("7." + kOrders), std::nullopt) << "another account's";
    EXPECT_EQ(keys.node_of("42.model.p.gone"), std::nullopt);
    EXPECT_EQ(keys.node_of(""), std::nullopt);
  }
  EXPECT_EQ(StateKeys(g, std::nullopt, false).node_of("42." + kOrders), std::nullopt)
      << "without an account id, account keys name no node";
}

TEST(StateKeys, OwnsOnlyItsOwnKeyShape) {
  const Graph g = project();
  for (const Config& c : kBare) {
    StateKeys keys(g, c.account, c.local_run);
    EXPECT_TRUE(keys.owns("model.p.gone"));
    EXPECT_TRUE(keys.owns("unit_test.p.m.u@db.main"));
    EXPECT_FALSE(keys.owns("42." + kOrders));
    EXPECT_FALSE(keys.owns("7.model.p.gone"));
    EXPECT_FALSE(keys.owns("nodots"));
  }
  StateKeys scoped(g, kAcct, false);
  EXPECT_TRUE(scoped.owns("42." + kOrders));
  EXPECT_FALSE(scoped.owns("model.p.orders"));
  EXPECT_FALSE(scoped.owns("7." + kOrders));
}

TEST(StateKeys, PruneOfALiveProjectRemovesNothing) {
  const Graph g = project();
  const State live =
      with_keys({"model.p.orders", "model.p.orders@\"db\".\"prod\".\"orders\"", "model.p.mart",
                 "test.p.t", "test.p.t@db.prod", "42." + kOrders, "42." + kMart,
                 "42.test.p.t", "42.test.p.t@db.prod",
                 // another target's relation of model.p.orders, written with scoped keys
                 "42.\"db\".\"prod\".\"orders\"",
                 // other accounts' entries, of gone nodes or not
                 "7." + kOrders, "7.\"db\".\"main\".\"gone\"", "7.model.p.gone"});
  for (const Config& c : kBare) EXPECT_EQ(StateKeys(g, c.account, c.local_run).stale(live),
                                          std::vector<std::string>{});
  // Bug: prune read "<account>.<unique_id>" only, so every relation-keyed entry was "stale".
  EXPECT_EQ(StateKeys(g, kAcct, false).stale(live), std::vector<std::string>{});
}

TEST(StateKeys, PruneRemovesAGoneNodesEntryInEachKeyShape) {
  const Graph g = project();
  const std::string gone = "\"db\".\"main\".\"gone\"";
  const State s = with_keys({"model.p.orders", "model.p.gone", "model.p.gone@db.x.gone",
                             "test.p.gone_test", "42." + kOrders, "42." + gone,
                             "42.test.p.gone_test", "42.test.p.gone_test@db.main",
                             "7." + gone, "7.model.p.gone"});
  const std::vector<std::string> bare{"model.p.gone", "model.p.gone@db.x.gone",
                                      "test.p.gone_test"};
  for (const Config& c : kBare) EXPECT_EQ(StateKeys(g, c.account, c.local_run).stale(s), bare);
  EXPECT_EQ(StateKeys(g, kAcct, false).stale(s),
            (std::vector<std::string>{"42." + gone, "42.test.p.gone_test",
                                      "42.test.p.gone_test@db.main"}));
}
