// What reuse saved (plan/savings.h) and how it is said (report/savings_report.h): node-seconds
// are a sum over nodes, the wall-clock estimate accounts for dbt's threads and the longest
// chain of reused nodes.
#include <gtest/gtest.h>

#include "plan/savings.h"
#include "plan/state_keys.h"
#include "report/savings_report.h"

using namespace orc;

namespace {

/// A DAG of models given as (unique_id, parents); each node reused with `seconds[i]` recorded
/// (a negative value: built in this run).
struct Fixture {
  Graph graph;
  Plan plan;
  State state;

  Fixture(const std::vector<std::pair<std::string, std::vector<std::string>>>& nodes,
          const std::vector<double>& seconds) {
    for (const auto& [uid, parents] : nodes) {
      Node n;
      n.unique_id = uid;
      n.kind = NodeKind::Model;
      n.depends_on = parents;
      graph.add(std::move(n));
    }
    graph.link();
    for (NodeId id = 0; id < graph.nodes.size(); ++id) {
      NodeDecision d;
      d.node = id;
      d.action = seconds[id] < 0 ? Action::Build : Action::Reuse;
      (d.action == Action::Reuse ? plan.reuse_count : plan.build_count) += 1;
      plan.decisions.push_back(d);
      if (seconds[id] < 0) continue;
      StateEntry e;
      e.checksum = "c";
      e.last_updated = "2026-01-01T00:00:00Z";
      if (seconds[id] > 0) e.build_seconds = seconds[id];
      state.entries[graph.nodes[id].unique_id] = e;
    }
  }

  RunSavings savings(std::optional<int> threads = std::nullopt) const {
    StateKeys keys(graph, std::nullopt, true);
    RunSavings s = reuse_savings(graph, plan, state, keys);
    s.threads = threads;
    return s;
  }
};

}  // namespace

TEST(Savings, NodeSecondsSumTheReusedNodesAndTheChainIsTheLongestPath) {
  // a -> b -> d, a -> c -> d, e alone: the chain a, b, d is the longest (1 + 4 + 2).
  Fixture f({{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}, {"e", {}}},
            {1, 4, 3, 2, 5});
  RunSavings s = f.savings();
  EXPECT_EQ(s.reused, 5u);
  EXPECT_EQ(s.decided, 5u);
  EXPECT_DOUBLE_EQ(s.node_seconds, 15);
  EXPECT_DOUBLE_EQ(s.critical_path_seconds, 7);
  EXPECT_FALSE(s.wall_seconds_estimate()) << "no threads, no wall-clock estimate";
}

TEST(Savings, TheEstimateIsTheChainOrTheWorkSpreadOverTheThreads) {
  Fixture f({{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}, {"e", {}}},
            {1, 4, 3, 2, 5});
  EXPECT_DOUBLE_EQ(*f.savings(1).wall_seconds_estimate(), 15) << "one thread: all of it";
  EXPECT_DOUBLE_EQ(*f.savings(2).wall_seconds_estimate(), 7.5) << "15 / 2 > the chain's 7";
  EXPECT_DOUBLE_EQ(*f.savings(4).wall_seconds_estimate(), 7) << "the chain: 15 / 4 < 7";
  EXPECT_DOUBLE_EQ(*f.savings(64).wall_seconds_estimate(), 7);
  EXPECT_FALSE(f.savings(0).wall_seconds_estimate());
}

TEST(Savings, BuiltNodesBreakNoChainButWeighNothing) {
  // a (reused 3) -> b (built now) -> c (reused 2): the full build ran them one after another;
  // what is skipped is a and c, 5 s in a row. Unrecorded durations count 0 and are counted.
  Fixture f({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {}}}, {3, -1, 2, 0});
  RunSavings s = f.savings(8);
  EXPECT_EQ(s.reused, 3u);
  EXPECT_EQ(s.reused_without_duration, 1u);
  EXPECT_DOUBLE_EQ(s.node_seconds, 5);
  EXPECT_DOUBLE_EQ(s.critical_path_seconds, 5);
  EXPECT_DOUBLE_EQ(*s.wall_seconds_estimate(), 5);
}

TEST(Savings, ClonesAreCountedApartFromReuse) {
  Fixture f({{"a", {}}, {"b", {"a"}}}, {-1, -1});
  f.plan.decisions[0].action = Action::Clone;  // --reuse-from cloned a, built b
  RunSavings s = f.savings(4);
  EXPECT_EQ(s.cloned, 1u);
  EXPECT_EQ(s.reused, 0u);
  EXPECT_EQ(savings_line(s), "0/2 nodes reused, 1 cloned: 0.0 node-seconds of warehouse work "
                             "skipped");
}

TEST(Savings, NothingReusedSavesNothing) {
  Fixture f({{"a", {}}, {"b", {"a"}}}, {-1, -1});
  RunSavings s = f.savings(4);
  EXPECT_EQ(s.reused, 0u);
  EXPECT_DOUBLE_EQ(s.node_seconds, 0);
  EXPECT_DOUBLE_EQ(*s.wall_seconds_estimate(), 0);
  EXPECT_EQ(savings_line(s), "0/2 nodes reused: 0.0 node-seconds of warehouse work skipped");
}

TEST(Savings, TheLineSaysNodeSecondsAndTheEstimateWithItsThreads) {
  RunSavings s{30, 34, 11.04, 0, 1.2, {}};
  EXPECT_EQ(savings_line(s), "30/34 nodes reused: 11.0 node-seconds of warehouse work skipped");
  s.threads = 4;
  EXPECT_EQ(savings_line(s), "30/34 nodes reused: 11.0 node-seconds of warehouse work skipped "
                             "(~2.8s wall-clock at 4 threads)");
  s.threads = 1;
  s.reused_without_duration = 2;
  EXPECT_EQ(savings_line(s), "30/34 nodes reused: 11.0 node-seconds of warehouse work skipped "
                             "(~11.0s wall-clock at 1 thread); 2 reused nodes without a "
                             "recorded duration");
  s.cloned = 3;  // --reuse-from: clones are neither reused nor built
  EXPECT_EQ(savings_line(s), "30/34 nodes reused, 3 cloned: 11.0 node-seconds of warehouse work "
                             "skipped (~11.0s wall-clock at 1 thread); 2 reused nodes without a "
                             "recorded duration");
  SavingsTotals t{3, 60, 102, 22.5};
  EXPECT_EQ(savings_totals_line(t),
            "60/102 nodes reused, 22.5 node-seconds of warehouse work skipped");
}
