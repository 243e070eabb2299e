#include "dbt/clone_batch.h"

#include <array>
#include <fmt/format.h>

#include "core/error.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_output.h"

namespace orc {
namespace {

/// The config keys whose effect dbt's clone materialization applies beside the clone
/// statement (hooks are Node::hooks_text).
constexpr std::array<std::string_view, 3> kAppliedBesideTheClone = {"grants", "persist_docs",
                                                                    "sql_header"};

/// The jobs as one JSON array of {"uid", "this": [db, schema, identifier], "other": [...],
/// "name": the other relation_name, "kind": the other relation's kind}.
std::string jobs_json(const std::vector<CloneJob>& jobs) {
  std::string out = "[";
  auto parts = [&out](const RelationParts& p) {
    out += '[';
    append_json_string(out, p.database);
    out += ',';
    append_json_string(out, p.schema);
    out += ',';
    append_json_string(out, p.identifier);
    out += ']';
  };
  for (const CloneJob& j : jobs) {
    if (out.size() > 1) out += ',';
    out += "{\"uid\":";
    append_json_string(out, j.unique_id);
    out += ",\"this\":";
    parts(j.to);
    out += ",\"other\":";
    parts(j.from.parts);
    out += ",\"name\":";
    append_json_string(out, j.from.relation_name);
    out += ",\"kind\":";
    append_json_string(out, j.from_kind);
    out += '}';
  }
  out += ']';
  return out;
}

/// `text` as a single-quoted Jinja string literal (Jinja reads backslash escapes in it).
std::string jinja_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

/// The batch's Jinja program; `{jobs}` is the jobs' JSON as a Jinja string literal and `{t}`
/// dbt's text type. Rendered by dbt only when `execute` (never while parsing the inline node).
/// The checks first: where the adapter or the project replaces dbt's clone or view
/// materialization, the clone would not be what dbt's defaults make, so the batch declines.
/// The quote policy is the project's (dbt builds a node's relation with it), read back
/// through quote_as_configured. Relations in this target's schemas are looked up with
/// adapter.get_relation (dbt show has cached those schemas); the other target's kind comes
/// from orc (the same listing the decision used).
constexpr const char* kProgram = R"({{# orc clone batch #}}
{{%- if execute -%}}
{{%- set orc_jobs = fromjson({jobs}) -%}}
{{%- if orc_jobs is none -%}}{{{{ exceptions.raise_compiler_error('orc clone batch: the jobs are not JSON') }}}}{{%- endif -%}}
{{%- set orc_why = [] -%}}
{{%- for orc_m in ['materialization_clone_' ~ adapter.type(), 'materialization_view_' ~ adapter.type()] if orc_m in context -%}}
{{%- do orc_why.append(orc_m ~ ' replaces the default') -%}}
{{%- endfor -%}}
{{%- for orc_m in ['materialization_clone_default', 'materialization_view_default'] if orc_m not in context or context[orc_m].macro.package_name != 'dbt' -%}}
{{%- do orc_why.append(orc_m ~ ' is not dbt' ~ "'" ~ 's') -%}}
{{%- endfor -%}}
{{%- if orc_why -%}}
select cast('declined' as {t}) as orc_source_id, cast('{{{{ orc_why | join("; ") | replace("'", "''") }}}}' as {t}) as orc_max_loaded_at
{{%- else -%}}
{{%- set orc_q = {{}} -%}}
{{%- for orc_p in ['database', 'schema', 'identifier'] -%}}
{{%- do orc_q.update({{orc_p: adapter.quote_as_configured('orc', orc_p) != 'orc'}}) -%}}
{{%- endfor -%}}
{{%- set orc_schemas = {{}} -%}}
{{%- for orc_j in orc_jobs -%}}
{{%- do orc_schemas.update({{(orc_j.this[0] ~ '.' ~ orc_j.this[1]): orc_j.this}}) -%}}
{{%- endfor -%}}
{{%- for orc_s in orc_schemas.values() -%}}
{{%- set orc_r = api.Relation.create(database=orc_s[0] or none, schema=orc_s[1], quote_policy=orc_q) -%}}
{{%- if not adapter.check_schema_exists(orc_r.database, orc_r.schema) -%}}
{{%- do adapter.create_schema(orc_r) -%}}
{{%- endif -%}}
{{%- endfor -%}}
{{%- set orc_tables_clone = can_clone_table() -%}}
{{%- set orc_n = namespace(statements=0) -%}}
{{%- for orc_j in orc_jobs -%}}
{{%- set orc_to = api.Relation.create(database=orc_j.this[0] or none, schema=orc_j.this[1], identifier=orc_j.this[2], quote_policy=orc_q) -%}}
{{%- set orc_from = api.Relation.create(database=orc_j.other[0] or none, schema=orc_j.other[1], identifier=orc_j.other[2], type=('table' if orc_j.kind == 'table' else none), quote_policy=orc_q) -%}}
{{%- set orc_old = adapter.get_relation(database=orc_to.database, schema=orc_to.schema, identifier=orc_to.identifier) -%}}
{{%- if orc_to.database == orc_from.database and orc_to.schema == orc_from.schema and orc_to.identifier == orc_from.identifier -%}}
{{#- the relation is the other target's own: nothing to make (dbt skips it too) -#}}
{{%- elif orc_j.kind == 'table' and orc_tables_clone -%}}
{{%- if orc_old is not none and not orc_old.is_table -%}}{{%- do drop_relation_if_exists(orc_old) -%}}{{%- endif -%}}
{{%- call statement('orc_clone') -%}}{{{{ create_or_replace_clone(orc_to.incorporate(type='table'), orc_from) }}}}{{%- endcall -%}}
{{%- set orc_n.statements = orc_n.statements + 1 -%}}
{{%- else -%}}
{{%- do drop_relation_if_exists(orc_old) -%}}
{{%- call statement('orc_clone') -%}}{{{{ get_create_view_as_sql(orc_to.incorporate(type='view'), 'select * from ' ~ orc_j.name) }}}}{{%- endcall -%}}
{{%- set orc_n.statements = orc_n.statements + 1 -%}}
{{%- endif -%}}
{{%- endfor -%}}
{{%- if orc_n.statements > 0 -%}}{{%- do adapter.commit() -%}}{{%- endif -%}}
select cast('cloned' as {t}) as orc_source_id, cast('{{{{ orc_jobs | length }}}}' as {t}) as orc_max_loaded_at
{{%- endif -%}}
{{%- else -%}}
select cast('parsed' as {t}) as orc_source_id, cast('' as {t}) as orc_max_loaded_at
{{%- endif -%}})";

}  // namespace

const char* outcome_name(CloneBatchAnswer::Outcome outcome) {
  switch (outcome) {
    case CloneBatchAnswer::Outcome::Cloned: return "cloned";
    case CloneBatchAnswer::Outcome::Declined: return "declined";
    case CloneBatchAnswer::Outcome::Failed: return "failed";
  }
  return "failed";
}

bool batch_clonable(const Graph& graph, const Node& n) {
  if (!n.language.empty() && n.language != "sql") return false;
  if (!n.hooks_text.empty()) return false;
  for (const auto& [key, value] : n.config) {
    (void)value;
    const std::string& name = graph.config_keys[key];
    for (std::string_view k : kAppliedBesideTheClone)
      if (name == k) return false;
  }
  return true;
}

std::string clone_batch_query(const std::vector<CloneJob>& jobs) {
  return fmt::format(kProgram, fmt::arg("jobs", jinja_string(jobs_json(jobs))),
                     fmt::arg("t", "{{ dbt.type_string() }}"));
}

CloneBatchAnswer read_clone_batch_rows(const std::vector<ProbeRow>& rows, size_t expected) {
  CloneBatchAnswer a;
  for (const auto& [id, value] : rows) {
    if (id == "declined") {
      a.outcome = CloneBatchAnswer::Outcome::Declined;
      a.why = value.value_or("");
      return a;
    }
    if (id == "cloned" && value == std::to_string(expected)) {
      a.outcome = CloneBatchAnswer::Outcome::Cloned;
      return a;
    }
  }
  a.why = fmt::format("dbt's answer did not say that all {} relations were made", expected);
  return a;
}

CloneBatchAnswer run_clone_batch(const std::vector<CloneJob>& jobs, DbtInvoker& dbt,
                                 const std::vector<std::string>& project_args) {
  ProcessResult out =
      dbt.capture(show_inline_arguments(clone_batch_query(jobs), false, project_args));
  if (out.exit_code != 0) {
    CloneBatchAnswer a;
    a.why = dbt_failure_text(out.stdout_text.empty() ? out.stderr_text : out.stdout_text);
    return a;
  }
  try {
    return read_clone_batch_rows(parse_probe_output(out.stdout_text), jobs.size());
  } catch (const Error& e) {
    CloneBatchAnswer a;
    a.why = e.what();
    return a;
  }
}

}  // namespace orc
