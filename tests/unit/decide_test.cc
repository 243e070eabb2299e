// The decision rules (DESIGN.md section 2) on small hand-made graphs and states.
#include <gtest/gtest.h>

#include <map>

#include "plan/decide.h"
#include "plan/fingerprint.h"
#include "plan/reason.h"
#include "plan/relation_catalog.h"
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
  RelationCatalog relations;  ///< disabled unless a test enables it
  TokenMap tokens;            ///< data-change tokens of sources without loaded_at_*
  MarkerMap markers;          ///< change markers of sources with loaded_at_*
  DecideSettings settings;
  std::optional<std::string> account;  ///< integration_account_id
  bool local_run = true;
  FingerprintContext ctx;             ///< var values (env comes from `env`)
  std::map<std::string, std::string> env;  ///< the environment the fingerprint sees
  Micros now = *parse_timestamp("2024-05-01T12:00:00Z");

  /// The key policy of `account` and `local_run` over `g`.
  StateKeys keys() const { return StateKeys(g, account, local_run); }

  /// ctx with `env` as its environment (bound for the duration of one call).
  FingerprintContext context() {
    FingerprintContext c = ctx;
    c.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return c;
  }

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
  Node& node(const std::string& uid) { return g.nodes[*g.find(uid)]; }
  /// Adds a macro of package `package` (indexed); returns its index.
  uint32_t add_macro(const std::string& uid, const std::string& name, const std::string& package,
                     const std::string& sql, std::vector<std::string> deps = {}) {
    uint32_t i = static_cast<uint32_t>(g.macros.size());
    g.macros.push_back(Macro{uid, name, package, sql, std::move(deps), {}});
    g.macro_index[uid] = i;
    return i;
  }
  /// What the decision observes in this world.
  Observations observations() const { return {freshness, relations, tokens, markers}; }
  /// Results of a run in which the nodes `uids` succeeded at `when`.
  State results(const std::vector<std::string>& uids, const std::string& when = kT0) {
    g.link();
    Lineage lineage(g);
    Fingerprinter fp(g, lineage, context());
    std::vector<NodeResult> rs;
    for (const auto& uid : uids) rs.push_back({uid, "success", when, std::nullopt});
    return entries_for_results(g, lineage, fp, rs, observations(), state, keys(), when);
  }
  /// Records `uid` as built at `when` from its current inputs (as a successful run would).
  void record(const std::string& uid, const std::string& when = kT0) {
    record_all({uid}, when);
  }
  void record_all(const std::vector<std::string>& uids, const std::string& when = kT0) {
    State updates = results(uids, when);
    merge_state(state, updates);
  }
  Plan decide_only(const std::vector<std::string>& uids) {
    g.link();
    std::vector<NodeId> ids;
    for (const auto& uid : uids) ids.push_back(*g.find(uid));
    Lineage lineage(g);
    Fingerprinter fp(g, lineage, context());
    return decide(g, lineage, fp, ids, observations(), state, keys(), now, settings);
  }
  Plan decide_all() {
    g.link();
    std::vector<NodeId> all;
    for (NodeId i = 0; i < g.nodes.size(); ++i) all.push_back(i);
    Lineage lineage(g);
    Fingerprinter fp(g, lineage, context());
    return decide(g, lineage, fp, all, observations(), state, keys(), now, settings);
  }
  const NodeDecision& of(const Plan& p, const std::string& uid) {
    const NodeDecision* d = p.find(*g.find(uid));
    EXPECT_NE(d, nullptr) << uid;
    return *d;
  }
};

/// "code_changed (subject)" for failure messages.
std::string show(const Reason& r) {
  return std::string(reason_code_name(r.code)) + " (" + r.subject + "): " + reason_text(r);
}

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
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::NoNewData);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::NoNewData);
}

TEST(Decide, NewSourceDataBuildsDownstream) {
  World w = simple_chain();
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Build);
  EXPECT_EQ(stg.reason.code, ReasonCode::SourceNewData);
  EXPECT_EQ(stg.reason.subject, "source.proj.raw.orders");
  ASSERT_EQ(stg.sources.size(), 1u);
  EXPECT_TRUE(stg.sources[0].is_new);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::ParentBuilt);
  EXPECT_EQ(mart.reason.subject, "model.proj.stg");
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
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::SourceFreshnessUnknown);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "source.proj.raw.orders");
  w.freshness["source.proj.raw.orders"] = std::nullopt;
  EXPECT_EQ(w.decide_all().build_count, 2u);
}

TEST(Decide, MissingRecordedSourceValueIsNewData) {
  World w = simple_chain();
  w.state.entries["model.proj.stg"].sources.clear();
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::SourceNotRecorded);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "source.proj.raw.orders");
}

/// simple_chain, but the source has no loaded_at_*: it is judged by its data-change token.
World token_chain() {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.node("source.proj.raw.orders").loaded_at_field.clear();
  w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
  w.g.link();
  w.tokens["source.proj.raw.orders"] = SourceToken{"fp:3:111", "fingerprint", {}};
  w.record("model.proj.stg");
  w.record("model.proj.mart");
  return w;
}

TEST(Decide, SourceWithoutLoadedAtIsJudgedByItsChangeToken) {
  World w = token_chain();
  EXPECT_EQ(w.state.entries["model.proj.stg"].source_tokens.at("source.proj.raw.orders"),
            "fp:3:111")
      << "recorded in orc's own field";
  EXPECT_TRUE(w.state.entries["model.proj.stg"].sources.empty())
      << "tokens are not timestamps: the reference's `sources` map stays clean";
  Plan same = w.decide_all();
  EXPECT_EQ(same.build_count, 0u);
  ASSERT_EQ(w.of(same, "model.proj.stg").sources.size(), 1u);
  EXPECT_EQ(w.of(same, "model.proj.stg").sources[0].method, "fingerprint");

  w.tokens["source.proj.raw.orders"].value = "fp:3:222";  // an update
  Plan changed = w.decide_all();
  const auto& stg = w.of(changed, "model.proj.stg");
  EXPECT_EQ(stg.reason.code, ReasonCode::SourceNewData) << show(stg.reason);
  EXPECT_EQ(stg.reason.subject, "source.proj.raw.orders");
  EXPECT_EQ(stg.reason.detail, "fingerprint: fp:3:111 -> fp:3:222");
  EXPECT_EQ(changed.build_count, 2u);
  // A timestamp-looking freshness value for the source is not used for it.
  w.tokens["source.proj.raw.orders"].value = "fp:3:111";
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

TEST(Decide, SourceWithoutLoadedAtOrTokenIsNewDataWithTheReason) {
  World w = token_chain();
  w.tokens["source.proj.raw.orders"] = SourceToken{std::nullopt, {}, "the source is a view"};
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.reason.code, ReasonCode::SourceFreshnessUnknown);
  EXPECT_EQ(stg.reason.detail, "the source is a view");
  EXPECT_EQ(stg.sources[0].method, "unknown: the source is a view");
  EXPECT_NE(reason_text(stg.reason).find("the source is a view"), std::string::npos);
  w.tokens.clear();  // never asked (an adapter without a token)
  Plan unasked = w.decide_all();
  const auto& again = w.of(unasked, "model.proj.stg");
  EXPECT_EQ(again.reason.code, ReasonCode::SourceFreshnessUnknown);
  EXPECT_EQ(again.reason.detail, "no loaded_at_field or loaded_at_query");
  // A token the entry never recorded (e.g. written by the reference) counts as new.
  w.tokens["source.proj.raw.orders"] = SourceToken{"fp:3:111", "fingerprint", {}};
  w.state.entries["model.proj.stg"].source_tokens.clear();
  EXPECT_EQ(w.of(w.decide_all(), "model.proj.stg").reason.code, ReasonCode::SourceNotRecorded);
}

/// simple_chain, with the source's change marker (a row count) read and recorded as "n:3".
World marked_chain() {
  World w = simple_chain();
  w.markers["source.proj.raw.orders"] = "n:3";
  w.record("model.proj.stg");  // again, at the same time, now with the marker
  w.record("model.proj.mart");
  return w;
}

