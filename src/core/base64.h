#pragma once
// Base64 (RFC 4648) encoding and decoding, standard and URL-safe alphabets, via OpenSSL.
#include <optional>
#include <string>
#include <string_view>

namespace orc {

/// Standard base64 with '=' padding.
std::string base64_encode(std::string_view bytes);

/// base64url without padding (JWT segments).
std::string base64url_encode(std::string_view bytes);

/// Decodes standard base64 (padding required, whitespace not allowed); nullopt when `text`
/// is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace orc
