// The stateful workflow (src/workflow) on every path, without dbt: an in-memory fake of dbt
// (it writes the artifacts dbt would write and answers orc's requests — the selection, the
// warehouse questions, the build — from canned values) and an in-memory state store.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <map>
#include <regex>
#include <functional>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/json_writer.h"
#include "core/process.h"
#include "dbt/run_results.h"
#include "dbt/warehouse_probe.h"
#include "scratch_dir.h"
#include "state/state.h"
#include "workflow/stateful_run.h"

using namespace orc;
namespace fs = std::filesystem;

namespace {

const char* kSource = "source.shop.raw.orders";
const char* kStg = "model.shop.stg_orders";
const char* kMart = "model.shop.fct_orders";

/// A project of one source (with loaded_at_field), a view reading it and a table on the view.
std::string manifest_json(const std::string& mart_sql, const std::string& dbt_version) {
  return fmt::format(R"({{
  "metadata": {{"dbt_version": "{version}", "project_name": "shop", "adapter_type": "duckdb"}},
  "nodes": {{
    "{stg}": {{"resource_type": "model", "package_name": "shop", "name": "stg_orders",
      "database": "db", "schema": "main", "alias": "stg_orders",
      "checksum": {{"name": "sha256", "checksum": "s1"}}, "raw_code": "select * from raw",
      "config": {{"materialized": "view"}},
      "depends_on": {{"macros": [], "nodes": ["{src}"]}}}},
    "{mart}": {{"resource_type": "model", "package_name": "shop", "name": "fct_orders",
      "database": "db", "schema": "main", "alias": "fct_orders",
      "checksum": {{"name": "sha256", "checksum": {sum}}}, "raw_code": {sql},
      "config": {{"materialized": "table"}},
      "depends_on": {{"macros": [], "nodes": ["{stg}"]}}}}
  }},
  "sources": {{
    "{src}": {{"resource_type": "source", "package_name": "shop", "source_name": "raw",
      "name": "orders", "database": "db", "schema": "raw", "identifier": "orders",
      "loaded_at_field": "loaded_at", "config": {{}}}}
  }}
}})",
                     fmt::arg("version", dbt_version), fmt::arg("stg", kStg),
                     fmt::arg("mart", kMart), fmt::arg("src", kSource),
                     fmt::arg("sum", json_quote(mart_sql)), fmt::arg("sql", json_quote(mart_sql)));
}

/// dbt, as the workflow sees it (DbtRequests): resolving the selection and asking the
/// warehouse write the manifest (as parsing does); the warehouse questions are answered from
/// `loaded_at` / `source_rows` / `relations` / `threads` (no SQL is read); the build writes
/// run_results.json for the nodes in the synthetic state it is given, failing those in
/// `failing`.
class FakeDbt : public DbtRequests {
 public:
  explicit FakeDbt(fs::path target) : target_(std::move(target)) {}

  std::string mart_sql = "select * from stg";
  std::string dbt_version = "1.11.0";  ///< the manifest's metadata.dbt_version
  std::string loaded_at = "2026-01-01T00:00:00";
  int source_rows = 3;  ///< the change marker's row count, where the adapter counts rows
  std::set<std::string> relations = {"stg_orders", "fct_orders"};
  std::set<std::string> failing;
  int ls_exit = 0;
  int build_exit_override = -1;   ///< e.g. 130: dbt was interrupted after `stop_after` nodes
  size_t stop_after = SIZE_MAX;
  bool write_results = true;
  double execution_time = 0;  ///< each built node's, when > 0
  std::string threads = "";   ///< dbt's `target.threads` ("": not answered)
  std::vector<std::string> invoked;  ///< `ls` (resolve), `show` (ask), `clone`, `build`, in order
  size_t cloned_in_batch = 0;        ///< relations the clone batches were given

  SelectionAnswer resolve(const std::string&, const DbtArgs&) override {
    invoked.push_back("ls");
    write_manifest();
    if (ls_exit) return {{}, ls_exit};
    return {{kStg, kMart}, 0};
  }