TEST(Decide, ARowArrivingBelowTheMaximumMovesTheMarkerAndBuilds) {
  World w = marked_chain();
  const StateEntry& e = w.state.entries["model.proj.stg"];
  EXPECT_EQ(e.source_markers.at("source.proj.raw.orders"), "n:3") << "orc's own field";
  EXPECT_EQ(e.sources.at("source.proj.raw.orders"), kSrcOld) << "`sources`: timestamps only";

  Plan same = w.decide_all();
  EXPECT_EQ(same.build_count, 0u) << "same maximum, same marker: reused";
  EXPECT_EQ(w.of(same, "model.proj.stg").sources[0].current_marker, "n:3");

  w.markers["source.proj.raw.orders"] = "n:4";  // a late row with an old loaded_at
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Build);
  EXPECT_EQ(stg.reason.code, ReasonCode::SourceMarkerChanged) << show(stg.reason);
  EXPECT_EQ(stg.reason.subject, "source.proj.raw.orders");
  EXPECT_EQ(stg.reason.detail, "n:3 -> n:4");
  EXPECT_STREQ(reason_code_name(stg.reason.code), "source_marker_changed");
  ASSERT_EQ(stg.sources.size(), 1u);
  EXPECT_TRUE(stg.sources[0].is_new);
  EXPECT_EQ(stg.sources[0].recorded_marker, "n:3");
  EXPECT_EQ(stg.sources[0].current_marker, "n:4");
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentBuilt);

  w.freshness["source.proj.raw.orders"] = kSrcNew;  // the maximum moved too: as before
  EXPECT_EQ(w.of(w.decide_all(), "model.proj.stg").reason.code, ReasonCode::SourceNewData);
}

TEST(Decide, AnUnknownMarkerOnEitherSideJudgesByTheMaximumAlone) {
  World w = marked_chain();
  w.state.entries["model.proj.stg"].source_markers.clear();  // older orc, or the reference
  EXPECT_EQ(w.decide_all().build_count, 0u) << "no recorded marker is no reason to build";
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  EXPECT_EQ(w.of(w.decide_all(), "model.proj.stg").reason.code, ReasonCode::SourceNewData);

  World u = marked_chain();
  u.markers.clear();  // not read this run (its part failed, or the adapter has none)
  Plan p = u.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  EXPECT_FALSE(u.of(p, "model.proj.stg").sources[0].current_marker);
  EXPECT_EQ(u.of(p, "model.proj.stg").sources[0].recorded_marker, "n:3");

  // Recorded on the next successful build.
  World r = marked_chain();
  r.state.entries["model.proj.stg"].source_markers.clear();
  r.markers["source.proj.raw.orders"] = "n:5";
  r.record("model.proj.stg", kT1);
  EXPECT_EQ(r.state.entries["model.proj.stg"].source_markers.at("source.proj.raw.orders"), "n:5");
}

TEST(Decide, ASourceThatOptedOutOfItsMarkerIsJudgedByTheMaximumOnly) {
  World w = marked_chain();
  w.node("source.proj.raw.orders").change_marker = false;
  w.markers["source.proj.raw.orders"] = "n:9";
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  EXPECT_FALSE(w.of(p, "model.proj.stg").sources[0].recorded_marker);
  EXPECT_FALSE(w.of(p, "model.proj.stg").sources[0].current_marker);
  w.record("model.proj.stg", kT1);
  EXPECT_TRUE(w.state.entries["model.proj.stg"].source_markers.empty())
      << "nothing recorded for a source that opted out";
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  EXPECT_EQ(w.of(w.decide_all(), "model.proj.stg").reason.code, ReasonCode::SourceNewData);
}

TEST(Decide, NoStateEntryBuilds) {
  World w = simple_chain();
  w.state.entries.erase("model.proj.mart");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::NoStateEntry);
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
}

TEST(Decide, EntryWithoutFingerprintBuilds) {
  // Entries written by the reference (or an older orc) carry no fingerprint.
  World w = simple_chain();
  State reference = parse_state(R"({"state": {
      "model.proj.stg": {"checksum": "sum-model.proj.stg", "last_updated": "2024-05-01T10:00:00Z",
                         "sources": {"source.proj.raw.orders": "2024-05-01T09:00:00Z"}}}})",
                                "reference");
  w.state.entries["model.proj.stg"] = reference.entries.at("model.proj.stg");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::FingerprintUnrecorded);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentBuilt);
  // Once orc records it, it is reused again.
  w.record("model.proj.stg", kT1);
  w.record("model.proj.mart", kT1);
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

TEST(Decide, ChecksumChangeBuildsNodeAndChildren) {
  World w = simple_chain();
  w.node("model.proj.stg").checksum = "edited";
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.reason.code, ReasonCode::CodeChanged) << show(stg.reason);
  EXPECT_EQ(stg.reason.subject, "model.proj.stg");
  EXPECT_EQ(stg.checksum_old, "sum-model.proj.stg");
  EXPECT_EQ(stg.checksum_new, "edited");
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentBuilt);
}

TEST(Decide, CommentOnlyEditOfRawCodeIsReused) {
  World w = simple_chain();
  w.node("model.proj.stg").raw_code = "select id\nfrom {{ source('raw', 'orders') }}";
  w.node("model.proj.stg").checksum = "v1";  // dbt's checksum follows the file
  w.record("model.proj.stg");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  // dbt's checksum changes with any byte; the normalised code does not.
  w.node("model.proj.stg").checksum = "edited";
  w.node("model.proj.stg").raw_code =
      "-- orders, one row each\nselect id   /* the key */\nfrom {{ source('raw', 'orders') }}";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse)
      << show(w.of(p, "model.proj.stg").reason);
  w.node("model.proj.stg").checksum = "edited again";
  w.node("model.proj.stg").raw_code = "select id, 1\nfrom {{ source('raw', 'orders') }}";
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::CodeChanged);
}

TEST(Decide, UnchangedChecksumReusesTheRecordedCodeHash) {
  // The fast path: while dbt's checksum is unchanged the code is not normalised again, so the
  // recorded code hash stands (here deliberately different from what the code hashes to).
  World w = simple_chain();
  w.state.entries.at("model.proj.stg").fingerprint->code = "recorded-code-hash";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse)
      << show(w.of(p, "model.proj.stg").reason);
  State again = w.results({"model.proj.stg"}, kT1);
  EXPECT_EQ(again.entries.at("model.proj.stg").fingerprint->code, "recorded-code-hash");
  w.state.entries.at("model.proj.stg").checksum = "another checksum";
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::CodeChanged);
}

TEST(Decide, SnapshotAlwaysBuilt) {
  World w = simple_chain();
  w.add("snapshot.proj.snap", NodeKind::Snapshot, {"model.proj.stg"});
  w.g.link();
  w.record("snapshot.proj.snap");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "snapshot.proj.snap").reason.code, ReasonCode::Snapshot);
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
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason.code, ReasonCode::SeedAlways);
  EXPECT_EQ(w.of(p, "model.proj.dim").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.dim").reason.code, ReasonCode::ParentBuilt);

  w.settings.seed_state_orchestration = true;
  p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason.code, ReasonCode::SeedUnchanged);
  w.node("seed.proj.countries").checksum = "new file bytes";
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason.code, ReasonCode::CodeChanged);
  EXPECT_EQ(w.of(p, "seed.proj.countries").reason.subject, "seed.proj.countries");
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
  EXPECT_EQ(w.of(p, "model.pkg.calendar").reason.code, ReasonCode::PackageModelWithoutParents);
  EXPECT_EQ(w.of(p, "model.pkg.calendar").reason.subject, "pkg");
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
  EXPECT_EQ(w.of(p, "model.pkg.enriched").reason.code, ReasonCode::NoNewData);
}

TEST(Decide, FullRefreshBuildsEverything) {
  World w = simple_chain();
  w.settings.full_refresh = true;
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 2u);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::FullRefresh);
}

TEST(Decide, OtherRunnableTypesAlwaysBuilt) {
  World w;
  w.add("function.proj.f", NodeKind::Other);
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "function.proj.f").reason.code, ReasonCode::AlwaysBuilt);
  EXPECT_EQ(w.of(p, "function.proj.f").reason.subject, "function");
}

TEST(Decide, ChildRebuiltWhenParentRebuiltAfterItsLastSuccess) {
  // Run 2 built stg but mart failed: mart's entry still shows stg's run-1 version.
  World w = simple_chain();
  w.record("model.proj.stg", kT1);
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::ParentRebuilt);
  EXPECT_EQ(mart.reason.subject, "model.proj.stg");
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
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentRebuilt);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "model.proj.stg");
}

