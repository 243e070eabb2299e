#include "core/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/error.h"

namespace orc {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    throw Error("HMAC-SHA256 failed (OpenSSL)");
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace orc
