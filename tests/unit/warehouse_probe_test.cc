// The warehouse probe query orc hands to `dbt show`, and reading its output.
#include <gtest/gtest.h>

#include "core/error.h"
#include "dbt/warehouse_probe.h"

using namespace orc;

namespace {

/// Two sources: one with loaded_at_field and a filter, one with a loaded_at_query.
Graph two_sources(NodeId& ia, NodeId& ib) {
  Graph g;
  Node a;
  a.unique_id = "source.p.shop.orders";
  a.kind = NodeKind::Source;
  a.source_name = "shop";
  a.name = "orders";
  a.loaded_at_field = "loaded_at";
  a.freshness_filter = "loaded_at > '2020-01-01'";
  Node b = a;
  b.unique_id = "source.p.shop.pay'ments";
  b.name = "payments";
  b.loaded_at_field.clear();
  b.loaded_at_query = "select max(loaded_at) from {{ this }}";
  ia = g.add(a);
  ib = g.add(b);
  return g;
}

/// Adds source `source.p.<source_name>.<name>` without any loaded_at_*.
NodeId add_source_without_loaded_at(Graph& g, const std::string& source_name,
                                    const std::string& name) {
  Node c;
  c.unique_id = "source.p." + source_name + "." + name;
  c.kind = NodeKind::Source;
  c.source_name = source_name;
  c.name = name;
  return g.add(c);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(WarehouseProbe, QueryCoversEveryFreshnessShape) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  std::string q = probe_query(g, ProbeRequest{{ia, ib}, {}, {}});
  EXPECT_NE(q.find("cast(max(loaded_at) as {{ dbt.type_string() }})"), std::string::npos) << q;
  EXPECT_NE(q.find("from {{ source('shop', 'orders') }} where loaded_at > '2020-01-01'"),
            std::string::npos)
      << q;
  EXPECT_NE(q.find("union all"), std::string::npos);
  EXPECT_NE(q.find("'source.p.shop.pay''ments'"), std::string::npos) << "quotes escaped";
  EXPECT_NE(q.find("(select max(loaded_at) from {{ source('shop', 'payments') }})"),
            std::string::npos)
      << "`this` bound to the source: " << q;
  EXPECT_EQ(q.find("list_relations_without_caching"), std::string::npos) << "nothing to list";
  EXPECT_EQ(q.find("var("), std::string::npos) << "no var asked";
}

TEST(WarehouseProbe, SourcesWithoutLoadedAtAreLeftOutOnAdaptersWithoutAChangeToken) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  NodeId ic = add_source_without_loaded_at(g, "shop", "no_loaded_at");
  ProbeRequest only_c{{ic}, {}, {}};
  EXPECT_EQ(probe_query(g, only_c), "");
  EXPECT_EQ(probe_query(g, ProbeRequest{{ia, ic}, {}, {}}).find("no_loaded_at"),
            std::string::npos);
}

TEST(WarehouseProbe, ChangeTokensForSourcesWithoutLoadedAtOnDuckdbAndPostgres) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  NodeId ic = add_source_without_loaded_at(g, "web", "page_views");
  for (const char* adapter : {"duckdb", "postgres"}) {
    g.adapter_type = adapter;
    std::string expr = change_token_expression(adapter);
    ASSERT_FALSE(expr.empty()) << adapter;
    EXPECT_NE(expr.find("count(*)"), std::string::npos) << "deletes change the count";
    EXPECT_NE(expr.find("'fp:'"), std::string::npos);
    std::string q = probe_query(g, ProbeRequest{{ia, ic}, {}, {}});
    EXPECT_NE(q.find("'token:source.p.web.page_views'"), std::string::npos) << q;
    EXPECT_NE(q.find("source('web', 'page_views')"), std::string::npos) << q;
    EXPECT_NE(q.find("orc_found.is_view"), std::string::npos) << "views have no token: " << q;
    EXPECT_NE(q.find(expr), std::string::npos) << q;
    EXPECT_NE(q.find("union all\n{% set orc_rel"), std::string::npos)
        << "the token part must not strip the space after `union all`: " << q;
    ProbeRequest off{{ia, ic}, {}, {}};
    off.source_tokens = false;  // require_explicit_source_freshness
    EXPECT_EQ(probe_query(g, off).find("token:"), std::string::npos);
  }
  EXPECT_NE(change_token_expression("duckdb").find("hash(orc_t)"), std::string::npos);
  EXPECT_NE(change_token_expression("postgres").find("md5(orc_t::text)"), std::string::npos);
  EXPECT_EQ(change_token_expression("snowflake"), "") << "a metadata method, not a fingerprint";
}

