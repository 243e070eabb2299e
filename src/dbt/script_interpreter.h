#pragma once
// Which Python runs a `dbt` console script: read from the script's first line(s), so that orc
// can start its driver in dbt's own interpreter (docs/design.md, "One dbt process per run").
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// The command that runs the Python interpreter of a console script whose first bytes are
/// `head`: `#!/venv/bin/python` → {"/venv/bin/python"}; `#!/usr/bin/env python3` →
/// {"/usr/bin/env", "python3"}; pip's form for long paths (`#!/bin/sh` then
/// `'''exec' "/long path/python" "$0" "$@"`) → {"/long path/python"}. nullopt when `head` is
/// not the start of a Python script (an ELF binary, a shell wrapper, ...).
std::optional<std::vector<std::string>> python_of_script(std::string_view head);

}  // namespace orc
