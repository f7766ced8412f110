#pragma once

#include <stdexcept>

namespace gen {

// Every problem the user can fix (command line, values, output path). main() prints it as one line
// and exits with status 2.
class GeneratorError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace gen
