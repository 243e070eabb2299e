// `orc explain PATTERN...`: for each matched node of the last run's orc_decisions.json, its
// decision, reason and everything recorded that decided it, and for a reused node what would
// make it build. Reads the record only (no dbt, no warehouse).
#include <algorithm>
#include <fmt/format.h>


#include "cli/commands.h"
#include "cli/tool_args.h"
#include "config/config.h"
#include "core/error.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/node_pattern.h"
#include "report/decisions_record.h"

namespace orc {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string short_hash(const std::string& h) {
  if (h.empty()) return "(absent)";
  return h.size() > 12 ? h.substr(0, 12) + "…" : h;
}

std::string text_or_null(element e) {
  std::string_view v;
  if (e.get_string().get(v)) return "(none)";
  return std::string(v);
}

/// What would make a reused node build, from what the record says decided it.
std::vector<std::string> would_build_if(element node) {
  std::vector<std::string> out;
  element in = node["inputs"];
  out.push_back("an edit to its code (comments and whitespace aside) or to a result-affecting "
                "config key");
  int64_t macros = 0;
  if (!in["watches"]["macros"].get_int64().get(macros) && macros > 0)
    out.push_back(fmt::format("an edit to one of the {} project/package macros it calls", macros));
  for (const char* kind : {"vars", "env_vars"}) {
    simdjson::dom::array names;
    if (in["watches"][kind].get_array().get(names)) continue;
    for (element v : names)
      out.push_back(fmt::format("a new value of {} {}", kind[0] == 'v' ? "var" : "env var",
                                text_or_null(v)));
  }
  object sources;
  if (!in["sources"].get_object().get(sources))
    for (auto [sid, s] : sources)
      out.push_back(fmt::format("new data in {} (measured by {}{})", std::string_view(sid),
                                json_string(s, "method"),
                                s["marker"].get_object().error() ? ""
                                                                 : " and its change marker"));
  object parents;
  if (!in["parents"].get_object().get(parents))
    for (auto [pid, p] : parents) out.push_back(fmt::format("a rebuild of {}", std::string_view(pid)));
  if (json_string(in, "relation_check") == "ok")
    out.push_back("its relation dropped or turned into another kind outside dbt");
  element ba = in["build_after"];
  if (!ba.is_null()) {
    std::string ends = text_or_null(ba["ends_at"]);
    out.push_back(fmt::format("(build_after) new upstream data is built only once the window "
                              "ends at {}",
                              ends));
  }
  out.push_back("orc state forget, or --full-refresh");
  return out;
}

void print_text(element node) {
  const std::string decision = json_string(node, "decision");
  fmt::print("{}: {} ({})\n", json_string(node, "unique_id"), decision,
             json_string(node, "reason_code"));
  fmt::print("  reason: {}\n", json_string(node, "reason"));
  element in = node["inputs"];
  if (std::string lu = text_or_null(in["last_updated"]); lu != "(none)")
    fmt::print("  last built: {}\n", lu);
  simdjson::dom::array changes;
  if (!in["fingerprint_changes"].get_array().get(changes) && changes.size() > 0) {
    fmt::print("  fingerprint components changed (recorded -> now):\n");
    for (element c : changes) {
      std::string key = json_string(c, "key");
      fmt::print("    {}{}: {} -> {}\n", json_string(c, "component"), key.empty() ? "" : " " + key,
                 short_hash(json_string(c, "old")), short_hash(json_string(c, "new")));
    }
  }
  object sources;
  if (!in["sources"].get_object().get(sources) && sources.size() > 0) {
    fmt::print("  sources (recorded -> now, how measured):\n");
    for (auto [sid, s] : sources) {
      bool is_new = false;
      if (s["new_data"].get_bool().get(is_new)) is_new = false;
      fmt::print("    {}: {} -> {} ({}){}\n", std::string_view(sid), text_or_null(s["recorded"]),
                 text_or_null(s["current"]), json_string(s, "method"),
                 is_new ? ": new data" : ": unchanged");
      object marker;
      if (!s["marker"].get_object().get(marker))
        fmt::print("      change marker: {} -> {}\n", text_or_null(marker["recorded"]),
                   text_or_null(marker["current"]));
    }
  }
  object parents;
  if (!in["parents"].get_object().get(parents) && parents.size() > 0) {
    fmt::print("  parents:\n");
    for (auto [pid, p] : parents) {
      bool changed = false;
      if (p["changed"].get_bool().get(changed)) changed = false;
      std::string detail = json_string(p, "detail");
      fmt::print("    {}: {}\n", std::string_view(pid),
                 changed ? json_string(p, "reason_code") + (detail.empty() ? "" : " " + detail)
                         : std::string("unchanged since this node's build"));
    }
  }
  fmt::print("  relation check: {}\n", json_string(in, "relation_check"));
  element ba = in["build_after"];
  if (!ba.is_null()) {
    int64_t count = 0;
    if (ba["count"].get_int64().get(count)) count = 0;
    fmt::print("  build_after: {} {} (updates_on {}), window ends at {}\n", count,
               json_string(ba, "period"), json_string(ba, "updates_on"),
               text_or_null(ba["ends_at"]));
  }
  if (decision == "reuse") {
    fmt::print("  would build on:\n");
    for (const auto& why : would_build_if(node)) fmt::print("    - {}\n", why);
  }
}

}  // namespace