  bool ask(const Graph& graph, const ProbeRequest& request, const DbtArgs&,
           ProbeResult& result, bool) override {
    if (request.empty()) return false;
    invoked.push_back("show");
    write_manifest();
    const bool counts = change_marker_method(graph.adapter_type).row_count;
    for (NodeId id : request.sources) {
      const Node& s = graph.nodes[id];
      if (!s.has_loaded_at()) continue;  // no token answered: unknown
      result.observed.freshness[s.unique_id] = format_timestamp(*parse_timestamp(loaded_at));
      if (counts && s.wants_change_marker())
        result.observed.markers[s.unique_id] = fmt::format("n:{}", source_rows);
    }
    for (const auto& [database, schema] : request.schemas) {
      result.observed.relations.listed_schemas.insert(
          RelationCatalog::schema_key(database, schema));
      for (const auto& r : relations)
        result.observed.relations.add(database, schema, r, r == "stg_orders" ? "view" : "table");
    }
    if (!threads.empty()) result.threads = std::stoi(threads);
    return true;
  }

  CloneBatchAnswer clone(const std::vector<CloneJob>& jobs, const DbtArgs&) override {
    invoked.push_back("clone");
    cloned_in_batch += jobs.size();
    return {CloneBatchAnswer::Outcome::Cloned, {}, {}};
  }

  int build(const std::vector<std::string>& args) override {
    invoked.push_back("build");
    std::vector<std::string> ids;
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "--state") {
        auto synthetic = read_run_results(fs::path(args[i + 1]) / "run_results.json");
        for (const auto& r : synthetic->results) ids.push_back(r.unique_id);
      }
    if (ids.empty()) ids = {kStg, kMart};  // --full-refresh: as given
    if (!write_results) return 0;
    fs::create_directories(target_);
    std::string results;
    int code = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string status = i >= stop_after         ? "skipped"
                           : failing.count(ids[i]) ? "error"
                                                   : "success";
      if (status == "error") code = 1;
      std::string timing = execution_time > 0
                               ? fmt::format(", \"execution_time\": {}", execution_time)
                               : "";
      results += fmt::format("{}{{\"unique_id\": \"{}\", \"status\": \"{}\"{}}}",
                             results.empty() ? "" : ", ", ids[i], status, timing);
    }
    write_file_atomic(target_ / "run_results.json",
                      fmt::format(R"({{"metadata": {{"invocation_id": "fake-{}"}},
                                     "results": [{}]}})",
                                  ++builds_, results));
    return build_exit_override >= 0 ? build_exit_override : code;
  }

  std::vector<DbtProcessRecord> processes() const override {
    std::vector<std::string> lines;
    for (const auto& s : invoked) lines.push_back("dbt " + s);
    return {{"fake", lines, {}}};
  }

 private:
  void write_manifest() const {
    fs::create_directories(target_);
    write_file_atomic(target_ / "manifest.json", manifest_json(mart_sql, dbt_version));
  }

  fs::path target_;
  int builds_ = 0;
};

/// State kept in memory; `fail_saves` makes save_merged fail like an unreachable store.
class MemoryStore : public StateStore {
 public:
  State state;
  int saves = 0;
  bool fail_saves = false;

  std::string describe() const override { return "memory"; }
  State load() override { return state; }
  void update(const std::function<void(State&)>& change) override {
    if (fail_saves) throw Error("the state store is unreachable", 3);
    change(state);
    ++saves;
  }
};

class Workflow : public ScratchDirTest {
 protected:
  void SetUp() override {
    clear_interrupt();  // another test in this process may have sent orc a signal
    write_file_atomic(dir_ / "dbt_project.yml", "name: shop\nprofile: shop\n");
    config_.use_stateful = true;
    config_.env.vars["ORC_NOW"] = "2026-01-02T00:00:00Z";
  }

  int run(std::vector<std::string> args = {}, bool plan_only = false,
          const std::string& subcommand = "build") {
    RunRequest request;
    request.subcommand = subcommand;
    request.args = args;
    request.dbt_args = parse_dbt_args(args, config_.env);
    request.cwd = dir_;
    request.plan_only = plan_only;
    dbt_.invoked.clear();
    return run_stateful(request, config_, dbt_, store_);
  }

