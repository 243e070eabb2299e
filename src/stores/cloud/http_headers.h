#pragma once
// Response header lines as libcurl hands them over, one at a time.
#include <map>
#include <string>
#include <string_view>

namespace orc::remote {

/// Folds one raw header line (`Name: value\r\n`) into `headers` (name lower-cased and trimmed,
/// value trimmed, the last one wins). A status line (`HTTP/...`) clears `headers`: a new
/// response (after a redirect or 100-continue) starts afresh. Other lines are ignored.
void add_header_line(std::string_view line, std::map<std::string, std::string>& headers);

}  // namespace orc::remote
