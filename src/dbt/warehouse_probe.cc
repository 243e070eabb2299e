#include "dbt/warehouse_probe.h"

#include <cctype>
#include <fmt/format.h>
#include <regex>
#include <simdjson.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timestamp.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_output.h"

namespace orc {
namespace {

constexpr const char* kText = "{{ dbt.type_string() }}";

std::string sql_literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  out.push_back('\'');
  return out;
}

/// dbt renders a source's loaded_at_query with `this` bound to the source; an inline query
/// has no `this`, so the source is spelled out instead.
std::string bind_this(const std::string& query, const Node& s) {
  static const std::regex this_expr(R"(\{\{\s*this\s*\}\})");
  return std::regex_replace(query, this_expr,
                            fmt::format("{{{{ source({}, {}) }}}}", sql_literal(s.source_name),
                                        sql_literal(s.name)));
}

/// The id prefix of a freshness row that also carries the row count: "n:<count>|<max>".
constexpr std::string_view kCounted = "counted:";
/// The id prefix of a change marker's metadata row.
constexpr std::string_view kMarker = "marker:";

/// Whether the freshness aggregate of source `s` also counts its rows (its change marker).
bool counts_rows(const Node& s, const ChangeMarkerMethod& marker) {
  return marker.row_count && s.loaded_at_query.empty() && !s.loaded_at_field.empty() &&
         s.wants_change_marker();
}

/// Whether source `s` has its own row-count part for its change marker: a source judged by a
/// loaded_at_query has no aggregate of its own to carry the count, so it is counted apart
/// (a late row under an old timestamp moves nothing else on count-only adapters).
bool counts_rows_apart(const Node& s, const ChangeMarkerMethod& marker) {
  return marker.row_count && !s.loaded_at_query.empty() && s.wants_change_marker();
}

/// The id prefix of a separate row count ("n:<count>") of a loaded_at_query source.
constexpr std::string_view kRows = "rows:";

std::string row_count_select(const Node& s) {
  return fmt::format(
      "select {} as orc_source_id, cast('n:' || cast(count(*) as {t}) as {t}) as "
      "orc_max_loaded_at from {{{{ source({}, {}) }}}}",
      sql_literal(std::string(kRows) + s.unique_id), sql_literal(s.source_name),
      sql_literal(s.name), fmt::arg("t", kText));
}

/// Whether source `s` has a metadata part for its change marker.
bool has_marker_metadata(const Node& s, const ChangeMarkerMethod& marker) {
  return !marker.metadata_sql.empty() && s.has_loaded_at() && s.wants_change_marker();
}

std::string source_select(const Node& s, const ChangeMarkerMethod& marker) {
  std::string id = sql_literal(s.unique_id);
  if (!s.loaded_at_query.empty())
    return fmt::format("select {} as orc_source_id, cast(({}) as {}) as orc_max_loaded_at", id,
                       bind_this(s.loaded_at_query, s), kText);
  std::string value = fmt::format("cast(max({}) as {})", s.loaded_at_field, kText);
  if (counts_rows(s, marker)) {
    // The count in the same aggregate: no second scan. `counted:` says the value's shape.
    id = sql_literal(std::string(kCounted) + s.unique_id);
    value = fmt::format("cast('n:' || cast(count(*) as {t}) || '|' || coalesce({v}, '') as {t})",
                        fmt::arg("t", kText), fmt::arg("v", value));
  }
  std::string sql = fmt::format(
      "select {} as orc_source_id, {} as orc_max_loaded_at from {{{{ source({}, {}) }}}}", id,
      value, sql_literal(s.source_name), sql_literal(s.name));
  if (!s.freshness_filter.empty()) sql += fmt::format(" where {}", s.freshness_filter);
  return sql;
}

/// One row `<prefix><unique_id>` read from source `s`'s relation with `method` (a change
/// token, or a change marker's metadata), or "unknown:<why>" when the relation is missing or
/// a view (a view's data lives elsewhere: no token is trustworthy). `orc_rel` is the source as
/// declared, `orc_found` the relation as the warehouse spells it.
std::string relation_select(const Node& s, std::string_view prefix,
                            const ChangeTokenMethod& method) {
  std::string id = sql_literal(std::string(prefix) + s.unique_id);
  std::string row =
      method.kind == ChangeTokenMethod::Kind::RowFingerprint
          ? fmt::format("select {id} as orc_source_id, cast({expr} as {t}) as orc_max_loaded_at "
                        "from {{{{ orc_rel }}}} as orc_t",
                        fmt::arg("id", id), fmt::arg("expr", method.sql), fmt::arg("t", kText))
          : fmt::format(fmt::runtime(method.sql), fmt::arg("id", id), fmt::arg("t", kText));
  return fmt::format(
      // No `{%-` on the first tag: it would eat the space after the previous `union all`.
      "{{% set orc_rel = source({src}, {tbl}) -%}}"
      "{{%- set orc_found = adapter.get_relation(database=orc_rel.database, "
      "schema=orc_rel.schema, identifier=orc_rel.identifier) if execute else none -%}}"
      "{{%- if orc_found is none -%}}"
      "select {id} as orc_source_id, cast('unknown:the source relation was not found' as {t}) "
      "as orc_max_loaded_at"
      "{{%- elif orc_found.is_view -%}}"
      "select {id} as orc_source_id, cast('unknown:the source is a view' as {t}) as "
      "orc_max_loaded_at"
      "{{%- else -%}}{row}{{%- endif %}}",
      fmt::arg("src", sql_literal(s.source_name)), fmt::arg("tbl", sql_literal(s.name)),
      fmt::arg("id", id), fmt::arg("t", kText), fmt::arg("row", row));
}

/// Lists schema number `i` with dbt's own list_relations_without_caching macro (one metadata
/// query), emitting a marker row and one row per relation. Adapters whose listing has no
/// name column answer "unlisted", which leaves their relations unverified.
std::string schema_select(size_t i, const std::string& database, const std::string& schema) {
  std::string db = database.empty() ? "none" : sql_literal(database);
  return fmt::format(
      "{{% set orc_t = list_relations_without_caching(api.Relation.create(database={db}, "
      "schema={schema})) if execute else none -%}}"
      "{{%- set orc_c = orc_t.column_names if orc_t is not none else [] -%}}"
      "{{%- set orc_n = 'name' if 'name' in orc_c else ('identifier' if 'identifier' in orc_c "
      "else ('table_name' if 'table_name' in orc_c else none)) -%}}"
      "{{%- set orc_k = 'type' if 'type' in orc_c else ('kind' if 'kind' in orc_c else "
      "('table_type' if 'table_type' in orc_c else none)) -%}}"
      // Spark's `show table extended` (dbt-spark's listing): tableName, and the kind inside
      // `information`, read as dbt-spark reads it ("Type: VIEW" is a view, else a table).
      "{{%- set orc_n = orc_n or ('tableName' if 'tableName' in orc_c else none) -%}}"
      "{{%- set orc_i = orc_k is none and 'information' in orc_c -%}}"
      "select cast('schema:{i}' as {t}) as orc_source_id, "
      "cast('{{{{ 'listed' if orc_n else 'unlisted' }}}}' as {t}) as orc_max_loaded_at"
      "{{% if orc_n %}}{{% for r in orc_t.rows %}}\nunion all select "
      "'rel:{i}:{{{{ r[orc_n] | replace(\"'\", \"''\") }}}}', "
      "'{{{{ (r[orc_k] if orc_k else ((('view' if 'Type: VIEW' in (r['information'] or '') "
      "else 'table')) if orc_i else 'unknown')) | replace(\"'\", \"''\") }}}}'"
      "{{% endfor %}}{{% endif %}}",
      fmt::arg("db", db), fmt::arg("schema", sql_literal(schema)), fmt::arg("i", i),
      fmt::arg("t", kText));
}

/// The md5 of a var's JSON value as dbt resolves it in the root project.
std::string var_select(const std::string& name) {
  char quote = name.find('\'') == std::string::npos ? '\'' : '"';
  std::string quoted = fmt::format("{0}{1}{0}", quote, name);
  return fmt::format(
      "select cast({} as {}) as orc_source_id, cast('{{{{ local_md5(tojson(var({}, "
      "'__orc_var_unset__'), sort_keys=True)) if execute else '' }}}}' as {}) as "
      "orc_max_loaded_at",
      sql_literal("var:" + name), kText, quoted, kText);
}

/// dbt's thread count for the run (`target.threads`: the profile's, or --threads), for the
/// wall-clock estimate of what reuse saved, and the target's name (recorded in the entries:
/// what --reuse-from finds another target's work by). Constant rows: they cannot fail.
std::string threads_select() {
  return fmt::format("select cast('threads' as {t}) as orc_source_id, "
                     "cast('{{{{ target.threads }}}}' as {t}) as orc_max_loaded_at"
                     "\nunion all\n"
                     "select cast('target' as {t}) as orc_source_id, "
                     "cast('{{{{ target.name }}}}' as {t}) as orc_max_loaded_at",
                     fmt::arg("t", kText));
}

/// One piece of the query; the unit a failing query is split into.
struct Part {
  enum class Kind { Source, Token, Marker, Count, Schema, Var, Threads } kind;
  size_t index;  ///< into the request's sources / schemas / vars
};

std::vector<Part> parts_of(const Graph& graph, const ProbeRequest& r) {
  std::vector<Part> parts;
  const bool tokens = r.source_tokens && change_token_method(graph.adapter_type).kind !=
                                            ChangeTokenMethod::Kind::None;
  const ChangeMarkerMethod marker = change_marker_method(graph.adapter_type);
  for (size_t i = 0; i < r.sources.size(); ++i) {
    const Node& s = graph.nodes[r.sources[i]];
    if (s.has_loaded_at()) {
      parts.push_back({Part::Kind::Source, i});
      if (has_marker_metadata(s, marker)) parts.push_back({Part::Kind::Marker, i});
      if (counts_rows_apart(s, marker)) parts.push_back({Part::Kind::Count, i});
    } else if (tokens) {
      parts.push_back({Part::Kind::Token, i});
    }
  }
  for (size_t i = 0; i < r.schemas.size(); ++i) parts.push_back({Part::Kind::Schema, i});
  for (size_t i = 0; i < r.vars.size(); ++i) {
    const std::string& v = r.vars[i];
    if (v.find('\'') != std::string::npos && v.find('"') != std::string::npos) continue;
    parts.push_back({Part::Kind::Var, i});
  }
  // Asked beside the rest only: never a reason to start dbt.
  if (!parts.empty()) parts.push_back({Part::Kind::Threads, 0});
  return parts;
}

std::string query_of(const Graph& graph, const ProbeRequest& r, const std::vector<Part>& parts) {
  std::string sql;
  const ChangeMarkerMethod marker = change_marker_method(graph.adapter_type);
  for (const Part& p : parts) {
    if (!sql.empty()) sql += "\nunion all\n";
    switch (p.kind) {
      case Part::Kind::Source: sql += source_select(graph.nodes[r.sources[p.index]], marker); break;
      case Part::Kind::Token:
        sql += relation_select(graph.nodes[r.sources[p.index]], "token:",
                               change_token_method(graph.adapter_type));
        break;
      case Part::Kind::Marker:
        sql += relation_select(graph.nodes[r.sources[p.index]], kMarker,
                               {ChangeTokenMethod::Kind::Metadata, {}, marker.metadata_sql});
        break;
      case Part::Kind::Count: sql += row_count_select(graph.nodes[r.sources[p.index]]); break;
      case Part::Kind::Schema:
        sql += schema_select(p.index, r.schemas[p.index].first, r.schemas[p.index].second);
        break;
      case Part::Kind::Var: sql += var_select(r.vars[p.index]); break;
      case Part::Kind::Threads: sql += threads_select(); break;
    }
  }
  return sql;
}

std::string describe(const Graph& graph, const ProbeRequest& r, const Part& p) {
  switch (p.kind) {
    case Part::Kind::Source:
      return fmt::format("freshness of {}", graph.nodes[r.sources[p.index]].unique_id);
    case Part::Kind::Token:
      return fmt::format("the change token of {}", graph.nodes[r.sources[p.index]].unique_id);
    case Part::Kind::Marker:
    case Part::Kind::Count:
      return fmt::format("the change marker of {}", graph.nodes[r.sources[p.index]].unique_id);
    case Part::Kind::Schema:
      return fmt::format("the relations of schema {}.{}", r.schemas[p.index].first,
                         r.schemas[p.index].second);
    case Part::Kind::Var: return fmt::format("the value of var {}", r.vars[p.index]);
    case Part::Kind::Threads: return "dbt's thread count and target name";
  }
  return {};
}

void run_parts(const Graph& graph, const ProbeRequest& r, const std::vector<Part>& parts,
               DbtInvoker& dbt, const std::vector<std::string>& project_args,
               ProbeResult& result, bool write_manifest) {
  if (parts.empty()) return;
  ProcessResult out =
      dbt.capture(show_inline_arguments(query_of(graph, r, parts), write_manifest, project_args));
  if (out.exit_code == 0) {
    try {
      read_probe_rows(graph, r, parse_probe_output(out.stdout_text), result);
      return;
    } catch (const Error& e) {
      log_debug("warehouse query output not understood: {}", e.what());
    }
  }
  if (parts.size() == 1) {
    std::string why = dbt_failure_text(out.stdout_text.empty() ? out.stderr_text
                                                               : out.stdout_text);
    if (parts[0].kind == Part::Kind::Marker ||
        parts[0].kind == Part::Kind::Count) {  // unknown: judged by max(loaded_at) alone
      log_warn("{} could not be read (judged by max(loaded_at) alone; `meta: {{orc: "
               "{{change_marker: false}}}}` turns it off): {}",
               describe(graph, r, parts[0]), why);
      return;
    }
    log_warn("{} could not be read (treated as changed): {}", describe(graph, r, parts[0]), why);
    if (parts[0].kind == Part::Kind::Token)
      result.observed.tokens[graph.nodes[r.sources[parts[0].index]].unique_id].why_unknown =
          "its change query failed";
    return;
  }
  // One part failed (a missing table, a bad loaded_at_field): split to isolate it.
  log_debug("warehouse query over {} parts failed; splitting it", parts.size());
  size_t half = parts.size() / 2;
  run_parts(graph, r, {parts.begin(), parts.begin() + half}, dbt, project_args, result, false);
  run_parts(graph, r, {parts.begin() + half, parts.end()}, dbt, project_args, result, false);
}

/// Whether `value` is `<prefix><something>` (a probe answer tagged with its kind).
bool tagged(const std::optional<std::string>& value, std::string_view prefix) {
  return value && value->size() > prefix.size() && value->rfind(prefix, 0) == 0;
}

/// Joins one answered part into a source's change marker: the row count ("n:<count>") first,
/// then the metadata part, whatever order the parts arrive in (a split query answers them in
/// separate invocations).
void add_marker_part(MarkerMap& markers, const std::string& source, const std::string& part,
                     bool is_row_count) {
  auto [it, fresh] = markers.try_emplace(source, part);
  if (fresh) return;
  it->second = is_row_count ? part + "|" + it->second : it->second + "|" + part;
}

/// The number after `prefix` in `id` and the text after the following ':' (if any).
bool split_indexed(std::string_view id, std::string_view prefix, size_t& index,
                   std::string_view& rest) {
  if (id.substr(0, prefix.size()) != prefix) return false;
  id.remove_prefix(prefix.size());
  size_t colon = id.find(':');
  std::string_view digits = id.substr(0, colon);
  if (digits.empty()) return false;
  index = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + static_cast<size_t>(c - '0');
  }
  rest = colon == std::string_view::npos ? std::string_view() : id.substr(colon + 1);
  return true;
}

}  // namespace

