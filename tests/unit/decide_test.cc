// The decision rules (DESIGN.md section 2) on small hand-made graphs and states.
#include <gtest/gtest.h>

#include "plan/decide.h"
#include "plan/state_update.h"

using namespace orc;

namespace {

const char* kT0 = "2024-05-01T10:00:00Z";  // when everything was last built
const char* kT1 = "2024-05-01T11:00:00Z";
const char* kSrcOld = "2024-05-01T09:00:00Z";
const char* kSrcNew = "2024-05-01T09:30:00Z";

struct World {
  Graph g;
  State state;
  FreshnessMap freshness;
  DecideSettings settings;
  Micros now = *parse_timestamp("2024-05-01T12:00:00Z");

  NodeId add(const std::string& uid, NodeKind kind, std::vector<std::string> deps = {},
             std::string materialized = "table") {
    Node n;
    n.unique_id = uid;
    n.kind = kind;
    n.resource_type = kind == NodeKind::Model ? "model"
                      : kind == NodeKind::Seed ? "seed"
                      : kind == NodeKind::Snapshot ? "snapshot"
                      : kind == NodeKind::Test ? "test"
                      : kind == NodeKind::UnitTest ? "unit_test"
                      : kind == NodeKind::Source ? "source" : "function";
    n.package_name = "proj";
    n.materialized = materialized;
    n.checksum = "sum-" + uid;
    n.depends_on = std::move(deps);
    if (kind == NodeKind::Source) n.loaded_at_field = "loaded_at";
    return g.add(std::move(n));
  }
  /// Records `uid` as built at `when` from its current inputs (as a successful run would).
  void record(const std::string& uid, const std::string& when = kT0) {
    Lineage lineage(g);
    State updates = entries_for_results(g, lineage, {{uid, "success", when}}, freshness, state,
                                        settings, when);
    merge_state(state, updates);
  }
  Plan decide_all() {
    g.link();
    std::vector<NodeId> all;
    for (NodeId i = 0; i < g.nodes.size(); ++i) all.push_back(i);
    Lineage lineage(g);
    return decide(g, lineage, all, freshness, state, now, settings);
  }
  const NodeDecision& of(const Plan& p, const std::string& uid) {
    const NodeDecision* d = p.find(*g.find(uid));
    EXPECT_NE(d, nullptr) << uid;
    return *d;
  }
};

/// source -> stg (view) -> mart, everything recorded at kT0 with the source at kSrcOld.
World simple_chain() {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record("model.proj.stg");
  w.record("model.proj.mart");
  return w;
}

}  // namespace

TEST(Decide, UnchangedChainIsReused) {
  World w = simple_chain();
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  EXPECT_EQ(p.reuse_count, 2u);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason, "no new upstream data since the last build");
}

TEST(Decide, NewSourceDataBuildsDownstream) {
  World w = simple_chain();
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Build);
  EXPECT_NE(stg.reason.find("new data in source.proj.raw.orders"), std::string::npos);
  ASSERT_EQ(stg.sources.size(), 1u);
  EXPECT_TRUE(stg.sources[0].is_new);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason, "parent model.proj.stg is built in this run");
}

TEST(Decide, SameInstantInAnotherOffsetIsNotNewData) {
  World w = simple_chain();
  w.freshness["source.proj.raw.orders"] = "2024-05-01T11:00:00+02:00";  // == kSrcOld
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
}

TEST(Decide, UnknownFreshnessIsNewData) {
  World w = simple_chain();
  w.freshness.erase("source.proj.raw.orders");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason,
            "freshness of source.proj.raw.orders is unknown (assume new data)");
  w.freshness["source.proj.raw.orders"] = std::nullopt;
  EXPECT_EQ(w.decide_all().build_count, 2u);
}

TEST(Decide, MissingRecordedSourceValueIsNewData) {
  World w = simple_chain();
  w.state.entries["model.proj.stg"].sources.clear();
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason,
            "no max_loaded_at recorded for source.proj.raw.orders");
}

TEST(Decide, NoStateEntryBuilds) {
  World w = simple_chain();
  w.state.entries.erase("model.proj.mart");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason, "no state entry");
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
}

TEST(Decide, ChecksumChangeBuildsNodeAndChildren) {
  World w = simple_chain();
  w.g.nodes[*w.g.find("model.proj.stg")].checksum = "edited";
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.reason, "checksum changed");
  EXPECT_EQ(stg.checksum_old, "sum-model.proj.stg");
  EXPECT_EQ(stg.checksum_new, "edited");
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
}

