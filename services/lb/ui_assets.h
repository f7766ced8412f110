#pragma once
// The topology page (GET /lb/ui, docs/UI.md): its files, compiled into the LB from services/lb/ui/.
#include <string_view>
#include <vector>

namespace cdb::lb {

struct UiAsset {
    const char* path;          // the route that serves it
    const char* content_type;  // without charset: every file is UTF-8
    std::string_view body;
};

const std::vector<UiAsset>& ui_assets();

}  // namespace cdb::lb
