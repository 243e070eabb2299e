#pragma once
// `orc dbt orchestra is_warn`: did the last dbt run end with warnings?
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/environment.h"

namespace orc {

/// True when any result in a run_results.json text has status "warn". Text that is not a
/// run_results document counts as no warnings.
bool run_results_have_warning(std::string_view json);

/// The run_results.json is_warn reads: under --target-path / DBT_TARGET_PATH (default
/// "target"), relative to --project-dir / DBT_PROJECT_DIR when given, else to `cwd`.
std::filesystem::path is_warn_run_results_path(const std::vector<std::string>& args,
                                               const Environment& env,
                                               const std::filesystem::path& cwd);

/// "WARNING" if the run_results.json at `path` has a result with status warn, else
/// "SUCCEEDED" (also when the file is missing or unreadable).
std::string is_warn_verdict(const std::filesystem::path& path);

}  // namespace orc
