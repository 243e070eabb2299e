#include "plan/sql_scan.h"

#include <algorithm>

namespace orc::sql {

size_t jinja_string_end(std::string_view s, size_t i) {
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '\\') ++j;
    else if (s[j] == s[i]) return j + 1;
  }
  return npos;
}

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

size_t jinja_comment_end(std::string_view s, size_t i) {
  const size_t close = s.find("#}", i + 2);
  return close == npos ? s.size() : close + 2;
}

size_t jinja_skip(std::string_view s, size_t i) {
  size_t end;
  if (jinja_block_at(s, i)) end = jinja_block_end(s, i);
  else if (starts(s, i, "{#")) end = jinja_comment_end(s, i);
  else return npos;
  return strips_right(s, i, end) ? skip_space(s, end) : end;
}

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

size_t raw_region_end(std::string_view s, size_t i) {
  size_t j = tag_end(s, i, "raw");
  if (j == 0) return 0;
  for (; j < s.size(); ++j) {
    if (size_t end = tag_end(s, j, "endraw")) return end;
  }
  return s.size();
}

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

size_t dollar_opener_len(std::string_view s, size_t i) {
  if (i > 0 && (is_ident(s[i - 1]) || s[i - 1] == '$')) return 0;
  size_t j = i + 1;
  if (j < s.size() && is_ident(s[j])) {
    if (s[j] >= '0' && s[j] <= '9') return 0;
    while (j < s.size() && is_ident(s[j])) ++j;
  }
  return j < s.size() && s[j] == '$' ? j + 1 - i : 0;
}

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

size_t block_comment_end(std::string_view s, size_t i) {
  size_t j = i + 2;
  while (j < s.size()) {
    if (size_t e = jinja_skip(s, j); e != npos) j = e;
    else if (starts(s, j, "*/")) return j + 2;
    else ++j;
  }
  return s.size();
}

}  // namespace orc::sql
