#pragma once
// An IPv4 or IPv6 address with a port, as connect() takes it: the coordinator resolves slave names
// off the request path, so forwarding never waits on DNS.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace cdb::lb {

class SocketAddress {
public:
    SocketAddress(const sockaddr& address, socklen_t length) : length_(length) {
        std::memcpy(&storage_, &address, std::min<std::size_t>(length, sizeof storage_));
    }

    SocketAddress with_port(int port) const {
        SocketAddress copy = *this;
        if (storage_.ss_family == AF_INET6) {
            reinterpret_cast<sockaddr_in6*>(&copy.storage_)->sin6_port = htons(static_cast<uint16_t>(port));
        } else {
            reinterpret_cast<sockaddr_in*>(&copy.storage_)->sin_port = htons(static_cast<uint16_t>(port));
        }
        return copy;
    }

    int family() const { return storage_.ss_family; }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t length() const { return length_; }
    bool operator==(const SocketAddress& other) const {
        return length_ == other.length_ && std::memcmp(&storage_, &other.storage_, length_) == 0;
    }

private:
    sockaddr_storage storage_{};
    socklen_t length_;
};

}  // namespace cdb::lb
