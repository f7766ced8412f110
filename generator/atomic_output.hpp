#pragma once

#include <string>

namespace gen {

// Writes `content` to stdout when `path` is "-", otherwise replaces the file at `path` atomically:
// the content goes to a temporary file in the same directory, which is then renamed over `path`, so
// readers see the old file or the new one, never a part. Throws GeneratorError when it cannot.
void write_output(const std::string& path, const std::string& content);

}  // namespace gen
