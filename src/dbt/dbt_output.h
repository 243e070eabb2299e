#pragma once
// What orc shows of a captured dbt invocation that failed: dbt's own message, never a Python
// traceback (dbt prints one after "Encountered an error" for unexpected exceptions, e.g. a
// DuckDB file that cannot be opened).
#include <string>
#include <string_view>

namespace orc {

/// `text` without Python tracebacks: each block from "Traceback (most recent call last):"
/// through its exception line and that line's indented continuation, the "During handling of
/// the above exception" / "The above exception was the direct cause" lines between chained
/// ones, and "Exception ignored in: ..." lines are left out. When nothing else remains, the
/// last traceback's exception line is kept (the only message there is).
std::string without_python_tracebacks(std::string_view text);

/// A failed invocation's message for a warning: without_python_tracebacks() of its output,
/// without dbt's "HH:MM:SS  " line prefixes and "Encountered an error:" header, trimmed, and
/// cut to its last `max_chars` characters (dbt's error comes last), prefixed "..." when cut.
std::string dbt_failure_text(std::string_view output, size_t max_chars = 600);

}  // namespace orc