int run_explain_command(const std::vector<std::string>& all_args, const Config& config) {
  const char* usage =
      "usage: orc explain PATTERN... [--decisions PATH] [--output json|text] "
      "[--live [-- dbt arguments...]]";
  // `--live`: dbt's arguments (selection, target, ...) follow `--`.
  auto dashes = std::find(all_args.begin(), all_args.end(), "--");
  std::vector<std::string> args(all_args.begin(), dashes);
  std::vector<std::string> dbt_args(dashes == all_args.end() ? dashes : dashes + 1,
                                    all_args.end());
  ToolArgs a = parse_tool_args(args, {"orc explain", {"--live"}, {"--decisions", "--output",
                                                                  "--project-dir"}});
  if (a.positional.empty()) throw UsageError(usage);
  if (!dbt_args.empty() && !a.has("--live"))
    throw UsageError("orc explain: dbt arguments after `--` need --live");
  const std::string format = output_format(a, "orc explain");
  std::filesystem::path path;
  if (a.has("--live")) {
    // A fresh `orc plan` (nothing built, no state written), then explain from its record.
    if (a.option("--decisions"))
      throw UsageError("orc explain: --live explains a fresh plan; drop --decisions");
    if (auto dir = a.option("--project-dir")) {
      dbt_args.push_back("--project-dir");
      dbt_args.push_back(*dir);
    }
    set_logs_to_stderr(true);  // stdout holds only the explanation
    if (int code = run_stateful_command("build", dbt_args, config, /*plan_only=*/true,
                                        /*plan_json=*/false, /*plan_quiet=*/true))
      return code;
  }
  if (auto d = a.option("--decisions")) path = *d;
  else path = project_target_dir(a.option("--project-dir"), config) / "orc_decisions.json";
  DecisionsRecord record = read_decisions_record(path);

  std::vector<element> matched;
  for (const auto& p : a.positional) {
    bool any = false;
    for (element node : record.nodes) {
      if (!matches_node_pattern(p, json_string(node, "unique_id"))) continue;
      any = true;
      bool seen = false;
      for (element m : matched) seen |= json_string(m, "unique_id") == json_string(node, "unique_id");
      if (!seen) matched.push_back(node);
    }
    if (!any)
      throw Error(fmt::format("no node of the last run ({}) matches \"{}\"", path.string(), p));
  }
  if (format == "json") {
    std::string out = "{\"decisions\": " + json_quote(path.string()) + ", \"generated_at\": " +
                      json_quote(json_string(record.root, "generated_at")) + ", \"nodes\": [";
    for (size_t i = 0; i < matched.size(); ++i) {
      out += i ? ",\n  {\"node\": " : "\n  {\"node\": ";
      out += simdjson::minify(matched[i]);
      out += ", \"would_build_if\": [";
      if (json_string(matched[i], "decision") == "reuse") {
        auto reasons = would_build_if(matched[i]);
        for (size_t j = 0; j < reasons.size(); ++j) out += (j ? ", " : "") + json_quote(reasons[j]);
      }
      out += "]}";
    }
    out += "\n]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  fmt::print("from {} (run at {})\n", path.string(), json_string(record.root, "generated_at"));
  for (element node : matched) print_text(node);
  return 0;
}

}  // namespace orc