  /// node -> decision ("build"/"reuse") and reason code from orc_decisions.json.
  std::map<std::string, std::pair<std::string, std::string>> decisions() const {
    std::string text = read_file(dir_ / "target" / "orc_decisions.json");
    std::map<std::string, std::pair<std::string, std::string>> out;
    static const std::regex node(
        R"re("unique_id": "([^"]+)"[^\n]*?"decision": "(\w+)"[^\n]*?"reason_code": "(\w+)")re");
    for (std::sregex_iterator it(text.begin(), text.end(), node), end; it != end; ++it)
      out[(*it)[1]] = {(*it)[2], (*it)[3]};
    return out;
  }

  bool has_entry(const std::string& id) const {
    for (const auto& [key, e] : store_.state.entries)
      if (key.find(id) != std::string::npos) return true;
    return false;
  }

  Config config_;
  FakeDbt dbt_{dir_ / "target"};
  MemoryStore store_;
};

}  // namespace

TEST_F(Workflow, FirstRunResolvesWithLsBuildsEverythingAndRecordsState) {
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(dbt_.invoked, (std::vector<std::string>{"ls", "show", "build"}));
  auto d = decisions();
  EXPECT_EQ(d[kStg].first, "build");
  EXPECT_EQ(d[kMart].first, "build");
  EXPECT_EQ(store_.saves, 1);
  EXPECT_TRUE(has_entry(kStg) && has_entry(kMart));
  std::string record = read_file(dir_ / "target" / "orc_decisions.json");
  EXPECT_NE(record.find("\"dbt build"), std::string::npos)
      << "dbt_processes includes the build's invocation";
}

TEST_F(Workflow, NothingChangedTakesTheFastPathAndStartsNoBuild) {
  ASSERT_EQ(run(), 0);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(dbt_.invoked, (std::vector<std::string>{"show"}))
      << "the previous manifest drives the one query; no ls, no build";
  auto d = decisions();
  EXPECT_EQ(d[kStg], (std::pair<std::string, std::string>{"reuse", "no_new_data"}));
  EXPECT_EQ(d[kMart].first, "reuse");
  EXPECT_EQ(store_.saves, 2) << "no entries, only the savings totals of this run";
  EXPECT_EQ(store_.state.savings.reused_nodes, 2);
}

TEST_F(Workflow, NothingBuiltWritesAReusedResultPerNodeAndNoEarlierResults) {
  ASSERT_EQ(run(), 0);
  const std::string before = read_run_results(dir_ / "target" / "run_results.json")->invocation_id;
  EXPECT_EQ(run(), 0);
  std::string text = read_file(dir_ / "target" / "run_results.json");
  RunResults r = parse_run_results(text, "run_results");
  EXPECT_NE(r.invocation_id, before) << "not the earlier run's results";
  EXPECT_EQ(r.invocation_id.size(), 36u) << "a fresh invocation id, as dbt gives each run";
  EXPECT_EQ(r.dbt_version, "1.11.0") << "the manifest's dbt";
  EXPECT_EQ(r.command, "build");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].unique_id, kStg);
  EXPECT_EQ(r.results[0].status, "no-op") << "dbt 1.11 cannot read `reused`";
  EXPECT_EQ(r.results[1].unique_id, kMart);
  EXPECT_NE(text.find("\"message\": \"Reused: no new upstream data since the last build\""),
            std::string::npos) << text;
}

TEST_F(Workflow, ReusedNodesAreAddedToWhatDbtRecordedWithTheStatusOfItsVersion) {
  ASSERT_EQ(run(), 0);
  dbt_.mart_sql = "select id from stg";  // the mart is built, the view reused
  dbt_.dbt_version = "1.12.2";
  EXPECT_EQ(run(), 0);
  RunResults r = *read_run_results(dir_ / "target" / "run_results.json");
  EXPECT_EQ(r.invocation_id, "fake-2") << "dbt's metadata stays";
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].unique_id, kMart);
  EXPECT_EQ(r.results[0].status, "success") << "dbt's own result";
  EXPECT_EQ(r.results[1].unique_id, kStg);
  EXPECT_EQ(r.results[1].status, "reused");
  EXPECT_TRUE(has_entry(kMart));
  EXPECT_EQ(store_.state.savings.reused_nodes, 1) << "the state records what dbt ran, as before";
}

TEST_F(Workflow, WithReusedInRunResultsOffTheFileHoldsOnlyWhatDbtRan) {
  config_.reused_in_run_results = false;
  ASSERT_EQ(run(), 0);
  dbt_.mart_sql = "select id from stg";
  EXPECT_EQ(run(), 0);
  RunResults r = *read_run_results(dir_ / "target" / "run_results.json");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].unique_id, kMart);
  EXPECT_EQ(run(), 0);  // nothing to build
  EXPECT_TRUE(read_run_results(dir_ / "target" / "run_results.json")->results.empty());
}

TEST_F(Workflow, NewSourceDataRebuildsTheDownstreamNodes) {
  ASSERT_EQ(run(), 0);
  dbt_.loaded_at = "2026-01-01T12:00:00";
  EXPECT_EQ(run(), 0);
  auto d = decisions();
  EXPECT_EQ(d[kStg], (std::pair<std::string, std::string>{"build", "source_new_data"}));
  EXPECT_EQ(d[kMart].first, "build");
  EXPECT_EQ(dbt_.invoked.back(), "build");
}

