// orc state/explain/dag building blocks: savings fields in the state document, guarded
// removal through LocalFileStore::update, what forget/import change, node patterns,
// fingerprint diffs, the savings arithmetic, tool arguments and the DAG page.
#include <gtest/gtest.h>

#include "cli/tool_args.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/node_pattern.h"
#include "plan/fingerprint_diff.h"
#include "plan/savings.h"
#include "plan/session.h"
#include "report/dag_html.h"
#include "report/savings_report.h"
#include "scratch_dir.h"
#include "stores/local_file_store.h"
#include "state/state.h"
#include "state/state_edit.h"

using namespace orc;
namespace fs = std::filesystem;

namespace {

StateEntry entry(const std::string& ts, std::optional<double> seconds = std::nullopt) {
  StateEntry e;
  e.checksum = "c";
  e.last_updated = ts;
  e.build_seconds = seconds;
  return e;
}

State three() {
  State s;
  s.entries["model.p.stg_orders"] = entry("2024-01-01T00:00:00Z", 1.5);
  s.entries["model.p.stg_orders@db.other.stg_orders"] = entry("2024-01-01T00:00:00Z");
  s.entries["model.p.fct_orders"] = entry("2024-01-02T00:00:00Z", 2.25);
  return s;
}

}  // namespace

TEST(StateTools, BuildSecondsAndSavingsRoundTrip) {
  State s = three();
  s.savings = SavingsTotals{3, 7, 12, 42.5};
  std::string text = serialize_state(s);
  EXPECT_NE(text.find("\"orc_build_seconds\": 1.500"), std::string::npos);
  EXPECT_NE(text.find("\"orc_savings\""), std::string::npos);
  State again = parse_state(text, "x");
  EXPECT_EQ(again.savings, s.savings);
  EXPECT_EQ(again.entries.at("model.p.fct_orders").build_seconds, 2.25);
  EXPECT_FALSE(again.entries.at("model.p.stg_orders@db.other.stg_orders").build_seconds);
  EXPECT_TRUE(again.extra_top_level.empty()) << "orc_savings is not kept twice";
  EXPECT_EQ(serialize_state(again), text);
}

TEST(StateTools, NoSavingsWrittenUntilARunRecordsThem) {
  EXPECT_EQ(serialize_state(three()).find("orc_savings"), std::string::npos);
}

TEST(StateTools, MistypedOrcFieldsAreErrorsNamingTheField) {
  EXPECT_THROW(parse_state(R"({"state": {}, "orc_savings": 3})", "s.json"), Error);
  try {
    parse_state(R"({"state": {"m": {"orc_build_seconds": "x"}}})", "s.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("orc_build_seconds"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("s.json"), std::string::npos);
  }
}

TEST(StateTools, PatternsNameIdsNamesAndGlobs) {
  EXPECT_TRUE(matches_node_pattern("stg_orders", "model.p.stg_orders"));
  EXPECT_TRUE(matches_node_pattern("stg_*", "model.p.stg_orders"));
  EXPECT_TRUE(matches_node_pattern("model.p.*", "model.p.stg_orders"));
  EXPECT_TRUE(matches_node_pattern("model.p.stg_orders", "model.p.stg_orders@db.s.stg_orders"));
  EXPECT_FALSE(matches_node_pattern("orders", "model.p.stg_orders"));
  EXPECT_FALSE(matches_node_pattern("fct_*", "model.p.stg_orders"));
  // Account-scoped keys name relations; their quotes are not part of the name.
  EXPECT_TRUE(matches_node_pattern("stg_orders", "42.\"db\".\"main\".\"stg_orders\""));
  EXPECT_TRUE(matches_node_pattern("main.stg_*", "42.\"db\".\"main\".\"stg_orders\""));
  EXPECT_FALSE(matches_node_pattern("orders", "42.\"db\".\"main\".\"stg_orders\""));
}

TEST(StateTools, ForgetMatchesOnlyTheKeysItIsGiven) {
  State s;
  for (const char* k : {"42.\"db\".\"main\".\"stg_orders\"",
                        "7.\"db\".\"main\".\"stg_orders\"", "7.model.p.stg_orders"})
    s.entries[k].checksum = "x";
  auto ours = [](std::string_view key) { return key.starts_with("42."); };
  EXPECT_EQ(match_keys(s, {"stg_orders"}, ours).keys,
            std::vector<std::string>{"42.\"db\".\"main\".\"stg_orders\""})
      << "another account's entries are never candidates";
  EXPECT_EQ(match_keys(s, {"stg_orders"}).keys.size(), 3u);
}

TEST(StateTools, ForgetMatchesEveryRelationOfANodeAndReportsUnmatchedPatterns) {
  KeyMatch m = match_keys(three(), {"stg_orders", "nope"});
  EXPECT_EQ(m.keys, (std::vector<std::string>{"model.p.stg_orders",
                                              "model.p.stg_orders@db.other.stg_orders"}));
  EXPECT_EQ(m.unmatched, std::vector<std::string>{"nope"});
}

TEST(StateTools, ImportDiffAgreesWithMerge) {
  State stored = three();
  State incoming;
  incoming.entries["model.p.new"] = entry("2024-01-01T00:00:00Z");
  incoming.entries["model.p.stg_orders"] = entry("2025-01-01T00:00:00Z");  // newer: replaces
  incoming.entries["model.p.fct_orders"] = entry("2020-01-01T00:00:00Z");  // older: kept
  ImportDiff d = import_diff(stored, incoming);
  EXPECT_EQ(d.added, std::vector<std::string>{"model.p.new"});
  EXPECT_EQ(d.replaced, std::vector<std::string>{"model.p.stg_orders"});
  EXPECT_EQ(d.kept, std::vector<std::string>{"model.p.fct_orders"});
  EXPECT_EQ(stored.entries.size(), 3u) << "the preview changes nothing";
}

class GuardedUpdate : public ScratchDirTest {};

TEST_F(GuardedUpdate, RemovalAndSavingsGoThroughTheLockedReadModifyWrite) {
  fs::path file = dir_ / "state.json";
  write_file_atomic(file, serialize_state(three()));
  LocalFileStore store(file, "test");
  // Another writer's entry lands before our update: the update re-reads and keeps it.
  State other;
  other.entries["model.p.other"] = entry("2024-02-01T00:00:00Z");
  StateChange merge;
  merge.merged = other;
  store.apply(merge);
  StateChange remove;
  remove.removed = {"model.p.stg_orders"};
  store.apply(remove);
  store.apply(Session::savings_only(RunSavings{2, 3, 4.5, 0, 0, {}}));
  State now = store.load();
  EXPECT_FALSE(now.entries.count("model.p.stg_orders"));
  EXPECT_TRUE(now.entries.count("model.p.other"));
  EXPECT_TRUE(now.entries.count("model.p.fct_orders"));
  EXPECT_EQ(now.savings, (SavingsTotals{1, 2, 3, 4.5}));
}

TEST(StateTools, SavingsSumTheReusedNodesRecordedDurations) {
  SavingsTotals t;
  t += savings_totals(RunSavings{2, 5, 3.75, 1, 0, {}});
  t += savings_totals(RunSavings{1, 5, 1.25, 0, 0, {}});
  EXPECT_EQ(t, (SavingsTotals{2, 3, 10, 5.0}));
  EXPECT_EQ(format_duration(125), "2m 05s");
  EXPECT_EQ(format_duration(7260), "2h 01m");
  EXPECT_EQ(format_duration(0), "0s");
}

TEST(StateTools, FingerprintChangesListEveryComponentOldToNew) {
  Fingerprint a, b;
  a.code = b.code = "c";
  a.macros = {{"macro.p.m", "1"}, {"macro.p.gone", "2"}};
  b.macros = {{"macro.p.m", "9"}, {"macro.p.new", "3"}};
  a.config = b.config = {{"materialized", "t"}};
  b.env_vars = {{"HOME", "h"}};
  auto changes = fingerprint_changes(a, b);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].component, "macros");
  EXPECT_EQ(changes[0].key, "macro.p.gone");
  EXPECT_EQ(changes[0].new_value, "");
  EXPECT_EQ(changes[1].key, "macro.p.m");
  EXPECT_EQ(changes[1].old_value, "1");
  EXPECT_EQ(changes[1].new_value, "9");
  EXPECT_EQ(changes[3].component, "env_vars");
  EXPECT_TRUE(fingerprint_changes(a, a).empty());
}

