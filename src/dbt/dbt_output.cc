#include "dbt/dbt_output.h"

namespace orc {
namespace {

bool contains(std::string_view line, std::string_view what) {
  return line.find(what) != std::string_view::npos;
}

bool indented(std::string_view line) {
  return !line.empty() && (line.front() == ' ' || line.front() == '\t');
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// The lines Python prints between the tracebacks of chained exceptions.
bool chain_line(std::string_view line) {
  return contains(line, "During handling of the above exception, another exception occurred") ||
         contains(line, "The above exception was the direct cause of the following exception");
}

/// dbt's log line prefix "HH:MM:SS  ".
bool has_clock_prefix(std::string_view line) {
  if (line.size() < 10 || line.substr(8, 2) != "  " || line[2] != ':' || line[5] != ':')
    return false;
  for (size_t i : {0, 1, 3, 4, 6, 7})
    if (line[i] < '0' || line[i] > '9') return false;
  return true;
}

}  // namespace

std::string without_python_tracebacks(std::string_view text) {
  std::string kept;
  std::string last_exception;
  enum class Mode { Keep, Frames, Message } mode = Mode::Keep;
  bool removed = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    const bool ends_line = end != std::string_view::npos;
    pos = ends_line ? end + 1 : text.size();
    if (contains(line, "Traceback (most recent call last):")) {
      mode = Mode::Frames;
      removed = true;
      continue;
    }
    if (contains(line, "Exception ignored in: ")) {
      removed = true;
      continue;
    }
    if (mode == Mode::Frames) {
      if (indented(line) || blank(line)) continue;  // frames, source lines, carets
      last_exception = std::string(line);             // e.g. "OSError: [Errno 9] ..."
      mode = Mode::Message;
      continue;
    }
    if (mode == Mode::Message) {
      if (indented(line) || blank(line) || chain_line(line)) continue;
      mode = Mode::Keep;
    }
    kept += line;
    if (ends_line) kept += '\n';
  }
  if (removed && blank(kept) && !last_exception.empty()) return last_exception + "\n";
  return kept;
}

std::string dbt_failure_text(std::string_view output, size_t max_chars) {
  // dbt's "HH:MM:SS  " line prefixes and its "Encountered an error:" header say nothing the
  // warning does not.
  std::string text;
  const std::string bare = without_python_tracebacks(output);
  std::string_view rest = bare;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (has_clock_prefix(line)) line.remove_prefix(10);
    if (line == "Encountered an error:") continue;
    text += line;
    text += '\n';
  }
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  size_t last = text.find_last_not_of(" \t\r\n");
  text = text.substr(first, last - first + 1);
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  return text;
}

}  // namespace orc
