#include "dbt/freshness.h"

#include <fmt/format.h>
#include <regex>
#include <simdjson.h>

#include "core/error.h"
#include "core/log.h"

namespace orc {
namespace {

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

std::string source_select(const Node& s) {
  std::string id = sql_literal(s.unique_id);
  if (!s.loaded_at_query.empty())
    return fmt::format("select {} as orc_source_id, cast(({}) as {{{{ dbt.type_string() }}}}) "
                       "as orc_max_loaded_at",
                       id, bind_this(s.loaded_at_query, s));
  std::string sql = fmt::format(
      "select {} as orc_source_id, cast(max({}) as {{{{ dbt.type_string() }}}}) as "
      "orc_max_loaded_at from {{{{ source({}, {}) }}}}",
      id, s.loaded_at_field, sql_literal(s.source_name), sql_literal(s.name));
  if (!s.freshness_filter.empty()) sql += fmt::format(" where {}", s.freshness_filter);
  return sql;
}

void probe(const Graph& graph, const std::vector<NodeId>& sources, DbtRunner& dbt,
           const std::vector<std::string>& project_args, FreshnessMap& out,
           bool write_manifest) {
  if (sources.empty()) return;
  std::vector<std::string> args = {"show", "--inline", freshness_query(graph, sources),
                                   "--output", "json", "--limit", "-1", "--quiet",
                                   write_manifest ? "--write-json" : "--no-write-json",
                                   "--log-format", "text", "--no-use-colors"};
  args.insert(args.end(), project_args.begin(), project_args.end());
  ProcessResult r = dbt.capture(args);
  if (r.exit_code == 0) {
    try {
      for (auto& [id, ts] : parse_freshness_output(r.stdout_text)) out[id] = ts;
      return;
    } catch (const Error& e) {
      log_debug("freshness query output not understood: {}", e.what());
    }
  }
  if (sources.size() == 1) {
    std::string why = r.stdout_text.empty() ? r.stderr_text : r.stdout_text;
    if (why.size() > 600) why = "..." + why.substr(why.size() - 600);  // dbt's error is last
    log_warn("freshness of {} could not be read (treated as new data): {}",
             graph.nodes[sources[0]].unique_id, why);
    return;
  }
  // One part failed (a missing table, a bad loaded_at_field): split to isolate it.
  log_debug("freshness query over {} sources failed; splitting it", sources.size());
  size_t half = sources.size() / 2;
  probe(graph, {sources.begin(), sources.begin() + half}, dbt, project_args, out, false);
  probe(graph, {sources.begin() + half, sources.end()}, dbt, project_args, out, false);
}

}  // namespace

std::string freshness_query(const Graph& graph, const std::vector<NodeId>& sources) {
  std::string sql;
  for (NodeId s : sources) {
    if (!sql.empty()) sql += "\nunion all\n";
    sql += source_select(graph.nodes[s]);
  }
  return sql;
}

FreshnessMap parse_freshness_output(std::string_view text) {
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
  FreshnessMap out;
  for (simdjson::dom::element row : rows) {
    std::string_view id, value;
    if (row["orc_source_id"].get_string().get(id)) continue;
    std::optional<std::string> ts;
    if (!row["orc_max_loaded_at"].get_string().get(value)) {
      if (auto t = parse_timestamp(value)) ts = format_timestamp(*t);
    }
    out[std::string(id)] = ts;
  }
  return out;
}

FreshnessMap probe_freshness(const Graph& graph, const std::vector<NodeId>& sources,
                             DbtRunner& dbt, const std::vector<std::string>& project_args,
                             bool write_manifest) {
  std::vector<NodeId> checkable;
  for (NodeId s : sources)
    if (graph.nodes[s].has_loaded_at()) checkable.push_back(s);
  FreshnessMap out;
  probe(graph, checkable, dbt, project_args, out, write_manifest);
  return out;
}

bool same_freshness_query(const Node& a, const Node& b) {
  return a.loaded_at_field == b.loaded_at_field && a.loaded_at_query == b.loaded_at_query &&
         a.freshness_filter == b.freshness_filter && a.source_name == b.source_name &&
         a.name == b.name;
}

}  // namespace orc
