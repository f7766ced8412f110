#include "cdb/control_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <atomic>

namespace cdb {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view secret, std::string_view message) {
    Digest digest{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &length);
    return digest;
}

std::string to_hex(const Digest& digest) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * digest.size());
    for (unsigned char byte : digest) {
        hex.push_back(digits[byte >> 4]);
        hex.push_back(digits[byte & 0xf]);
    }
    return hex;
}

Digest sha256(std::string_view text) {
    Digest digest{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
    return digest;
}

bool same_digest_text(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::atomic<std::uint64_t> next_key_id{1};

struct LastVerified {
    std::uint64_t key_id = 0;
    std::string message;
    std::string proof;
};

}  // namespace

ControlKey::ControlKey(std::string secret) : secret_(std::move(secret)), id_(next_key_id++) {}

std::string ControlKey::prove(std::string_view message) const { return to_hex(hmac_sha256(secret_, message)); }

bool ControlKey::verify(std::string_view message, std::string_view proof) const {
    // A forwarded request carries two proven messages, the leader's and the lease's.
    thread_local std::array<LastVerified, 4> recent;
    thread_local std::size_t next_slot = 0;
    for (const LastVerified& last : recent) {
        if (last.key_id == id_ && last.message == message) return same_digest_text(last.proof, proof);
    }
    std::string expected = prove(message);
    // The length of a proof is public (always 64), so only the contents need a constant-time compare.
    if (!same_digest_text(expected, proof)) return false;
    recent[next_slot] = LastVerified{id_, std::string(message), std::move(expected)};
    next_slot = (next_slot + 1) % recent.size();
    return true;
}

bool same_secret(std::string_view expected, std::string_view offered) {
    // Comparing digests makes the time independent of the lengths too.
    const Digest a = sha256(expected);
    const Digest b = sha256(offered);
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cdb
