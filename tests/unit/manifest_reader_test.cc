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

TEST(ManifestReader, ReadsTheChangeMarkerOptOutOfSourcesAndTheirTables) {
  // dbt >= 1.10 merges the source's meta into the table's (`meta`, `config.meta`, the
  // table's keys winning); older dbt keeps the source's in `source_meta`.
  const char* text = R"({"metadata": {}, "nodes": {}, "sources": {
    "source.p.s.merged": {"resource_type": "source", "meta": {"orc": {"change_marker": false}},
      "source_meta": {"orc": {"change_marker": true}},
      "config": {"meta": {"orc": {"change_marker": false}, "owner": "x"}}},
    "source.p.s.config_first": {"resource_type": "source",
      "config": {"meta": {"orc": {"change_marker": true}}},
      "meta": {"orc": {"change_marker": false}}},
    "source.p.s.from_source": {"resource_type": "source", "meta": {"owner": "x"},
      "source_meta": {"orc": {"change_marker": false}}},
    "source.p.s.table_wins": {"resource_type": "source", "meta": {"orc": {"change_marker": true}},
      "source_meta": {"orc": {"change_marker": false}}},
    "source.p.s.other_tool": {"resource_type": "source", "meta": {"orc": "someone else's"}},
    "source.p.s.plain": {"resource_type": "source"}}})";
  Graph g = parse_manifest(text, "m.json");
  auto marker = [&](const char* uid) { return g.nodes[*g.find(uid)].change_marker; };
  EXPECT_EQ(marker("source.p.s.merged"), false);
  EXPECT_EQ(marker("source.p.s.config_first"), true) << "config.meta decides";
  EXPECT_EQ(marker("source.p.s.from_source"), false) << "older dbt: the source's meta";
  EXPECT_EQ(marker("source.p.s.table_wins"), true);
  EXPECT_EQ(marker("source.p.s.other_tool"), std::nullopt);
  EXPECT_EQ(marker("source.p.s.plain"), std::nullopt);
  EXPECT_TRUE(g.nodes[*g.find("source.p.s.plain")].wants_change_marker()) << "on by default";
  EXPECT_FALSE(g.nodes[*g.find("source.p.s.merged")].wants_change_marker());

  try {
    parse_manifest(R"({"nodes": {}, "sources": {"source.p.s.t": {"resource_type": "source",
      "config": {"meta": {"orc": {"change_marker": "no"}}}}}})", "m.json");
    FAIL() << "a change_marker that is not a boolean is an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.meta.orc.change_marker"), std::string::npos)
        << e.what();
  }
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

// --- what the fingerprint reads: config hashes, contracts, macros, test_metadata ---

namespace {

/// A manifest with one model `model.shop.m` whose node JSON fields are `fields` (after the
/// common ones), plus a generic test on it and two macros.
std::string manifest_with(const std::string& fields, const std::string& test_kwargs = "\"id\"") {
  return R"({
  "metadata": {"project_name": "shop", "adapter_type": "duckdb"},
  "nodes": {
    "model.shop.m": {"resource_type": "model", "package_name": "shop",
      "checksum": {"name": "sha256", "checksum": "aaa"}, "raw_code": "select 1",
      "depends_on": {"macros": ["macro.shop.money"], "nodes": []}, )" +
         fields + R"(},
    "test.shop.not_null_m_id": {"resource_type": "test", "package_name": "shop",
      "checksum": {"name": "none", "checksum": ""}, "config": {"severity": "ERROR"},
      "test_metadata": {"name": "not_null", "kwargs": {"column_name": )" +
         test_kwargs + R"(, "model": "{{ get_where_subquery(ref('m')) }}"}, "namespace": null},
      "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": ["model.shop.m"]}}
  },
  "sources": {},
  "macros": {
    "macro.shop.money": {"name": "money", "package_name": "shop",
      "macro_sql": "{% macro money(c) %}{{ cents() }}{% endmacro %}",
      "depends_on": {"macros": ["macro.shop.cents"]}, "description": "", "arguments": []},
    "macro.shop.cents": {"name": "cents", "package_name": "shop",
      "macro_sql": "{% macro cents() %}100{% endmacro %}", "depends_on": {"macros": []}}
  }
})";
}

