#include "dbt/project_vars.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "core/file_io.h"

namespace orc {
namespace fs = std::filesystem;
namespace {

/// `s` as a JSON string literal.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

/// A YAML value as canonical text: mappings with sorted keys, scalars tagged plain (`p`) or
/// quoted (`s`) since YAML types a plain `1` and a quoted "1" differently.
std::string canonical(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "null";
    case YAML::NodeType::Scalar:
      return (node.Tag() == "!" ? "s" : "p") + quoted(node.Scalar());
    case YAML::NodeType::Sequence: {
      std::string out = "[";
      for (const auto& item : node) out += (out.size() > 1 ? "," : "") + canonical(item);
      return out + "]";
    }
    case YAML::NodeType::Map: {
      std::map<std::string, std::string> entries;
      for (const auto& kv : node) entries[kv.first.as<std::string>()] = canonical(kv.second);
      std::string out = "{";
      for (const auto& [k, v] : entries) out += (out.size() > 1 ? "," : "") + quoted(k) + ":" + v;
      return out + "}";
    }
  }
  return "null";
}

/// The entries of a mapping node as canonical text per key.
std::map<std::string, std::string> entries_of(const YAML::Node& map) {
  std::map<std::string, std::string> out;
  for (const auto& kv : map) out[kv.first.as<std::string>()] = canonical(kv.second);
  return out;
}

/// A top-level string key of a dbt_project.yml, if set.
std::string string_key(const YAML::Node& root, const char* key) {
  const YAML::Node v = root[key];
  return v && v.IsScalar() ? v.Scalar() : std::string();
}

}  // namespace

namespace {

/// A dbt_project.yml text as a YAML mapping. Throws orc::Error naming `file` otherwise.
YAML::Node parse_project_yml(std::string_view yml, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yml));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: not valid YAML ({})", file, e.what()));
  }
  if (!root.IsMap()) throw Error(fmt::format("{}: not a YAML mapping", file));
  return root;
}

/// The VarBlock of a parsed dbt_project.yml (see read_var_block).
VarBlock var_block_of(const YAML::Node& root, const std::string& file, std::string& name) {
  VarBlock block;
  try {
    name = string_key(root, "name");
    const YAML::Node vars = root["vars"];
    if (!vars || vars.IsNull()) return block;
    if (!vars.IsMap())
      throw Error(fmt::format("{}: `vars` must be a mapping of var names to values", file));
    for (const auto& kv : vars) {
      const std::string key = kv.first.as<std::string>();
      block.values[key] = canonical(kv.second);
      if (kv.second.IsMap()) block.scoped[key] = entries_of(kv.second);
    }
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: not valid YAML ({})", file, e.what()));
  }
  return block;
}

}  // namespace

VarBlock read_var_block(std::string_view yml, const std::string& file, std::string& name) {
  return var_block_of(parse_project_yml(yml, file), file, name);
}

std::map<std::string, std::string> read_cli_vars(std::string_view text) {
  try {
    const YAML::Node vars = YAML::Load(std::string(text));
    if (vars.IsNull()) return {};
    if (!vars.IsMap())
      throw Error(fmt::format("--vars {}: expected a YAML mapping of var names to values",
                              text));
    return entries_of(vars);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("--vars {}: not valid YAML ({})", text, e.what()));
  }
}

VarScopes read_var_scopes(const fs::path& project_dir, const DbtArgs& args) {
  VarScopes out;
  out.problem.clear();
  try {
    const fs::path root_file = project_dir / "dbt_project.yml";
    const YAML::Node root = parse_project_yml(read_file(root_file), root_file.string());
    out.root = var_block_of(root, root_file.string(), out.root_project);
    std::string install = string_key(root, "packages-install-path");
    if (install.empty()) install = string_key(root, "modules-path");  // before dbt 1.0
    if (install.empty()) install = "dbt_packages";
    std::error_code ec;
    const fs::path packages = fs::path(install).is_absolute() ? fs::path(install)
                                                                : project_dir / install;
    if (fs::is_directory(packages, ec))
      for (const auto& dir : fs::directory_iterator(packages, ec)) {
        const fs::path file = dir.path() / "dbt_project.yml";
        if (!fs::is_regular_file(file, ec)) continue;
        std::string name;
        VarBlock block = read_var_block(read_file(file), file.string(), name);
        if (!name.empty()) out.packages[name] = std::move(block);
      }
    for (const auto& g : args.groups)
      if (g.name == "--vars" && !g.values.empty()) out.cli = read_cli_vars(g.values.back());
  } catch (const Error& e) {
    out.problem = e.what();
  } catch (const YAML::Exception& e) {
    out.problem = fmt::format("dbt_project.yml: {}", e.what());
  } catch (const fs::filesystem_error& e) {
    out.problem = e.what();
  }
  return out;
}

}  // namespace orc
