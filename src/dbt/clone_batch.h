#pragma once
// Cloning in one batch (docs/design.md, "Reusing another target's builds"): every relation
// orc clones from the other target, made by one `dbt show --inline` whose Jinja runs dbt's
// own adapter macros in a loop — what dbt's clone materialization does per node, without
// dbt's per-node work. All or nothing: a statement that fails ends the render before the
// commit, and the caller clones those nodes with `dbt clone` instead.
#include <string>
#include <vector>

#include "dbt/clone_manifest.h"
#include "dbt/dbt_invoker.h"
#include "dbt/warehouse_probe.h"
#include "plan/graph.h"

namespace orc {

/// One relation to make: node `unique_id`'s relation in this run's target (`to`: the
/// manifest's database, schema and alias; the database may be empty) as a clone of `from`.
struct CloneJob {
  std::string unique_id;
  RelationParts to;
  CloneSource from;
  /// `from`'s relation kind as the warehouse probe listed it ("table", "view", ...; "" when
  /// not listed): a table is cloned as a table where the adapter can, anything else is
  /// cloned as a view, as dbt's clone materialization decides.
  std::string from_kind;
};

/// What the batch did.
struct CloneBatchAnswer {
  enum class Outcome {
    Cloned,    ///< every job's relation was made and committed, but those in `left`
    Declined,  ///< nothing was done: this adapter or project clones in a way the batch
               ///< does not reproduce (`why` says which)
    Failed,    ///< dbt failed (nothing committed, as far as the adapter is transactional)
  } outcome = Outcome::Failed;
  std::string why;  ///< Declined / Failed: the reason, for the log
  /// Cloned: the jobs' unique_ids it left alone, because dbt would make their clone with
  /// the adapter's or the project's own view materialization (e.g. a view clone on
  /// Snowflake, whose table clones the batch does make). Made by `dbt clone` instead.
  std::vector<std::string> left;
};

/// "cloned", "declined" or "failed".
const char* outcome_name(CloneBatchAnswer::Outcome outcome);

/// Whether the batch makes node `n`'s clone exactly as `dbt clone --full-refresh` would: a
/// SQL model, seed or snapshot whose clone runs nothing but the clone statement (no pre- or
/// post-hooks, grants, persist_docs or sql_header, which dbt's materialization applies) and
/// sets none of the config the adapters' clone statements read from the model (Snowflake's
/// `transient` and `copy_grants`: in the batch, `config` is the inline query's).
bool batch_clonable(const Graph& graph, const Node& n);

/// The inline Jinja-SQL of the batch for `jobs`: the jobs as one JSON literal, then one loop
/// that creates each missing schema (`create_schema`, as dbt clone does before its nodes),
/// then per job either `create_or_replace_clone` (the other relation is a table and
/// `can_clone_table()`; an existing relation of another kind dropped first) or a view
/// `select * from <the other relation_name>` through `get_create_view_as_sql` (an existing
/// relation dropped first, in the same transaction; only where the view materialization is
/// dbt's default, else the job is left), then one commit. It answers ("cloned", <number of
/// relations made>) and ("left", <unique_id>) per job left, or ("declined", <why>) without
/// running anything when the adapter or the project replaces dbt's clone materialization.
std::string clone_batch_query(const std::vector<CloneJob>& jobs);

/// Reads the rows the batch answered (parse_probe_output's rows) for `expected` jobs.
CloneBatchAnswer read_clone_batch_rows(const std::vector<ProbeRow>& rows, size_t expected);

/// Runs the batch through `dbt` (show_inline_arguments with `project_args`). Never throws for
/// dbt's failures: they are the answer's Failed and its why.
CloneBatchAnswer run_clone_batch(const std::vector<CloneJob>& jobs, DbtInvoker& dbt,
                                 const std::vector<std::string>& project_args);

}  // namespace orc
