#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

// Dotted key paths over nested YAML maps: values files and the services' configuration both name
// their leaves this way (config.redis.port).
namespace gen {

using LeafVisitor = std::function<void(const std::string& path, const YAML::Node& leaf)>;

// Calls `visit` for every value under `map` that is not a non-empty map, in document order.
void for_each_leaf(const YAML::Node& map, const LeafVisitor& visit);

// Sets map[a][b][c] = value for path "a.b.c", creating the maps on the way.
void insert_leaf(YAML::Node map, const std::string& path, const YAML::Node& value);

}  // namespace gen
