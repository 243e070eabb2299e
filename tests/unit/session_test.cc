// The Session (plan/session.h): one run's engine over one graph and one stored state. A run
// decided and recorded through it reads back its own entries under the keys of its
// configuration (issue #32: with an account id and local_run at its default, entries were
// written bare and looked for under the account's prefix, so nothing was ever reused), sees
// only its account's entries when keys are scoped, and writes entries and savings as one
// change.
#include <gtest/gtest.h>

#include "plan/session.h"

using namespace orc;

namespace {

/// raw.orders (a source with loaded_at) -> model.p.orders -> model.p.mart.
Graph project() {
  Graph g;
  auto add = [&g](std::string uid, NodeKind kind, std::string name, std::vector<std::string> deps) {
    Node n;
    n.unique_id = std::move(uid);
    n.kind = kind;
    n.name = name;
    n.alias = name;
    n.database = "db";
    n.schema = kind == NodeKind::Source ? "raw" : "main";
    n.relation_name = "\"db\".\"" + n.schema + "\".\"" + name + "\"";
    n.materialized = kind == NodeKind::Model ? "table" : "";
    n.package_name = "p";
    n.raw_code = kind == NodeKind::Model ? "select 1 as " + name : "";
    n.checksum = "sum-" + name;
    n.depends_on = std::move(deps);
    if (kind == NodeKind::Source) {
      n.source_name = "raw";
      n.loaded_at_field = "loaded_at";
    }
    g.add(std::move(n));
  };
  add("source.p.raw.orders", NodeKind::Source, "orders", {});
  add("model.p.orders", NodeKind::Model, "orders", {"source.p.raw.orders"});
  add("model.p.mart", NodeKind::Model, "mart", {"model.p.orders"});
  g.root_project = "p";
  g.adapter_type = "duckdb";
  g.link();
  return g;
}

Observations seen(const std::string& max_loaded_at) {
  Observations o;
  o.freshness["source.p.raw.orders"] = max_loaded_at;
  return o;
}

std::vector<NodeResult> succeeded(const Graph& g) {
  std::vector<NodeResult> out;
  for (const Node& n : g.nodes)
    if (n.kind == NodeKind::Model) out.push_back({n.unique_id, "success", "", 1.5});
  return out;
}

/// Two runs through fresh sessions over the same stored state: the first builds and records,
/// the second (nothing changed) must reuse. Returns the second plan's reuse count.
size_t second_run_reuses(const SessionSettings& settings, State& stored) {
  const Graph g = project();
  const Micros t1 = *parse_timestamp("2026-01-01T00:00:00Z");
  const Micros t2 = *parse_timestamp("2026-01-01T01:00:00Z");
  std::vector<NodeId> all = {0, 1, 2};
  {
    Session first(g, stored, settings, {});
    Plan plan = first.decide(all, seen("2025-12-31T00:00:00Z"), t1);
    EXPECT_EQ(plan.build_count, 2u);
    StateChange change = first.record(plan, succeeded(g), seen("2025-12-31T00:00:00Z"),
                                      "2026-01-01T00:00:05Z", std::nullopt);
    EXPECT_FALSE(change.savings) << "no savings given: none added";
    change.apply(stored);
  }
  Session second(g, stored, settings, {});
  Plan plan = second.decide(all, seen("2025-12-31T00:00:00Z"), t2);
  StateChange change = second.record(plan, {}, seen("2025-12-31T00:00:00Z"), "x",
                                     second.savings(plan));
  EXPECT_TRUE(change.savings);
  if (!change.savings) return 0;
  EXPECT_EQ(change.savings->runs, 1);
  EXPECT_EQ(change.savings->reused_nodes, static_cast<int64_t>(plan.reuse_count));
  EXPECT_DOUBLE_EQ(change.savings->saved_seconds, 1.5 * static_cast<double>(plan.reuse_count));
  return plan.reuse_count;
}

}  // namespace

TEST(Session, AnAccountIdWithLocalRunReusesItsOwnBareKeyedEntries) {
  SessionSettings s;
  s.integration_account_id = "42";  // local_run stays true: keys are bare unique_ids
  State stored;
  EXPECT_EQ(second_run_reuses(s, stored), 2u);
  EXPECT_TRUE(stored.entries.count("model.p.orders")) << "bare keys with local_run";
  EXPECT_TRUE(stored.entries.count("model.p.mart"));
}

TEST(Session, ScopedKeysAreWrittenAndReadUnderTheAccountAndSeeOnlyIt) {
  SessionSettings s;
  s.integration_account_id = "42";
  s.local_run = false;
  State stored;
  StateEntry other;
  other.checksum = "x";
  other.last_updated = "2020-01-01T00:00:00Z";
  stored.entries["7.\"db\".\"main\".\"orders\""] = other;  // another account's entry
  EXPECT_EQ(second_run_reuses(s, stored), 2u);
  EXPECT_TRUE(stored.entries.count("42.\"db\".\"main\".\"orders\""));
  EXPECT_TRUE(stored.entries.count("42.\"db\".\"main\".\"mart\""));
  EXPECT_FALSE(stored.entries.count("model.p.orders")) << "no bare key beside the scoped one";
  EXPECT_EQ(stored.entries.at("7.\"db\".\"main\".\"orders\"").checksum, "x")
      << "another account's entry is never touched";
  const Graph g = project();
  Session session(g, stored, s, {});
  EXPECT_EQ(session.state().entries.size(), 2u) << "the run sees its account's entries only";
  EXPECT_EQ(stored.entries.size(), 3u) << "the stored document is not filtered in place";
}

TEST(Session, RecordLeavesOutSourcesRebuiltInTheRun) {
  const Graph g = project();
  State stored;
  Session session(g, stored, {}, {});
  Plan plan;
  plan.sources_rebuilt = {0};
  StateChange change = session.record(plan, succeeded(g), seen("2025-12-31T00:00:00Z"), "t",
                                      std::nullopt);
  ASSERT_TRUE(change.merged.entries.count("model.p.orders"));
  EXPECT_TRUE(change.merged.entries.at("model.p.orders").sources.empty())
      << "measured before its relation was rebuilt: not what the readers read";
}

TEST(Session, PlaceholderRunsDropTheEntriesOfWhatRan) {
  const Graph g = project();
  State stored;
  stored.entries["model.p.orders"].checksum = "a";
  stored.entries["model.p.mart"].checksum = "b";
  Session session(g, stored, {}, {});
  StateChange drop = session.drop_placeholders({{"model.p.orders", "success", "", 0.1}});
  EXPECT_EQ(drop.removed, std::vector<std::string>{"model.p.orders"});
  drop.apply(stored);
  EXPECT_FALSE(stored.entries.count("model.p.orders"));
  EXPECT_TRUE(stored.entries.count("model.p.mart"));
}
