#include "plan/code_normalizer.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>

#include "plan/sql_scan.h"

namespace orc {
namespace {

using namespace sql;

/// True when `text` holds a Jinja expression or statement, which dbt renders even in comments.
bool has_jinja(std::string_view text) {
  return text.find("{{") != npos || text.find("{%") != npos;
}

/// The normalised text being built. Whitespace and dropped comments become a pending gap that
/// is written as one separator only when more text follows, so the result comes out trimmed.
struct Output {
  std::string text;
  bool space = false;         ///< whitespace since the last text (a Jinja `-` marker strips it)
  bool comment = false;       ///< a dropped SQL comment since the last text (SQL whitespace)
  bool after_line = false;    ///< the last text is a kept `--` comment: the gap must be a newline

  void put(std::string_view t) {
    if ((space || comment) && !text.empty()) text += after_line ? '\n' : ' ';
    space = comment = after_line = false;
    text += t;
  }
};

/// Writes the Jinja block (or raw region) at `i` with whitespace collapsed and string literals
/// intact; returns where the SQL resumes.
size_t put_jinja_block(std::string_view s, size_t i, Output& out) {
  if (size_t raw = raw_region_end(s, i)) {
    out.put(s.substr(i, raw - i));
    return raw;
  }
  if (strips_left(s, i)) out.space = false;
  const size_t end = jinja_block_end(s, i);
  for (size_t j = i; j < end;) {
    if (is_space(s[j])) {
      out.space = true;
      ++j;
    } else if (s[j] == '\'' || s[j] == '"') {
      const size_t e = std::min(jinja_string_end(s, j), end);
      out.put(s.substr(j, e - j));
      j = e;
    } else {
      out.put(s.substr(j, 1));
      ++j;
    }
  }
  return strips_right(s, i, end) ? skip_space(s, end) : end;
}

std::string normalize_sql(std::string_view s) {
  Output out;
  out.text.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      out.space = true;
      ++i;
    } else if (starts(s, i, "{#")) {  // Jinja comment: renders to nothing
      if (strips_left(s, i)) out.space = false;
      i = jinja_skip(s, i);
    } else if (jinja_block_at(s, i)) {
      i = put_jinja_block(s, i, out);
    } else if (starts(s, i, "--") || starts(s, i, "/*")) {
      const bool line = c == '-';
      const size_t end = line ? line_comment_end(s, i) : block_comment_end(s, i);
      const std::string_view text = s.substr(i, end - i);
      if (has_jinja(text)) {
        out.put(text);
        out.after_line = line;
      } else {
        out.comment = true;
      }
      i = end;
    } else if (c == '\'' || c == '"' || c == '`') {
      const size_t end = sql_quoted_end(s, i);
      out.put(s.substr(i, end - i));
      i = end;
    } else if (size_t len = c == '$' ? dollar_opener_len(s, i) : 0) {
      const size_t end = dollar_quoted_end(s, i, len);
      out.put(s.substr(i, end - i));
      i = end;
    } else {
      out.put(s.substr(i, 1));
      ++i;
    }
  }
  return std::move(out.text);
}

