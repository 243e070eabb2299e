#pragma once
// Random identifiers in the shape dbt gives its invocations.
#include <string>

namespace orc {

/// A random (version 4) UUID in its 36-character text form, e.g.
/// "0f8fad5b-d9cb-469f-a165-70867728950e".
std::string random_uuid();

}  // namespace orc