TEST(Decide, SnapshotAlwaysBuilt) {
  World w = simple_chain();
  w.add("snapshot.proj.snap", NodeKind::Snapshot, {"model.proj.stg"});
  w.g.link();
  w.record("snapshot.proj.snap");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "snapshot.proj.snap").reason, "snapshot: always built");
}

TEST(Decide, SeedsAlwaysBuiltUnlessSeedStateOrchestration) {
  World w;
  w.g.root_project = "proj";
  w.add("seed.proj.countries", NodeKind::Seed);
  w.add("model.proj.dim", NodeKind::Model, {"seed.proj.countries"});
  w.g.link();
  w.record("seed.proj.countries");
  w.record("model.proj.dim");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason,
            "seed: always built (seed_state_orchestration is off)");
  EXPECT_EQ(w.of(p, "model.proj.dim").action, Action::Build);

  w.settings.seed_state_orchestration = true;
  p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason, "seed file unchanged since the last build");
  w.g.nodes[*w.g.find("seed.proj.countries")].checksum = "new file bytes";
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason, "checksum changed");
  EXPECT_EQ(w.of(p, "model.proj.dim").action, Action::Build);
}

TEST(Decide, PackageModelWithoutParentsAlwaysBuilt) {
  World w;
  w.g.root_project = "proj";
  NodeId id = w.add("model.pkg.calendar", NodeKind::Model);
  w.g.nodes[id].package_name = "pkg";
  w.add("model.proj.uses", NodeKind::Model, {"model.pkg.calendar"});
  w.g.link();
  w.record("model.pkg.calendar");
  w.record("model.proj.uses");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.pkg.calendar").reason,
            "model of package pkg without parents: always built");
  EXPECT_EQ(w.of(p, "model.proj.uses").action, Action::Build);
}

TEST(Decide, PackageModelWithParentsIsReusedLikeOwnModels) {
  World w = simple_chain();
  NodeId id = w.add("model.pkg.enriched", NodeKind::Model, {"model.proj.stg"});
  w.g.nodes[id].package_name = "pkg";
  w.g.link();
  w.record("model.pkg.enriched");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.pkg.enriched").action, Action::Reuse);
}

TEST(Decide, FullRefreshBuildsEverything) {
  World w = simple_chain();
  w.settings.full_refresh = true;
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 2u);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason, "--full-refresh: reuse is off");
}

TEST(Decide, OtherRunnableTypesAlwaysBuilt) {
  World w;
  w.add("function.proj.f", NodeKind::Other);
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "function.proj.f").reason, "function: always built");
}

TEST(Decide, ChildRebuiltWhenParentRebuiltAfterItsLastSuccess) {
  // Run 2 built stg but mart failed: mart's entry still shows stg's run-1 version.
  World w = simple_chain();
  w.record("model.proj.stg", kT1);
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_NE(mart.reason.find("parent model.proj.stg was rebuilt since the last build"),
            std::string::npos);
}

TEST(Decide, ReferenceEntriesWithoutParentsCompareBuildTimes) {
  World w = simple_chain();
  for (auto& [k, e] : w.state.entries) {
    e.has_parents = false;
    e.parents.clear();
  }
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.state.entries["model.proj.stg"].last_updated = "2024-05-01T10:30:00";  // naive = UTC
  Plan p = w.decide_all();
  EXPECT_NE(w.of(p, "model.proj.mart").reason.find("was rebuilt after the last build"),
            std::string::npos);
}

TEST(Decide, ParentWithoutStateEntryIsNewData) {
  World w = simple_chain();
  w.state.entries.erase("model.proj.stg");
  std::vector<NodeId> only_mart = {*w.g.find("model.proj.mart")};
  Lineage lineage(w.g);
  Plan p = decide(w.g, lineage, only_mart, w.freshness, w.state, w.now, w.settings);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason, "parent model.proj.stg has no state entry");
}

TEST(Decide, UnselectedNodesAreNotDecided) {
  World w = simple_chain();
  std::vector<NodeId> only_mart = {*w.g.find("model.proj.mart")};
  Lineage lineage(w.g);
  Plan p = decide(w.g, lineage, only_mart, w.freshness, w.state, w.now, w.settings);
  EXPECT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.find(*w.g.find("model.proj.stg")), nullptr);
}

// --- ephemeral folding (rule 4) ---

World ephemeral_chain() {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("model.proj.eph", NodeKind::Model, {"source.proj.raw.orders"}, "ephemeral");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.eph"});
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record("model.proj.mart");
  return w;
}

TEST(Decide, ChildOfEphemeralReusedWhenNothingChanged) {
  World w = ephemeral_chain();
  Plan p = w.decide_all();
  EXPECT_EQ(p.decisions.size(), 1u) << "ephemerals are never decided";
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse);
  ASSERT_EQ(w.of(p, "model.proj.mart").sources.size(), 1u) << "source reached through eph";
}