TEST(WarehouseProbe, MetadataTokensPerWarehouse) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  NodeId ic = add_source_without_loaded_at(g, "web", "page_views");
  struct Case {
    const char* adapter;
    const char* method;
    std::vector<const char*> sql;  ///< fragments the rendered part must hold
  };
  const std::vector<Case> cases = {
      {"snowflake", "metadata: last_altered",
       {"to_varchar(max(last_altered), 'YYYY-MM-DD\"T\"HH24:MI:SS.FF9TZH:TZM')",
        "from {{ orc_found.database }}.information_schema.tables",
        "table_schema = '{{ orc_found.schema }}'",
        "table_name = '{{ orc_found.identifier }}'", "'meta:' ||"}},
      {"bigquery", "metadata: __TABLES__.last_modified_time",
       {"`{{ orc_found.database }}`.`{{ orc_found.schema }}`.__TABLES__",
        "table_id = '{{ orc_found.identifier }}'", "max(last_modified_time)",
        "concat('meta:'"}},
      {"databricks", "metadata: describe history",
       {"run_query('describe history ' ~ orc_found ~ ' limit 1')",
        "orc_h.rows[0]['version']", "orc_h.rows[0]['timestamp']"}},
      {"spark", "metadata: describe history",
       {"describe history", "{%- if orc_found.is_delta is sameas false -%}",
        "'unknown:the source is not a Delta table'"}},
      {"redshift", "metadata: get_relation_last_modified",
       {"get_relation_last_modified(orc_found.information_schema(), [orc_found])",
        "cast(count(*) as", "from {{ orc_found }}"}},
  };
  for (const Case& c : cases) {
    g.adapter_type = c.adapter;
    ChangeTokenMethod m = change_token_method(c.adapter);
    EXPECT_EQ(m.kind, ChangeTokenMethod::Kind::Metadata) << c.adapter;
    EXPECT_EQ(m.name, c.method) << c.adapter;
    std::string q = probe_query(g, ProbeRequest{{ia, ic}, {}, {}});
    EXPECT_NE(q.find("'token:source.p.web.page_views' as orc_source_id"), std::string::npos)
        << c.adapter << ": " << q;
    EXPECT_NE(q.find("orc_found.is_view"), std::string::npos)
        << c.adapter << ": a view is unknown before any metadata is read";
    EXPECT_NE(q.find("'unknown:the source relation was not found'"), std::string::npos)
        << c.adapter << ": a missing table is unknown";
    for (const char* fragment : c.sql)
      EXPECT_NE(q.find(fragment), std::string::npos) << c.adapter << " lacks " << fragment
                                                     << ": " << q;
    EXPECT_EQ(q.find("{{{{"), std::string::npos) << c.adapter << ": unrendered braces: " << q;
    if (std::string(c.adapter) == "databricks") {
      EXPECT_EQ(q.find("is_delta"), std::string::npos)
          << "dbt-databricks' is_delta asserts when the relation has no metadata";
    }
  }
  EXPECT_EQ(change_token_method("").kind, ChangeTokenMethod::Kind::None);
}

