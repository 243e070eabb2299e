#pragma once
// The text of one element of a small, flat XML answer (S3/Azure error bodies, STS credentials).
#include <string>
#include <string_view>

namespace orc::remote {

/// The text between the first `<tag>` and the next `</tag>` after it, verbatim (no entity
/// decoding, no nesting); "" when either is missing. Any input is accepted.
std::string xml_element_text(std::string_view xml, std::string_view tag);

}  // namespace orc::remote