ChangeTokenMethod change_token_method(const std::string& adapter_type) {
  using Kind = ChangeTokenMethod::Kind;
  if (adapter_type.empty()) return {};  // a manifest that does not say: unknown
  // DuckDB: hash() of the row struct is 64-bit; summed as hugeint it cannot overflow.
  if (adapter_type == "duckdb")
    return {Kind::RowFingerprint, "fingerprint",
            "'fp:' || cast(count(*) as varchar) || ':' || "
            "cast(coalesce(sum(cast(hash(orc_t) as hugeint)), 0) as varchar)"};
  // PostgreSQL: the first 64 bits of the md5 of the row's text form, summed as numeric.
  if (adapter_type == "postgres")
    return {Kind::RowFingerprint, "fingerprint",
            "'fp:' || count(*)::text || ':' || coalesce(sum(('x' || substr(md5(orc_t::text), "
            "1, 16))::bit(64)::bigint::numeric), 0)::text"};
  // Snowflake: LAST_ALTERED of the table (DML and DDL move it), from the database's
  // information schema; the names as the warehouse spells them (orc_found).
  if (adapter_type == "snowflake")
    return {Kind::Metadata, "metadata: last_altered",
            "select {id} as orc_source_id, cast('meta:' || to_varchar(max(last_altered), "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.FF9TZH:TZM') as {t}) as orc_max_loaded_at from "
            "{{{{ orc_found.database }}}}.information_schema.tables where table_schema = "
            "'{{{{ orc_found.schema }}}}' and table_name = '{{{{ orc_found.identifier }}}}'"};
  // BigQuery: the dataset's table metadata (__TABLES__: last_modified_time in ms since the
  // epoch, moved by every load, DML statement and streaming commit).
  if (adapter_type == "bigquery")
    return {Kind::Metadata, "metadata: __TABLES__.last_modified_time",
            "select {id} as orc_source_id, cast(concat('meta:', cast(max(last_modified_time) as "
            "string)) as {t}) as orc_max_loaded_at from "
            "`{{{{ orc_found.database }}}}`.`{{{{ orc_found.schema }}}}`.__TABLES__ where "
            "table_id = '{{{{ orc_found.identifier }}}}'"};
  // Databricks and Spark (Delta tables): the table's latest commit, as dbt-orchestra reads
  // it (`DESCRIBE HISTORY <relation> LIMIT 1`); version and timestamp. A table that is not
  // Delta fails the statement: its part fails and counts as unknown. On Spark, a table
  // dbt-spark lists as not Delta (its relation's is_delta is false: parquet, csv, hive) is
  // unknown without running the statement, which would fail the whole query. Not on
  // Databricks: dbt-databricks' is_delta asserts on a relation listed without metadata.
  if (adapter_type == "databricks" || adapter_type == "spark") {
    std::string history =
        "{{%- set orc_h = run_query('describe history ' ~ orc_found ~ ' limit 1') if "
        "execute else none -%}}"
        "{{%- set orc_v = ('meta:v' ~ orc_h.rows[0]['version'] ~ '@' ~ "
        "orc_h.rows[0]['timestamp']) if orc_h is not none and orc_h.rows | length > 0 "
        "else '' -%}}"
        "select {id} as orc_source_id, cast('{{{{ orc_v }}}}' as {t}) as orc_max_loaded_at";
    if (adapter_type == "spark")
      history = "{{%- if orc_found.is_delta is sameas false -%}}"
                "select {id} as orc_source_id, cast('unknown:the source is not a Delta table' "
                "as {t}) as orc_max_loaded_at"
                "{{%- else -%}}" + history + "{{%- endif %}}";
    return {Kind::Metadata, "metadata: describe history", history};
  }
  // Every other adapter: dbt's own metadata freshness (get_relation_last_modified, e.g.
  // Redshift), with the row count beside it (Redshift's last-modified time follows inserts
  // only; the count also catches a delete). An adapter without that macro fails the part:
  // unknown.
  return {Kind::Metadata, "metadata: get_relation_last_modified",
          "{{%- set orc_m = get_relation_last_modified(orc_found.information_schema(), "
          "[orc_found]) if execute else none -%}}"
          "{{%- set orc_lm = orc_m.rows[0]['last_modified'] if orc_m is not none and "
          "orc_m.rows | length > 0 else none -%}}"
          "select {id} as orc_source_id, cast({{{{ \"'meta:\" ~ orc_lm ~ \"|n:'\" if orc_lm "
          "is not none else 'null' }}}} || cast(count(*) as {t}) as {t}) as orc_max_loaded_at "
          "from {{{{ orc_found }}}}"};
}

