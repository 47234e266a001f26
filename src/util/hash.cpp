#include "virtumancer/hash.hpp"

#include <cstdio>

namespace virtumancer {

std::string fnv1a_hex(std::string_view data) {
    unsigned long long h = 1469598103934665603ULL;
    for (unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", h);
    return buf;
}

} // namespace virtumancer
