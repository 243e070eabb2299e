// dbt's run_results.json: which nodes orc decided to build that dbt did not run (not_run),
// and the synthetic document written when nothing was built.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "dbt/run_results.h"

using namespace orc;

namespace {
using Ids = std::vector<std::string>;

NodeResult result(std::string id, std::string status) {
  return NodeResult{std::move(id), std::move(status), "", std::nullopt};
}
}  // namespace

TEST(NotRun, AbsentAndSkippedAreNotRun) {
  Ids decided{"model.p.absent", "model.p.skipped", "model.p.ok", "model.p.failed",
              "test.p.failing", "test.p.warning", "test.p.errored"};
  std::vector<NodeResult> results{
      result("model.p.skipped", "skipped"), result("model.p.ok", "success"),
      result("model.p.failed", "error"),    result("test.p.failing", "fail"),
      result("test.p.warning", "warn"),     result("test.p.errored", "error"),
  };
  EXPECT_EQ(not_run(decided, results), (Ids{"model.p.absent", "model.p.skipped"}))
      << "error, fail and warn all ran: only absent or skipped nodes were not run";
}

TEST(NotRun, KeepsTheDecidedOrder) {
  Ids decided{"model.p.c", "model.p.a", "model.p.b"};
  EXPECT_EQ(not_run(decided, {}), decided);
}

TEST(NotRun, EverythingRan) {
  Ids decided{"model.p.a", "test.p.t"};
  std::vector<NodeResult> results{result("model.p.a", "success"), result("test.p.t", "pass")};
  EXPECT_TRUE(not_run(decided, results).empty());
}

TEST(NotRun, ResultsForNodesNotDecidedDoNotCount) {
  // dbt may run more than orc decided (e.g. tests selected indirectly): that is not "not run".
  std::vector<NodeResult> results{result("model.p.extra", "success"),
                                  result("model.p.a", "success")};
  EXPECT_TRUE(not_run({"model.p.a"}, results).empty());
  EXPECT_TRUE(not_run({}, results).empty());
}

TEST(NotRun, ASkippedDuplicateDoesNotHideARun) {
  // Defensive: if a node appears twice, any non-skipped result means it ran.
  std::vector<NodeResult> results{result("model.p.a", "skipped"), result("model.p.a", "success")};
  EXPECT_TRUE(not_run({"model.p.a"}, results).empty());
}

TEST(SyntheticRunResults, NothingBuiltParsesBackEmptyWithItsInvocationId) {
  std::string doc = synthetic_run_results({}, "orc", "2026-01-02T03:04:05Z", "orc-nothing-built");
  RunResults r = parse_run_results(doc, "synthetic");
  EXPECT_EQ(r.invocation_id, "orc-nothing-built");
  EXPECT_EQ(r.generated_at, "2026-01-02T03:04:05Z");
  EXPECT_TRUE(r.results.empty());
  EXPECT_NE(doc.find("\"results\": []"), std::string::npos) << doc;
}

TEST(SyntheticRunResults, DefaultInvocationIdIsTheSelectionOne) {
  RunResults r = parse_run_results(
      synthetic_run_results({"model.p.a", "test.p.t"}, "orc", "2026-01-02T03:04:05Z"), "sel");
  EXPECT_EQ(r.invocation_id, "orc-selection");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].unique_id, "model.p.a");
  EXPECT_EQ(r.results[0].status, "success");
  EXPECT_EQ(r.results[1].unique_id, "test.p.t");
  EXPECT_TRUE(not_run({"model.p.a", "test.p.t"}, r.results).empty());
}

TEST(SyntheticRunResults, InvocationIdIsJsonEscaped) {
  RunResults r = parse_run_results(
      synthetic_run_results({}, "orc", "2026-01-02T03:04:05Z", "a\"b\\c"), "escaped");
  EXPECT_EQ(r.invocation_id, "a\"b\\c");
}

TEST(ParseRunResults, SkippedAndTimingAreRead) {
  std::string doc = R"({"metadata": {"invocation_id": "inv-1", "generated_at": "g"},
    "results": [
      {"unique_id": "model.p.a", "status": "success",
       "timing": [{"name": "compile", "completed_at": "c1"},
                  {"name": "execute", "completed_at": "2026-01-01T00:00:01Z"}]},
      {"unique_id": "model.p.b", "status": "skipped", "timing": []}]})";
  RunResults r = parse_run_results(doc, "doc");
  EXPECT_EQ(r.invocation_id, "inv-1");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].completed_at, "2026-01-01T00:00:01Z");
  EXPECT_EQ(r.results[1].status, "skipped");
  EXPECT_EQ(not_run({"model.p.a", "model.p.b"}, r.results), Ids{"model.p.b"});
}

TEST(ParseRunResults, NotARunResultsDocumentThrows) {
  EXPECT_THROW(parse_run_results("{\"metadata\": {}}", "x"), Error);
  EXPECT_THROW(parse_run_results("{not json", "x"), Error);
}

TEST(RunResultsThreads, ArgsThreadsElseTheDistinctThreadsThatRanANode) {
  const char* counted = R"j({"metadata": {"invocation_id": "i"}, "args": {"which": "build"},
    "results": [{"unique_id": "a", "status": "success", "thread_id": "Thread-1 (worker)"},
                {"unique_id": "b", "status": "success", "thread_id": "Thread-2 (worker)"},
                {"unique_id": "c", "status": "success", "thread_id": "Thread-1 (worker)"}]})j";
  RunResults r = parse_run_results(counted, "counted");
  EXPECT_EQ(r.command, "build");
  EXPECT_EQ(r.threads, 2) << "dbt records args.threads only when --threads was given";
  EXPECT_EQ(build_threads(r), 2);
  const char* given = R"j({"args": {"which": "run", "threads": 8},
    "results": [{"unique_id": "a", "status": "success", "thread_id": "Thread-1 (worker)"}]})j";
  EXPECT_EQ(build_threads(parse_run_results(given, "given")), 8);
  const char* show = R"j({"args": {"which": "show"},
    "results": [{"unique_id": "sql_operation.p.inline_query", "status": "success",
                 "thread_id": "Thread-1"}]})j";
  EXPECT_EQ(parse_run_results(show, "show").threads, 1);
  EXPECT_FALSE(build_threads(parse_run_results(show, "show"))) << "one query, one thread";
  EXPECT_FALSE(build_threads(std::nullopt));
  auto nothing = parse_run_results(synthetic_run_results({}, "orc", "t", "orc-nothing-built"),
                                   "synthetic");
  EXPECT_FALSE(build_threads(nothing));
}
