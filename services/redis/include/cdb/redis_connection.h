#pragma once
// One hiredis connection with bounded connect and command timeouts. hiredis 0.14's redisReconnect
// forgets the command timeout, so a broken connection is never reconnected: it is replaced.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cdb/cluster_addresses.h"

struct redisContext;
struct redisReply;

namespace cdb {

struct RedisTimeouts {
    std::chrono::milliseconds connect{200};
    std::chrono::milliseconds command{500};
};

// The Redis ACL user a connection logs in as (AUTH user password) before its first command. Every
// Redis of the project refuses unauthenticated clients (docs/SECURITY.md); an empty user sends no
// AUTH, which only tests use, to see that refusal.
struct RedisCredentials {
    std::string user;
    std::string password;
};

// A reply, or why there is none. `io_error` means the server could not be reached or answered
// garbage: the connection is unusable. A Redis error reply ("-ERR ...", "-READONLY ...") is a reply.
class RedisReply {
public:
    // Nothing was sent: the server cannot have run the command.
    static RedisReply failure(std::string message);
    // The command was sent and no answer came (timeout, connection lost): the server may have run
    // it, or may still run it (a paused Redis runs what it had received when it wakes).
    static RedisReply lost(std::string message);
    explicit RedisReply(redisReply* reply);

    bool io_error() const { return !reply_; }
    bool maybe_run() const { return !reply_ && sent_; }
    const std::string& error_message() const { return error_; }
    bool is_error_reply() const;
    bool is_nil() const;
    bool is_status(const char* expected) const;
    std::optional<std::string> text() const;  // string, status or error reply
    std::optional<long long> integer() const;
    // Elements of an array reply; nested arrays as RedisReply views are not needed here.
    std::size_t array_size() const;
    const redisReply* element(std::size_t index) const;

private:
    struct Free {
        void operator()(redisReply* reply) const;
    };
    std::unique_ptr<redisReply, Free> reply_;
    std::string error_;
    bool sent_ = false;
};

std::optional<std::string> reply_text(const redisReply* reply);
// The string elements of an array reply (SCAN's batch of keys); other elements are skipped.
std::vector<std::string> reply_texts(const redisReply* array);

class RedisConnection {
public:
    // nullptr + message on failure (refused, timed out, name not resolved, login refused).
    static std::unique_ptr<RedisConnection> open(const Endpoint& endpoint, RedisTimeouts timeouts,
                                                 const RedisCredentials& credentials, std::string& error);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Binary-safe: every argument is sent as it is.
    RedisReply command(const std::vector<std::string>& args);
    bool broken() const { return broken_; }
    const Endpoint& endpoint() const { return endpoint_; }

private:
    RedisConnection(redisContext* context, Endpoint endpoint);
    redisContext* context_;
    Endpoint endpoint_;
    bool broken_ = false;
};

// Ignores SIGPIPE for the whole process: hiredis writes to a closed socket without MSG_NOSIGNAL,
// which would otherwise kill the service when a Redis dies.
void ignore_sigpipe();

}  // namespace cdb
