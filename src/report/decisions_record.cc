#include "report/decisions_record.h"

#include <fmt/format.h>

#include "config/config.h"
#include "core/error.h"
#include "dbt/dbt_args.h"
#include "dbt/project_paths.h"

namespace orc {
namespace fs = std::filesystem;

fs::path project_target_dir(const std::optional<std::string>& project_dir, const Config& config) {
  DbtArgs dargs;
  dargs.project_dir = project_dir;
  return resolve_project_paths(dargs, config.env, fs::current_path()).target_dir;
}

DecisionsRecord read_decisions_record(const fs::path& path) {
  DecisionsRecord r;
  r.path = path;
  r.parser = std::make_unique<simdjson::dom::parser>();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw Error(fmt::format("no decision record at {}: run `orc dbt build` (stateful) first, or "
                            "pass --decisions PATH",
                            path.string()));
  if (auto err = r.parser->load(path.string()).get(r.root))
    throw Error(fmt::format("decision record {} is not valid JSON ({})", path.string(),
                            simdjson::error_message(err)));
  if (r.root["nodes"].get_array().get(r.nodes))
    throw Error(fmt::format("{} is not an orc_decisions.json (no \"nodes\" array)", path.string()));
  return r;
}

std::string json_string(simdjson::dom::element obj, const char* key) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return std::string();
  return std::string(v);
}

}  // namespace orc