TEST(StateTools, ToolArgsNameTheBadOptionAndValue) {
  ToolArgsSpec spec{"orc state show", {"--savings"}, {"--output"}};
  ToolArgs a = parse_tool_args({"stg_*", "--output=json", "--savings"}, spec);
  EXPECT_EQ(a.positional, std::vector<std::string>{"stg_*"});
  EXPECT_EQ(output_format(a, "x"), "json");
  EXPECT_TRUE(a.has("--savings"));
  try {
    parse_tool_args({"--bogus"}, spec);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--bogus"), std::string::npos);
  }
  EXPECT_THROW(parse_tool_args({"--output"}, spec), UsageError);
  try {
    output_format(parse_tool_args({"--output", "xml"}, spec), "orc state show");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("xml"), std::string::npos);
  }
}

TEST(StateTools, DagLayersAndPageAreSelfContained) {
  std::vector<DagNode> nodes(3);
  nodes[0].unique_id = "model.p.a</script>";
  nodes[0].status = "reused";
  nodes[1].unique_id = "model.p.b";
  nodes[1].status = "built";
  nodes[2].unique_id = "model.p.c";
  nodes[2].status = "failed";
  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {0, 2}};
  assign_layers(nodes, edges);
  EXPECT_EQ(nodes[2].layer, 2);
  std::string html = dag_html(nodes, edges, "build");
  EXPECT_EQ(html.find("http://") == std::string::npos ||
                html.find("http://www.w3.org/2000/svg") != std::string::npos,
            true);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "nothing is fetched at view time";
  EXPECT_EQ(html.find("model.p.a</script>"), std::string::npos) << "data cannot end the script";
  EXPECT_NE(html.find(status_colour("reused")), std::string::npos);
  EXPECT_EQ(html.find("would build"), std::string::npos) << "a run's page";
}

TEST(StateTools, APlanIsDrawnAsAPlan) {
  std::vector<DagNode> nodes(2);
  nodes[0].unique_id = "model.p.a";
  nodes[0].status = "would reuse";
  nodes[1].unique_id = "model.p.b";
  nodes[1].status = "would build";
  std::string html = dag_html(nodes, {{0, 1}}, "plan at 2026-01-01T00:00:00Z", true);
  EXPECT_NE(html.find("<span>plan at 2026-01-01T00:00:00Z</span>"), std::string::npos);
  EXPECT_NE(html.find("\"would build\": \"" + std::string(status_colour("would build"))),
            std::string::npos);
  EXPECT_NE(html.find("></span>would reuse"), std::string::npos) << "in the legend";
  for (const char* ran : {"built", "reused", "failed", "skipped"})
    EXPECT_EQ(html.find(std::string("></span>") + ran), std::string::npos) << ran;
  EXPECT_NE(html.find("<body class=\"plan\">"), std::string::npos) << "dashed outlines";
  EXPECT_NE(std::string(status_colour("would build")), status_colour("built"));
  EXPECT_NE(std::string(status_colour("would reuse")), status_colour("reused"));
}
