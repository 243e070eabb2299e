#include "core/environment.h"

#include <cstring>

extern char** environ;

namespace orc {

Environment Environment::from_process() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    env.vars.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

std::optional<std::string> Environment::get(const std::string& name) const {
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Environment::get_nonempty(const std::string& name) const {
  auto v = get(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::optional<std::string> Environment::get_stripped(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  const char* blanks = " \t\n\r\v\f";
  const size_t first = v->find_first_not_of(blanks);
  if (first == std::string::npos) return std::nullopt;
  return v->substr(first, v->find_last_not_of(blanks) - first + 1);
}

}  // namespace orc
