#pragma once
// SHA-256 as lower-case hex (seed file checksums, folded ephemeral checksums).
#include <filesystem>
#include <string>
#include <string_view>

namespace orc {

/// Hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Hex SHA-256 of a file's bytes, streamed. Throws orc::Error naming the path on failure.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace orc