/// The node's config as key name -> value hash.
std::map<std::string, uint64_t> config_of(const Graph& g, const std::string& uid) {
  std::map<std::string, uint64_t> out;
  for (const auto& [key, hash] : g.nodes[*g.find(uid)].config) out[g.config_keys[key]] = hash;
  return out;
}

std::map<std::string, uint64_t> model_config(const std::string& config_json,
                                             const std::string& extra = "") {
  std::string fields = "\"config\": " + config_json + (extra.empty() ? "" : ", " + extra);
  return config_of(parse_manifest(manifest_with(fields), "m.json"), "model.shop.m");
}

using Keys = std::vector<std::string>;

Keys keys_of(const std::map<std::string, uint64_t>& m) {
  Keys out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

}  // namespace

TEST(ManifestReader, ConfigHashingIgnoresTagsMetaAndEmptyValues) {
  auto base = model_config(R"({"materialized": "table", "schema": "marts",
      "tags": ["nightly"], "meta": {"owner": "ann"}, "docs": {"show": true}, "group": "finance",
      "access": "protected", "enabled": true, "unique_key": null, "pre-hook": [],
      "post-hook": [{"sql": "grant select on {{ this }} to role r", "transaction": true}],
      "persist_docs": {}, "alias": null, "database": null})");
  EXPECT_EQ(keys_of(base), (Keys{"materialized", "post-hook", "schema"}));

  auto retagged = model_config(R"({"materialized": "table", "schema": "marts",
      "tags": ["hourly", "x"], "meta": {"owner": "bob"}, "docs": {"show": false},
      "post-hook": [{"sql": "grant select on {{ this }} to role r",   "transaction": true}]})");
  EXPECT_EQ(retagged, base) << "tags, meta, docs, null/empty values and layout do not count";

  auto reschema = model_config(R"({"materialized": "table", "schema": "other",
      "post-hook": [{"sql": "grant select on {{ this }} to role r", "transaction": true}]})");
  EXPECT_NE(reschema.at("schema"), base.at("schema"));
  EXPECT_EQ(reschema.at("materialized"), base.at("materialized"));

  auto keyed = model_config(R"({"materialized": "incremental", "unique_key": "id"})");
  EXPECT_EQ(keys_of(keyed), (Keys{"materialized", "unique_key"}));
  EXPECT_NE(keyed.at("materialized"), base.at("materialized"));
}

TEST(ManifestReader, EmptyStringConfigValueIsLikeAnAbsentKey) {
  auto absent = model_config(R"({"materialized": "table"})");
  auto empty = model_config(R"({"materialized": "table", "alias": ""})");
  // Fixed: is_empty_json compared the minified text with "" (no text), so the JSON empty
  // string `""` is hashed as a value, unlike null/[]/{}; absent <-> "" rebuilds the node.
  EXPECT_EQ(keys_of(empty), keys_of(absent));
}

TEST(ManifestReader, HooksTextKeepsHooksForVarReads) {
  Graph g = parse_manifest(
      manifest_with(R"("config": {"pre-hook": [{"sql": "set x = {{ var('w') }}"}]})"), "m");
  EXPECT_NE(g.nodes[*g.find("model.shop.m")].hooks_text.find("var('w')"), std::string::npos);
}

TEST(ManifestReader, EnforcedContractHashesColumnTypesNotDescriptions) {
  const std::string enforced = R"({"materialized": "table", "contract": {"enforced": true}})";
  auto columns = [](const std::string& description, const std::string& type) {
    return R"("columns": {"id": {"name": "id", "description": ")" + description +
           R"(", "data_type": ")" + type + R"(", "constraints": [{"type": "not_null"}],
           "meta": {}, "tags": []}})";
  };
  auto base = model_config(enforced, columns("the key", "int"));
  ASSERT_EQ(base.count("columns (contract)"), 1u) << "keys: " << keys_of(base).size();
  EXPECT_EQ(model_config(enforced, columns("the primary key, documented", "int")), base)
      << "a description edit does not change the DDL";
  EXPECT_NE(model_config(enforced, columns("the key", "bigint")).at("columns (contract)"),
            base.at("columns (contract)"));

  auto unenforced = model_config(R"({"materialized": "table", "contract": {"enforced": false}})",
                                 columns("the key", "int"));
  EXPECT_EQ(unenforced.count("columns (contract)"), 0u) << "columns only count when enforced";
  EXPECT_NE(unenforced.at("contract"), base.at("contract"));

  auto constrained = model_config(
      enforced, columns("the key", "int") + R"(, "constraints": [{"type": "primary_key",
      "columns": ["id"]}])");
  EXPECT_EQ(constrained.count("constraints (contract)"), 1u);
}

