#pragma once
// Where dbt code reads the clock or randomness, and whether that place can change which rows a
// node holds: a read in a filter, join condition, grouping, window, ordering or incremental
// predicate can; one that only fills an output column (an audit timestamp) cannot change more
// than that column. A heuristic over SQL text: when the text cannot be followed, every read in
// it counts as volatile (a wrong "volatile" costs a rebuild, a missed one a stale relation).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// Where a clock or randomness read sits.
enum class ClockPlace : uint8_t {
  SelectList,      ///< a select-list column whose value is the clock's alone (audit column)
  Outside,         ///< outside any clause: a macro body's expression, or the query a macro call
                   ///< writes (the place of the call counts)
  Computed,        ///< a select-list column (or expression) that combines the clock with columns
  SubqueryInSelect,  ///< a subquery inside the select list
  From,            ///< FROM / JOIN table expressions (table functions, samples)
  JoinOn,          ///< JOIN ... ON / USING
  Where,           ///< WHERE, or an aggregate's FILTER (WHERE ...)
  Having,
  Qualify,
  GroupBy,
  DistinctOn,
  Window,          ///< OVER (...) or a WINDOW clause
  OrderBy,         ///< ORDER BY, or an aggregate's WITHIN GROUP (ORDER BY ...)
  Limit,           ///< LIMIT / OFFSET / FETCH / TOP / SAMPLE
  Values,          ///< a VALUES list
  Statement,       ///< a statement other than a query (insert, update, create, ...)
  Incremental,     ///< inside `{% if is_incremental() %}` (the incremental predicate)
  JinjaStatement,  ///< a `{% ... %}` tag or `{% set %}`/`{% call %}` block: where it goes is unseen
  Config,          ///< inside `{{ config(...) }}` (hooks and the like)
  UnknownCall,     ///< a clock-reading macro called where orc cannot see the call
  Python,          ///< a Python model
  Unparsed,        ///< the code could not be followed (unbalanced parentheses or blocks)
};

/// True for the places where a read can change which rows the node holds or how they are
/// computed (everything but SelectList and Outside; Outside is decided by the caller's place).
bool is_volatile_place(ClockPlace place);

/// One read: what was read and where.
struct ClockRead {
  std::string expression;  ///< e.g. "current_timestamp", "now()", "'today'", "stamp()"
  ClockPlace place = ClockPlace::Unparsed;
};

/// What find_clock_reads found.
struct ClockReads {
  std::optional<ClockRead> first;            ///< the first read, wherever it is
  std::optional<ClockRead> first_volatile;   ///< the first read at a volatile place
  /// Reads outside any clause or in a select-list column only (a macro body's reads that take
  /// their caller's place); the first one.
  std::optional<ClockRead> first_follows_caller;
  /// Per name of `macro_calls`: whether a call to it was found.
  std::vector<bool> calls_found;
};

/// Classifies the clock and randomness reads of `code`, normalised SQL with Jinja (comments
/// removed, Jinja blocks kept; see normalize_code). A call of a macro named in `macro_calls`
/// (`{{ name(...) }}`, `{{ pkg.name(...) }}`, or `adapter.dispatch('x')` for a name ending in
/// `__x`) counts as a read at the call's place. Unbalanced parentheses or Jinja blocks, or an
/// unterminated string, make every read volatile (place Unparsed).
ClockReads find_clock_reads(std::string_view code,
                            const std::vector<std::string>& macro_calls = {});

}  // namespace orc
