#pragma once
// Canonical form of dbt code (comments and layout removed) and the vars/env vars it reads, so an
// edit that cannot change a node's result does not count as a code change.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// Code of a dbt node or macro with everything that cannot change its result removed:
/// SQL comments (`-- ...` to end of line, `/* ... */`) and Jinja comments (`{# ... #}`) are
/// dropped, runs of whitespace collapse to one space, leading/trailing whitespace is trimmed.
/// String literals ('...' with '' escapes and backslash escapes), double-quoted identifiers
/// ("..."), backtick identifiers and dollar-quoted strings ($$...$$, $tag$...$tag$) are kept
/// byte-exact. For `language == "python"` the code is returned unchanged (indentation matters).
std::string normalize_code(std::string_view code, std::string_view language = "sql");

/// Names of dbt vars and environment variables a piece of Jinja/SQL reads, and the macro
/// names it dispatches to.
struct CodeReferences {
  std::vector<std::string> vars;      ///< var('name') / var("name"), first argument a literal
  std::vector<std::string> env_vars;  ///< env_var('NAME')
  std::vector<std::string> dispatched;  ///< adapter.dispatch('name', ...): calls <prefix>__name
  bool dynamic_var = false;           ///< var(...) whose name is not a string literal
  bool dynamic_env_var = false;       ///< env_var(...) whose name is not a string literal
  bool dynamic_dispatch = false;      ///< dispatch(...) whose macro name is not a literal
};

/// Adds the var()/env_var() names read and the dispatch() macro names called in `code` to
/// `out` (sorted, without duplicates after the call). Scans the Jinja of the raw code: every
/// `{{ }}` and `{% %}` block, SQL comments included (dbt renders Jinja inside them); plain
/// text and `{# #}` comments are not called.
void collect_references(std::string_view code, CodeReferences& out);

/// True when `code` reads the clock or randomness, so that its result can change on every run:
/// now(), current_timestamp, current_date, getdate(), sysdate, random(), uuid functions,
/// dbt's run_started_at / invocation_id, the string constants 'now', 'today', 'tomorrow' and
/// 'yesterday' (also dollar-quoted), and the like (case-insensitive, whole words). Comments
/// are scanned too: a false "volatile" costs a rebuild, a missed one a stale relation.
bool reads_clock_or_randomness(std::string_view code);

/// One clock or randomness read found in code: where it is and what it reads.
struct ClockWord {
  size_t begin = 0;        ///< index of the word in the code
  size_t end = 0;          ///< index past the word (past its closing quote for 'now')
  std::string expression;  ///< lower case, as read: "current_timestamp", "now()", "'today'"
};

/// The first clock or randomness read in `code` at or after `from` (the words of
/// reads_clock_or_randomness), or nullopt.
std::optional<ClockWord> find_clock_word(std::string_view code, size_t from = 0);

}  // namespace orc