TEST(WarehouseProbe, ChangeMarkersBesideMaxLoadedAtPerAdapter) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);  // orders: loaded_at_field + filter; payments: loaded_at_query
  struct Case {
    const char* adapter;
    bool counted;     ///< count(*) in the freshness aggregate of orders
    bool metadata;    ///< a `marker:` part for each source
    const char* fragment;  ///< what the metadata part must hold
  };
  const std::vector<Case> cases = {
      {"duckdb", true, true, "information_schema.columns"},
      {"postgres", true, true, "n_tup_ins + n_tup_upd + n_tup_del"},
      {"snowflake", false, true, "information_schema.tables"},
      {"bigquery", false, true, "__TABLES__"},
      {"databricks", false, true, "describe history"},
      {"spark", false, true, "describe history"},
      {"redshift", true, false, ""},
  };
  for (const Case& c : cases) {
    g.adapter_type = c.adapter;
    std::string q = probe_query(g, ProbeRequest{{ia, ib}, {}, {}});
    bool counted = q.find("'counted:source.p.shop.orders' as orc_source_id, cast('n:' || "
                          "cast(count(*) as {{ dbt.type_string() }}) || '|' || "
                          "coalesce(cast(max(loaded_at) as {{ dbt.type_string() }}), '') as "
                          "{{ dbt.type_string() }}) as orc_max_loaded_at from "
                          "{{ source('shop', 'orders') }} where loaded_at > '2020-01-01'") !=
                   std::string::npos;
    EXPECT_EQ(counted, c.counted) << c.adapter << ": " << q;
    EXPECT_EQ(q.find("'source.p.shop.orders' as") == std::string::npos, c.counted)
        << c.adapter << ": one freshness row per source";
    EXPECT_EQ(q.find("counted:source.p.shop.pay"), std::string::npos)
        << c.adapter << ": a loaded_at_query has no scan to count in";
    // ...so it is counted apart where the adapter's marker is a count: a late row under an
    // old timestamp moves nothing else there.
    EXPECT_EQ(q.find("select 'rows:source.p.shop.pay''ments' as orc_source_id, cast('n:' || "
                     "cast(count(*) as {{ dbt.type_string() }}) as {{ dbt.type_string() }}) "
                     "as orc_max_loaded_at from {{ source('shop', 'payments') }}") !=
                  std::string::npos,
              c.counted)
        << c.adapter << ": " << q;
    for (const char* id : {"'marker:source.p.shop.orders'", "'marker:source.p.shop.pay''ments'"})
      EXPECT_EQ(q.find(id) != std::string::npos, c.metadata) << c.adapter << " " << id << q;
    if (c.metadata) {
      ChangeMarkerMethod m = change_marker_method(c.adapter);
      EXPECT_NE(m.metadata_sql.find(c.fragment), std::string::npos) << c.adapter;
      EXPECT_NE(q.find(c.fragment), std::string::npos) << c.adapter << ": " << q;
      EXPECT_NE(q.find("orc_found.is_view"), std::string::npos) << "a view has no metadata";
      if (std::string(c.adapter) == "postgres" || std::string(c.adapter) == "duckdb") {
        // The columns too: a column added, dropped or retyped moves neither the count nor
        // the maximum, yet changes what `select *` gives.
        EXPECT_NE(m.metadata_sql.find("'cols:' || coalesce(md5(string_agg(column_name"),
                  std::string::npos)
            << c.adapter;
        EXPECT_NE(q.find("table_name = '{{ orc_found.identifier | replace(\"'\", \"''\") }}'"),
                  std::string::npos)
            << c.adapter << ": " << q;
      } else {
        EXPECT_EQ(m.metadata_sql, change_token_method(c.adapter).sql)
            << c.adapter << ": the change token's metadata SQL, written once";
      }
    }
    EXPECT_EQ(q.find("{{{{"), std::string::npos) << c.adapter << ": unrendered braces: " << q;
  }
  g.adapter_type = "";
  EXPECT_EQ(probe_query(g, ProbeRequest{{ia, ib}, {}, {}}).find("count(*)"), std::string::npos)
      << "an adapter the manifest does not name: no marker";
}

TEST(WarehouseProbe, ASourceThatOptsOutOfTheChangeMarkerIsAskedForItsMaximumOnly) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  Node before = g.nodes[ia];
  g.nodes[ia].change_marker = false;
  g.nodes[ib].change_marker = false;
  for (const char* adapter : {"duckdb", "postgres", "snowflake"}) {
    g.adapter_type = adapter;
    std::string q = probe_query(g, ProbeRequest{{ia, ib}, {}, {}});
    EXPECT_EQ(q.find("counted:"), std::string::npos) << adapter << ": " << q;
    EXPECT_EQ(q.find("marker:"), std::string::npos) << adapter << ": " << q;
    EXPECT_EQ(q.find("rows:"), std::string::npos) << adapter << ": " << q;
    EXPECT_NE(q.find("'source.p.shop.orders' as orc_source_id, cast(max(loaded_at)"),
              std::string::npos)
        << adapter << ": " << q;
  }
  EXPECT_FALSE(same_freshness_query(before, g.nodes[ia]))
      << "turning the marker off changes the query: asked again with the fresh manifest";
}

