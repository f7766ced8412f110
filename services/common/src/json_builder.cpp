#include "cdb/json_builder.h"

#include "cdb/text_rules.h"

namespace cdb {

JsonBuilder::JsonBuilder() : writer_(buffer_) { writer_.StartObject(); }

void JsonBuilder::key(std::string_view name) {
    writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));  // names are ours: ASCII
}

void JsonBuilder::string(std::string_view text) {
    // RapidJSON copies bytes as they are: invalid UTF-8 from a client would make the document invalid.
    if (is_valid_utf8(text)) {
        writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } else {
        const std::string repaired = to_valid_utf8(text);
        writer_.String(repaired.data(), static_cast<rapidjson::SizeType>(repaired.size()));
    }
}

JsonBuilder& JsonBuilder::field(std::string_view name, std::string_view value) {
    key(name);
    string(value);
    return *this;
}

JsonBuilder& JsonBuilder::field(std::string_view name, std::int64_t value) {
    key(name);
    writer_.Int64(value);
    return *this;
}

JsonBuilder& JsonBuilder::field(std::string_view name, bool value) {
    key(name);
    writer_.Bool(value);
    return *this;
}

JsonBuilder& JsonBuilder::field(std::string_view name, const std::vector<std::string>& values) {
    key(name);
    writer_.StartArray();
    for (const auto& value : values) string(value);
    writer_.EndArray();
    return *this;
}

JsonBuilder& JsonBuilder::field(std::string_view name, const std::vector<int>& values) {
    key(name);
    writer_.StartArray();
    for (int value : values) writer_.Int(value);
    writer_.EndArray();
    return *this;
}

JsonBuilder& JsonBuilder::raw_array(std::string_view name, const std::vector<std::string>& json_values) {
    key(name);
    writer_.StartArray();
    for (const auto& json : json_values) writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    writer_.EndArray();
    return *this;
}

JsonBuilder& JsonBuilder::null_field(std::string_view name) {
    key(name);
    writer_.Null();
    return *this;
}

JsonBuilder& JsonBuilder::raw_field(std::string_view name, const std::string& json) {
    key(name);
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
}

std::string JsonBuilder::str() {
    if (!closed_) {
        writer_.EndObject();
        closed_ = true;
    }
    return std::string(buffer_.GetString(), buffer_.GetSize());
}

std::string json_error(std::string_view message) { return JsonBuilder().field("error", message).str(); }

}  // namespace cdb
