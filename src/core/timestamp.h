#pragma once
// ISO-8601 timestamps as microseconds since the Unix epoch (UTC).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orc {

/// Microseconds since 1970-01-01T00:00:00Z.
using Micros = int64_t;

/// Parses `2024-05-01T12:00:00`, with optional fractional seconds, `Z` or `±HH:MM`/`±HHMM`
/// offsets, and ' ' instead of 'T'. A value without offset is UTC (dbt's convention).
/// Returns nullopt for anything else.
std::optional<Micros> parse_timestamp(std::string_view text);

/// Formats as `2024-05-01T12:00:00.123456Z` (fraction only when non-zero).
std::string format_timestamp(Micros t);

/// The current wall-clock time.
Micros now_micros();

/// The current UTC time formatted with strftime's `format` (e.g. "%H:%M:%S").
std::string format_utc_now(const char* format);

}  // namespace orc