TEST(ManifestReader, ReadsMacrosMacroDepsAndAdapter) {
  Graph g = parse_manifest(manifest_with(R"("config": {"materialized": "view"})"), "m.json");
  EXPECT_EQ(g.adapter_type, "duckdb");
  ASSERT_EQ(g.macros.size(), 2u);
  ASSERT_EQ(g.macro_index.count("macro.shop.money"), 1u);
  const Macro& money = g.macros[g.macro_index.at("macro.shop.money")];
  EXPECT_EQ(money.unique_id, "macro.shop.money");
  EXPECT_EQ(money.name, "money");
  EXPECT_EQ(money.package_name, "shop");
  EXPECT_EQ(money.sql, "{% macro money(c) %}{{ cents() }}{% endmacro %}");
  EXPECT_EQ(money.depends_on, std::vector<std::string>{"macro.shop.cents"});
  const Node& m = g.nodes[*g.find("model.shop.m")];
  EXPECT_EQ(m.macro_deps, std::vector<std::string>{"macro.shop.money"});
  EXPECT_EQ(m.raw_code, "select 1");
  EXPECT_TRUE(m.parents.empty()) << "macros are not graph parents";
  const Node& t = g.nodes[*g.find("test.shop.not_null_m_id")];
  EXPECT_EQ(t.macro_deps, std::vector<std::string>{"macro.dbt.test_not_null"});
}

TEST(ManifestReader, TestMetadataIsHashed) {
  auto test_config = [](const std::string& kwargs) {
    Graph g = parse_manifest(manifest_with(R"("config": {})", kwargs), "m");
    return config_of(g, "test.shop.not_null_m_id");
  };
  auto base = test_config("\"id\"");
  ASSERT_EQ(base.count("test_metadata"), 1u);
  EXPECT_EQ(base.count("severity"), 1u);
  EXPECT_NE(test_config("\"other_id\"").at("test_metadata"), base.at("test_metadata"));
  EXPECT_EQ(test_config("\"id\"").at("test_metadata"), base.at("test_metadata"));
}

TEST(ManifestReader, BuildAfterWithoutCountOrPeriodIsNoWindow) {
  // dbt 1.12 accepts build_after with only updates_on (and counts written as 2.0): such a
  // node has no waiting window; it must read without error.
  const char* manifest = R"({"metadata": {"project_name": "p"}, "nodes": {
    "model.p.a": {"resource_type": "model", "package_name": "p", "depends_on": {"nodes": []},
      "config": {"freshness": {"build_after": {"updates_on": "all"}}}},
    "model.p.b": {"resource_type": "model", "package_name": "p", "depends_on": {"nodes": []},
      "config": {"freshness": {"build_after": {"count": null, "period": null}}}},
    "model.p.c": {"resource_type": "model", "package_name": "p", "depends_on": {"nodes": []},
      "config": {"freshness": {"build_after": {"count": 2.0, "period": "day"}}}}}})";
  Graph g = parse_manifest(manifest, "manifest.json");
  EXPECT_FALSE(g.nodes[*g.find("model.p.a")].build_after);
  EXPECT_FALSE(g.nodes[*g.find("model.p.b")].build_after);
  const Node& c = g.nodes[*g.find("model.p.c")];
  ASSERT_TRUE(c.build_after);
  EXPECT_EQ(c.build_after->count, 2);
  EXPECT_EQ(c.build_after->period, "day");
}
