#include "dbt/project_paths.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"

namespace orc {
namespace fs = std::filesystem;

std::optional<std::string> target_path_from_project_yml(const std::string& yml) {
  size_t pos = 0;
  while (pos < yml.size()) {
    size_t end = yml.find('\n', pos);
    if (end == std::string::npos) end = yml.size();
    std::string_view line(yml.data() + pos, end - pos);
    pos = end + 1;
    // Only a top-level key counts (no indentation).
    for (std::string_view key : {"target-path:", "target_path:"}) {
      if (line.rfind(key, 0) != 0) continue;
      std::string_view v = line.substr(key.size());
      if (auto hash = v.find(" #"); hash != std::string_view::npos) v = v.substr(0, hash);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
        v.remove_suffix(1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      if (!v.empty()) return std::string(v);
    }
  }
  return std::nullopt;
}

ProjectPaths resolve_project_paths(const DbtArgs& args, const Environment& env,
                                   const fs::path& cwd) {
  ProjectPaths paths;
  std::optional<std::string> given = args.project_dir;
  if (!given) given = env.get_nonempty("DBT_PROJECT_DIR");
  if (given) {
    paths.project_dir = fs::absolute(cwd / *given).lexically_normal();
    if (!fs::exists(paths.project_dir / "dbt_project.yml"))
      throw Error(fmt::format("no dbt_project.yml in {} (from {})", paths.project_dir.string(),
                              args.project_dir ? "--project-dir" : "DBT_PROJECT_DIR"));
  } else {
    for (fs::path dir = fs::absolute(cwd);; dir = dir.parent_path()) {
      if (fs::exists(dir / "dbt_project.yml")) {
        paths.project_dir = dir;
        break;
      }
      if (dir == dir.parent_path())
        throw Error(fmt::format("no dbt_project.yml found in {} or any parent directory; run "
                                "orc from a dbt project or pass --project-dir",
                                cwd.string()));
    }
  }
  std::optional<std::string> target = args.target_path;
  if (!target) target = env.get_nonempty("DBT_TARGET_PATH");
  if (!target) target = target_path_from_project_yml(read_file(paths.project_dir / "dbt_project.yml"));
  paths.target_dir = (paths.project_dir / target.value_or("target")).lexically_normal();
  return paths;
}

}  // namespace orc