namespace {

/// The md5 of a source table's columns (name and type, in order) from the information
/// schema, as a SQL expression "cols:<md5>" (design.md, "Late-arriving rows": a column added,
/// dropped or retyped changes what `select *` gives, with no new row and no newer loaded_at).
/// `orc_found` is the relation as the warehouse spells it.
constexpr const char* kColumnsHash =
    "(select 'cols:' || coalesce(md5(string_agg(column_name || ' ' || data_type, ',' order "
    "by ordinal_position)), '') from information_schema.columns where table_catalog = "
    "'{{{{ orc_found.database | replace(\"'\", \"''\") }}}}' and table_schema = "
    "'{{{{ orc_found.schema | replace(\"'\", \"''\") }}}}' and table_name = "
    "'{{{{ orc_found.identifier | replace(\"'\", \"''\") }}}}')";

}  // namespace

ChangeMarkerMethod change_marker_method(const std::string& adapter_type) {
  if (adapter_type.empty()) return {};  // a manifest that does not say: no marker
  // PostgreSQL: the count, plus the table's cumulative inserted + updated + deleted rows
  // (an update keeps the count) and its columns. The statistics reach pg_stat_user_tables
  // asynchronously (about a second after a commit, longer for a session kept open), which
  // the count covers for inserts and deletes; a reset of the statistics only differs, which
  // is a change.
  if (adapter_type == "postgres")
    return {true, std::string("select {id} as orc_source_id, cast(max('dml:' || (n_tup_ins + "
                              "n_tup_upd + n_tup_del)::text) || '|' || ") +
                      kColumnsHash +
                      " as {t}) as orc_max_loaded_at from pg_stat_user_tables where "
                      "schemaname = '{{{{ orc_found.schema }}}}' and relname = "
                      "'{{{{ orc_found.identifier }}}}'"};
  // Where the change token is the warehouse's own last-modified metadata (which DDL moves
  // too), the marker is the same query: no scan.
  if (adapter_type == "snowflake" || adapter_type == "bigquery" ||
      adapter_type == "databricks" || adapter_type == "spark")
    return {false, change_token_method(adapter_type).sql};
  // DuckDB: the row count and the columns.
  if (adapter_type == "duckdb")
    return {true, std::string("select {id} as orc_source_id, cast(") + kColumnsHash +
                      " as {t}) as orc_max_loaded_at"};
  return {true, {}};  // every other adapter: the row count
}

