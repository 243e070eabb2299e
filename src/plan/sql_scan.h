#pragma once
// Lexical scanners over dbt code (SQL with Jinja): where a string, quoted identifier, comment or
// Jinja block that opens at a position ends. Shared by the code normaliser and the clock-read
// classifier. Every scanner moves forward only, so a whole pass is linear in the input; one
// that runs off the end (unterminated string, comment or Jinja block) returns s.size().
#include <cstddef>
#include <string_view>

namespace orc::sql {

inline constexpr size_t npos = std::string_view::npos;

/// ASCII whitespace as SQL and Jinja read it.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// A byte of an unquoted identifier (letters, digits, underscore).
inline bool is_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// True when `prefix` (not empty) occurs in `s` at `i`. The first byte is compared inline:
/// scanners call this at every position, and almost every position fails there.
inline bool starts(std::string_view s, size_t i, std::string_view prefix) {
  return i < s.size() && s[i] == prefix[0] && s.size() - i >= prefix.size() &&
         s.compare(i, prefix.size(), prefix) == 0;
}

/// The first index at or after `i` that is not whitespace.
inline size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

/// True when a Jinja expression (`{{`) or statement (`{%`) block opens at `i`.
inline bool jinja_block_at(std::string_view s, size_t i) {
  return i + 1 < s.size() && s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%');
}

/// True when the Jinja tag at `i` opens with a `-` that strips the whitespace before it.
inline bool strips_left(std::string_view s, size_t i) {
  return i + 2 < s.size() && s[i] == '{' &&
         (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#') && s[i + 2] == '-';
}

/// True when the Jinja construct [i, end) closes with a `-` that strips the whitespace after it.
inline bool strips_right(std::string_view s, size_t i, size_t end) {
  return end >= i + 5 && s[end - 3] == '-';
}

/// Index past the closing quote of the Jinja string literal opening at `i`; npos if unterminated.
size_t jinja_string_end(std::string_view s, size_t i);

/// Index past the Jinja block opening at `i`. Like Jinja's lexer, skips string literals and does
/// not close while a bracket is open (`{{ {'a': {'b': 1}} }}`).
size_t jinja_block_end(std::string_view s, size_t i);

/// Index past the Jinja comment `{# ... #}` opening at `i`.
size_t jinja_comment_end(std::string_view s, size_t i);

/// If a Jinja block or comment opens at `i`: the index past it and past the whitespace its
/// closing `-` strips. Otherwise npos. Lets SQL scanners step over Jinja as one unit.
size_t jinja_skip(std::string_view s, size_t i);

/// Index past the tag `{% word %}` (optional `-`/`+` markers, any inner whitespace) at `i`, or 0.
size_t tag_end(std::string_view s, size_t i, std::string_view word);

/// Index past the `{% raw %} ... {% endraw %}` region starting at `i`, or 0 if none starts there.
size_t raw_region_end(std::string_view s, size_t i);

/// Index past the SQL string or quoted identifier (' " `) opening at `i`. A doubled quote is an
/// escape, and so is a backslash in '...' strings. Jinja inside is stepped over whole.
size_t sql_quoted_end(std::string_view s, size_t i);

/// Length of the dollar-quote opener (`$$` or `$tag$`) at `i`, or 0 when `$` does not open one
/// there (`$1`, or a `$` inside an identifier such as `a$b$`).
size_t dollar_opener_len(std::string_view s, size_t i);

/// Index past the dollar-quoted string at `i` whose opener is `len` bytes long. Each `$word$`
/// candidate is compared once, which keeps the search linear.
size_t dollar_quoted_end(std::string_view s, size_t i, size_t len);

/// End of the `--` comment at `i`: the line break that ends it. Jinja inside is stepped over
/// whole; a line break followed by `{{-`, `{%-` or `{#-` does not end it (Jinja strips it away).
size_t line_comment_end(std::string_view s, size_t i);

/// Index past the `/* ... */` comment at `i` (not nested). Jinja inside is stepped over whole.
size_t block_comment_end(std::string_view s, size_t i);

}  // namespace orc::sql