TEST(WarehouseProbe, ReadsChangeMarkers) {
  Graph g;
  g.adapter_type = "postgres";
  ProbeRequest r;
  ProbeResult result;
  read_probe_rows(g, r,
                  {{"counted:source.p.a.both", "n:5|2026-01-02 03:04:05+01"},
                   {"marker:source.p.a.both", "dml:17"},
                   {"counted:source.p.a.empty", "n:0|"},
                   {"counted:source.p.a.null", std::nullopt},
                   {"marker:source.p.a.view", "unknown:the source is a view"},
                   {"counted:source.p.a.view", "n:2|2026-01-01T00:00:00Z"},
                   {"marker:source.p.a.meta", "meta:2026-01-02T04:04:05.000000000+01:00"},
                   {"marker:source.p.a.nothing", std::nullopt},
                   {"rows:source.p.a.query", "n:7"},
                   {"source.p.a.query", "2026-01-01T00:00:00Z"},
                   {"rows:source.p.a.failed", std::nullopt},
                   // A split query may answer the metadata part before the count.
                   {"marker:source.p.a.split", "dml:3"},
                   {"counted:source.p.a.split", "n:1|2026-01-01T00:00:00Z"},
                   // The columns beside the DML counters (PostgreSQL) or alone (DuckDB).
                   {"counted:source.p.a.cols", "n:4|2026-01-01T00:00:00Z"},
                   {"marker:source.p.a.cols", "dml:9|cols:0cc175b9c0f1b6a831c399e269772661"},
                   {"counted:source.p.a.duck", "n:3|2026-01-01T00:00:00Z"},
                   {"marker:source.p.a.duck", "cols:92eb5ffee6ae2fec3ad71c777531578f"},
                   {"marker:source.p.a.bogus", "cols:"}},
                  result);
  EXPECT_EQ(result.observed.freshness["source.p.a.both"], "2026-01-02T02:04:05Z")
      << "the maximum is read as from a plain freshness row";
  EXPECT_EQ(result.observed.markers.at("source.p.a.both"), "n:5|dml:17");
  EXPECT_FALSE(result.observed.freshness["source.p.a.empty"])
      << "an empty table has no maximum";
  EXPECT_EQ(result.observed.markers.at("source.p.a.empty"), "n:0") << "but its count is known";
  EXPECT_TRUE(result.observed.freshness.count("source.p.a.null"));
  EXPECT_FALSE(result.observed.freshness["source.p.a.null"]);
  EXPECT_FALSE(result.observed.markers.count("source.p.a.null"));
  EXPECT_EQ(result.observed.markers.at("source.p.a.view"), "n:2")
      << "the count of a view is known";
  EXPECT_EQ(result.observed.markers.at("source.p.a.meta"), "meta:2026-01-02T03:04:05Z")
      << "metadata times normalised to UTC";
  EXPECT_FALSE(result.observed.markers.count("source.p.a.nothing"));
  EXPECT_EQ(result.observed.markers.at("source.p.a.query"), "n:7")
      << "a loaded_at_query source's separate count is its marker";
  EXPECT_EQ(result.observed.freshness["source.p.a.query"], "2026-01-01T00:00:00Z");
  EXPECT_FALSE(result.observed.markers.count("source.p.a.failed"));
  EXPECT_FALSE(result.observed.freshness.count("rows:source.p.a.query"))
      << "counts are not sources";
  EXPECT_FALSE(result.observed.freshness.count("marker:source.p.a.both"))
      << "markers are not sources";
  EXPECT_FALSE(result.observed.freshness.count("counted:source.p.a.both"));

  const MarkerMap& known = result.observed.markers;
  EXPECT_EQ(known, (MarkerMap{{"source.p.a.both", "n:5|dml:17"},
                              {"source.p.a.empty", "n:0"},
                              {"source.p.a.view", "n:2"},
                              {"source.p.a.meta", "meta:2026-01-02T03:04:05Z"},
                              {"source.p.a.query", "n:7"},
                              {"source.p.a.split", "n:1|dml:3"},
                              {"source.p.a.cols", "n:4|dml:9|cols:0cc175b9c0f1b6a831c399e269772661"},
                              {"source.p.a.duck", "n:3|cols:92eb5ffee6ae2fec3ad71c777531578f"}}))
      << "the count first, whatever order the parts arrive in";
}