TEST_F(Workflow, ALateRowMovesTheChangeMarkerAndRebuildsTheDownstreamNodes) {
  ASSERT_EQ(run(), 0);
  EXPECT_EQ(store_.state.entries.at(kStg).source_markers.at(kSource), "n:3");
  EXPECT_EQ(store_.state.entries.at(kStg).sources.at(kSource), "2026-01-01T00:00:00Z")
      << "`sources` keeps timestamps only";
  dbt_.source_rows = 4;  // a row loaded with an old loaded_at: the maximum stays
  EXPECT_EQ(run(), 0);
  auto d = decisions();
  EXPECT_EQ(d[kStg], (std::pair<std::string, std::string>{"build", "source_marker_changed"}));
  EXPECT_EQ(d[kMart], (std::pair<std::string, std::string>{"build", "parent_built"}));
  EXPECT_EQ(store_.state.entries.at(kStg).source_markers.at(kSource), "n:4");
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(decisions()[kStg], (std::pair<std::string, std::string>{"reuse", "no_new_data"}));
}

TEST_F(Workflow, ASqlEditRebuildsOnlyTheEditedModel) {
  ASSERT_EQ(run(), 0);
  dbt_.mart_sql = "select id from stg";
  EXPECT_EQ(run(), 0);
  auto d = decisions();
  EXPECT_EQ(d[kStg].first, "reuse");
  EXPECT_EQ(d[kMart].first, "build");
}

TEST_F(Workflow, ADroppedRelationIsRebuilt) {
  ASSERT_EQ(run(), 0);
  dbt_.relations.erase("fct_orders");
  EXPECT_EQ(run(), 0);
  auto d = decisions();
  EXPECT_EQ(d[kStg].first, "reuse");
  EXPECT_EQ(d[kMart], (std::pair<std::string, std::string>{"build", "relation_missing"}));
}

TEST_F(Workflow, LsFailureReturnsDbtsExitCodeAndTouchesNothing) {
  dbt_.ls_exit = 2;
  EXPECT_EQ(run({"--select", "fct_orders"}), 2);
  EXPECT_EQ(dbt_.invoked, (std::vector<std::string>{"ls"}));
  EXPECT_EQ(store_.saves, 0);
  EXPECT_FALSE(fs::exists(dir_ / "target" / "orc_decisions.json"));
}

TEST_F(Workflow, AFailedBuildRecordsOnlyWhatSucceededAndRebuildsTheRestNextRun) {
  dbt_.failing = {kMart};
  EXPECT_EQ(run(), 1) << "dbt's exit code";
  EXPECT_TRUE(has_entry(kStg));
  EXPECT_FALSE(has_entry(kMart));
  dbt_.failing.clear();
  EXPECT_EQ(run(), 0);
  auto d = decisions();
  EXPECT_EQ(d[kStg].first, "reuse");
  EXPECT_EQ(d[kMart].first, "build") << "never built successfully";
}

TEST_F(Workflow, AnInterruptedBuildRecordsWhatFinishedAndKeepsDbtsCode) {
  dbt_.stop_after = 1;
  dbt_.build_exit_override = 130;
  EXPECT_EQ(run(), 130);
  EXPECT_TRUE(has_entry(kStg));
  EXPECT_FALSE(has_entry(kMart)) << "skipped after the interrupt";
  std::string record = read_file(dir_ / "target" / "orc_decisions.json");
  EXPECT_NE(record.find("\"not_run\": [\"model.shop.fct_orders\"]"), std::string::npos) << record;
}

TEST_F(Workflow, NoRunResultsFromDbtMeansNoStateUpdate) {
  dbt_.write_results = false;
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(store_.saves, 0);
}

TEST_F(Workflow, OneStateWritePerRunHoldsTheEntriesAndTheSavings) {
  ASSERT_EQ(run(), 0);
  ASSERT_EQ(store_.saves, 1);
  dbt_.mart_sql = "select id from stg";  // the mart is built, the view reused
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(store_.saves, 2) << "the entries and the savings totals in one guarded write";
  EXPECT_EQ(store_.state.savings.runs, 1);
  EXPECT_EQ(store_.state.savings.reused_nodes, 1);
}

