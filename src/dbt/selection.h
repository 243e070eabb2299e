#pragma once
// The user's selection as dbt resolves it: the unique_ids printed by `dbt ls --output json`.
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// unique_ids from `dbt ls --output json --output-keys unique_id` output; lines that are not
/// JSON objects (log lines, warnings) are skipped.
std::vector<std::string> parse_ls_output(std::string_view stdout_text);

}  // namespace orc
