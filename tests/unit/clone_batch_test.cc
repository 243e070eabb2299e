// The clone batch (dbt/clone_batch.h): which nodes it takes, the Jinja it hands to
// `dbt show --inline`, and reading dbt's answer.
#include <gtest/gtest.h>

#include "dbt/clone_batch.h"

using namespace orc;

namespace {

Node model(const std::string& name) {
  Node n;
  n.unique_id = "model.p." + name;
  n.kind = NodeKind::Model;
  n.language = "sql";
  n.materialized = "table";
  return n;
}

/// `key` interned in `g` and set (to any value hash) on `n`.
void set_config(Graph& g, Node& n, const std::string& key) {
  g.config_keys.push_back(key);
  n.config.emplace_back(static_cast<uint32_t>(g.config_keys.size() - 1), 42);
}

}  // namespace

TEST(CloneBatch, TakesNodesWhoseCloneIsTheStatementAlone) {
  Graph g;
  Node plain = model("plain");
  set_config(g, plain, "materialized");
  EXPECT_TRUE(batch_clonable(g, plain));

  Node hooked = model("hooked");
  hooked.hooks_text = R"(["grant select on {{ this }} to r"])";
  EXPECT_FALSE(batch_clonable(g, hooked)) << "dbt clone runs a view clone's hooks";

  for (const char* key : {"grants", "persist_docs", "sql_header", "transient", "copy_grants"}) {
    Node n = model(key);
    set_config(g, n, key);
    EXPECT_FALSE(batch_clonable(g, n)) << key << ": applied by dbt's materialization";
  }
  Node python = model("py");
  python.language = "python";
  EXPECT_FALSE(batch_clonable(g, python));
  Node seed;
  seed.kind = NodeKind::Seed;  // no language
  EXPECT_TRUE(batch_clonable(g, seed));
}

TEST(CloneBatch, QueryCarriesTheJobsAsOneJsonLiteral) {
  CloneJob j{"model.p.o'k",
             {"db", "ci", "o'k"},
             {{"db", "main", "o'k"}, R"("db"."main"."o'k")"},
             "table"};
  const std::string q = clone_batch_query({j});
  // The first line names the batch (orc_decisions.json shows invocations cut at 200 chars).
  EXPECT_EQ(q.rfind("{# orc clone batch #}", 0), 0u) << q.substr(0, 80);
  // Inside a single-quoted Jinja string: quotes and backslashes escaped for Jinja, the JSON's
  // own escapes (\") kept.
  EXPECT_NE(q.find(R"(fromjson('[{"uid":"model.p.o\'k","this":["db", "ci", "o\'k"],)"
                   R"("other":["db", "main", "o\'k"],"name":"\\"db\\".\\"main\\".\\"o\'k\\"",)"
                   R"("kind":"table"}]'))"),
            std::string::npos)
      << q;
  // dbt's own macros do the work; one commit at the end; nothing runs while parsing.
  for (const char* part : {"create_or_replace_clone(", "get_create_view_as_sql(",
                           "can_clone_table()", "adapter.create_schema(",
                           "drop_relation_if_exists(", "adapter.commit()", "if execute"})
    EXPECT_NE(q.find(part), std::string::npos) << part;
  EXPECT_EQ(q.find("{{{"), std::string::npos) << "every fmt brace pair resolved";
}

TEST(CloneBatch, ReadsTheAnswer) {
  using O = CloneBatchAnswer::Outcome;
  EXPECT_EQ(read_clone_batch_rows({{"cloned", "3"}}, 3).outcome, O::Cloned);
  CloneBatchAnswer short_count = read_clone_batch_rows({{"cloned", "2"}}, 3);
  EXPECT_EQ(short_count.outcome, O::Failed);
  EXPECT_NE(short_count.why.find("all 3"), std::string::npos) << short_count.why;
  EXPECT_EQ(read_clone_batch_rows({}, 3).outcome, O::Failed);
  // Jobs left to dbt clone (their view clone is the adapter's own materialization's).
  CloneBatchAnswer left =
      read_clone_batch_rows({{"cloned", "1"}, {"left", "model.p.a"}, {"left", "model.p.b"}}, 3);
  EXPECT_EQ(left.outcome, O::Cloned);
  EXPECT_EQ(left.left, (std::vector<std::string>{"model.p.a", "model.p.b"}));
  EXPECT_EQ(read_clone_batch_rows({{"cloned", "2"}, {"left", "model.p.a"}}, 2).outcome,
            O::Failed);
  CloneBatchAnswer declined =
      read_clone_batch_rows({{"declined", "materialization_view_x replaces the default"}}, 3);
  EXPECT_EQ(declined.outcome, O::Declined);
  EXPECT_EQ(declined.why, "materialization_view_x replaces the default");
  EXPECT_STREQ(outcome_name(O::Declined), "declined");
}