std::string change_token_expression(const std::string& adapter_type) {
  ChangeTokenMethod m = change_token_method(adapter_type);
  return m.kind == ChangeTokenMethod::Kind::RowFingerprint ? m.sql : std::string();
}

std::string probe_query(const Graph& graph, const ProbeRequest& request) {
  return query_of(graph, request, parts_of(graph, request));
}

std::string normalize_metadata_token(const std::string& value) {
  // "meta:<time>[rest]": a parseable time (any zone, any precision) becomes UTC ISO-8601,
  // so the same instant always gives the same token.
  std::string body = value.substr(5);
  size_t end = body.find('|');
  std::string time = body.substr(0, end);
  std::string rest = end == std::string::npos ? "" : body.substr(end);
  if (auto t = parse_timestamp(time)) return "meta:" + format_timestamp(*t) + rest;
  return value;
}

std::vector<ProbeRow> parse_probe_output(std::string_view text) {
  size_t key = text.find("\"show\"");
  size_t start = key == std::string_view::npos ? key : text.rfind('{', key);
  size_t end = text.rfind('}');
  if (start == std::string_view::npos || end == std::string_view::npos || end < start)
    throw Error("no JSON output from dbt show");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text.substr(start, end - start + 1));
  simdjson::dom::element root;
  simdjson::dom::array rows;
  if (parser.parse(padded).get(root) || root["show"].get_array().get(rows))
    throw Error("dbt show output is not the expected JSON");
  std::vector<ProbeRow> out;
  for (simdjson::dom::element row : rows) {
    // Column names as the warehouse reports them: Snowflake upper-cases unquoted aliases.
    simdjson::dom::object fields;
    if (row.get_object().get(fields)) continue;
    std::optional<std::string_view> id;
    std::optional<std::string> v;
    for (auto field : fields) {
      std::string name(field.key);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view text;
      if (name == "orc_source_id" && !field.value.get_string().get(text)) id = text;
      else if (name == "orc_max_loaded_at" && !field.value.get_string().get(text))
        v = std::string(text);
    }
    if (id) out.emplace_back(std::string(*id), std::move(v));
  }
  return out;
}