/// The literal name passed to the var()/env_var() call whose `(` is at `open`, or nullopt when
/// the name is computed (not a lone string literal).
std::optional<std::string_view> literal_name(std::string_view s, size_t open) {
  const size_t j = skip_space(s, open + 1);
  if (j >= s.size() || (s[j] != '\'' && s[j] != '"')) return std::nullopt;
  const size_t end = jinja_string_end(s, j);
  if (end == npos) return std::nullopt;
  const size_t next = skip_space(s, end);
  if (next >= s.size() || (s[next] != ',' && s[next] != ')')) return std::nullopt;
  return s.substr(j + 1, end - j - 2);
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::string normalize_code(std::string_view code, std::string_view language) {
  if (language == "python") return std::string(code);
  return normalize_sql(code);
}

namespace {

/// The var()/env_var()/dispatch() calls of `code`, which is all Jinja (the inside of one
/// `{{ }}` or `{% %}` block).
void collect_calls(std::string_view code, CodeReferences& out) {
  size_t i = 0;
  while (i < code.size()) {
    if (!is_ident(code[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < code.size() && is_ident(code[i])) ++i;
    const std::string_view word = code.substr(start, i - start);
    const size_t open = skip_space(code, i);
    if (open >= code.size() || code[open] != '(') continue;
    if (word == "dispatch") {  // adapter.dispatch('name', 'namespace')
      if (auto name = literal_name(code, open)) out.dispatched.emplace_back(*name);
      else out.dynamic_dispatch = true;
      continue;
    }
    if (word != "var" && word != "env_var") continue;
    if (start > 0 && code[start - 1] == '.') continue;  // a method, e.g. x.var(...)
    const bool env = word == "env_var";
    if (auto name = literal_name(code, open)) {
      (env ? out.env_vars : out.vars).emplace_back(*name);
    } else {
      (env ? out.dynamic_env_var : out.dynamic_var) = true;
    }
  }
}

}  // namespace

void collect_references(std::string_view code, CodeReferences& out) {
  // Only Jinja runs: the text between `{{ }}` and `{% %}` (SQL comments included, as dbt
  // renders them). Plain text, a `var(` in a SQL comment outside them, and `{# #}` comments
  // are never called.
  size_t i = 0;
  while ((i = code.find('{', i)) != std::string_view::npos && i + 1 < code.size()) {
    const char kind = code[i + 1];
    if (kind != '{' && kind != '%' && kind != '#') {
      ++i;
      continue;
    }
    const std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    const size_t end = code.find(close, i + 2);
    const size_t stop = end == std::string_view::npos ? code.size() : end;
    if (kind != '#') collect_calls(code.substr(i + 2, stop - i - 2), out);
    i = end == std::string_view::npos ? code.size() : end + 2;
  }
  sort_unique(out.vars);
  sort_unique(out.env_vars);
  sort_unique(out.dispatched);
}

std::optional<ClockWord> find_clock_word(std::string_view code, size_t from) {
  // Each listed word (lower case) with what makes it volatile: kWord on its own (a whole word,
  // any case), kQuoted as a quoted literal ('now'), kCall when called (`now (`).
  enum : uint8_t { kWord = 1, kQuoted = 2, kCall = 4 };
  static const std::unordered_map<std::string_view, uint8_t> kListed = [] {
    std::unordered_map<std::string_view, uint8_t> m;
    for (std::string_view w : {"current_timestamp", "current_date", "current_time",
                               "localtimestamp", "localtime", "sysdate", "systimestamp",
                               "run_started_at", "invocation_id"})
      m[w] |= kWord;
    for (std::string_view w : {"now", "today", "tomorrow", "yesterday"}) m[w] |= kQuoted;
    for (std::string_view w :
         {"now", "getdate", "getutcdate", "sysdatetime", "random", "rand", "uuid", "uuid4",
          "gen_random_uuid", "newid", "unix_timestamp", "statement_timestamp", "clock_timestamp",
          "transaction_timestamp", "timeofday", "current_timestamp", "utcnow", "today",
          "get_current_timestamp", "get_current_time", "current_localtimestamp",
          "uuid_generate_v1", "uuid_generate_v4", "uuidv4", "uuidv7"})
      m[w] |= kCall;
    return m;
  }();
  constexpr size_t kShortest = 3, kLongest = 24;  // the lengths of the listed words
  char lower[kLongest];
  // One pass over maximal identifier runs (a whole word is exactly such a run).
  for (size_t i = from; i < code.size();) {
    if (!is_ident(code[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < code.size() && is_ident(code[i])) ++i;
    const size_t len = i - start;
    if (len < kShortest || len > kLongest) continue;
    for (size_t k = 0; k < len; ++k) {
      const char c = code[start + k];
      lower[k] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    auto it = kListed.find(std::string_view(lower, len));
    if (it == kListed.end()) continue;
    const std::string word(lower, len);
    if (it->second & kWord) return ClockWord{start, i, word};
    if (it->second & kQuoted) {  // 'now', ' now ', $$now$$: the whole string constant
      size_t before = start, after = i;
      while (before > from && is_space(code[before - 1])) --before;
      while (after < code.size() && is_space(code[after])) ++after;
      auto quote = [](char c) { return c == '\'' || c == '$'; };
      if (before > 0 && quote(code[before - 1]) && after < code.size() && quote(code[after]))
        return ClockWord{before - 1, after + 1, "'" + word + "'"};
    }
    if (it->second & kCall) {
      const size_t next = skip_space(code, i);
      if (next < code.size() && code[next] == '(') return ClockWord{start, i, word + "()"};
    }
  }
  return std::nullopt;
}

bool reads_clock_or_randomness(std::string_view code) {
  return find_clock_word(code).has_value();
}

}  // namespace orc
