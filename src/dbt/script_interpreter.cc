#include "dbt/script_interpreter.h"

namespace orc {

namespace {

/// The line of `text` starting at `pos` (without its newline); `pos` moves past it.
std::string_view next_line(std::string_view text, size_t& pos) {
  size_t end = text.find('\n', pos);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(pos, end - pos);
  pos = end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool names_python(std::string_view program) {
  size_t slash = program.rfind('/');
  std::string_view base = slash == std::string_view::npos ? program : program.substr(slash + 1);
  return base.rfind("python", 0) == 0 || base.rfind("pypy", 0) == 0;
}

}  // namespace

std::optional<std::vector<std::string>> python_of_script(std::string_view head) {
  size_t pos = 0;
  std::string_view first = next_line(head, pos);
  if (first.rfind("#!", 0) != 0) return std::nullopt;
  std::vector<std::string> words = split_words(first.substr(2));
  if (words.empty()) return std::nullopt;
  if (names_python(words[0])) return words;
  if (words[0].size() >= 4 && words[0].substr(words[0].size() - 4) == "/env" &&
      words.size() >= 2 && names_python(words[1]))
    return words;
  if (words[0] == "/bin/sh" && words.size() == 1) {
    // pip: '''exec' "/path/to/python" "$0" "$@"   (the quotes let the path hold spaces)
    std::string_view second = next_line(head, pos);
    constexpr std::string_view kExec = "'''exec' \"";
    if (second.rfind(kExec, 0) != 0) return std::nullopt;
    second.remove_prefix(kExec.size());
    size_t quote = second.find('"');
    if (quote == std::string_view::npos || quote == 0) return std::nullopt;
    std::string program(second.substr(0, quote));
    if (!names_python(program)) return std::nullopt;
    return std::vector<std::string>{program};
  }
  return std::nullopt;
}

}  // namespace orc
