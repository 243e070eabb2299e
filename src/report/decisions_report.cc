#include "report/decisions_report.h"

#include <algorithm>

#include "core/json_writer.h"
#include "core/timestamp.h"
#include "core/log.h"

namespace orc {
namespace {

void append_kv(std::string& out, const char* key, const std::string& value, bool comma = true) {
  if (comma) out += ", ";
  append_json_string(out, key);
  out += ": ";
  append_json_string(out, value);
}

void append_optional(std::string& out, const std::optional<std::string>& v) {
  if (v) append_json_string(out, *v);
  else out += "null";
}

/// When the node's build_after window ends: its last build plus the window.
std::optional<std::string> window_end(const NodeDecision& d) {
  if (!d.build_after || !d.has_entry) return std::nullopt;
  auto last = parse_timestamp(d.last_updated);
  if (!last) return std::nullopt;
  return format_timestamp(*last + d.build_after->window());
}

}  // namespace

std::string decisions_json(const Graph& graph, const Plan& plan, const RunInfo& info) {
  std::string out;
  // Generous: pages reserved but never written cost nothing, while growing a 100 MB string
  // copies it (and faults its pages in) again at every doubling.
  out.reserve(4096 + plan.decisions.size() * 2048);
  out += "{";
  append_kv(out, "orc_version", ORC_VERSION, false);
  append_kv(out, "generated_at", info.generated_at);
  append_kv(out, "command", info.command);
  out += ", \"full_refresh\": ";
  out += info.full_refresh ? "true" : "false";
  if (info.plan_only) out += ", \"plan_only\": true";
  out += ", \"dbt_processes\": [";
  for (size_t i = 0; i < info.dbt_processes.size(); ++i) {
    const DbtProcessRecord& p = info.dbt_processes[i];
    out += i ? ", {" : "{";
    append_kv(out, "mode", p.mode, false);
    out += ", \"invocations\": ";
    append_json_string_array(out, p.invocations);
    if (!p.note.empty()) append_kv(out, "note", p.note);
    out += "}";
  }
  out += "]";
  out += ", \"run_command\": ";
  if (info.run_command.empty()) out += "null";
  else append_json_string_array(out, info.run_command);
  if (info.clone_batch) {
    out += fmt::format(", \"clone_batch\": {{\"nodes\": {}", info.clone_batch->nodes);
    if (info.clone_batch->left) out += fmt::format(", \"left\": {}", info.clone_batch->left);
    append_kv(out, "outcome", info.clone_batch->outcome);
    if (!info.clone_batch->why.empty()) append_kv(out, "why", info.clone_batch->why);
    out += "}";
  }
  if (!info.clone_command.empty()) {
    out += ", \"clone_command\": ";
    append_json_string_array(out, info.clone_command);
  }
  if (info.not_run) {
    out += ", \"not_run\": ";
    append_json_string_array(out, *info.not_run);
  }
  out += fmt::format(", \"summary\": {{\"decided\": {}, \"build\": {}, \"reuse\": {}",
                     plan.decisions.size(), plan.build_count, plan.reuse_count);
  if (plan.clone_count) out += fmt::format(", \"clone\": {}", plan.clone_count);
  out += "}";
  if (info.savings) {
    const RunSavings& sv = *info.savings;
    auto number_or_null = [](std::optional<double> v, const char* format) {
      return v ? fmt::format(fmt::runtime(format), *v) : std::string("null");
    };
    out += fmt::format(
        ", \"savings\": {{\"reused\": {}, \"decided\": {}, \"node_seconds\": {:.3f}, "
        "\"reused_without_duration\": {}, \"critical_path_seconds\": {:.3f}, \"threads\": {}, "
        "\"wall_seconds_estimate\": {}}}",
        sv.reused, sv.decided, sv.node_seconds, sv.reused_without_duration,
        sv.critical_path_seconds, number_or_null(sv.threads, "{:.0f}"),
        number_or_null(sv.wall_seconds_estimate(), "{:.3f}"));
  }
  out += ", \"nodes\": [";
  bool first = true;
  for (const NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    out += first ? "\n  {" : ",\n  {";
    first = false;
    append_kv(out, "unique_id", n.unique_id, false);
    append_kv(out, "resource_type", n.resource_type);
    append_kv(out, "decision", action_name(d.action));
    append_kv(out, "reason", reason_text(d.reason));
    append_kv(out, "reason_code", reason_code_name(d.reason.code));
    append_kv(out, "reason_subject", d.reason.subject);
    append_kv(out, "reason_detail", d.reason.detail);
    out += ", \"inputs\": {\"checksum\": {\"old\": ";
    append_optional(out, d.has_entry ? std::optional(d.checksum_old) : std::nullopt);
    out += ", \"new\": ";
    append_json_string(out, d.checksum_new);
    out += "}, \"last_updated\": ";
    append_optional(out, d.has_entry ? std::optional(d.last_updated) : std::nullopt);
    out += ", \"sources\": {";
    for (size_t i = 0; i < d.sources.size(); ++i) {
      const SourceInput& s = d.sources[i];
      if (i) out += ", ";
      append_json_string(out, graph.nodes[s.source].unique_id);
      out += ": {\"recorded\": ";
      append_optional(out, s.recorded);
      out += ", \"current\": ";
      append_optional(out, s.current);
      out += ", \"new_data\": ";
      out += s.is_new ? "true" : "false";
      out += ", \"method\": ";
      append_json_string(out, s.method);
      if (s.recorded_marker || s.current_marker) {
        out += ", \"marker\": {\"recorded\": ";
        append_optional(out, s.recorded_marker);
        out += ", \"current\": ";
        append_optional(out, s.current_marker);
        out += "}";
      }
      out += "}";
    }
    out += "}, \"build_after\": ";
    if (d.build_after) {
      out += fmt::format("{{\"count\": {}, \"period\": ", d.build_after->count);
      append_json_string(out, d.build_after->period);
      out += fmt::format(", \"updates_on\": \"{}\", \"inherited\": {}, \"ends_at\": ",
                         d.build_after->updates_on_all ? "all" : "any",
                         d.build_after_inherited ? "true" : "false");
      append_optional(out, window_end(d));
      out += "}";
    } else {
      out += "null";
    }
    out += ", \"parents\": {";
    for (size_t i = 0; i < d.parents.size(); ++i) {
      const ParentInput& p = d.parents[i];
      if (i) out += ", ";
      append_json_string(out, graph.nodes[p.parent].unique_id);
      out += fmt::format(": {{\"changed\": {}", p.changed ? "true" : "false");
      if (p.changed) {
        append_kv(out, "reason_code", reason_code_name(p.changed->code));
        append_kv(out, "detail", p.changed->detail);
      }
      out += "}";
    }
    out += "}, \"fingerprint_changes\": [";
    for (size_t i = 0; i < d.fingerprint_changes.size(); ++i) {
      const ComponentChange& c = d.fingerprint_changes[i];
      out += i ? ", {" : "{";
      append_kv(out, "component", c.component, false);
      append_kv(out, "key", c.key);
      append_kv(out, "old", c.old_value);
      append_kv(out, "new", c.new_value);
      out += "}";
    }
    out += "]";
    append_kv(out, "relation_check", d.relation_check);
    out += fmt::format(", \"watches\": {{\"macros\": {}, \"vars\": ", d.watched_macros);
    append_json_string_array(out, d.watched_vars);
    out += ", \"env_vars\": ";
    append_json_string_array(out, d.watched_env_vars);
    out += "}}}";
  }
  out += first ? "]}\n" : "\n]}\n";
  return out;
}

std::string plan_table(const Graph& graph, const Plan& plan) {
  size_t width = 4;
  for (const NodeDecision& d : plan.decisions)
    width = std::max(width, graph.nodes[d.node].unique_id.size());
  std::string out = fmt::format("{:<{}}  {:<8}  {}\n", "node", width, "decision", "reason");
  for (const NodeDecision& d : plan.decisions)
    out += fmt::format("{:<{}}  {:<8}  {}: {}\n", graph.nodes[d.node].unique_id, width,
                       action_name(d.action), reason_code_name(d.reason.code),
                       reason_text(d.reason));
  out += fmt::format("{} nodes: {} to build, {} to reuse{} (nothing was run)\n",
                     plan.decisions.size(), plan.build_count, plan.reuse_count,
                     plan.clone_count ? fmt::format(", {} to clone", plan.clone_count) : "");
  return out;
}

void log_decisions(const Graph& graph, const Plan& plan, size_t max_lines) {
  const bool every_line = debug_logging() || plan.reuse_count <= max_lines;
  for (const NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    if (d.action == Action::Reuse) {
      if (every_line) log_info("Reusing {}: {}", n.unique_id, reason_text(d.reason));
    } else if (d.action == Action::Clone) {
      log_debug("Cloning {}: {}", n.unique_id, reason_text(d.reason));
    } else {
      log_debug("Building {}: {}", n.unique_id, reason_text(d.reason));
    }
  }
  if (!every_line)
    log_info("Reusing {} nodes (run with ORCHESTRA_DBT_DEBUG=true to list them)",
             plan.reuse_count);
}

}  // namespace orc
