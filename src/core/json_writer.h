#pragma once
// A minimal streaming JSON writer: orc writes JSON (state, decisions, synthetic run
// results) but never needs a DOM for it.
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// Appends `s` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

/// Appends `items` to `out` as a JSON array of strings: `["a", "b"]`.
void append_json_string_array(std::string& out, const std::vector<std::string>& items);

/// Returns `s` as a quoted JSON string.
std::string json_quote(std::string_view s);

}  // namespace orc
