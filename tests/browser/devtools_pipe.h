#pragma once
// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: the
// browser reads commands on fd 3 and writes answers on fd 4, each a JSON text ended by a NUL), so a
// test can read a live page's DOM at any moment without a WebSocket library. The browser is killed
// when the object goes away.
#include <rapidjson/document.h>
#include <sys/types.h>

#include <chrono>
#include <string>

namespace cdb::test {

class DevtoolsBrowser {
public:
    DevtoolsBrowser();  // throws std::runtime_error when chromium cannot be started
    ~DevtoolsBrowser();
    DevtoolsBrowser(const DevtoolsBrowser&) = delete;
    DevtoolsBrowser& operator=(const DevtoolsBrowser&) = delete;

    // Opens `url` in a new tab and attaches to it; later calls act on that tab.
    void open(const std::string& url);
    // Runs `expression` in the page; its value as JSON text (JSON.stringify it to get objects).
    std::string evaluate(const std::string& expression);
    // A PNG of the page, written to `path`.
    void screenshot(const std::string& path);

private:
    // Sends one command and waits (bounded) for its answer's "result"; throws on an error answer.
    rapidjson::Document call(const std::string& method, const std::string& params_json);
    std::string read_message(std::chrono::steady_clock::time_point deadline);

    pid_t pid_ = -1;
    int to_browser_ = -1;
    int from_browser_ = -1;
    int next_id_ = 1;
    std::string session_;
    std::string profile_dir_;
    std::string pending_;  // bytes read past the last message
};

}  // namespace cdb::test