TEST(WarehouseProbe, ReadsMetadataTokensWithTimeZonesAndNulls) {
  Graph g;
  g.adapter_type = "snowflake";
  ProbeRequest r;
  ProbeResult result;
  read_probe_rows(g, r,
                  {{"token:source.p.a.utc", "meta:2026-01-02T03:04:05.000000000+00:00"},
                   {"token:source.p.a.cet", "meta:2026-01-02T04:04:05.000000000+01:00"},
                   {"token:source.p.a.null", std::nullopt},
                   {"token:source.p.a.empty", "meta:"},
                   {"token:source.p.a.gone", "unknown:the source relation was not found"}},
                  result);
  EXPECT_EQ(result.observed.tokens["source.p.a.utc"].method, "metadata: last_altered");
  ASSERT_TRUE(result.observed.tokens["source.p.a.utc"].value);
  EXPECT_EQ(result.observed.tokens["source.p.a.utc"].value, result.observed.tokens["source.p.a.cet"].value)
      << "the same instant in another zone is the same token";
  EXPECT_FALSE(result.observed.tokens["source.p.a.null"].value) << "no LAST_ALTERED: unknown";
  EXPECT_FALSE(result.observed.tokens["source.p.a.empty"].value) << "no DESCRIBE HISTORY row: unknown";
  EXPECT_EQ(result.observed.tokens["source.p.a.gone"].why_unknown, "the source relation was not found");

  g.adapter_type = "databricks";
  ProbeResult dbx;
  read_probe_rows(g, r, {{"token:source.p.a.t", "meta:v12@2026-01-02 03:04:05"}}, dbx);
  EXPECT_EQ(dbx.observed.tokens["source.p.a.t"].value, "meta:v12@2026-01-02 03:04:05")
      << "version and time kept as given";
  EXPECT_EQ(dbx.observed.tokens["source.p.a.t"].method, "metadata: describe history");

  g.adapter_type = "redshift";
  ProbeResult rs;
  read_probe_rows(g, r, {{"token:source.p.a.t", "meta:2026-01-02 03:04:05|n:42"}}, rs);
  ASSERT_TRUE(rs.observed.tokens["source.p.a.t"].value);
  EXPECT_NE(rs.observed.tokens["source.p.a.t"].value->find("|n:42"), std::string::npos)
      << "the row count stays part of the token (a delete changes it)";
}

TEST(WarehouseProbe, ReadsChangeTokens) {
  Graph g;
  ProbeRequest r;
  ProbeResult result;
  read_probe_rows(g, r,
                  {{"token:source.p.a.t", "fp:3:18017548462609759798"},
                   {"token:source.p.a.v", "unknown:the source is a view"},
                   {"token:source.p.a.n", std::nullopt},
                   {"token:source.p.a.odd", "garbage"}},
                  result);
  ASSERT_EQ(result.observed.tokens.size(), 4u);
  EXPECT_EQ(result.observed.tokens["source.p.a.t"].value, "fp:3:18017548462609759798");
  EXPECT_EQ(result.observed.tokens["source.p.a.t"].method, "fingerprint");
  EXPECT_FALSE(result.observed.tokens["source.p.a.v"].value);
  EXPECT_EQ(result.observed.tokens["source.p.a.v"].why_unknown, "the source is a view");
  EXPECT_FALSE(result.observed.tokens["source.p.a.n"].value) << "NULL is unknown, never unchanged";
  EXPECT_EQ(result.observed.tokens["source.p.a.n"].why_unknown, "the change query gave no value");
  EXPECT_FALSE(result.observed.tokens["source.p.a.odd"].value);
  EXPECT_TRUE(result.observed.freshness.empty()) << "tokens are not timestamps";
}