TEST(Decide, ParentWithoutStateEntryIsNewData) {
  World w = simple_chain();
  w.state.entries.erase("model.proj.stg");
  Plan p = w.decide_only({"model.proj.mart"});
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentNoEntry);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "model.proj.stg");
}

TEST(Decide, ParentNotRecordedAsAnInputBuilds) {
  World w = simple_chain();
  w.state.entries.at("model.proj.mart").parents.clear();  // has_parents stays true
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentNotRecorded);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "model.proj.stg");
}

TEST(Decide, UnselectedNodesAreNotDecided) {
  World w = simple_chain();
  Plan p = w.decide_only({"model.proj.mart"});
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
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::NoNewData);
  ASSERT_EQ(w.of(p, "model.proj.mart").sources.size(), 1u) << "source reached through eph";
}

TEST(Decide, ChildOfEphemeralBuiltOnEphemeralSqlChange) {
  World w = ephemeral_chain();
  w.node("model.proj.eph").checksum = "edited";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::CodeChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "model.proj.mart");
}

TEST(Decide, ChildOfEphemeralBuiltOnNewDataBehindIt) {
  World w = ephemeral_chain();
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::SourceNewData);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "source.proj.raw.orders");
}

TEST(Decide, ChildOfEphemeralBuiltOnEphemeralVarChange) {
  World w = ephemeral_chain();
  w.node("model.proj.eph").raw_code = "select * from t where w > {{ var('weight') }}";
  w.ctx.var_values["weight"] = "md5-of-1";
  w.record("model.proj.mart");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.ctx.var_values["weight"] = "md5-of-2";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::VarChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "weight");
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
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").reason.code, ReasonCode::TestParentsReused);
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.ut").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.ut").reason.code, ReasonCode::TestParentsReused);
  EXPECT_EQ(w.of(p, "test.proj.source_unique").reason.code, ReasonCode::TestsSource);
  EXPECT_EQ(w.of(p, "test.proj.source_unique").reason.subject, "source.proj.raw.orders");
}

TEST(Decide, TestRunsWhenAnyParentBuilt) {
  World w = chain_with_tests();
  w.node("model.proj.mart").checksum = "edited";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "test.proj.two_models").reason.code, ReasonCode::ParentBuilt);
  EXPECT_EQ(w.of(p, "test.proj.two_models").reason.subject, "model.proj.mart");
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.ut").action, Action::Build);
}

TEST(Decide, TestRunsWhenParentChangedSinceItLastPassed) {
  World w = chain_with_tests();
  w.record("model.proj.mart", "2024-05-01T11:30:00Z");  // rebuilt after the tests passed
  Plan p = w.decide_only({"test.proj.not_null_mart_id"});
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").action, Action::Build);
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").reason.code, ReasonCode::ParentRebuilt);
  EXPECT_EQ(w.of(p, "test.proj.not_null_mart_id").reason.subject, "model.proj.mart");
}

// --- build_after (rule 3) ---

TEST(Decide, BuildAfterWindowReusesDespiteNewData) {
  World w = simple_chain();
  w.node("model.proj.mart").build_after = BuildAfter{3, "hour", false};
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();  // now = 12:00, both built 10:00, window 3h
  // stg inherits mart's window (its only child) and waits; mart waits in its own window.
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Reuse);
  EXPECT_EQ(stg.reason.code, ReasonCode::BuildAfterWindow) << show(stg.reason);
  ASSERT_TRUE(stg.build_after);
  EXPECT_EQ(stg.build_after->count, 3);
  EXPECT_TRUE(stg.build_after_inherited);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse);
  // stg is a view: live, so its new source data reaches mart even while stg waits.
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::BuildAfterWindow);
  w.now = *parse_timestamp("2024-05-01T13:00:01Z");
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::SourceNewData);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentBuilt);
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
  EXPECT_EQ(d.reason.code, ReasonCode::BuildAfterWindow) << show(d.reason);
  EXPECT_EQ(d.last_updated, kT0);
  EXPECT_FALSE(d.build_after_inherited);
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build) << "stg has its own rules";
}

TEST(Decide, BuildAfterWithoutNewDataStillReusesForTheRightReason) {
  World w = simple_chain();
  w.node("model.proj.mart").build_after = BuildAfter{1, "minute", false};
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::NoNewData);
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
  EXPECT_EQ(w.of(p, "model.proj.joined").reason.code, ReasonCode::BuildAfterWaitingForAll);
  EXPECT_EQ(w.of(p, "model.proj.joined").reason.subject, "source.proj.raw.customers");
  w.freshness["source.proj.raw.customers"] = kSrcNew;
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.joined").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.joined").reason.code, ReasonCode::SourceNewData);
}

TEST(Decide, BuildAfterInheritedFromChildrenWhenAllHaveOne) {
  World w = simple_chain();
  w.node("model.proj.mart").build_after = BuildAfter{2, "hour", false};
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
  w.node("model.proj.mart").build_after = BuildAfter{1, "day", false};
  w.g.link();
  auto eff = effective_build_after(w.g);
  EXPECT_EQ(eff[*w.g.find("model.proj.stg")].first->period, "minute");
}

TEST(Decide, InheritedBuildAfterOfEqualWindowsIsAnyWhateverTheChildOrder) {
  // Found by the differential harness: two children with 2-hour windows, one `all`, one
  // `any`; which one the parent inherited depended on the order of its children.
  for (bool all_first : {true, false}) {
    World w = simple_chain();
    NodeId other = w.add("model.proj.other_child", NodeKind::Model, {"model.proj.stg"});
    w.g.nodes[other].build_after = BuildAfter{2, "hour", all_first};
    w.node("model.proj.mart").build_after = BuildAfter{120, "minute", !all_first};
    w.g.link();
    auto eff = effective_build_after(w.g);
    ASSERT_TRUE(eff[*w.g.find("model.proj.stg")].first);
    EXPECT_FALSE(eff[*w.g.find("model.proj.stg")].first->updates_on_all) << all_first;
  }
}

// --- fingerprint components ---

TEST(Decide, MacroChangeBuildsWithTheMacroAsSubject) {
  World w = simple_chain();
  w.add_macro("macro.proj.money", "money", "proj",
              "{% macro money(c) %}round({{ c }} / 100.0, 2){% endmacro %}",
              {"macro.proj.cents"});
  w.add_macro("macro.proj.cents", "cents", "proj", "{% macro cents() %}100{% endmacro %}");
  w.node("model.proj.mart").macro_deps = {"macro.proj.money"};
  w.record("model.proj.mart");
  const Fingerprint& recorded = *w.state.entries.at("model.proj.mart").fingerprint;
  EXPECT_EQ(recorded.macros.size(), 2u) << "the macro and what it calls";
  EXPECT_EQ(w.decide_all().build_count, 0u);

  w.g.macros[w.g.macro_index.at("macro.proj.money")].sql =
      "{% macro money(c) %}round({{ c }} / 100.0, 4){% endmacro %}";
  Plan p = w.decide_all();
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::MacroChanged) << show(mart.reason);
  EXPECT_EQ(mart.reason.subject, "macro.proj.money");
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse) << "stg does not call it";
}

TEST(Decide, ChangeOfAMacroCalledIndirectlyBuilds) {
  World w = simple_chain();
  w.add_macro("macro.proj.money", "money", "proj", "{% macro money(c) %}{{ cents() }}{% endmacro %}",
              {"macro.proj.cents"});
  w.add_macro("macro.proj.cents", "cents", "proj", "{% macro cents() %}100{% endmacro %}");
  w.node("model.proj.mart").macro_deps = {"macro.proj.money"};
  w.record("model.proj.mart");
  w.g.macros[w.g.macro_index.at("macro.proj.cents")].sql = "{% macro cents() %}1000{% endmacro %}";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::MacroChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "macro.proj.cents");
}

TEST(Decide, NewlyCalledMacroBuilds) {
  World w = simple_chain();
  w.add_macro("macro.proj.money", "money", "proj", "{% macro money() %}1{% endmacro %}");
  w.node("model.proj.mart").macro_deps = {"macro.proj.money"};
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::MacroChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "macro.proj.money");
}