TEST(Decide, ChildOfEphemeralBuiltOnEphemeralSqlChange) {
  World w = ephemeral_chain();
  w.g.nodes[*w.g.find("model.proj.eph")].checksum = "edited";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason, "checksum changed");
}

TEST(Decide, ChildOfEphemeralBuiltOnNewDataBehindIt) {
  World w = ephemeral_chain();
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  EXPECT_NE(w.of(p, "model.proj.mart").reason.find("new data in source.proj.raw.orders"),
            std::string::npos);
}

TEST(Decide, EffectiveChecksumWithoutEphemeralsIsTheManifestChecksum) {
  World w = simple_chain();
  Lineage lineage(w.g);
  EXPECT_EQ(lineage.of(*w.g.find("model.proj.mart")).checksum, "sum-model.proj.mart");
  World e = ephemeral_chain();
  Lineage el(e.g);
  EXPECT_NE(el.of(*e.g.find("model.proj.mart")).checksum, "sum-model.proj.mart");
}

// --- tests (rule 5) ---

World chain_with_tests() {
  World w = simple_chain();
  w.add("test.proj.not_null_mart_id", NodeKind::Test, {"model.proj.mart"});
  w.add("test.proj.two_models", NodeKind::Test, {"model.proj.stg", "model.proj.mart"});
  w.add("test.proj.source_unique", NodeKind::Test, {"source.proj.raw.orders"});
  w.add("unit_test.proj.mart.ut", NodeKind::UnitTest, {"model.proj.mart"});
  w.g.link();
  for (auto uid : {"test.proj.not_null_mart_id", "test.proj.two_models",
                   "test.proj.source_unique", "unit_test.proj.mart.ut"})
    w.record(uid, kT1);
  return w;
}

TEST(Decide, TestsOfReusedParentsSkippedSourceTestsRun) {
  World w = chain_with_tests();
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").reason,
            "all parents reused and unchanged since the last run");
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.ut").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "test.proj.source_unique").reason, "tests source source.proj.raw.orders");
}

TEST(Decide, TestRunsWhenAnyParentBuilt) {
  World w = chain_with_tests();
  w.g.nodes[*w.g.find("model.proj.mart")].checksum = "edited";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "test.proj.two_models").reason, "parent model.proj.mart is built in this run");
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.ut").action, Action::Build);
}

TEST(Decide, TestRunsWhenParentChangedSinceItLastPassed) {
  World w = chain_with_tests();
  w.record("model.proj.mart", "2024-05-01T11:30:00Z");  // rebuilt after the tests passed
  std::vector<NodeId> tests = {*w.g.find("test.proj.not_null_mart_id")};
  Lineage lineage(w.g);
  Plan p = decide(w.g, lineage, tests, w.freshness, w.state, w.now, w.settings);
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").action, Action::Build);
}

// --- build_after (rule 3) ---

TEST(Decide, BuildAfterWindowReusesDespiteNewData) {
  World w = simple_chain();
  w.g.nodes[*w.g.find("model.proj.mart")].build_after = BuildAfter{3, "hour", false};
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();  // now = 12:00, both built 10:00, window 3h
  // stg inherits mart's window (its only child) and waits; so mart sees no new data.
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Reuse);
  EXPECT_NE(stg.reason.find("build_after 3 hours (inherited from children)"), std::string::npos)
      << stg.reason;
  ASSERT_TRUE(stg.build_after);
  EXPECT_TRUE(stg.build_after_inherited);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse);
  w.now = *parse_timestamp("2024-05-01T13:00:01Z");
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
}

TEST(Decide, OwnBuildAfterWindowReusesWithItsReason) {
  World w = simple_chain();
  NodeId direct = w.add("model.proj.direct", NodeKind::Model, {"source.proj.raw.orders"});
  w.g.nodes[direct].build_after = BuildAfter{3, "hour", false};
  w.g.link();
  w.record("model.proj.direct");
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  const auto& d = w.of(p, "model.proj.direct");
  EXPECT_EQ(d.action, Action::Reuse);
  EXPECT_EQ(d.reason.rfind("build_after 3 hours: last built 2024-05-01T10:00:00Z", 0), 0u)
      << d.reason;
  EXPECT_FALSE(d.build_after_inherited);
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build) << "stg has its own rules";
}

TEST(Decide, BuildAfterWithoutNewDataStillReusesForTheRightReason) {
  World w = simple_chain();
  w.g.nodes[*w.g.find("model.proj.mart")].build_after = BuildAfter{1, "minute", false};
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason, "no new upstream data since the last build");
}

