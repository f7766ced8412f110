#include "cdb/metrics.h"

#include <sstream>

namespace cdb {

void Metrics::describe(const std::string& family, const std::string& type, const std::string& help) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = families_[family];
    entry.type = type;
    entry.help = help;
}

void Metrics::add(const std::string& family, const std::string& labels, std::uint64_t amount) {
    std::lock_guard<std::mutex> lock(mutex_);
    families_[family].by_labels[labels] += amount;
}

void Metrics::gauge(const std::string& family, const std::string& help, std::function<double()> read) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = families_[family];
    entry.type = "gauge";
    entry.help = help;
    entry.read = std::move(read);
}

std::string Metrics::render() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ostringstream out;
    for (const auto& [name, family] : families_) {
        const std::string full = prefix_ + "_" + name;
        out << "# HELP " << full << ' ' << family.help << '\n';
        out << "# TYPE " << full << ' ' << (family.type.empty() ? "counter" : family.type) << '\n';
        if (family.read) {
            out << full << ' ' << family.read() << '\n';
            continue;
        }
        for (const auto& [labels, value] : family.by_labels) {
            out << full << (labels.empty() ? "" : "{" + labels + "}") << ' ' << value << '\n';
        }
    }
    return out.str();
}

std::string label(const std::string& key, const std::string& value) {
    std::string escaped;
    for (char ch : value) {
        if (ch == '\\' || ch == '"') escaped += '\\';
        if (ch == '\n') {
            escaped += "\\n";
            continue;
        }
        escaped += ch;
    }
    return key + "=\"" + escaped + "\"";
}

}  // namespace cdb
