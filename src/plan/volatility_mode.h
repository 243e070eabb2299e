#pragma once
// The project's choice of what makes a node volatile ([tool.orchestra_dbt] volatility).
#include <cstdint>
#include <optional>
#include <string_view>

namespace orc {

/// Which clock or randomness reads make a node volatile (built on every run).
enum class VolatilityMode : uint8_t {
  Filters,  ///< reads that can change its rows: filters, joins, grouping, windows, ordering,
            ///< incremental predicates (not an audit column; views never), the default
  Any,      ///< any read in its code or the macros it calls (orc 0.x before this setting)
  Never,    ///< only the node's `volatile: true` config
};

/// The mode named `text` ("filters", "any", "never"; any case), or nullopt.
inline std::optional<VolatilityMode> parse_volatility_mode(std::string_view text) {
  auto same = [&](std::string_view name) {
    if (text.size() != name.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
      if (c != name[i]) return false;
    }
    return true;
  };
  if (same("filters")) return VolatilityMode::Filters;
  if (same("any")) return VolatilityMode::Any;
  if (same("never")) return VolatilityMode::Never;
  return std::nullopt;
}

}  // namespace orc