TEST(Decide, UpdatesOnAllNeedsEveryParent) {
  World w = simple_chain();
  w.add("source.proj.raw.customers", NodeKind::Source);
  w.freshness["source.proj.raw.customers"] = kSrcOld;
  NodeId joined = w.add("model.proj.joined", NodeKind::Model,
                        {"source.proj.raw.orders", "source.proj.raw.customers"});
  w.g.nodes[joined].build_after = BuildAfter{1, "minute", true};
  w.g.link();
  w.record("model.proj.joined");
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.joined").reason,
            "build_after updates_on all: source.proj.raw.customers has no new data yet");
  w.freshness["source.proj.raw.customers"] = kSrcNew;
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.joined").action, Action::Build);
}

TEST(Decide, BuildAfterInheritedFromChildrenWhenAllHaveOne) {
  World w = simple_chain();
  w.g.nodes[*w.g.find("model.proj.mart")].build_after = BuildAfter{2, "hour", false};
  auto eff = effective_build_after(w.g);
  const auto& stg = eff[*w.g.find("model.proj.stg")];
  ASSERT_TRUE(stg.first);
  EXPECT_TRUE(stg.second);
  EXPECT_EQ(stg.first->count, 2);

  w.add("model.proj.other_child", NodeKind::Model, {"model.proj.stg"});
  w.g.link();
  eff = effective_build_after(w.g);
  EXPECT_FALSE(eff[*w.g.find("model.proj.stg")].first) << "one child without build_after";
}

TEST(Decide, InheritedBuildAfterTakesTheSmallestWindow) {
  World w = simple_chain();
  NodeId other = w.add("model.proj.other_child", NodeKind::Model, {"model.proj.stg"});
  w.g.nodes[other].build_after = BuildAfter{30, "minute", false};
  w.g.nodes[*w.g.find("model.proj.mart")].build_after = BuildAfter{1, "day", false};
  w.g.link();
  auto eff = effective_build_after(w.g);
  EXPECT_EQ(eff[*w.g.find("model.proj.stg")].first->period, "minute");
}

// --- asset ids and state updates (rule 6) ---

TEST(Decide, AssetIdsWithIntegrationAccount) {
  Node n;
  n.unique_id = "model.p.m";
  n.relation_name = "\"db\".\"s\".\"m\"";
  DecideSettings s;
  EXPECT_EQ(asset_id(n, s), "model.p.m");
  s.asset_prefix = "acct.";
  EXPECT_EQ(asset_id(n, s), "acct.\"db\".\"s\".\"m\"");
  n.relation_name.clear();
  EXPECT_EQ(asset_id(n, s), "acct.model.p.m");
}

TEST(StateUpdate, OnlySucceededNodesGetEntries) {
  World w = simple_chain();
  Lineage lineage(w.g);
  State updates = entries_for_results(
      w.g, lineage,
      {{"model.proj.stg", "success", "2024-05-02T00:00:00Z"},
       {"model.proj.mart", "error", "2024-05-02T00:00:01Z"},
       {"test.proj.gone", "pass", "2024-05-02T00:00:02Z"}},
      w.freshness, w.state, w.settings, kT1);
  ASSERT_EQ(updates.entries.size(), 1u);
  const StateEntry& e = updates.entries.at("model.proj.stg");
  EXPECT_EQ(e.last_updated, "2024-05-02T00:00:00Z");
  EXPECT_EQ(e.sources.at("source.proj.raw.orders"), kSrcOld);
  EXPECT_EQ(e.checksum, "sum-model.proj.stg");
}

TEST(StateUpdate, ChildRecordsParentVersionBuiltInSameRun) {
  World w = simple_chain();
  Lineage lineage(w.g);
  State updates = entries_for_results(w.g, lineage,
                                      {{"model.proj.stg", "success", "2024-05-02T00:00:00Z"},
                                       {"model.proj.mart", "success", "2024-05-02T00:00:05Z"}},
                                      w.freshness, w.state, w.settings, kT1);
  EXPECT_EQ(updates.entries.at("model.proj.mart").parents.at("model.proj.stg"),
            "2024-05-02T00:00:00Z");
  EXPECT_TRUE(updates.entries.at("model.proj.mart").has_parents);
}

TEST(StateUpdate, UnknownFreshnessIsNotRecorded) {
  World w = simple_chain();
  w.freshness.clear();
  Lineage lineage(w.g);
  State updates = entries_for_results(w.g, lineage, {{"model.proj.stg", "success", ""}},
                                      w.freshness, w.state, w.settings, kT1);
  EXPECT_TRUE(updates.entries.at("model.proj.stg").sources.empty());
  EXPECT_EQ(updates.entries.at("model.proj.stg").last_updated, kT1) << "fallback time";
}