TEST(Decide, BuiltinMacroChangeIsIgnored) {
  World w = simple_chain();
  w.add_macro("macro.dbt.is_incremental", "is_incremental", "dbt", "{{ return(false) }}");
  w.node("model.proj.mart").macro_deps = {"macro.dbt.is_incremental"};
  w.record("model.proj.mart");
  w.g.macros[0].sql = "{{ return(true) }}";  // a dbt upgrade
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

World var_world() {
  World w = simple_chain();
  w.node("model.proj.mart").raw_code = "select amount * {{ var('weight') }} as w from x";
  w.ctx.var_values["weight"] = "md5-of-1";
  w.record("model.proj.mart");
  return w;
}

TEST(Decide, VarValueChangeBuilds) {
  World w = var_world();
  EXPECT_EQ(w.state.entries.at("model.proj.mart").fingerprint->vars.at("weight"), "md5-of-1");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.ctx.var_values["weight"] = "md5-of-2";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::VarChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "weight");
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse) << "stg reads no var";
}

TEST(Decide, UnknownVarValueAlwaysBuilds) {
  World w = var_world();
  w.ctx.var_values.clear();  // the probe could not read it
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::VarChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "weight");
  // Built while unknown: recorded as unknown, and unknown still never equals itself.
  w.record("model.proj.mart", kT1);
  EXPECT_EQ(w.state.entries.at("model.proj.mart").fingerprint->vars.at("weight"), kUnknownValue);
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::VarChanged);
}

TEST(Decide, EnvVarChangeBuilds) {
  World w = simple_chain();
  w.node("model.proj.mart").raw_code = "select '{{ env_var('REGION') }}' as region from x";
  w.env["REGION"] = "eu";
  w.record("model.proj.mart");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  EXPECT_EQ(w.state.entries.at("model.proj.mart").fingerprint->env_vars.count("REGION"), 1u);
  EXPECT_NE(w.state.entries.at("model.proj.mart").fingerprint->env_vars.at("REGION"), "eu")
      << "only a hash of the value is stored";
  w.env["REGION"] = "us";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::EnvVarChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "REGION");
  w.env.erase("REGION");
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::EnvVarChanged) << "unset";
}

TEST(Decide, ConfigChangeBuildsWithTheKeyAsSubject) {
  World w = simple_chain();
  w.g.config_keys = {"materialized", "unique_key", "schema"};
  Node& mart = w.node("model.proj.mart");
  mart.config = {{0, 11}, {1, 22}};
  w.record("model.proj.mart");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.node("model.proj.mart").config = {{0, 11}, {1, 23}};
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ConfigChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "unique_key");
  w.node("model.proj.mart").config = {{0, 11}, {1, 22}, {2, 33}};  // a key added
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ConfigChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "schema");
  w.node("model.proj.mart").config = {{0, 11}};  // a key removed
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ConfigChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "unique_key");
}

TEST(Decide, MaterializationChangeBuilds) {
  World w = simple_chain();
  w.node("model.proj.mart").materialized = "view";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ConfigChanged);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.subject, "materialized");
}

TEST(Decide, AdapterChangeBuilds) {
  World w = simple_chain();
  w.g.adapter_type = "snowflake";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::AdapterChanged);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "snowflake");
}

TEST(Decide, InputRelationChangeBuilds) {
  World w = simple_chain();
  w.node("source.proj.raw.orders").relation_name = "\"db\".\"raw\".\"orders_v2\"";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::InputsChanged);
}

// --- relations: identity and the warehouse check ---

void place(Node& n, const std::string& schema) {
  n.database = "db";
  n.schema = schema;
  n.alias = n.unique_id.substr(n.unique_id.rfind('.') + 1);
  n.relation_name = "\"db\".\"" + schema + "\".\"" + n.alias + "\"";
}

/// simple_chain with real relations in schema `dev`, recorded there.
World placed_chain() {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
  place(w.node("source.proj.raw.orders"), "raw");
  place(w.node("model.proj.stg"), "dev");
  place(w.node("model.proj.mart"), "dev");
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record_all({"model.proj.stg", "model.proj.mart"});
  return w;
}

// Every key configuration reads back what its runs wrote (through the filter a run applies
// on load) and keeps other accounts' entries. Bug: with an account id and local_run at its
// default, runs wrote bare keys but read only "<account>." keys, so nothing was ever reused.
TEST(Decide, EveryKeyConfigurationReusesWhatItRecordedAndKeepsOtherAccounts) {
  struct Case {
    std::optional<std::string> account;
    bool local_run;
    std::string stg_key;
  };
  const std::string stg_relation = "\"db\".\"dev\".\"stg\"";
  for (const Case& c : {Case{std::nullopt, true, "model.proj.stg"},
                        Case{std::nullopt, false, "model.proj.stg"},
                        Case{"42", true, "model.proj.stg"},
                        Case{"42", false, "42." + stg_relation}}) {
    World w;
    w.account = c.account;
    w.local_run = c.local_run;
    w.add("source.proj.raw.orders", NodeKind::Source);
    w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
    w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
    place(w.node("model.proj.stg"), "dev");
    place(w.node("model.proj.mart"), "dev");
    w.freshness["source.proj.raw.orders"] = kSrcOld;
    const StateEntry foreign = w.results({"model.proj.stg"}).entries.begin()->second;
    w.state.entries["7." + stg_relation] = foreign;
    w.state.entries["7.model.proj.stg"] = foreign;
    w.record_all({"model.proj.stg", "model.proj.mart"});
    const State stored = w.state;
    EXPECT_EQ(stored.entries.size(), 4u) << "two of ours, two of account 7";
    ASSERT_TRUE(stored.entries.count(c.stg_key)) << c.stg_key;
    EXPECT_TRUE(stored.entries.count("7." + stg_relation));
    EXPECT_TRUE(stored.entries.count("7.model.proj.stg"));
    EXPECT_EQ(w.keys().stale(stored), std::vector<std::string>{});
    w.keys().filter(w.state);  // as a run loads it
    Plan p = w.decide_all();
    EXPECT_EQ(p.reuse_count, 2u) << c.stg_key;
    EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::NoNewData)
        << show(w.of(p, "model.proj.mart").reason);
  }
}

TEST(Decide, RelationIdentityChangeBuilds) {
  World w = placed_chain();
  EXPECT_EQ(w.state.entries.at("model.proj.stg").fingerprint->relation, "\"db\".\"dev\".\"stg\"");
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.node("model.proj.stg").relation_name = "\"db\".\"dev\".\"stg_renamed\"";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::RelationChanged);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "\"db\".\"dev\".\"stg_renamed\"");
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::InputsChanged)
      << "the relation it reads is another one";
}

/// A catalog that lists schema dev with `stg` as `stg_kind` and `mart` as a table.
RelationCatalog dev_catalog(const std::string& stg_kind) {
  RelationCatalog c;
  c.enabled = true;
  c.listed_schemas.insert(RelationCatalog::schema_key("DB", "Dev"));
  if (!stg_kind.empty()) c.add("db", "dev", "STG", stg_kind);
  c.add("db", "dev", "mart", "BASE TABLE");
  return c;
}

TEST(Decide, ExistingRelationOfTheRecordedKindIsReused) {
  World w = placed_chain();
  w.relations = dev_catalog("VIEW");
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u) << show(w.of(p, "model.proj.mart").reason);
  w.relations = dev_catalog("unknown");  // the listing gave no kind: existence suffices
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

TEST(Decide, MissingRelationBuilds) {
  World w = placed_chain();
  w.relations = dev_catalog("");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::RelationMissing);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "\"db\".\"dev\".\"stg\"");
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentBuilt);
}

TEST(Decide, RelationOfAnotherKindBuilds) {
  World w = placed_chain();
  w.relations = dev_catalog("BASE TABLE");  // stg was built as a view
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::RelationKindChanged);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "\"db\".\"dev\".\"stg\"");
}

TEST(Decide, RelationInAnUnlistedSchemaBuilds) {
  World w = placed_chain();
  w.relations = dev_catalog("view");
  w.relations.listed_schemas.clear();
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::RelationUnverified);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);
}

