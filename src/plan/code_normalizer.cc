#include "plan/code_normalizer.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>

namespace orc {
namespace {

// Every scanner below moves forward only, so a whole pass is linear in the input size. A scan
// that runs off the end (unterminated string, comment or Jinja block) returns s.size().

constexpr size_t npos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// True when `prefix` (not empty) occurs in `s` at `i`. The first byte is compared inline:
/// scanners call this at every position, and almost every position fails there.
bool starts(std::string_view s, size_t i, std::string_view prefix) {
  return i < s.size() && s[i] == prefix[0] && s.size() - i >= prefix.size() &&
         s.compare(i, prefix.size(), prefix) == 0;
}

/// The first index at or after `i` that is not whitespace.
size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

/// Index past the closing quote of the Jinja string literal opening at `i`; npos if unterminated.
size_t jinja_string_end(std::string_view s, size_t i) {
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '\\') ++j;
    else if (s[j] == s[i]) return j + 1;
  }
  return npos;
}

/// True when a Jinja expression (`{{`) or statement (`{%`) block opens at `i`.
bool jinja_block_at(std::string_view s, size_t i) {
  return i + 1 < s.size() && s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%');
}

/// True when the Jinja tag at `i` opens with a `-` that strips the whitespace before it.
bool strips_left(std::string_view s, size_t i) {
  return i + 2 < s.size() && s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#') &&
         s[i + 2] == '-';
}

/// True when the Jinja construct [i, end) closes with a `-` that strips the whitespace after it.
bool strips_right(std::string_view s, size_t i, size_t end) {
  return end >= i + 5 && s[end - 3] == '-';
}

/// Index past the Jinja block opening at `i`. Like Jinja's lexer, skips string literals and does
/// not close while a bracket is open (`{{ {'a': {'b': 1}} }}`).
size_t jinja_block_end(std::string_view s, size_t i) {
  const char close = s[i + 1] == '{' ? '}' : '%';
  int depth = 0;
  size_t j = i + 2;
  while (j < s.size()) {
    const char c = s[j];
    if (c == '\'' || c == '"') {
      j = std::min(jinja_string_end(s, j), s.size());
      continue;
    }
    if (depth == 0 && c == close && j + 1 < s.size() && s[j + 1] == '}') return j + 2;
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    ++j;
  }
  return s.size();
}

/// Index past the Jinja comment `{# ... #}` opening at `i`.
size_t jinja_comment_end(std::string_view s, size_t i) {
  const size_t close = s.find("#}", i + 2);
  return close == npos ? s.size() : close + 2;
}

/// If a Jinja block or comment opens at `i`: the index past it and past the whitespace its
/// closing `-` strips. Otherwise npos. Lets SQL scanners step over Jinja as one unit.
size_t jinja_skip(std::string_view s, size_t i) {
  size_t end;
  if (jinja_block_at(s, i)) end = jinja_block_end(s, i);
  else if (starts(s, i, "{#")) end = jinja_comment_end(s, i);
  else return npos;
  return strips_right(s, i, end) ? skip_space(s, end) : end;
}

/// Index past the tag `{% word %}` (optional `-`/`+` markers, any inner whitespace) at `i`, or 0.
size_t tag_end(std::string_view s, size_t i, std::string_view word) {
  if (!starts(s, i, "{%")) return 0;
  size_t j = i + 2;
  if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
  j = skip_space(s, j);
  if (!starts(s, j, word)) return 0;
  j = skip_space(s, j + word.size());
  if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
  return starts(s, j, "%}") ? j + 2 : 0;
}

/// Index past the `{% raw %} ... {% endraw %}` region starting at `i`, or 0 if none starts there.
size_t raw_region_end(std::string_view s, size_t i) {
  size_t j = tag_end(s, i, "raw");
  if (j == 0) return 0;
  for (; j < s.size(); ++j) {
    if (size_t end = tag_end(s, j, "endraw")) return end;
  }
  return s.size();
}

