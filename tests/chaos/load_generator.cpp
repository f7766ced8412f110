#include "load_generator.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include <random>

namespace cdb::chaos {
namespace {

Outcome outcome_of(const httplib::Result& result) {
    Outcome outcome;
    if (result) {
        outcome.status = result->status;
    } else {
        outcome.transport = httplib::to_string(result.error());
    }
    return outcome;
}

}  // namespace

std::string value_in_answer(const std::string& body) {
    rapidjson::Document document;
    if (document.Parse(body.c_str()).HasParseError() || !document.IsObject() || !document.HasMember("value") ||
        !document["value"].IsString()) {
        return "unparsable answer: " + body.substr(0, 80);
    }
    return document["value"].GetString();
}

Micros since(Clock::time_point epoch) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

LoadGenerator::LoadGenerator(Endpoint lb, KeySpace keys, LoadOptions options, Clock::time_point epoch)
    : lb_(std::move(lb)), keys_(std::move(keys)), options_(options), epoch_(epoch), histories_(options.clients) {}

LoadGenerator::~LoadGenerator() {
    if (!threads_.empty()) stop();
}

void LoadGenerator::start() {
    for (int client = 0; client < options_.clients; ++client) threads_.emplace_back([this, client] { run_client(client); });
}

History LoadGenerator::stop() {
    stopping_ = true;
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    History merged;
    for (auto& history : histories_) {
        merged.writes.insert(merged.writes.end(), std::make_move_iterator(history.writes.begin()),
                             std::make_move_iterator(history.writes.end()));
        merged.reads.insert(merged.reads.end(), std::make_move_iterator(history.reads.begin()),
                            std::make_move_iterator(history.reads.end()));
    }
    histories_.clear();
    return merged;
}

void LoadGenerator::run_client(int client) {
    httplib::Client http(lb_.host, lb_.port);
    http.set_keep_alive(true);
    http.set_connection_timeout(std::chrono::seconds(1));
    http.set_read_timeout(options_.request_timeout);
    http.set_write_timeout(options_.request_timeout);
    std::mt19937 random(static_cast<unsigned>(client) * 7919u + static_cast<unsigned>(epoch_.time_since_epoch().count()));
    std::uniform_int_distribution<int> key_of(0, keys_.count - 1);
    std::uniform_int_distribution<int> percent(0, 99);
    History& history = histories_[static_cast<std::size_t>(client)];
    const std::string value_prefix = "c" + std::to_string(client) + "-";
    long sequence = 0;

    while (!stopping_) {
        const std::string key = keys_.name(key_of(random));
        const std::string wire_key = keys_.wire(key);
        Outcome outcome;
        if (percent(random) < options_.write_percent) {
            Write& write = history.writes.emplace_back();
            write.key = key;
            write.value = value_prefix + std::to_string(sequence++);
            const std::string body = R"({"key":")" + wire_key + R"(","value":")" + write.value + "\"}";
            write.start = since(epoch_);
            auto result = http.Post("/set", body, "application/json");
            write.end = since(epoch_);
            write.outcome = outcome = outcome_of(result);
            if (result && write.acknowledged()) write.replication = result->get_header_value("X-Replication");
        } else {
            Read& read = history.reads.emplace_back();
            read.key = key;
            read.start = since(epoch_);
            auto result = http.Get("/get/" + wire_key);
            read.end = since(epoch_);
            read.outcome = outcome = outcome_of(result);
            if (result && result->status == 200) read.value = value_in_answer(result->body);
        }
        if (outcome.status == 0 || outcome.status >= 500) std::this_thread::sleep_for(options_.backoff);
    }
}

}  // namespace cdb::chaos