TEST(Decide, DisabledRelationCheckReuses) {
  World w = placed_chain();
  w.relations = dev_catalog("");  // stg missing, but the check is off
  w.relations.enabled = false;
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.relations.listed_schemas.clear();
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

TEST(Decide, TargetSwitchKeepsBothTargetsReusable) {
  World w = placed_chain();  // built in dev at kT0
  auto to = [&](const std::string& schema) {
    place(w.node("model.proj.stg"), schema);
    place(w.node("model.proj.mart"), schema);
  };
  to("prod");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::RelationChanged);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.subject, "\"db\".\"prod\".\"stg\"");
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Build);

  State updates = w.results({"model.proj.stg", "model.proj.mart"}, kT1);
  const std::string dev_key = relation_key("model.proj.stg", "\"db\".\"dev\".\"stg\"");
  ASSERT_TRUE(updates.entries.count(dev_key)) << "the dev entry is kept under " << dev_key;
  EXPECT_EQ(updates.entries.at(dev_key).last_updated, kT0);
  EXPECT_EQ(updates.entries.at("model.proj.stg").fingerprint->relation, "\"db\".\"prod\".\"stg\"");
  merge_state(w.state, updates);
  EXPECT_EQ(w.decide_all().build_count, 0u) << "prod is now recorded";

  to("dev");
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse) << show(w.of(p, "model.proj.stg").reason);
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::NoNewData);
  EXPECT_EQ(w.of(p, "model.proj.stg").last_updated, kT0) << "dev's own entry";
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse)
      << show(w.of(p, "model.proj.mart").reason);

  to("prod");
  EXPECT_EQ(w.decide_all().build_count, 0u) << "and prod is still reusable";
}

TEST(Decide, TargetSwitchChildBuiltAloneRecordsItsTargetsParentVersion) {
  // Both targets recorded; back in dev only mart is rebuilt (its code changed). It consumed
  // dev's stg, so it must record dev's stg version, not prod's, or it is rebuilt forever.
  World w = placed_chain();
  auto to = [&](const std::string& schema) {
    place(w.node("model.proj.stg"), schema);
    place(w.node("model.proj.mart"), schema);
  };
  to("prod");
  w.record_all({"model.proj.stg", "model.proj.mart"}, kT1);
  to("dev");
  w.node("model.proj.mart").checksum = "edited";
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "model.proj.mart").reason.code, ReasonCode::CodeChanged);
  w.record("model.proj.mart", "2024-05-01T11:30:00Z");
  p = w.decide_all();
  // Fixed: entries_for_results looked a parent's version up under its primary key (prod's entry,
  // kT1) instead of the entry for the parent's current relation (dev's, kT0, found by
  // entry_for), so mart records stg@kT1 and is rebuilt (parent_rebuilt) on every dev run.
  EXPECT_EQ(w.state.entries.at("model.proj.mart").parents.at("model.proj.stg"), kT0);
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse)
      << show(w.of(p, "model.proj.mart").reason);
}

// --- state updates (rule 6) ---

TEST(StateUpdate, OnlySucceededNodesGetEntries) {
  World w = simple_chain();
  Lineage lineage(w.g);
  Fingerprinter fp(w.g, lineage, w.context());
  State updates = entries_for_results(
      w.g, lineage, fp,
      {{"model.proj.stg", "success", "2024-05-02T00:00:00Z", std::nullopt},
       {"model.proj.mart", "error", "2024-05-02T00:00:01Z", std::nullopt},
       {"test.proj.gone", "pass", "2024-05-02T00:00:02Z", std::nullopt}},
      w.observations(), w.state, w.keys(), kT1);
  ASSERT_EQ(updates.entries.size(), 1u);
  const StateEntry& e = updates.entries.at("model.proj.stg");
  EXPECT_EQ(e.last_updated, "2024-05-02T00:00:00Z");
  EXPECT_EQ(e.sources.at("source.proj.raw.orders"), kSrcOld);
  EXPECT_EQ(e.checksum, "sum-model.proj.stg");
}

TEST(StateUpdate, EntriesRecordTheFingerprint) {
  World w = simple_chain();
  w.g.adapter_type = "duckdb";
  w.node("model.proj.stg").raw_code = "select {{ var('weight') }}";
  w.node("model.proj.stg").checksum = "v2";  // so the code is hashed, not taken from state
  w.ctx.var_values["weight"] = "md5-of-1";
  State updates = w.results({"model.proj.stg"}, kT1);
  const StateEntry& e = updates.entries.at("model.proj.stg");
  ASSERT_TRUE(e.fingerprint);
  EXPECT_EQ(e.fingerprint->adapter, "duckdb");
  EXPECT_EQ(e.fingerprint->kind, "view");
  EXPECT_EQ(e.fingerprint->vars.at("weight"), "md5-of-1");
  EXPECT_FALSE(e.fingerprint->code.empty());
  EXPECT_FALSE(e.fingerprint->inputs.empty());
  Lineage lineage(w.g);
  Fingerprinter fp(w.g, lineage, w.context());
  EXPECT_EQ(*e.fingerprint, fp.of(*w.g.find("model.proj.stg"), nullptr))
      << "what decide() will compute against";
}

TEST(StateUpdate, ChildRecordsParentVersionBuiltInSameRun) {
  World w = simple_chain();
  State updates = w.results({"model.proj.stg", "model.proj.mart"}, "2024-05-02T00:00:00Z");
  EXPECT_EQ(updates.entries.at("model.proj.mart").parents.at("model.proj.stg"),
            "2024-05-02T00:00:00Z");
  EXPECT_TRUE(updates.entries.at("model.proj.mart").has_parents);
}

TEST(StateUpdate, UnknownFreshnessIsNotRecorded) {
  World w = simple_chain();
  w.freshness.clear();
  Lineage lineage(w.g);
  Fingerprinter fp(w.g, lineage, w.context());
  State updates = entries_for_results(w.g, lineage, fp, {{"model.proj.stg", "success", "", std::nullopt}},
                                      w.observations(), w.state, w.keys(), kT1);
  EXPECT_TRUE(updates.entries.at("model.proj.stg").sources.empty());
  EXPECT_EQ(updates.entries.at("model.proj.stg").last_updated, kT1) << "fallback time";
}

TEST(StateUpdate, SameRelationKeepsNoExtraEntry) {
  World w = placed_chain();
  State updates = w.results({"model.proj.stg"}, kT1);
  EXPECT_EQ(updates.entries.size(), 1u);
}

// A view is live: when it waits in its build_after window, its children still see the new
// data of its parents (differential harness, seed 10: a table downstream of a waiting view
// stayed stale).
TEST(Decide, ChildOfAWaitingViewSeesItsParentsNewData) {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("model.proj.base", NodeKind::Model, {"source.proj.raw.orders"});
  w.add("model.proj.live", NodeKind::Model, {"model.proj.base"}, "view");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.live"});
  w.add("model.proj.other", NodeKind::Model, {"model.proj.base"});  // base inherits no window
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record("model.proj.base");
  w.record("model.proj.live");
  w.record("model.proj.mart");
  w.node("model.proj.live").build_after = BuildAfter{3, "hour", false};
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.base").action, Action::Build);
  EXPECT_EQ(w.of(p, "model.proj.live").reason.code, ReasonCode::BuildAfterWindow);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::ParentBuilt);
  EXPECT_EQ(mart.reason.subject, "model.proj.base");
}

// dbt runs a selected unit test only when its model is selected too: a changed unit test of a
// reused model takes the model along.
TEST(Decide, ChangedUnitTestTakesItsReusedModelAlong) {
  World w = simple_chain();
  w.add("unit_test.proj.mart.t", NodeKind::UnitTest, {"model.proj.mart"});
  w.g.link();
  w.record("unit_test.proj.mart.t");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.mart").action, Action::Reuse);
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.t").action, Action::Reuse);
  w.node("unit_test.proj.mart.t").checksum = "edited";
  p = w.decide_all();
  EXPECT_EQ(w.of(p, "unit_test.proj.mart.t").action, Action::Build);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::UnitTestNeedsModel);
  EXPECT_EQ(mart.reason.subject, "unit_test.proj.mart.t");
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
}

