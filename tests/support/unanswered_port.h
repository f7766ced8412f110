#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "test_processes.h"

namespace cdb::test {

// A listener that never accepts, its backlog full: the kernel drops further SYNs, so connecting to it
// times out, as connecting to a stopped container's vanished address does.
class UnansweredPort {
public:
    explicit UnansweredPort(int port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address = loopback_sockaddr(port);
        bound_ = ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                 ::listen(listener_, 0) == 0;
        for (int i = 0; i < 4; ++i) {  // fill the accept queue; later connects hang
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
            fillers_.push_back(fd);
        }
    }
    ~UnansweredPort() {
        for (int fd : fillers_) ::close(fd);
        ::close(listener_);
    }
    bool bound() const { return bound_; }

private:
    int listener_ = -1;
    bool bound_ = false;
    std::vector<int> fillers_;
};

}  // namespace cdb::test