void read_probe_rows(const Graph& graph, const ProbeRequest& r, const std::vector<ProbeRow>& rows,
                     ProbeResult& result) {
  (void)graph;
  for (const auto& [id, value] : rows) {
    size_t i = 0;
    std::string_view rest;
    if (split_indexed(id, "schema:", i, rest)) {
      if (i < r.schemas.size() && value == "listed")
        result.observed.relations.listed_schemas.insert(
            RelationCatalog::schema_key(r.schemas[i].first, r.schemas[i].second));
    } else if (split_indexed(id, "rel:", i, rest)) {
      if (i < r.schemas.size())
        result.observed.relations.add(r.schemas[i].first, r.schemas[i].second, rest,
                             value.value_or("unknown"));
    } else if (id.rfind("token:", 0) == 0) {
      SourceToken& t = result.observed.tokens[id.substr(6)];
      if (value && value->rfind("fp:", 0) == 0) {
        t = SourceToken{*value, "fingerprint", {}};
      } else if (tagged(value, "meta:")) {
        t = SourceToken{normalize_metadata_token(*value),
                        change_token_method(graph.adapter_type).name, {}};
      } else {
        t.value.reset();
        t.why_unknown = value && value->rfind("unknown:", 0) == 0 ? value->substr(8)
                                                                  : "the change query gave no value";
      }
    } else if (id == "threads") {
      if (value) result.threads = parse_thread_count(*value);
    } else if (id == "target") {
      if (value && !value->empty()) result.target_name = *value;
    } else if (id.rfind("var:", 0) == 0) {
      if (value && !value->empty()) result.var_values[id.substr(4)] = *value;
    } else if (id.rfind(kRows, 0) == 0) {
      if (tagged(value, "n:"))
        add_marker_part(result.observed.markers, id.substr(kRows.size()), *value, true);
    } else if (id.rfind(kMarker, 0) == 0) {
      // "meta:<time>[...]", "dml:<n>|cols:<md5>" or "cols:<md5>"; "unknown:<why>" or null
      // leaves the part unknown.
      const std::string source = id.substr(kMarker.size());
      if (tagged(value, "meta:"))
        add_marker_part(result.observed.markers, source, normalize_metadata_token(*value), false);
      else if (tagged(value, "dml:") || tagged(value, "cols:"))
        add_marker_part(result.observed.markers, source, *value, false);
    } else {
      // A plain freshness row, or "counted:<id>" with "n:<count>|<max_loaded_at or empty>".
      std::string source = id;
      std::optional<std::string_view> when;
      if (value) when = *value;
      if (id.rfind(kCounted, 0) == 0) {
        source = id.substr(kCounted.size());
        size_t bar = value ? value->find('|') : std::string::npos;
        when.reset();
        if (bar != std::string::npos) {
          if (value->rfind("n:", 0) == 0 && bar > 2)
            add_marker_part(result.observed.markers, source, value->substr(0, bar), true);
          when = std::string_view(*value).substr(bar + 1);
        }
      }
      std::optional<std::string> ts;
      if (when)
        if (auto t = parse_timestamp(*when)) ts = format_timestamp(*t);
      result.observed.freshness[source] = ts;
    }
  }
}

bool probe_warehouse(const Graph& graph, const ProbeRequest& request, DbtInvoker& dbt,
                     const std::vector<std::string>& project_args, ProbeResult& result,
                     bool write_manifest) {
  if (!request.source_tokens)
    for (NodeId s : request.sources)
      if (!graph.nodes[s].has_loaded_at())
        result.observed.tokens[graph.nodes[s].unique_id].why_unknown =
            "require_explicit_source_freshness is on";
  std::vector<Part> parts = parts_of(graph, request);
  if (parts.empty()) return false;
  run_parts(graph, request, parts, dbt, project_args, result, write_manifest);
  return true;
}

bool same_freshness_query(const Node& a, const Node& b) {
  return a.loaded_at_field == b.loaded_at_field && a.loaded_at_query == b.loaded_at_query &&
         a.freshness_filter == b.freshness_filter && a.source_name == b.source_name &&
         a.name == b.name && a.wants_change_marker() == b.wants_change_marker();
}

}  // namespace orc
