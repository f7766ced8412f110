#pragma once
// Proof of origin for control messages (docs/SECURITY.md): HMAC-SHA256 under the deployment's
// control-plane key, which only the LB and the slaves hold. Checked in constant time, so the time a
// refusal takes says nothing about how close a forgery came.
#include <cstdint>
#include <string>
#include <string_view>

namespace cdb {

class ControlKey {
public:
    explicit ControlKey(std::string secret);
    std::string prove(std::string_view message) const;  // 64 lower-case hexadecimal digits
    // Each thread remembers the last few messages it verified: the same (term, leader) and lease
    // arrive on every forwarded request, and a compare is much cheaper than an HMAC.
    bool verify(std::string_view message, std::string_view proof) const;

private:
    std::string secret_;
    std::uint64_t id_;  // tells the threads' remembered messages of different keys apart
};

// Whether two secrets (an admin token and the one offered) are equal, in a time that depends on
// neither their contents nor their lengths.
bool same_secret(std::string_view expected, std::string_view offered);

}  // namespace cdb
