// Writing run_results.json: the status of a reused node per dbt version, the results orc adds
// to the document dbt wrote (dbt's bytes kept, dbt's record winning), and the document orc
// writes when dbt was not started.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/uuid.h"
#include "dbt/manifest_reader.h"
#include "dbt/run_results.h"
#include "dbt/run_results_writer.h"
#include "plan/decide.h"
#include "report/run_results_record.h"

using namespace orc;

namespace {

WrittenResult reused(std::string id, std::string relation = "") {
  return {std::move(id), "no-op", "Reused: no new upstream data since the last build",
          std::move(relation), std::nullopt};
}

/// A run_results.json as dbt 1.11 writes it (one line, its own metadata and args).
const char* kDbtResults =
    R"j({"metadata": {"dbt_schema_version": )j"
    R"j("https://schemas.getdbt.com/dbt/run-results/v6.json", )j"
    R"j("dbt_version": "1.11.16", "generated_at": "2026-01-02T00:00:05.1Z", "invocation_id": )j"
    R"j("d8ed5c8d", "invocation_started_at": "2026-01-02T00:00:01.2Z", "env": {}}, "results": )j"
    R"j([{"status": "success", "timing": [], "thread_id": "Thread-1 (worker)", )j"
    R"j("execution_time": 0.37, "adapter_response": {"_message": "OK"}, "message": "OK", )j"
    R"j("failures": null, "unique_id": "model.p.built", "compiled": true, "compiled_code": )j"
    R"j("select 1 as \"]\"", "relation_name": "\"db\".\"main\".\"built\"", "batch_results": )j"
    R"j(null}], "elapsed_time": 1.5, "args": {"which": "build", "threads": 4}})j";

}  // namespace

TEST(ReusedStatus, ReusedFromDbt112ElseNoOp) {
  EXPECT_EQ(reused_status("1.12.0"), "reused");
  EXPECT_EQ(reused_status("1.12.0b1"), "reused") << "RunStatus.Reused is in every 1.12 release";
  EXPECT_EQ(reused_status("1.13.2"), "reused");
  EXPECT_EQ(reused_status("2.0.0-beta.2"), "reused");
  EXPECT_EQ(reused_status("1.11.16"), "no-op") << "dbt 1.11 cannot load a `reused` status";
  EXPECT_EQ(reused_status("1.10.0"), "no-op");
  EXPECT_EQ(reused_status("1.9"), "no-op");
  EXPECT_EQ(reused_status(""), "no-op") << "unknown version: the status every dbt loads";
  EXPECT_EQ(reused_status("orc"), "no-op");
  EXPECT_EQ(reused_status("1"), "no-op");
}

TEST(WithAddedResults, AppendsAfterDbtsResultsKeepingEveryByteDbtWrote) {
  const std::string dbt = kDbtResults;
  std::string merged =
      with_added_results(dbt, {reused("model.p.kept", "\"db\".\"main\".\"kept\"")}, "rr");
  const size_t close = dbt.find("null}]") + 5;  // the results array's ']'
  EXPECT_EQ(merged.substr(0, close), dbt.substr(0, close));
  EXPECT_EQ(merged.substr(merged.size() - (dbt.size() - close)), dbt.substr(close))
      << "metadata, elapsed_time and args stay dbt's";
  RunResults r = parse_run_results(merged, "merged");
  EXPECT_EQ(r.invocation_id, "d8ed5c8d");
  EXPECT_EQ(r.dbt_version, "1.11.16");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].unique_id, "model.p.built");
  EXPECT_EQ(r.results[1].unique_id, "model.p.kept");
  EXPECT_EQ(r.results[1].status, "no-op");
  EXPECT_EQ(r.results[1].execution_time, 0.0);
  EXPECT_EQ(r.threads, 4);
  for (const char* field :
       {R"("timing": [], "thread_id": "orc", "execution_time": 0.0, "adapter_response": {})",
        R"("message": "Reused: no new upstream data since the last build", "failures": null)",
        R"("compiled": null, "compiled_code": null, "relation_name": "\"db\".\"main\".\"kept\"")",
        R"("batch_results": null})"})
    EXPECT_NE(merged.find(field), std::string::npos) << field << "\n" << merged;
}

TEST(WithAddedResults, DbtsRecordWinsAndDuplicatesAreWrittenOnce) {
  std::string merged = with_added_results(
      kDbtResults, {reused("model.p.built"), reused("model.p.a"), reused("model.p.a")}, "rr");
  RunResults r = parse_run_results(merged, "merged");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status, "success") << "dbt ran it: its own result stays";
  EXPECT_EQ(r.results[1].unique_id, "model.p.a");
}

TEST(WithAddedResults, IntoAnEmptyResultsArrayWithWhitespace) {
  const std::string dbt = "{\"metadata\": {}, \"results\": [ \n ], \"args\": {}}";
  std::string merged = with_added_results(dbt, {reused("model.p.a"), reused("test.p.t")}, "rr");
  RunResults r = parse_run_results(merged, "merged");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[1].unique_id, "test.p.t");
  EXPECT_EQ(with_added_results(dbt, {}, "rr"), dbt) << "nothing to add: dbt's text unchanged";
}