TEST(WarehouseProbe, QueryListsSchemasAndHashesVars) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  ProbeRequest r{{ia}, {{"db", "dev"}, {"", "main"}}, {"weight", "region"}};
  std::string q = probe_query(g, r);
  EXPECT_EQ(count(q, "list_relations_without_caching"), 2u) << q;
  EXPECT_NE(q.find("api.Relation.create(database='db', schema='dev')"), std::string::npos) << q;
  EXPECT_NE(q.find("api.Relation.create(database=none, schema='main')"), std::string::npos)
      << "no database: none";
  EXPECT_NE(q.find("'schema:0'"), std::string::npos);
  EXPECT_NE(q.find("'schema:1'"), std::string::npos);
  EXPECT_NE(q.find("local_md5(tojson(var('weight'"), std::string::npos) << q;
  EXPECT_NE(q.find("local_md5(tojson(var('region'"), std::string::npos) << q;
  EXPECT_NE(q.find("'var:weight'"), std::string::npos);
  EXPECT_EQ(count(q, "\nunion all\n"), 6u)
      << "one part per source, schema and var, and dbt's thread count and target name";
  // Spark's `show table extended`: the name in tableName, the kind inside information.
  EXPECT_NE(q.find("'tableName' if 'tableName' in orc_c"), std::string::npos) << q;
  EXPECT_NE(q.find("'view' if 'Type: VIEW' in (r['information'] or '')"), std::string::npos)
      << q;
}

TEST(WarehouseProbe, VarNamesWithQuotesAreQuotedSafely) {
  Graph g;
  std::string q = probe_query(g, ProbeRequest{{}, {}, {"it's"}});
  EXPECT_NE(q.find("var(\"it's\""), std::string::npos) << q;
  EXPECT_EQ(probe_query(g, ProbeRequest{{}, {}, {"both'\""}}), "") << "cannot be quoted: skipped";
}

TEST(WarehouseProbe, ParsesShowOutputInEveryTimestampStyle) {
  const char* out = R"(12:00:00  some warning line
{
  "show": [
    {"orc_source_id": "source.p.a", "orc_max_loaded_at": "2026-11-23 00:37:55.451365+00"},
    {"orc_source_id": "source.p.b", "orc_max_loaded_at": "2026-11-23 00:37:55.452929"},
    {"orc_source_id": "source.p.c", "orc_max_loaded_at": null},
    {"orc_source_id": "source.p.d", "orc_max_loaded_at": "2026-11-23T02:37:55+02:00"}
  ]
}
)";
  std::vector<ProbeRow> rows = parse_probe_output(out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].first, "source.p.a");
  EXPECT_EQ(rows[2].second, std::nullopt);
  Graph g;
  ProbeResult result;
  read_probe_rows(g, ProbeRequest{}, rows, result);
  const FreshnessMap& m = result.observed.freshness;
  EXPECT_EQ(m.at("source.p.a"), "2026-11-23T00:37:55.451365Z");
  EXPECT_EQ(m.at("source.p.b"), "2026-11-23T00:37:55.452929Z") << "naive = UTC";
  EXPECT_EQ(m.at("source.p.c"), std::nullopt) << "empty table: unknown";
  EXPECT_EQ(m.at("source.p.d"), "2026-11-23T00:37:55Z");
}

TEST(WarehouseProbe, ParsesUpperCaseColumnNames) {
  // Snowflake reports unquoted aliases in upper case.
  auto rows = parse_probe_output(
      "12:00:00  Concurrency: 1 threads\n{\"show\": [{\"ORC_SOURCE_ID\": \"token:source.p.a.t\", "
      "\"ORC_MAX_LOADED_AT\": \"meta:1970-01-01 00:00:00+00\"}, {\"ORC_SOURCE_ID\": \"x\", "
      "\"ORC_MAX_LOADED_AT\": null}]}");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "token:source.p.a.t");
  EXPECT_EQ(rows[0].second, "meta:1970-01-01 00:00:00+00");
  EXPECT_FALSE(rows[1].second);
}

TEST(WarehouseProbe, NoShowOutputIsAnError) {
  EXPECT_THROW(parse_probe_output("Runtime Error: relation does not exist"), Error);
}

