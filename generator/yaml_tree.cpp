#include "yaml_tree.hpp"

namespace gen {
namespace {

void visit_under(const YAML::Node& map, const std::string& prefix, const LeafVisitor& visit) {
    for (const auto& entry : map) {
        const std::string path = prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
        if (entry.second.IsMap() && entry.second.size() > 0) {
            visit_under(entry.second, path, visit);
        } else {
            visit(path, entry.second);
        }
    }
}

}  // namespace

void for_each_leaf(const YAML::Node& map, const LeafVisitor& visit) { visit_under(map, "", visit); }

void insert_leaf(YAML::Node map, const std::string& path, const YAML::Node& value) {
    // Node handles share their data, so recursing on map[first] fills the child in place.
    const auto dot = path.find('.');
    if (dot == std::string::npos) {
        map[path] = value;
    } else {
        insert_leaf(map[path.substr(0, dot)], path.substr(dot + 1), value);
    }
}

}  // namespace gen
