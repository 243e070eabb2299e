#include "cli/is_warn.h"

#include <optional>
#include <simdjson.h>
#include <system_error>

#include "core/file_io.h"
#include "dbt/project_paths.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

/// The value of `--name X` or `--name=X` in `args` (the last one wins, as in click).
std::optional<std::string> option_value(const std::vector<std::string>& args,
                                        const std::string& name) {
  std::optional<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i].rfind(name + "=", 0) == 0) {
      out = args[i].substr(name.size() + 1);
    }
  }
  return out;
}

}  // namespace

bool run_results_have_warning(std::string_view json) {
  namespace od = simdjson::ondemand;
  try {
    simdjson::padded_string padded(json);
    od::parser parser;
    od::document doc = parser.iterate(padded);
    for (auto result : doc["results"].get_array()) {
      std::string_view status;
      if (result["status"].get_string().get(status) == simdjson::SUCCESS && status == "warn")
        return true;
    }
  } catch (const simdjson::simdjson_error&) {
    // Not a run_results document: no warnings to report.
  }
  return false;
}

fs::path is_warn_run_results_path(const std::vector<std::string>& args, const Environment& env,
                                  const fs::path& cwd) {
  fs::path base = cwd;
  std::optional<std::string> project = option_value(args, "--project-dir");
  if (!project) project = env.get_nonempty("DBT_PROJECT_DIR");
  if (project) base = cwd / *project;

  std::optional<std::string> target = option_value(args, "--target-path");
  if (!target) target = env.get_nonempty("DBT_TARGET_PATH");
  if (!target) {
    // dbt writes to the project's target-path when dbt_project.yml sets one.
    std::error_code ec;
    if (fs::is_regular_file(base / "dbt_project.yml", ec)) {
      try {
        target = target_path_from_project_yml(read_file(base / "dbt_project.yml"));
      } catch (const std::exception&) {
        // Unreadable project file: fall back to the default.
      }
    }
  }
  return (base / target.value_or("target") / "run_results.json").lexically_normal();
}

std::string is_warn_verdict(const fs::path& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception&) {
    return "SUCCEEDED";
  }
  return run_results_have_warning(text) ? "WARNING" : "SUCCEEDED";
}

}  // namespace orc
