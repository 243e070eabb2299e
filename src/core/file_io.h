#pragma once
// Whole-file reads and crash-safe writes.
#include <filesystem>
#include <string>
#include <string_view>

namespace orc {

/// Reads a whole file. Throws orc::Error naming the path on failure.
std::string read_file(const std::filesystem::path& path);

/// Writes `content` to a temp file beside `path`, fsyncs it, renames it over `path` and
/// fsyncs the directory: readers see the old or the new file, never a torn one.
/// Throws orc::Error naming the path on failure (the old file is then untouched).
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace orc
