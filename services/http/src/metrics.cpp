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

void Metrics::replace_all(const std::string& family, std::map<std::string, std::uint64_t> by_labels) {
    std::lock_guard<std::mutex> lock(mutex_);
    families_[family].by_labels = std::move(by_labels);
}

void Metrics::sampled(const std::string& family, const std::string& type, const std::string& help,
                      std::function<double()> read) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = families_[family];
    entry.type = type;
    entry.help = help;
    entry.read = std::move(read);
}

void Metrics::histogram(const std::string& family, const std::string& help, std::vector<double> bounds) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = families_[family];
    entry.type = "histogram";
    entry.help = help;
    entry.bucket_counts.assign(bounds.size(), 0);
    entry.bounds = std::move(bounds);
}

void Metrics::observe(const std::string& family, double value) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = families_[family];
    for (std::size_t i = 0; i < entry.bounds.size(); ++i) {
        if (value <= entry.bounds[i]) ++entry.bucket_counts[i];
    }
    entry.sum += value;
    ++entry.count;
}

void Metrics::render_histogram(std::ostream& out, const std::string& full, const Family& family) {
    for (std::size_t i = 0; i < family.bounds.size(); ++i) {
        out << full << "_bucket{le=\"" << family.bounds[i] << "\"} " << family.bucket_counts[i] << '\n';
    }
    out << full << "_bucket{le=\"+Inf\"} " << family.count << '\n';
    out << full << "_sum " << family.sum << '\n';
    out << full << "_count " << family.count << '\n';
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
        if (family.type == "histogram") {
            render_histogram(out, full, family);
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