TEST(Decide, RecordsEveryChangedComponentAndEachParentForExplain) {
  World w = simple_chain();
  w.add_macro("macro.proj.money", "money", "proj", "{% macro money(c) %}{{ c }}{% endmacro %}");
  w.node("model.proj.mart").macro_deps = {"macro.proj.money"};
  w.record("model.proj.mart");
  w.g.macros[w.g.macro_index.at("macro.proj.money")].sql =
      "{% macro money(c) %}{{ c }} * 2{% endmacro %}";
  w.node("model.proj.mart").checksum = "edited";
  w.node("model.proj.mart").raw_code = "select 2";
  w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = w.decide_all();
  const auto& mart = w.of(p, "model.proj.mart");
  ASSERT_EQ(mart.fingerprint_changes.size(), 2u);
  EXPECT_EQ(mart.fingerprint_changes[0].component, "code");
  EXPECT_EQ(mart.fingerprint_changes[1].component, "macros");
  EXPECT_EQ(mart.fingerprint_changes[1].key, "macro.proj.money");
  EXPECT_NE(mart.fingerprint_changes[1].old_value, mart.fingerprint_changes[1].new_value);
  // stg: built on new source data; its upstream inputs are recorded for the explanation.
  const auto& stg = w.of(p, "model.proj.stg");
  ASSERT_EQ(stg.sources.size(), 1u);
  EXPECT_TRUE(stg.sources[0].is_new);
  EXPECT_TRUE(stg.fingerprint_changes.empty());

  // Unchanged mart next to a built stg: the parent input names the build.
  World v = simple_chain();
  v.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan q = v.decide_all();
  const auto& m2 = v.of(q, "model.proj.mart");
  ASSERT_EQ(m2.parents.size(), 1u);
  ASSERT_TRUE(m2.parents[0].changed.has_value());
  EXPECT_EQ(m2.parents[0].changed->code, ReasonCode::ParentBuilt);
}

/// A seed `raw_orders` loaded as the table the source reads, and a model reading the source;
/// everything recorded at kT0.
World seed_as_source() {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("seed.proj.raw_orders", NodeKind::Seed, {}, "seed");
  w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"});
  for (const char* uid : {"source.proj.raw.orders", "seed.proj.raw_orders"}) {
    w.node(uid).database = "DB";
    w.node(uid).schema = "Main";
  }
  w.node("source.proj.raw.orders").alias = "raw_orders";
  w.node("seed.proj.raw_orders").alias = "RAW_ORDERS";  // identity is case-insensitive
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record_all({"seed.proj.raw_orders", "model.proj.stg"});
  return w;
}

TEST(Graph, ASourceOverASeedsRelationComesAfterTheSeed) {
  World w = seed_as_source();
  const NodeId seed = *w.g.find("seed.proj.raw_orders");
  const NodeId source = *w.g.find("source.proj.raw.orders");
  EXPECT_EQ(w.g.nodes[source].producer, seed);
  std::vector<NodeId> order = w.g.topological_order();
  auto at = [&](NodeId id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  EXPECT_LT(at(seed), at(source));
  w.node("seed.proj.raw_orders").schema = "other";
  w.g.link();
  EXPECT_EQ(w.g.nodes[source].producer, kNoNode);
}

TEST(Decide, ASeedReloadedWithOtherRowsIsNewDataForItsSourcesReaders) {
  World w = seed_as_source();
  w.node("seed.proj.raw_orders").checksum = "edited";  // the seed file changed
  Plan p = w.decide_all();
  const NodeDecision& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Build) << show(stg.reason);
  EXPECT_EQ(stg.reason.code, ReasonCode::SourceRelationBuilt);
  EXPECT_EQ(stg.reason.detail, "seed.proj.raw_orders");
  ASSERT_EQ(p.sources_rebuilt.size(), 1u);
  EXPECT_EQ(p.sources_rebuilt[0], *w.g.find("source.proj.raw.orders"));
}

TEST(Decide, ASeedReloadedFromTheSameFileIsNoNewData) {
  World w = seed_as_source();
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "seed.proj.raw_orders").action, Action::Build) << "seeds always build";
  const NodeDecision& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Reuse) << show(stg.reason);
  EXPECT_TRUE(p.sources_rebuilt.empty());
}

TEST(Decide, ASnapshotsRelationIsAlwaysNewDataForItsSourcesReaders) {
  World w = seed_as_source();
  w.node("seed.proj.raw_orders").kind = NodeKind::Snapshot;
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").reason.code, ReasonCode::SourceRelationBuilt);
}

TEST(Decide, AnEmptyRunBuildsEverythingSelected) {
  World w = simple_chain();
  w.settings.placeholder_data = true;
  Plan p = w.decide_all();
  for (const char* uid : {"model.proj.stg", "model.proj.mart"}) {
    EXPECT_EQ(w.of(p, uid).action, Action::Build) << uid;
    EXPECT_EQ(w.of(p, uid).reason.code, ReasonCode::EmptyRun) << uid;
  }
}

TEST(StateUpdate, AnEmptyRunDropsTheEntriesOfWhatDbtRan) {
  World w = simple_chain();
  w.state.entries["model.proj.other@x.y.z"] = w.state.entries.at("model.proj.mart");
  std::vector<NodeResult> ran = {{"model.proj.stg", "success", kT1, std::nullopt},
                                 {"model.proj.gone", "success", kT1, std::nullopt}};
  EXPECT_EQ(entries_of_results(w.g, ran, w.state, w.keys()),
            std::vector<std::string>{"model.proj.stg"});
}

namespace {

/// source -> stg (view, `stg_code`) -> mart (table, `mart_code`) -> report (table), all
/// recorded at kT0 with unchanged source data, so only volatility can build anything.
World clock_chain(const std::string& stg_code, const std::string& mart_code) {
  World w;
  w.g.root_project = "proj";
  w.add("source.proj.raw.orders", NodeKind::Source);
  w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
  w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
  w.add("model.proj.report", NodeKind::Model, {"model.proj.mart"});
  w.node("model.proj.stg").raw_code = stg_code;
  w.node("model.proj.stg").original_file_path = "models/stg.sql";
  w.node("model.proj.mart").raw_code = mart_code;
  w.node("model.proj.mart").original_file_path = "models/mart.sql";
  w.node("model.proj.report").raw_code = "select count(*) as n from {{ ref('mart') }}";
  w.g.link();
  w.freshness["source.proj.raw.orders"] = kSrcOld;
  w.record_all({"model.proj.stg", "model.proj.mart", "model.proj.report"});
  return w;
}

}  // namespace

TEST(DecideVolatile, AViewReadingTheClockIsReusedWhenNothingChanged) {
  World w = clock_chain("select *, current_timestamp as _loaded_at from raw where ts < now()",
                        "select id from {{ ref('stg') }}");
  // The view filters on the clock: it stays (it is live), but the table built from it holds
  // the rows of its build: volatile on the view's account, naming the view's file.
  Plan p = w.decide_all();
  const auto& stg = w.of(p, "model.proj.stg");
  EXPECT_EQ(stg.action, Action::Reuse) << show(stg.reason);
  EXPECT_EQ(stg.reason.code, ReasonCode::NoNewData);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::Volatile) << show(mart.reason);
  EXPECT_EQ(mart.reason.subject, "models/stg.sql");
  EXPECT_EQ(mart.reason.detail, "now() in WHERE (read live through view model.proj.stg)");
}

TEST(DecideVolatile, AuditColumnsAreReusedWithTheirChildren) {
  World w = clock_chain("select *, current_timestamp as _loaded_at from raw",
                        "select *, now() as _built_at from {{ ref('stg') }}");
  Plan p = w.decide_all();
  EXPECT_EQ(p.build_count, 0u);
  for (const char* uid : {"model.proj.stg", "model.proj.mart", "model.proj.report"})
    EXPECT_EQ(w.of(p, uid).reason.code, ReasonCode::NoNewData) << uid;

  // `any` is the old behaviour: every clock read builds, and the children follow.
  w.settings.volatility = VolatilityMode::Any;
  Plan any = w.decide_all();
  EXPECT_EQ(w.of(any, "model.proj.stg").reason.code, ReasonCode::Volatile);
  EXPECT_EQ(w.of(any, "model.proj.stg").reason.detail, "current_timestamp in the select list");
  EXPECT_EQ(w.of(any, "model.proj.mart").reason.code, ReasonCode::Volatile);
  EXPECT_EQ(w.of(any, "model.proj.report").reason.code, ReasonCode::ParentBuilt);
}

