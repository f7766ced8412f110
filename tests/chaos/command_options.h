#pragma once
// What the chaos tools' command lines share (chaos, load_check).
#include <cstdlib>

namespace cdb::chaos {

// A whole number from 1 to 1 000 000 into `value`; false (and `value` untouched) for anything else.
inline bool positive_option(const char* text, int& value) {
    char* end = nullptr;
    const long parsed = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || parsed <= 0 || parsed > 1000000) return false;
    value = static_cast<int>(parsed);
    return true;
}

}  // namespace cdb::chaos
