#include "name_resolver.h"

#include <netdb.h>

namespace cdb::lb {

struct NameResolver::Lookup {
    std::string host;
    addrinfo hints{};
    gaicb request{};
};

namespace {

void free_result(gaicb& request) {
    if (request.ar_result != nullptr) freeaddrinfo(request.ar_result);
    request.ar_result = nullptr;
}

}  // namespace

NameResolver::~NameResolver() {
    for (Lookup* lookup : abandoned_) {
        // Still running in glibc's helper thread, which would write into freed memory: leave it.
        if (gai_cancel(&lookup->request) == EAI_NOTCANCELED) continue;
        free_result(lookup->request);
        delete lookup;
    }
}

void NameResolver::reap_abandoned() {
    for (auto it = abandoned_.begin(); it != abandoned_.end();) {
        if (gai_error(&(*it)->request) == EAI_INPROGRESS) {
            ++it;
            continue;
        }
        free_result((*it)->request);
        delete *it;
        it = abandoned_.erase(it);
    }
}

std::vector<NameResolver::Answer> NameResolver::resolve_all(const std::vector<std::string>& hosts) {
    reap_abandoned();
    std::vector<Lookup*> lookups;
    std::vector<gaicb*> requests;
    for (const auto& host : hosts) {
        auto* lookup = new Lookup;
        lookup->host = host;
        lookup->hints.ai_family = AF_UNSPEC;
        lookup->hints.ai_socktype = SOCK_STREAM;
        lookup->request.ar_name = lookup->host.c_str();
        lookup->request.ar_request = &lookup->hints;
        lookups.push_back(lookup);
        requests.push_back(&lookup->request);
    }
    std::vector<NameResolver::Answer> resolved(hosts.size());
    const bool submitted =
        !requests.empty() && getaddrinfo_a(GAI_NOWAIT, requests.data(), static_cast<int>(requests.size()), nullptr) == 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (std::size_t i = 0; submitted && i < lookups.size(); ++i) {
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
        const timespec limit{static_cast<time_t>(std::max<long long>(left.count(), 0) / 1000000000),
                             static_cast<long>(std::max<long long>(left.count(), 0) % 1000000000)};
        const gaicb* waiting[] = {&lookups[i]->request};
        if (gai_error(&lookups[i]->request) == EAI_INPROGRESS) gai_suspend(waiting, 1, &limit);
        const int status = gai_error(&lookups[i]->request);
        const addrinfo* found = lookups[i]->request.ar_result;
        if (status == 0 && found != nullptr) resolved[i].address = SocketAddress(*found->ai_addr, found->ai_addrlen);
        resolved[i].absent = status == EAI_NONAME;
    }
    for (Lookup* lookup : lookups) {
        if (submitted && gai_error(&lookup->request) == EAI_INPROGRESS &&
            gai_cancel(&lookup->request) == EAI_NOTCANCELED) {
            abandoned_.push_back(lookup);
            continue;
        }
        free_result(lookup->request);
        delete lookup;
    }
    return resolved;
}

}  // namespace cdb::lb