TEST_F(Workflow, SavingsAreNodeSecondsWithAWallClockEstimateForDbtsThreads) {
  dbt_.execution_time = 2;
  dbt_.threads = "2";
  ASSERT_EQ(run(), 0);
  testing::internal::CaptureStdout();
  ASSERT_EQ(run(), 0);  // nothing changed: both reused, 2 s each, one after the other
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("2/2 nodes reused: 4.0 node-seconds of warehouse work skipped "
                     "(~4.0s wall-clock at 2 threads)"),
            std::string::npos)
      << "the chain stg -> mart takes 4 s however many threads: " << out;
  std::string record = read_file(dir_ / "target" / "orc_decisions.json");
  EXPECT_NE(record.find("\"node_seconds\": 4.000, \"reused_without_duration\": 0, "
                        "\"critical_path_seconds\": 4.000, \"threads\": 2, "
                        "\"wall_seconds_estimate\": 4.000"),
            std::string::npos)
      << record;
  EXPECT_DOUBLE_EQ(store_.state.savings.saved_seconds, 4) << "the totals keep node-seconds";
  EXPECT_EQ(store_.saves, 2) << "the workflow recorded the totals (nothing was built)";

  dbt_.threads = "";  // the query gave no thread count: node-seconds only
  testing::internal::CaptureStdout();
  ASSERT_EQ(run(), 0);
  out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("2/2 nodes reused: 4.0 node-seconds of warehouse work skipped\n"),
            std::string::npos)
      << out;
  EXPECT_NE(read_file(dir_ / "target" / "orc_decisions.json")
                .find("\"threads\": null, \"wall_seconds_estimate\": null"),
            std::string::npos);
}

TEST_F(Workflow, AStateSaveFailureMakesTheRunFail) {
  store_.fail_saves = true;
  EXPECT_EQ(run(), 3) << "the store's error code once dbt succeeded";
}

TEST_F(Workflow, PlanDecidesWithoutBuildingOrSaving) {
  ASSERT_EQ(run(), 0);
  dbt_.loaded_at = "2026-01-01T12:00:00";
  const std::string results_before = read_file(dir_ / "target" / "run_results.json");
  EXPECT_EQ(run({}, /*plan_only=*/true), 0);
  EXPECT_EQ(std::count(dbt_.invoked.begin(), dbt_.invoked.end(), "build"), 0);
  EXPECT_EQ(store_.saves, 1) << "only the first run saved";
  EXPECT_EQ(read_file(dir_ / "target" / "run_results.json"), results_before);
  auto d = decisions();
  EXPECT_EQ(d[kStg], (std::pair<std::string, std::string>{"build", "source_new_data"}));
  EXPECT_NE(read_file(dir_ / "target" / "orc_decisions.json").find("\"plan_only\": true"),
            std::string::npos);
}

TEST_F(Workflow, PlanPrintsItsTableOnceWithoutPerNodeLogLines) {
  ASSERT_EQ(run(), 0);
  testing::internal::CaptureStdout();
  const int code = run({}, /*plan_only=*/true);
  const std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(code, 0);
  auto count = [&out](const std::string& what) {
    size_t n = 0;
    for (size_t at = out.find(what); at != std::string::npos; at = out.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("Reusing"), 0u) << out;
  EXPECT_EQ(count(kStg), 1u) << out;
  EXPECT_EQ(count(kMart), 1u) << out;
  EXPECT_EQ(count("2 nodes: 0 to build, 2 to reuse"), 1u) << out;
}

TEST_F(Workflow, FullRefreshRunsTheUsersCommandAndRecordsFreshnessForTheNextRun) {
  ASSERT_EQ(run(), 0);
  EXPECT_EQ(run({"--full-refresh"}), 0);
  EXPECT_EQ(dbt_.invoked, (std::vector<std::string>{"show", "build"}))
      << "the sources are asked as on any run; everything is built";
  EXPECT_EQ(decisions()[kStg], (std::pair<std::string, std::string>{"build", "full_refresh"}));
  EXPECT_EQ(store_.saves, 2);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(decisions()[kStg], (std::pair<std::string, std::string>{"reuse", "no_new_data"}))
      << "the full refresh recorded what the sources held, so nothing is built again";
}

TEST_F(Workflow, AMissingStateStopsBeforeDbt) {
  class Unreadable : public MemoryStore {
    State load() override { throw Error("state file missing"); }
  } unreadable;
  RunRequest request;
  request.subcommand = "build";
  request.cwd = dir_;
  EXPECT_THROW(run_stateful(request, config_, dbt_, unreadable), Error);
  EXPECT_TRUE(dbt_.invoked.empty());
}