TEST(DecideVolatile, ATableFilteringOnTheClockIsBuiltAsVolatile) {
  World w = clock_chain("select * from raw",
                        "select * from {{ ref('stg') }}\nwhere ts > current_timestamp - "
                        "interval '1 day'");
  Plan p = w.decide_all();
  EXPECT_EQ(w.of(p, "model.proj.stg").action, Action::Reuse);
  const auto& mart = w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::Volatile);
  EXPECT_EQ(mart.reason.subject, "models/mart.sql");
  EXPECT_EQ(mart.reason.detail, "current_timestamp in WHERE");
  EXPECT_EQ(reason_text(mart.reason),
            "reads the clock or randomness (current_timestamp in WHERE, models/mart.sql), so "
            "every run has new input");
  EXPECT_EQ(w.of(p, "model.proj.report").reason.code, ReasonCode::ParentBuilt);

  // `never`: only the config counts; the node's `volatile: true` under `never` still builds.
  w.settings.volatility = VolatilityMode::Never;
  EXPECT_EQ(w.decide_all().build_count, 0u);
  w.node("model.proj.report").volatile_config = true;
  Plan q = w.decide_all();
  EXPECT_EQ(w.of(q, "model.proj.report").reason.code, ReasonCode::Volatile);
  EXPECT_EQ(w.of(q, "model.proj.report").reason.detail, "config volatile: true");
  // ...and `volatile: false` overrides the scan under `filters`.
  w.settings.volatility = VolatilityMode::Filters;
  w.node("model.proj.mart").volatile_config = false;
  w.node("model.proj.report").volatile_config.reset();
  EXPECT_EQ(w.decide_all().build_count, 0u);
}

// --reuse-from (docs/design.md, "Reusing another target's builds"): a CI target clones what the
// production target built when a build here would give the same relation.
namespace {

/// simple_chain built for target "prod" (schema prod), then switched to target "ci" (schema
/// ci): the warehouse lists both schemas with prod's relations only.
struct TwoTargets {
  bool with_seed = false;  ///< mart also reads seed.proj.lookup (DuckDB: no table clones)
  std::string adapter = "duckdb";
  World w;
  std::string prod_built = kT0;

  World simple_chain_unrecorded() const {
    World w;
    w.g.root_project = "proj";
    w.g.adapter_type = adapter;
    w.add("source.proj.raw.orders", NodeKind::Source);
    w.add("model.proj.stg", NodeKind::Model, {"source.proj.raw.orders"}, "view");
    if (with_seed) {
      w.add("seed.proj.lookup", NodeKind::Seed, {}, "seed");
      w.node("seed.proj.lookup").checksum = std::string(64, 'a');
      w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg", "seed.proj.lookup"});
    } else {
      w.add("model.proj.mart", NodeKind::Model, {"model.proj.stg"});
    }
    w.add("test.proj.not_null_mart_id", NodeKind::Test, {"model.proj.mart"});
    w.g.link();
    w.freshness["source.proj.raw.orders"] = kSrcOld;
    w.relations.enabled = true;
    return w;
  }
  void use_schema(const std::string& schema) {
    for (Node& n : w.g.nodes) {
      if (n.kind == NodeKind::Source) continue;
      n.database = "db";
      n.schema = schema;
      if (n.is_test()) {
        n.relation_name.clear();
        continue;
      }
      n.alias = n.unique_id.substr(n.unique_id.rfind('.') + 1);
      n.relation_name = "\"db\".\"" + schema + "\".\"" + n.alias + "\"";
    }
  }
  void list(const std::string& schema, bool with_relations = true) {
    w.relations.listed_schemas.insert(RelationCatalog::schema_key("db", schema));
    if (!with_relations) return;
    w.relations.add("db", schema, "stg", "view");
    w.relations.add("db", schema, "mart", "table");
    if (with_seed) w.relations.add("db", schema, "lookup", "table");
  }
  /// Production builds every node at `when` (as a run with target prod records it).
  void build_prod(const std::string& when) {
    use_schema("prod");
    w.g.link();
    Lineage lineage(w.g);
    Fingerprinter fp(w.g, lineage, w.context());
    std::vector<NodeResult> rs;
    for (const char* uid : {"model.proj.stg", "model.proj.mart", "test.proj.not_null_mart_id"})
      rs.push_back({uid, uid[0] == 't' ? "pass" : "success", when, std::nullopt});
    if (with_seed) rs.push_back({"seed.proj.lookup", "success", when, std::nullopt});
    merge_state(w.state, entries_for_results(w.g, lineage, fp, rs, w.observations(), w.state,
                                             w.keys(), when, "prod"));
    prod_built = when;
    use_schema("ci");
  }
  explicit TwoTargets(bool seed = false, std::string adapter_type = "duckdb")
      : with_seed(seed), adapter(std::move(adapter_type)), w(simple_chain_unrecorded()) {
    build_prod(kT0);
    list("prod");
    list("ci", false);
  }
  Plan decide(const char* reuse_from = "prod") {
    w.g.link();
    std::vector<NodeId> all;
    for (NodeId i = 0; i < w.g.nodes.size(); ++i) all.push_back(i);
    Lineage lineage(w.g);
    Fingerprinter fp(w.g, lineage, w.context());
    std::optional<TargetEntries> other;
    if (reuse_from) other.emplace(w.state, reuse_from);
    return orc::decide(w.g, lineage, fp, all, w.observations(), w.state, w.keys(), w.now,
                       w.settings, other ? &*other : nullptr);
  }
  /// Records what a CI run of `plan` did: its clones and builds succeeded at `when`.
  void record_ci(const Plan& plan, const std::string& when) {
    Lineage lineage(w.g);
    Fingerprinter fp(w.g, lineage, w.context());
    std::vector<NodeResult> rs;
    for (const NodeDecision& d : plan.decisions)
      if (d.action != Action::Reuse)
        rs.push_back({w.g.nodes[d.node].unique_id, "success", when, std::nullopt});
    merge_state(w.state, entries_for_results(w.g, lineage, fp, rs, w.observations(), w.state,
                                             w.keys(), when, "ci", &plan));
    for (const NodeDecision& d : plan.decisions) {  // a clone is a view on DuckDB/PostgreSQL
      const Node& n = w.g.nodes[d.node];
      if (d.action != Action::Reuse && !n.is_test())
        w.relations.add("db", "ci", n.alias, d.action == Action::Clone ? "view" : n.materialized);
    }
  }
};

}  // namespace

TEST(ReuseFrom, NothingChangedClonesEveryNodeFromProduction) {
  TwoTargets t;
  Plan p = t.decide();
  EXPECT_EQ(p.clone_count, 3u);
  for (const char* uid : {"model.proj.stg", "model.proj.mart", "test.proj.not_null_mart_id"}) {
    const NodeDecision& d = t.w.of(p, uid);
    EXPECT_EQ(d.action, Action::Clone) << uid << ": " << show(d.reason);
    EXPECT_EQ(d.reason.code, ReasonCode::ClonedFromTarget) << uid;
    ASSERT_NE(d.clone_of, nullptr);
    EXPECT_EQ(d.clone_of->target, "prod");
  }
  EXPECT_EQ(t.w.of(p, "model.proj.mart").clone_of->fingerprint->relation,
            "\"db\".\"prod\".\"mart\"");
  Plan without = t.decide(nullptr);
  EXPECT_EQ(without.clone_count, 0u) << "no --reuse-from: nothing is cloned";
  EXPECT_EQ(t.w.of(without, "model.proj.stg").reason.code, ReasonCode::RelationChanged);
}

TEST(ReuseFrom, AnEditedModelBuildsWithItsDescendantsAndTheRestIsCloned) {
  TwoTargets t;
  t.w.node("model.proj.mart").raw_code = "select 2";
  t.w.node("model.proj.mart").checksum = "edited";
  Plan p = t.decide();
  EXPECT_EQ(t.w.of(p, "model.proj.stg").action, Action::Clone);
  const NodeDecision& mart = t.w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  EXPECT_EQ(mart.reason.code, ReasonCode::FingerprintDiffersFromTarget) << show(mart.reason);
  const NodeDecision& test = t.w.of(p, "test.proj.not_null_mart_id");
  EXPECT_EQ(test.action, Action::Build) << show(test.reason);

  TwoTargets u;
  u.w.node("model.proj.stg").raw_code = "select 3";
  u.w.node("model.proj.stg").checksum = "edited";
  Plan q = u.decide();
  EXPECT_EQ(u.w.of(q, "model.proj.stg").action, Action::Build);
  const NodeDecision& child = u.w.of(q, "model.proj.mart");
  EXPECT_EQ(child.action, Action::Build);
  EXPECT_EQ(child.reason.code, ReasonCode::ParentNotCloned) << show(child.reason);
  EXPECT_EQ(child.reason.subject, "model.proj.stg");
}

