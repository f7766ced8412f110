#pragma once
// Builds one JSON object; strings are escaped by RapidJSON (quotes, control characters), and the
// caller guarantees they are valid UTF-8.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdb {

class JsonBuilder {
public:
    JsonBuilder();
    JsonBuilder& field(std::string_view name, std::string_view value);
    JsonBuilder& field(std::string_view name, const char* value) { return field(name, std::string_view(value)); }
    JsonBuilder& field(std::string_view name, std::int64_t value);
    JsonBuilder& field(std::string_view name, int value) { return field(name, static_cast<std::int64_t>(value)); }
    JsonBuilder& field(std::string_view name, bool value);
    JsonBuilder& field(std::string_view name, const std::vector<std::string>& values);
    JsonBuilder& field(std::string_view name, const std::vector<int>& values);
    JsonBuilder& null_field(std::string_view name);
    // Inserts an already-encoded JSON value (a nested object built by another JsonBuilder).
    JsonBuilder& raw_field(std::string_view name, const std::string& json);
    // An array of already-encoded JSON values.
    JsonBuilder& raw_array(std::string_view name, const std::vector<std::string>& json_values);
    std::string str();

private:
    void key(std::string_view name);
    void string(std::string_view text);
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
    bool closed_ = false;
};

// {"error": message}, the body of every error response.
std::string json_error(std::string_view message);

}  // namespace cdb
