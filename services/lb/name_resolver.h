#pragma once
// "Which of slave-0..slave-k exist?" with one time bound for the whole batch. Names are the
// membership (docs/PROTOCOL.md), and plain getaddrinfo can block for the resolver's full retry
// schedule; getaddrinfo_a resolves the batch in parallel and lets the loop stop waiting.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "socket_address.h"

namespace cdb::lb {

class NameResolver {
public:
    explicit NameResolver(std::chrono::milliseconds timeout) : timeout_(timeout) {}
    ~NameResolver();
    NameResolver(const NameResolver&) = delete;
    NameResolver& operator=(const NameResolver&) = delete;

    // For each host: its first address (port 0); or the resolver's answer that no such name exists;
    // or neither, when no answer came within the timeout or the resolver failed (a slow DNS under
    // load is not a departure). Not thread-safe: one caller.
    struct Answer {
        std::optional<SocketAddress> address;
        bool absent = false;
    };
    std::vector<Answer> resolve_all(const std::vector<std::string>& hosts);

private:
    struct Lookup;
    void reap_abandoned();

    std::chrono::milliseconds timeout_;
    std::vector<Lookup*> abandoned_;  // lookups that could not be cancelled: freed once they finish
};

}  // namespace cdb::lb
