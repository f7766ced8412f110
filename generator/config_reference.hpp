#pragma once

#include <string>

namespace gen {

// docs/CONFIG.md's table of fields, in Markdown, from the services' configuration schema
// (`generator --config-table`; generator/regenerate.sh puts it into the document).
std::string config_field_table();

}  // namespace gen
