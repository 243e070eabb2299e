#pragma once
// Reading back an orc_decisions.json (for `orc explain` and `orc dag`): where it is and its
// parsed document.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <simdjson.h>

namespace orc {

struct Config;

/// A parsed orc_decisions.json. `root` stays valid while the record lives.
struct DecisionsRecord {
  std::filesystem::path path;
  std::unique_ptr<simdjson::dom::parser> parser;
  simdjson::dom::element root;
  simdjson::dom::array nodes;
};

/// The target directory of the dbt project (as `orc dbt` resolves it: --project-dir,
/// DBT_PROJECT_DIR, the nearest dbt_project.yml; target-path, DBT_TARGET_PATH).
std::filesystem::path project_target_dir(const std::optional<std::string>& project_dir,
                                         const Config& config);

/// Reads the record at `path`. Throws orc::Error naming the path when it is missing (with a
/// hint to run `orc dbt build` first), not JSON, or has no "nodes" array.
DecisionsRecord read_decisions_record(const std::filesystem::path& path);

/// A string member of a JSON object ("" when absent or not a string).
std::string json_string(simdjson::dom::element obj, const char* key);

}  // namespace orc