TEST(ReuseFrom, NewDataAMissingRelationOrATargetReadIsNotCloned) {
  TwoTargets fresh;
  fresh.w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan p = fresh.decide();
  EXPECT_EQ(fresh.w.of(p, "model.proj.stg").reason.code, ReasonCode::NewDataSinceTargetBuild);
  EXPECT_EQ(fresh.w.of(p, "model.proj.mart").reason.code, ReasonCode::ParentNotCloned);

  TwoTargets dropped;
  dropped.w.relations.kinds.clear();
  dropped.list("prod", false);
  Plan q = dropped.decide();
  EXPECT_EQ(dropped.w.of(q, "model.proj.stg").reason.code, ReasonCode::TargetRelationMissing);

  TwoTargets reads;
  reads.w.node("model.proj.stg").raw_code =
      "select * from x {% if target.name == 'prod' %} where 1 = 1 {% endif %}";
  Plan r = reads.decide();
  EXPECT_EQ(reads.w.of(r, "model.proj.stg").reason.code, ReasonCode::ReadsTarget);

  TwoTargets none;
  Plan s = none.decide("staging");
  EXPECT_EQ(none.w.of(s, "model.proj.stg").reason.code, ReasonCode::TargetHasNoEntry);
}

TEST(ReuseFrom, AClonesEntryIsReusedWhileProductionKeepsThatVersion) {
  TwoTargets t;
  Plan first = t.decide();
  t.record_ci(first, kT1);
  const StateEntry* stg = find_entry(t.w.state, "model.proj.stg", "\"db\".\"ci\".\"stg\"");
  ASSERT_NE(stg, nullptr);
  EXPECT_EQ(stg->cloned_from, "prod");
  EXPECT_EQ(stg->cloned_version, kT0);
  EXPECT_EQ(stg->target, "ci");
  EXPECT_EQ(stg->sources.at("source.proj.raw.orders"), kSrcOld) << "what production consumed";
  ASSERT_NE(find_entry(t.w.state, "model.proj.stg", "\"db\".\"prod\".\"stg\""), nullptr)
      << "production's entry is kept beside it";

  Plan again = t.decide();
  EXPECT_EQ(again.clone_count, 0u);
  EXPECT_EQ(again.reuse_count, 3u);
  EXPECT_EQ(t.w.of(again, "model.proj.mart").reason.code, ReasonCode::CloneStillCurrent);

  Plan unchecked = t.decide(nullptr);
  EXPECT_EQ(t.w.of(unchecked, "model.proj.stg").reason.code, ReasonCode::CloneUnchecked)
      << "a view clone follows production: only --reuse-from can tell it is current";

  // Production rebuilds after new data: the clones are taken again, at the new version.
  t.w.freshness["source.proj.raw.orders"] = kSrcNew;
  t.build_prod("2024-05-01T11:30:00Z");
  Plan third = t.decide();
  EXPECT_EQ(third.clone_count, 3u) << show(t.w.of(third, "model.proj.mart").reason);
}

TEST(ReuseFrom, ACiBuiltChildOfAnUnselectedCloneBuildsWhenProductionMoved) {
  TwoTargets t;
  t.w.node("model.proj.mart").raw_code = "select 2";
  t.w.node("model.proj.mart").checksum = "edited";
  Plan first = t.decide();
  t.record_ci(first, kT1);  // stg cloned, mart and its test built here
  Plan same = t.decide();
  EXPECT_EQ(t.w.of(same, "model.proj.mart").reason.code, ReasonCode::NoNewData)
      << show(t.w.of(same, "model.proj.mart").reason);

  t.w.freshness["source.proj.raw.orders"] = kSrcNew;
  t.build_prod("2024-05-01T11:30:00Z");
  t.w.freshness["source.proj.raw.orders"] = kSrcNew;
  Plan only_mart = [&] {
    t.w.g.link();
    Lineage lineage(t.w.g);
    Fingerprinter fp(t.w.g, lineage, t.w.context());
    TargetEntries other(t.w.state, "prod");
    return orc::decide(t.w.g, lineage, fp, {*t.w.g.find("model.proj.mart")}, t.w.observations(),
                       t.w.state, t.w.keys(), t.w.now, t.w.settings, &other);
  }();
  const NodeDecision& mart = t.w.of(only_mart, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Build);
  ASSERT_EQ(mart.parents.size(), 1u);
  ASSERT_TRUE(mart.parents[0].changed);
  EXPECT_EQ(mart.parents[0].changed->code, ReasonCode::ParentCloneUnchecked);
}

TEST(ReuseFrom, RelationNamesSplitWithEveryAdaptersQuotes) {
  auto parts = split_relation_name("\"my.db\".\"prod\".\"orders\"");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->database, "my.db");
  EXPECT_EQ(parts->schema, "prod");
  EXPECT_EQ(parts->identifier, "orders");
  EXPECT_EQ(split_relation_name("`proj`.`ds`.`t`")->schema, "ds");
  EXPECT_EQ(split_relation_name("[db].[dbo].[t]")->identifier, "t");
  EXPECT_EQ(split_relation_name("db.schema.t")->database, "db");
  EXPECT_FALSE(split_relation_name("schema.t"));
  EXPECT_FALSE(split_relation_name("\"db\".\"s\"."));
  EXPECT_TRUE(reads_target_variable("{{ target.schema }}"));
  EXPECT_TRUE(reads_target_variable("{% if target['name'] == 'x' %}"));
  EXPECT_FALSE(reads_target_variable("select target_id, my_target.x from t"));
}

TEST(ReuseFrom, ASeedIsLoadedLikeProductionsWhereTablesCloneAsViews) {
  TwoTargets t(/*seed=*/true);
  Plan p = t.decide();
  const NodeDecision& seed = t.w.of(p, "seed.proj.lookup");
  EXPECT_EQ(seed.action, Action::Build) << "dbt cannot seed over a view clone later";
  EXPECT_EQ(seed.reason.code, ReasonCode::SeedLoadedLikeTarget) << show(seed.reason);
  ASSERT_NE(seed.clone_of, nullptr);
  const NodeDecision& mart = t.w.of(p, "model.proj.mart");
  EXPECT_EQ(mart.action, Action::Clone) << "the seed holds production's rows: " << show(mart.reason);
  t.record_ci(p, kT1);
  const StateEntry* entry = find_entry(t.w.state, "seed.proj.lookup", "\"db\".\"ci\".\"lookup\"");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->cloned_from, "prod");
  EXPECT_EQ(t.decide().clone_count, 0u) << "all still current";

  TwoTargets big(/*seed=*/true);
  big.w.node("seed.proj.lookup").checksum = "seeds/lookup.csv";  // dbt's checksum over 1 MiB
  Plan q = big.decide();
  EXPECT_EQ(big.w.of(q, "seed.proj.lookup").reason.code,
            ReasonCode::FingerprintDiffersFromTarget);
  EXPECT_EQ(big.w.of(q, "model.proj.mart").reason.code, ReasonCode::ParentNotCloned);
}

TEST(ReuseFrom, ANodeWithHooksIsBuiltWhereTheCloneWouldBeAView) {
  TwoTargets t;
  t.w.node("model.proj.mart").hooks_text = "[\"delete from {{ this }} where 1 = 0\"]";
  Plan p = t.decide();
  EXPECT_EQ(t.w.of(p, "model.proj.mart").reason.code, ReasonCode::HooksOnViewClone);
  EXPECT_EQ(t.w.of(p, "model.proj.stg").action, Action::Clone);
  TwoTargets snow(false, "snowflake");  // a zero-copy table clone: hooks run on a table
  snow.w.node("model.proj.mart").hooks_text = t.w.node("model.proj.mart").hooks_text;
  snow.build_prod(kT0);
  Plan q = snow.decide();
  EXPECT_EQ(snow.w.of(q, "model.proj.mart").action, Action::Clone)
      << show(snow.w.of(q, "model.proj.mart").reason);
}
