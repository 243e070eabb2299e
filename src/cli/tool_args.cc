#include "cli/tool_args.h"

#include <fmt/format.h>

#include "core/error.h"

namespace orc {

std::optional<std::string> ToolArgs::option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

ToolArgs parse_tool_args(const std::vector<std::string>& args, const ToolArgsSpec& spec) {
  ToolArgs out;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    std::string name = a;
    std::optional<std::string> value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (spec.flags.count(name)) {
      if (value)
        throw UsageError(fmt::format("`{}`: {} takes no value (got \"{}\")", spec.command, name,
                                     *value));
      out.flags.insert(name);
    } else if (spec.options.count(name)) {
      if (!value) {
        if (i + 1 >= args.size())
          throw UsageError(fmt::format("`{}`: {} needs a value", spec.command, name));
        value = args[++i];
      }
      out.options[name] = *value;
    } else {
      std::string known;
      for (const auto& f : spec.flags) known += (known.empty() ? "" : ", ") + f;
      for (const auto& o : spec.options) known += (known.empty() ? "" : ", ") + o + " VALUE";
      throw UsageError(fmt::format("`{}`: no such option {} (known: {})", spec.command, name,
                                   known.empty() ? "none" : known));
    }
  }
  return out;
}

std::string output_format(const ToolArgs& args, const std::string& command) {
  std::string f = args.option("--output").value_or("table");
  if (f != "table" && f != "json" && f != "text")
    throw UsageError(fmt::format("`{}`: --output \"{}\" is not one of: table, json", command, f));
  return f == "text" ? "table" : f;
}

}  // namespace orc
