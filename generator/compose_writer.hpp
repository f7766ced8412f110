#pragma once

#include <string>

#include "values.hpp"

namespace gen {

// The Docker Compose file of a deployment with `replicas` clusters: services lb and slave-0..N-1 on
// one bridge network. Valid for `docker compose` v2 and `docker-compose` 1.29.
std::string write_compose(const Values& values, int replicas);

}  // namespace gen
