#pragma once
// Reads the `vars:` blocks a run can see (the root dbt_project.yml, each installed package's
// dbt_project.yml, `--vars`) into VarScopes, so that a package's nodes resolve vars as dbt does
// for them (plan/var_scopes.h). Values become canonical text: comments, layout and key order
// do not count, so an edit that changes no value rebuilds nothing.
#include <filesystem>
#include <string>
#include <string_view>

#include "dbt/dbt_args.h"
#include "plan/var_scopes.h"

namespace orc {

/// The VarBlock of a dbt_project.yml text (its `vars:`); `name` receives its `name:`. Throws
/// orc::Error naming `file` when the text is not YAML or `vars` is not a mapping.
VarBlock read_var_block(std::string_view yml, const std::string& file, std::string& name);

/// Canonical text of the `--vars` value (a YAML mapping). Throws orc::Error when it is not one.
std::map<std::string, std::string> read_cli_vars(std::string_view text);

/// Every var definition of the project at `project_dir` (packages from its
/// packages-install-path, default dbt_packages) and the `--vars` of `args`. Never throws: what
/// cannot be read is said in VarScopes::problem (those vars are then unknown).
VarScopes read_var_scopes(const std::filesystem::path& project_dir, const DbtArgs& args);

}  // namespace orc
