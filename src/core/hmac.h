#pragma once
// HMAC-SHA256 (raw bytes), for request signing (AWS SigV4, Azure SharedKey).
#include <string>
#include <string_view>

namespace orc {

/// The raw 32-byte HMAC-SHA256 of `data` under `key`. Throws orc::Error if OpenSSL fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace orc
