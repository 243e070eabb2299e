#pragma once
// The command line of orc's own tools (`orc state`, `orc explain`, `orc dag`): flags,
// options with a value (`--name value` or `--name=value`) and positional arguments.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace orc {

/// What one tool accepts: flags without a value and options that take one.
struct ToolArgsSpec {
  std::string command;             ///< e.g. "orc state show", for messages
  std::set<std::string> flags;     ///< e.g. "--dry-run"
  std::set<std::string> options;   ///< e.g. "--output"
};

/// Parsed tool arguments.
struct ToolArgs {
  std::set<std::string> flags;                  ///< flags given
  std::map<std::string, std::string> options;   ///< option -> value (the last one given)
  std::vector<std::string> positional;

  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<std::string> option(const std::string& name) const;
};

/// Parses `args` against `spec`. Throws orc::UsageError naming the command and the option
/// for an unknown option, a missing value, or a value given to a flag. `--` ends options.
ToolArgs parse_tool_args(const std::vector<std::string>& args, const ToolArgsSpec& spec);

/// The value of `--output`: "table" (default) or "json"; anything else is a UsageError
/// naming the value.
std::string output_format(const ToolArgs& args, const std::string& command);

}  // namespace orc
