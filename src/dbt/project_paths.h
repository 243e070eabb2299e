#pragma once
// Where the dbt project and its artifacts are, resolved as dbt resolves them.
#include <filesystem>

#include "core/environment.h"
#include "dbt/dbt_args.h"

namespace orc {

struct ProjectPaths {
  std::filesystem::path project_dir;  ///< holds dbt_project.yml
  std::filesystem::path target_dir;   ///< manifest.json, run_results.json, orc_decisions.json
};

/// Project dir: --project-dir, else DBT_PROJECT_DIR, else the nearest directory from `cwd`
/// upwards holding dbt_project.yml. Target dir: --target-path, else DBT_TARGET_PATH, else
/// `target-path` in dbt_project.yml, else "target"; relative paths are under the project dir.
/// Throws orc::Error when there is no dbt_project.yml.
ProjectPaths resolve_project_paths(const DbtArgs& args, const Environment& env,
                                   const std::filesystem::path& cwd);

/// The top-level `target-path` value of a dbt_project.yml text, if set.
std::optional<std::string> target_path_from_project_yml(const std::string& yml);

}  // namespace orc
