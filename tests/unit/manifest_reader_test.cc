// Reading the fields the decision needs from a dbt manifest.
#include <gtest/gtest.h>

#include "core/error.h"
#include "dbt/manifest_reader.h"

using namespace orc;

namespace {

const char* kManifest = R"({
  "metadata": {"dbt_version": "1.11.0", "project_name": "shop", "ignored": [1, {"a": 2}]},
  "nodes": {
    "model.shop.stg": {"resource_type": "model", "package_name": "shop",
      "checksum": {"name": "sha256", "checksum": "aaa"}, "raw_code": "select 1",
      "config": {"materialized": "view", "freshness": null, "tags": []},
      "depends_on": {"macros": [], "nodes": ["source.shop.raw.orders"]},
      "relation_name": "\"db\".\"main\".\"stg\"", "original_file_path": "models/stg.sql"},
    "model.shop.mart": {"resource_type": "model", "package_name": "shop",
      "checksum": {"name": "sha256", "checksum": "bbb"},
      "config": {"materialized": "table",
                 "freshness": {"build_after": {"count": 2, "period": "hour", "updates_on": "all"}}},
      "depends_on": {"nodes": ["model.shop.stg", "model.shop.stg", "model.shop.missing"]}},
    "seed.shop.countries": {"resource_type": "seed", "package_name": "shop",
      "checksum": {"name": "sha256", "checksum": "ccc"}, "root_path": "/proj",
      "original_file_path": "seeds/countries.csv", "depends_on": {"nodes": []}}
  },
  "sources": {
    "source.shop.raw.orders": {"resource_type": "source", "package_name": "shop",
      "source_name": "raw", "name": "orders", "loaded_at_field": null,
      "loaded_at_query": null, "freshness": {"filter": "id > 0"},
      "config": {"loaded_at_field": "loaded_at", "freshness": null}}
  },
  "unit_tests": {
    "unit_test.shop.mart.t1": {"resource_type": "unit_test", "package_name": "shop",
      "checksum": "ddd", "depends_on": {"nodes": ["model.shop.mart"]}}
  },
  "selectors": {"nightly": {"name": "nightly", "definition": "tag:x", "default": true}},
  "disabled": {"model.shop.off": [{"resource_type": "model"}]}
})";

}  // namespace

TEST(ManifestReader, ReadsNodesSourcesUnitTestsAndEdges) {
  Graph g = parse_manifest(kManifest, "manifest.json");
  EXPECT_EQ(g.root_project, "shop");
  ASSERT_EQ(g.nodes.size(), 5u) << "disabled nodes are not part of the graph";
  const Node& stg = g.nodes[*g.find("model.shop.stg")];
  EXPECT_EQ(stg.kind, NodeKind::Model);
  EXPECT_EQ(stg.materialized, "view");
  EXPECT_EQ(stg.checksum, "aaa");
  EXPECT_EQ(stg.relation_name, "\"db\".\"main\".\"stg\"");
  EXPECT_FALSE(stg.build_after);
  const Node& mart = g.nodes[*g.find("model.shop.mart")];
  ASSERT_TRUE(mart.build_after);
  EXPECT_EQ(mart.build_after->count, 2);
  EXPECT_EQ(mart.build_after->period, "hour");
  EXPECT_TRUE(mart.build_after->updates_on_all);
  ASSERT_EQ(mart.parents.size(), 1u) << "duplicates and unknown ids dropped";
  EXPECT_EQ(g.nodes[mart.parents[0]].unique_id, "model.shop.stg");
  const Node& seed = g.nodes[*g.find("seed.shop.countries")];
  EXPECT_EQ(seed.root_path, "/proj");
  EXPECT_EQ(seed.original_file_path, "seeds/countries.csv");
  const Node& src = g.nodes[*g.find("source.shop.raw.orders")];
  EXPECT_EQ(src.kind, NodeKind::Source);
  EXPECT_EQ(src.loaded_at_field, "loaded_at") << "from config when the top level is null";
  EXPECT_EQ(src.freshness_filter, "id > 0");
  EXPECT_EQ(src.children.size(), 1u);
  const Node& ut = g.nodes[*g.find("unit_test.shop.mart.t1")];
  EXPECT_EQ(ut.kind, NodeKind::UnitTest);
  EXPECT_EQ(ut.checksum, "ddd") << "unit tests carry a plain-string checksum";
  EXPECT_TRUE(g.has_default_selector);
}

TEST(ManifestReader, TopologicalOrderPutsParentsFirst) {
  Graph g = parse_manifest(kManifest, "m");
  auto order = g.topological_order();
  ASSERT_EQ(order.size(), g.nodes.size());
  std::vector<size_t> pos(g.nodes.size());
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  for (NodeId id = 0; id < g.nodes.size(); ++id)
    for (NodeId p : g.nodes[id].parents) EXPECT_LT(pos[p], pos[id]);
}

TEST(ManifestReader, BadInputIsAClearError) {
  EXPECT_THROW(parse_manifest("{\"nodes\": ", "m.json"), Error);
  EXPECT_THROW(parse_manifest("{\"metadata\": {}}", "m.json"), Error);
  try {
    read_manifest("/nonexistent/target/manifest.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/target/manifest.json"), std::string::npos);
  }
}
