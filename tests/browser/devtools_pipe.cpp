#include "devtools_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "cdb/json_builder.h"

namespace cdb::test {
namespace {

constexpr auto call_timeout = std::chrono::seconds(15);

std::string base64_decode(const std::string& text) {
    static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    unsigned int buffer = 0;
    int bits = 0;
    for (char ch : text) {
        const auto value = alphabet.find(ch);
        if (value == std::string::npos) continue;  // '=' padding
        buffer = (buffer << 6) | static_cast<unsigned int>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    return bytes;
}

}  // namespace

DevtoolsBrowser::DevtoolsBrowser() {
    char profile[] = "/tmp/cdb-chromium-XXXXXX";
    if (!::mkdtemp(profile)) throw std::runtime_error("cannot create a Chromium profile directory");
    profile_dir_ = profile;
    int commands[2];
    int answers[2];
    if (::pipe2(commands, O_CLOEXEC) != 0 || ::pipe2(answers, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Out of the way first, so that neither end can be overwritten by the other's dup2; dup2
        // clears close-on-exec on the copies.
        const int read_end = ::fcntl(commands[0], F_DUPFD, 10);
        const int write_end = ::fcntl(answers[1], F_DUPFD, 10);
        ::dup2(read_end, 3);
        ::dup2(write_end, 4);
        const int quiet = ::open("/dev/null", O_WRONLY);
        ::dup2(quiet, 1);
        ::dup2(quiet, 2);
        const std::string profile_flag = "--user-data-dir=" + profile_dir_;
        // --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        ::execlp("chromium", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                 "--no-first-run", "--window-size=1280,900", profile_flag.c_str(), "about:blank",
                 static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(commands[0]);
    ::close(answers[1]);
    to_browser_ = commands[1];
    from_browser_ = answers[0];
    if (pid_ < 0) throw std::runtime_error("fork failed");
    call("Target.setDiscoverTargets", R"({"discover":false})");  // answers once the browser is up
}

DevtoolsBrowser::~DevtoolsBrowser() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (to_browser_ >= 0) ::close(to_browser_);
    if (from_browser_ >= 0) ::close(from_browser_);
    std::error_code ignored;
    if (!profile_dir_.empty()) std::filesystem::remove_all(profile_dir_, ignored);
}

void DevtoolsBrowser::open(const std::string& url) {
    const auto target = call("Target.createTarget", JsonBuilder().field("url", url).str());
    const std::string target_id = target["targetId"].GetString();
    const auto attached =
        call("Target.attachToTarget", JsonBuilder().field("targetId", target_id).field("flatten", true).str());
    session_ = attached["sessionId"].GetString();
}

std::string DevtoolsBrowser::evaluate(const std::string& expression) {
    const auto result = call("Runtime.evaluate",
                             JsonBuilder().field("expression", expression).field("returnByValue", true).str());
    const auto& value = result["result"];
    if (result.HasMember("exceptionDetails") || !value.HasMember("value")) return "";
    if (value["value"].IsString()) return value["value"].GetString();
    return "";
}

void DevtoolsBrowser::screenshot(const std::string& path) {
    const auto shot = call("Page.captureScreenshot", R"({"format":"png"})");
    std::ofstream(path, std::ios::binary) << base64_decode(shot["data"].GetString());
}

rapidjson::Document DevtoolsBrowser::call(const std::string& method, const std::string& params_json) {
    const int id = next_id_++;
    std::string message = R"({"id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params_json;
    if (!session_.empty() && method.rfind("Target.", 0) != 0) message += R"(,"sessionId":")" + session_ + "\"";
    message += '}';
    message.push_back('\0');
    for (std::size_t sent = 0; sent < message.size();) {
        const ssize_t wrote = ::write(to_browser_, message.data() + sent, message.size() - sent);
        if (wrote <= 0) throw std::runtime_error("the browser closed its command pipe");
        sent += static_cast<std::size_t>(wrote);
    }
    const auto deadline = std::chrono::steady_clock::now() + call_timeout;
    while (true) {
        rapidjson::Document answer;
        answer.Parse(read_message(deadline).c_str());
        // Events (no "id") and answers to other sessions' commands are not ours.
        if (answer.HasParseError() || !answer.IsObject() || !answer.HasMember("id") || answer["id"].GetInt() != id) {
            continue;
        }
        if (answer.HasMember("error")) {
            throw std::runtime_error(method + " failed: " + answer["error"]["message"].GetString());
        }
        rapidjson::Document result;
        result.CopyFrom(answer["result"], result.GetAllocator());
        return result;
    }
}

std::string DevtoolsBrowser::read_message(std::chrono::steady_clock::time_point deadline) {
    while (true) {
        const auto end = pending_.find('\0');
        if (end != std::string::npos) {
            std::string message = pending_.substr(0, end);
            pending_.erase(0, end + 1);
            return message;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("the browser did not answer in time");
        pollfd readable{from_browser_, POLLIN, 0};
        if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
        char buffer[65536];
        const ssize_t got = ::read(from_browser_, buffer, sizeof buffer);
        if (got <= 0) throw std::runtime_error("the browser exited");
        pending_.append(buffer, static_cast<std::size_t>(got));
    }
}

}  // namespace cdb::test