TEST(WithAddedResults, ResultsAfterOtherKeysAndNestedArrays) {
  const std::string dbt = R"({"args": {"select": ["a", "b"]}, "elapsed_time": 2,
    "results": [{"unique_id": "model.p.x", "status": "error", "timing": [{"name": "execute"}]}],
    "metadata": {"dbt_version": "1.12.1"}})";
  std::string merged = with_added_results(dbt, {reused("model.p.y")}, "rr");
  RunResults r = parse_run_results(merged, "merged");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status, "error");
  EXPECT_EQ(r.results[1].unique_id, "model.p.y");
  EXPECT_NE(merged.find("\"metadata\": {\"dbt_version\": \"1.12.1\"}}"), std::string::npos);
}

TEST(WithAddedResults, NotARunResultsDocumentThrows) {
  EXPECT_THROW(with_added_results("{\"metadata\": {}}", {reused("a")}, "x"), Error);
  EXPECT_THROW(with_added_results("{\"results\": {}}", {reused("a")}, "x"), Error);
  EXPECT_THROW(with_added_results("{not json", {reused("a")}, "x"), Error);
  EXPECT_THROW(with_added_results("", {reused("a")}, "x"), Error);
}

TEST(RunResultsDocument, LooksLikeDbtsAndParsesBack) {
  RunResultsHeader h{"1.11.16", "2026-01-02T03:04:05Z", "inv", "2026-01-02T03:04:00Z",
                     "build", "orc dbt build --select a+"};
  std::string doc = run_results_document(
      h, {reused("model.p.a"), {"exposure.p.dash", "no-op", "NO-OP", "", 0}});
  RunResults r = parse_run_results(doc, "doc");
  EXPECT_EQ(r.invocation_id, "inv");
  EXPECT_EQ(r.dbt_version, "1.11.16");
  EXPECT_EQ(r.command, "build");
  EXPECT_FALSE(r.threads) << "orc's own results name no dbt thread";
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[1].unique_id, "exposure.p.dash");
  for (const char* part : {"\"invocation_started_at\": \"2026-01-02T03:04:00Z\"",
                           "\"message\": \"NO-OP\", \"failures\": 0,",
                           "\"args\": {\"which\": \"build\", \"invocation_command\": "
                           "\"orc dbt build --select a+\"}"})
    EXPECT_NE(doc.find(part), std::string::npos) << part << "\n" << doc;
}

TEST(RandomUuid, HasTheVersion4Shape) {
  std::string a = random_uuid(), b = random_uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
}

TEST(ReusedResults, OnePerReuseDecisionWithOrcsReasonThenTheExposures) {
  Graph g = parse_manifest(R"({"metadata": {"dbt_version": "1.12.0"},
    "nodes": {
      "model.p.a": {"resource_type": "model", "relation_name": "\"db\".\"main\".\"a\"",
                    "depends_on": {"nodes": []}},
      "model.p.b": {"resource_type": "model", "depends_on": {"nodes": ["model.p.a"]}},
      "test.p.t": {"resource_type": "test", "depends_on": {"nodes": ["model.p.a"]}}},
    "exposures": {"exposure.p.dash": {"depends_on": {"nodes": ["model.p.b"]}}}})",
                           "m");
  EXPECT_EQ(g.dbt_version, "1.12.0");
  EXPECT_EQ(g.exposures, std::vector<std::string>{"exposure.p.dash"});
  Plan plan;
  auto decide = [&](const char* id, Action action, Reason reason) {
    plan.decisions.push_back({});
    plan.decisions.back().node = *g.find(id);
    plan.decisions.back().action = action;
    plan.decisions.back().reason = std::move(reason);
    (action == Action::Reuse ? plan.reuse_count : plan.build_count)++;
  };
  decide("model.p.a", Action::Reuse, {ReasonCode::NoNewData, "", ""});
  decide("model.p.b", Action::Build, {ReasonCode::CodeChanged, "model.p.b", ""});
  decide("test.p.t", Action::Reuse, {ReasonCode::TestParentsReused, "", ""});
  auto out = reused_results(g, plan, g.exposures, reused_status(g.dbt_version));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].unique_id, "model.p.a");
  EXPECT_EQ(out[0].status, "reused");
  EXPECT_EQ(out[0].message, "Reused: no new upstream data since the last build");
  EXPECT_EQ(out[0].relation_name, "\"db\".\"main\".\"a\"");
  EXPECT_EQ(out[1].unique_id, "test.p.t");
  EXPECT_EQ(out[1].message, "Reused: all parents reused and unchanged since the last run");
  EXPECT_EQ(out[2].unique_id, "exposure.p.dash");
  EXPECT_EQ(out[2].status, "no-op") << "what dbt's exposure runner records";
  EXPECT_EQ(out[2].failures, 0);

  RunResultsRecord on(true, g, plan, g.exposures), off(false, g, plan, g.exposures);
  EXPECT_EQ(on.selection({"model.p.b"}),
            (std::vector<std::string>{"model.p.b", "exposure.p.dash"}))
      << "dbt records the exposures it is given, as a plain build does";
  EXPECT_EQ(off.selection({"model.p.b"}), std::vector<std::string>{"model.p.b"});
}
