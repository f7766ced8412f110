#include "config_reference.hpp"

#include "cdb/config_schema.h"

namespace gen {
namespace {

std::string code(const std::string& text) { return "`" + text + "`"; }

std::string environment_column(const cdb::ConfigField& field) {
    const std::string variable = cdb::env_name_for(field.path);
    if (field.type == cdb::FieldType::secret) return code(variable) + " or " + code(variable + "_FILE");
    return code(variable);
}

std::string type_column(const cdb::ConfigField& field) {
    switch (field.type) {
        case cdb::FieldType::integer: {
            std::string type = "int " + std::to_string(field.min) + ".." + std::to_string(field.max);
            if (!field.word_for_integer.empty()) type += ", or " + code("\"" + field.word_for_integer + "\"");
            for (const cdb::FieldRelation& relation : cdb::config_relations()) {
                if (relation.field != field.path) continue;
                type += relation.comparison == cdb::Comparison::at_most ? ", ≤ " : ", < ";
                type += code(relation.other);
            }
            return type;
        }
        case cdb::FieldType::text: return "string";
        case cdb::FieldType::choice: {
            std::string type;
            for (const std::string& choice : field.choices) type += (type.empty() ? "" : "/") + code(choice);
            return type;
        }
        case cdb::FieldType::secret:
            return "secret, " + std::to_string(field.min) + ".." + std::to_string(field.max) + " characters";
    }
    return "?";
}

std::string default_column(const cdb::ConfigField& field) {
    switch (field.required_by) {
        case cdb::RequiredBy::none: break;
        case cdb::RequiredBy::slave: return "required by `slave`";
        case cdb::RequiredBy::lb: return "required by `lb`";
        case cdb::RequiredBy::both: return "required";
    }
    return field.type == cdb::FieldType::integer ? field.default_text : code(field.default_text);
}

}  // namespace

std::string config_field_table() {
    std::string table = "| field | env | type | default | meaning |\n|---|---|---|---|---|\n";
    for (const cdb::ConfigField& field : cdb::config_schema()) {
        table += "| " + code(field.path) + " | " + environment_column(field) + " | " + type_column(field) + " | " +
                 default_column(field) + " | " + field.description + " |\n";
    }
    return table;
}

}  // namespace gen
