#pragma once
// A snapshot of the process environment, so that code reading it can be tested with a map.
#include <map>
#include <optional>
#include <string>

namespace orc {

/// Environment variables by name.
struct Environment {
  std::map<std::string, std::string> vars;

  /// The process's own environment.
  static Environment from_process();
  /// The value when set (an empty value counts as set).
  std::optional<std::string> get(const std::string& name) const;
  /// The value when set and non-empty.
  std::optional<std::string> get_nonempty(const std::string& name) const;
  /// The value without surrounding whitespace, when set and not blank (as dbt-orchestra reads
  /// its string settings: Python's `str.strip()`, an empty result counting as unset).
  std::optional<std::string> get_stripped(const std::string& name) const;
};

}  // namespace orc