TEST(WarehouseProbe, ReadsSchemasRelationKindsAndVars) {
  Graph g;
  ProbeRequest r{{}, {{"DB", "Dev"}, {"db", "other"}, {"db", "nolist"}}, {"weight", "absent"}};
  const char* out = R"({"show": [
    {"orc_source_id": "schema:0", "orc_max_loaded_at": "listed"},
    {"orc_source_id": "rel:0:STG", "orc_max_loaded_at": "VIEW"},
    {"orc_source_id": "rel:0:mart", "orc_max_loaded_at": "BASE TABLE"},
    {"orc_source_id": "rel:0:odd:name", "orc_max_loaded_at": "table"},
    {"orc_source_id": "rel:0:nokind", "orc_max_loaded_at": null},
    {"orc_source_id": "schema:1", "orc_max_loaded_at": "unlisted"},
    {"orc_source_id": "schema:7", "orc_max_loaded_at": "listed"},
    {"orc_source_id": "var:weight", "orc_max_loaded_at": "0c1e6b5a"},
    {"orc_source_id": "var:absent", "orc_max_loaded_at": ""}
  ]})";
  ProbeResult result;
  read_probe_rows(g, r, parse_probe_output(out), result);
  const RelationCatalog& c = result.observed.relations;
  EXPECT_TRUE(c.listed_schemas.count(RelationCatalog::schema_key("db", "dev")));
  EXPECT_FALSE(c.listed_schemas.count(RelationCatalog::schema_key("db", "other")))
      << "an adapter without a name column leaves the schema unverified";
  EXPECT_EQ(c.listed_schemas.size(), 1u) << "out-of-range schema index ignored";
  EXPECT_TRUE(result.observed.freshness.empty()) << "schema, relation and var rows are not sources";

  auto node = [](const std::string& schema, const std::string& alias) {
    Node n;
    n.database = "db";
    n.schema = schema;
    n.alias = alias;
    return n;
  };
  EXPECT_EQ(c.lookup(node("dev", "stg")), "view");
  EXPECT_EQ(c.lookup(node("DEV", "MART")), "table") << "\"BASE TABLE\" normalised";
  EXPECT_EQ(c.lookup(node("dev", "odd:name")), "table");
  EXPECT_EQ(c.lookup(node("dev", "nokind")), "unknown");
  EXPECT_EQ(c.lookup(node("dev", "gone")), "") << "listed schema, missing relation";
  EXPECT_EQ(c.lookup(node("other", "stg")), std::nullopt) << "schema not listed";
  EXPECT_EQ(result.var_values.at("weight"), "0c1e6b5a");
  EXPECT_FALSE(result.var_values.count("absent")) << "no value: unknown";
}

TEST(RelationCatalog, AddNormalisesKinds) {
  RelationCatalog c;
  c.listed_schemas.insert(RelationCatalog::schema_key("d", "s"));
  c.add("d", "s", "a", "BASE TABLE");
  c.add("d", "s", "b", "");
  c.add("d", "s", "c", "None");
  c.add("d", "s", "e", "Materialized_View");
  Node n;
  n.database = "D";
  n.schema = "S";
  for (auto [alias, kind] : std::vector<std::pair<std::string, std::string>>{
           {"a", "table"}, {"b", "unknown"}, {"c", "unknown"}, {"e", "materialized_view"}}) {
    n.alias = alias;
    EXPECT_EQ(c.lookup(n), kind) << alias;
  }
}

TEST(WarehouseProbe, DbtsThreadCountIsAskedBesideTheOtherParts) {
  NodeId ia, ib;
  Graph g = two_sources(ia, ib);
  ProbeRequest r{{ia}, {}, {}};
  std::string q = probe_query(g, r);
  EXPECT_NE(q.find("'threads' as"), std::string::npos) << q;
  EXPECT_NE(q.find("{{ target.threads }}"), std::string::npos) << q;
  EXPECT_EQ(probe_query(g, ProbeRequest{}), "") << "never a reason to start dbt by itself";
  ProbeResult result;
  EXPECT_NE(q.find("{{ target.name }}"), std::string::npos) << q;
  read_probe_rows(g, r, {{"threads", "4"}, {"target", "ci"}}, result);
  EXPECT_EQ(result.threads, 4);
  EXPECT_EQ(result.target_name, "ci");
  for (const char* odd : {"", "0", "four", "-2", "99999999"}) {
    ProbeResult none;
    read_probe_rows(g, r, {{"threads", std::string(odd)}}, none);
    EXPECT_FALSE(none.threads) << odd;
  }
  ProbeResult null_value;
  read_probe_rows(g, r, {{"threads", std::nullopt}}, null_value);
  EXPECT_FALSE(null_value.threads);
}