/// Index past the SQL string or quoted identifier (' " `) opening at `i`. A doubled quote is an
/// escape, and so is a backslash in '...' strings. Jinja inside is stepped over whole.
size_t sql_quoted_end(std::string_view s, size_t i) {
  const char quote = s[i];
  size_t j = i + 1;
  while (j < s.size()) {
    if (size_t e = jinja_skip(s, j); e != npos) {
      j = e;
    } else if (s[j] == '\\' && quote == '\'') {
      j += 2;
    } else if (s[j] == quote) {
      if (j + 1 < s.size() && s[j + 1] == quote) j += 2;
      else return j + 1;
    } else {
      ++j;
    }
  }
  return s.size();
}

/// Length of the dollar-quote opener (`$$` or `$tag$`) at `i`, or 0 when `$` does not open one
/// there (`$1`, or a `$` inside an identifier such as `a$b$`).
size_t dollar_opener_len(std::string_view s, size_t i) {
  if (i > 0 && (is_ident(s[i - 1]) || s[i - 1] == '$')) return 0;
  size_t j = i + 1;
  if (j < s.size() && is_ident(s[j])) {
    if (s[j] >= '0' && s[j] <= '9') return 0;
    while (j < s.size() && is_ident(s[j])) ++j;
  }
  return j < s.size() && s[j] == '$' ? j + 1 - i : 0;
}

/// Index past the dollar-quoted string at `i` whose opener is `len` bytes long. Each `$word$`
/// candidate is compared once, which keeps the search linear.
size_t dollar_quoted_end(std::string_view s, size_t i, size_t len) {
  const std::string_view tag = s.substr(i, len);
  size_t j = i + len;
  while (j < s.size()) {
    if (size_t e = jinja_skip(s, j); e != npos) {
      j = e;
      continue;
    }
    if (s[j] != '$') {
      ++j;
      continue;
    }
    size_t k = j + 1;
    while (k < s.size() && is_ident(s[k])) ++k;
    if (k < s.size() && s[k] == '$' && k + 1 - j == len && s.substr(j, len) == tag) return k + 1;
    j = k;
  }
  return s.size();
}

/// End of the `--` comment at `i`: the line break that ends it. Jinja inside is stepped over
/// whole; a line break followed by `{{-`, `{%-` or `{#-` does not end it (Jinja strips it away).
size_t line_comment_end(std::string_view s, size_t i) {
  size_t j = i + 2;
  while (j < s.size()) {
    if (size_t e = jinja_skip(s, j); e != npos) {
      j = e;
    } else if (s[j] == '\n' || s[j] == '\r') {
      const size_t next = skip_space(s, j);
      if (!strips_left(s, next)) return j;
      j = next;
    } else {
      ++j;
    }
  }
  return s.size();
}

/// Index past the `/* ... */` comment at `i` (not nested). Jinja inside is stepped over whole.
size_t block_comment_end(std::string_view s, size_t i) {
  size_t j = i + 2;
  while (j < s.size()) {
    if (size_t e = jinja_skip(s, j); e != npos) j = e;
    else if (starts(s, j, "*/")) return j + 2;
    else ++j;
  }
  return s.size();
}

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

void collect_references(std::string_view code, CodeReferences& out) {
  size_t i = 0;
  while (i < code.size()) {
    if (!is_ident(code[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < code.size() && is_ident(code[i])) ++i;
    const std::string_view word = code.substr(start, i - start);
    if (word != "var" && word != "env_var") continue;
    if (start > 0 && code[start - 1] == '.') continue;  // a method, e.g. x.var(...)
    const size_t open = skip_space(code, i);
    if (open >= code.size() || code[open] != '(') continue;
    const bool env = word == "env_var";
    if (auto name = literal_name(code, open)) {
      (env ? out.env_vars : out.vars).emplace_back(*name);
    } else {
      (env ? out.dynamic_env_var : out.dynamic_var) = true;
    }
  }
  sort_unique(out.vars);
  sort_unique(out.env_vars);
}

bool reads_clock_or_randomness(std::string_view code) {
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
  for (size_t i = 0; i < code.size();) {
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
    if (it->second & kWord) return true;
    if ((it->second & kQuoted) && start > 0 && code[start - 1] == '\'' && i < code.size() &&
        code[i] == '\'')
      return true;
    if (it->second & kCall) {
      const size_t next = skip_space(code, i);
      if (next < code.size() && code[next] == '(') return true;
    }
  }
  return false;
}

}  // namespace orc
