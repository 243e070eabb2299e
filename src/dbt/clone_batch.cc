#include "dbt/clone_batch.h"

#include <algorithm>
#include <array>
#include <optional>
#include <fmt/format.h>

#include "core/error.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_output.h"

namespace orc {
namespace {

/// The config keys whose effect dbt's clone materialization applies beside the clone
/// statement (hooks are Node::hooks_text), and those an adapter's clone statement reads from
/// the model's config (dbt-snowflake's create_or_replace_clone: transient, copy_grants).
constexpr std::array<std::string_view, 5> kNotTheBatchs = {"grants", "persist_docs",
                                                           "sql_header", "transient",
                                                           "copy_grants"};

/// The jobs as one JSON array of {"uid", "this": [db, schema, identifier], "other": [...],
/// "name": the other relation_name, "kind": the other relation's kind}.
std::string jobs_json(const std::vector<CloneJob>& jobs) {
  std::string out = "[";
  auto parts = [&out](const RelationParts& p) {
    append_json_string_array(out, {p.database, p.schema, p.identifier});
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
/// The checks first: where the adapter or the project replaces dbt's clone materialization,
/// its clones would not be what dbt's default makes, so the batch declines; where it
/// replaces the view materialization, the view clones are left (their ids answered).
/// The quote policy is the project's (dbt builds a node's relation with it), read back
/// through quote_as_configured. Relations in this target's schemas are looked up with
/// adapter.get_relation (dbt show has cached those schemas); the other target's kind comes
/// from orc (the same listing the decision used).
constexpr const char* kProgram = R"({{# orc clone batch #}}
{{%- if execute -%}}
{{%- set orc_jobs = fromjson({jobs}) -%}}
{{%- if orc_jobs is none -%}}{{{{ exceptions.raise_compiler_error('orc clone batch: the jobs are not JSON') }}}}{{%- endif -%}}
{{%- set orc_why = [] -%}}
{{%- if ('materialization_clone_' ~ adapter.type()) in context -%}}
{{%- do orc_why.append('materialization_clone_' ~ adapter.type() ~ ' replaces the default') -%}}
{{%- elif 'materialization_clone_default' not in context or context['materialization_clone_default'].macro.package_name != 'dbt' -%}}
{{%- do orc_why.append('materialization_clone_default is not dbt' ~ "'" ~ 's') -%}}
{{%- endif -%}}
{{%- set orc_views = ('materialization_view_' ~ adapter.type()) not in context and 'materialization_view_default' in context and context['materialization_view_default'].macro.package_name == 'dbt' -%}}
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
{{%- set orc_left = [] -%}}
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
{{%- elif not orc_views -%}}
{{#- dbt would make a view with the adapter's (or project's) own view materialization -#}}
{{%- do orc_left.append(orc_j.uid) -%}}
{{%- else -%}}
{{%- do drop_relation_if_exists(orc_old) -%}}
{{%- call statement('orc_clone') -%}}{{{{ get_create_view_as_sql(orc_to.incorporate(type='view'), 'select * from ' ~ orc_j.name) }}}}{{%- endcall -%}}
{{%- set orc_n.statements = orc_n.statements + 1 -%}}
{{%- endif -%}}
{{%- endfor -%}}
{{%- if orc_n.statements > 0 -%}}{{%- do adapter.commit() -%}}{{%- endif -%}}
select cast('cloned' as {t}) as orc_source_id, cast('{{{{ orc_jobs | length - orc_left | length }}}}' as {t}) as orc_max_loaded_at
{{%- for orc_uid in orc_left %}}
union all select cast('left' as {t}), cast('{{{{ orc_uid | replace("'", "''") }}}}' as {t})
{{%- endfor -%}}
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
    for (std::string_view k : kNotTheBatchs)
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
  std::optional<std::string> made;
  for (const auto& [id, value] : rows) {
    if (id == "declined") {
      a.outcome = CloneBatchAnswer::Outcome::Declined;
      a.why = value.value_or("");
      a.left.clear();
      return a;
    }
    if (id == "cloned") made = value;
    else if (id == "left" && value) a.left.push_back(*value);
  }
  if (made && *made == std::to_string(expected - std::min(a.left.size(), expected)) &&
      a.left.size() <= expected) {
    a.outcome = CloneBatchAnswer::Outcome::Cloned;
    return a;
  }
  a.left.clear();
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
