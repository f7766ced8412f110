#include "cdb/redis_connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <csignal>

namespace cdb {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

}  // namespace

void RedisReply::Free::operator()(redisReply* reply) const { freeReplyObject(reply); }

RedisReply RedisReply::failure(std::string message) {
    RedisReply reply(nullptr);
    reply.error_ = std::move(message);
    return reply;
}

RedisReply RedisReply::lost(std::string message) {
    RedisReply reply = failure(std::move(message));
    reply.sent_ = true;
    return reply;
}

RedisReply::RedisReply(redisReply* reply) : reply_(reply) {}

bool RedisReply::is_error_reply() const { return reply_ && reply_->type == REDIS_REPLY_ERROR; }

bool RedisReply::is_nil() const { return reply_ && reply_->type == REDIS_REPLY_NIL; }

bool RedisReply::is_status(const char* expected) const {
    return reply_ && reply_->type == REDIS_REPLY_STATUS && std::string(reply_->str, reply_->len) == expected;
}

std::optional<std::string> reply_text(const redisReply* reply) {
    if (reply == nullptr) return std::nullopt;
    switch (reply->type) {
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_ERROR: return std::string(reply->str, reply->len);
        default: return std::nullopt;
    }
}

std::vector<std::string> reply_texts(const redisReply* array) {
    std::vector<std::string> texts;
    if (array == nullptr || array->type != REDIS_REPLY_ARRAY) return texts;
    texts.reserve(array->elements);
    for (std::size_t i = 0; i < array->elements; ++i) {
        if (auto text = reply_text(array->element[i])) texts.push_back(std::move(*text));
    }
    return texts;
}

std::optional<std::string> RedisReply::text() const { return reply_text(reply_.get()); }

std::optional<long long> RedisReply::integer() const {
    if (reply_ && reply_->type == REDIS_REPLY_INTEGER) return reply_->integer;
    return std::nullopt;
}

std::size_t RedisReply::array_size() const {
    return reply_ && reply_->type == REDIS_REPLY_ARRAY ? reply_->elements : 0;
}

const redisReply* RedisReply::element(std::size_t index) const {
    return index < array_size() ? reply_->element[index] : nullptr;
}

std::unique_ptr<RedisConnection> RedisConnection::open(const Endpoint& endpoint, RedisTimeouts timeouts,
                                                       const RedisCredentials& credentials, std::string& error) {
    const timeval connect_timeout = to_timeval(timeouts.connect);
    redisContext* context = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, connect_timeout);
    if (context == nullptr) {
        error = "cannot allocate a Redis context";
        return nullptr;
    }
    if (context->err) {
        error = "cannot connect to Redis at " + endpoint.to_string() + ": " + context->errstr;
        redisFree(context);
        return nullptr;
    }
    if (redisSetTimeout(context, to_timeval(timeouts.command)) != REDIS_OK) {
        error = "cannot set the command timeout for Redis at " + endpoint.to_string();
        redisFree(context);
        return nullptr;
    }
    std::unique_ptr<RedisConnection> connection(new RedisConnection(context, endpoint));
    if (credentials.user.empty()) return connection;
    // The reply names the problem (WRONGPASS...) but never echoes the password.
    const RedisReply login = connection->command({"AUTH", credentials.user, credentials.password});
    if (!login.is_status("OK")) {
        error = "Redis at " + endpoint.to_string() + " refused the login of user " + credentials.user + ": " +
                (login.io_error() ? login.error_message() : login.text().value_or("unexpected reply"));
        return nullptr;
    }
    return connection;
}

RedisConnection::RedisConnection(redisContext* context, Endpoint endpoint)
    : context_(context), endpoint_(std::move(endpoint)) {}

RedisConnection::~RedisConnection() { redisFree(context_); }

RedisReply RedisConnection::command(const std::vector<std::string>& args) {
    if (broken_) return RedisReply::failure("connection to Redis at " + endpoint_.to_string() + " is broken");
    // An idle connection has nothing to read. If it has, the server closed it (it died or restarted)
    // or sent what nobody asked for: give up before sending, so that the caller knows nothing ran.
    pollfd idle{context_->fd, POLLIN, 0};
    if (::poll(&idle, 1, 0) != 0) {
        broken_ = true;
        return RedisReply::failure("connection to Redis at " + endpoint_.to_string() + " was closed by the server");
    }
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    void* raw = redisCommandArgv(context_, static_cast<int>(args.size()), argv.data(), lengths.data());
    if (raw == nullptr) {
        broken_ = true;
        return RedisReply::lost("Redis at " + endpoint_.to_string() + " failed: " +
                                (context_->err ? context_->errstr : "no reply"));
    }
    return RedisReply(static_cast<redisReply*>(raw));
}

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace cdb
