#pragma once
// Everything orc asks the warehouse, in one `dbt show --inline` query run through dbt (so every
// adapter works): the freshness of sources with loaded_at_field / loaded_at_query (whether or
// not they have warn/error thresholds, which plain `dbt source freshness` needs), a
// change marker beside them (a row count, DML counters or last-modified metadata), a
// data-change token for sources without them (where orc knows how to read one), the relations
// of the schemas orc may reuse nodes in, the values of the vars nodes read (hashed by
// dbt's own Jinja) and, beside those, dbt's thread count. Parts that fail are isolated by
// splitting the query.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dbt/dbt_invoker.h"
#include "plan/graph.h"
#include "plan/observations.h"

namespace orc {

/// What to ask.
struct ProbeRequest {
  std::vector<NodeId> sources;  ///< sources whose freshness is needed
  std::vector<std::pair<std::string, std::string>> schemas;  ///< (database, schema) to list
  std::vector<std::string> vars;  ///< var names whose values (hashed) are needed
  /// Read a data-change token for the sources without loaded_at_* (off when the user set
  /// require_explicit_source_freshness: their freshness is then unknown).
  bool source_tokens = true;

  bool empty() const { return sources.empty() && schemas.empty() && vars.empty(); }
};

/// What was learnt. A source, schema or var missing from it could not be read.
struct ProbeResult {
  /// Filled directly for the decision: freshness, tokens (sources without loaded_at_*: value,
  /// or why there is none), change markers (the parts answered, joined: the row count first,
  /// then the metadata part, e.g. "n:5|dml:17") and relations (`enabled` is the caller's).
  Observations observed;
  std::unordered_map<std::string, std::string> var_values;  ///< name -> md5 of its JSON value
  /// dbt's thread count (`target.threads`), asked beside any other part; nullopt when no query
  /// ran or it gave no positive number.
  std::optional<int> threads;
  /// The target's name (`target.name`), asked beside the thread count; "" when not answered.
  std::string target_name;
};

/// The inline query for `request`.
std::string probe_query(const Graph& graph, const ProbeRequest& request);

/// How a source's data-change token is read on an adapter (docs/design.md, "Implicit
/// freshness").
struct ChangeTokenMethod {
  enum class Kind {
    None,            ///< no token: freshness unknown
    RowFingerprint,  ///< `sql` is an aggregate over the rows (alias `orc_t`): "fp:..."
    Metadata,        ///< `sql` is a whole Jinja-SQL select of the row ({id}, {t} filled in;
                     ///< `orc_found` is the relation), giving "meta:<time>[|...]"
  } kind = Kind::None;
  std::string name;  ///< the `method` recorded per source input, e.g. "metadata: last_altered"
  std::string sql;
};

/// The token method of `adapter_type`: a row fingerprint (count and an order-independent sum
/// of 64-bit row hashes) on DuckDB and PostgreSQL; the warehouse's last-modified metadata on
/// Snowflake (LAST_ALTERED), BigQuery (__TABLES__), Databricks/Spark (DESCRIBE HISTORY); dbt's
/// own get_relation_last_modified plus the row count on every other adapter (Redshift, ...).
ChangeTokenMethod change_token_method(const std::string& adapter_type);

/// How the change marker of a source with loaded_at_* is read on an adapter: a value beside
/// max(loaded_at) that also moves when rows arrive without a newer loaded_at (docs/design.md,
/// "Late-arriving rows"), compared for equality only.
struct ChangeMarkerMethod {
  /// count(*) in the same aggregate as max(loaded_at_field) ("n:<count>"); for a source with
  /// a loaded_at_query (no aggregate to share) a count(*) of its own.
  bool row_count = false;
  /// A metadata select in the form of ChangeTokenMethod::Metadata's `sql` (the very SQL of
  /// the adapter's change token where it has one), giving "meta:..." or "dml:<n>"; "" if none.
  std::string metadata_sql;
};

/// The marker method of `adapter_type`: the row count on DuckDB; the row count plus the
/// table's cumulative DML counters (pg_stat_user_tables) on PostgreSQL; the change token's
/// metadata on Snowflake (LAST_ALTERED), BigQuery (__TABLES__) and Databricks/Spark (DESCRIBE
/// HISTORY); the row count on every other adapter; nothing when the adapter is not known.
ChangeMarkerMethod change_marker_method(const std::string& adapter_type);

/// The row-fingerprint expression of `adapter_type`, empty when its method is not one.
std::string change_token_expression(const std::string& adapter_type);

/// A metadata token ("meta:<time>[|rest]") with its time normalised to UTC ISO-8601 when it
/// parses (so time zones and precision do not make equal instants differ); else as given.
std::string normalize_metadata_token(const std::string& value);

/// One row of `dbt show --output json` output: (orc_source_id, orc_max_loaded_at or null).
using ProbeRow = std::pair<std::string, std::optional<std::string>>;

/// Parses `dbt show --output json` stdout into rows. Throws orc::Error when there is no show
/// output in the text.
std::vector<ProbeRow> parse_probe_output(std::string_view stdout_text);

/// Adds the rows answering `request` to `result`; timestamps are normalised to UTC ISO-8601.
void read_probe_rows(const Graph& graph, const ProbeRequest& request,
                     const std::vector<ProbeRow>& rows, ProbeResult& result);

/// Runs the query through dbt and adds what it learns to `result`. With `write_manifest`, the
/// first dbt process also writes target/manifest.json (so it can replace `dbt ls`). Returns
/// false when no dbt process ran (nothing to ask).
bool probe_warehouse(const Graph& graph, const ProbeRequest& request, DbtInvoker& dbt,
                     const std::vector<std::string>& project_args, ProbeResult& result,
                     bool write_manifest = false);

/// True when both source nodes would be queried with the same SQL (change marker included).
bool same_freshness_query(const Node& a, const Node& b);

}  // namespace orc
