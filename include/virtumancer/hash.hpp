// Fast non-cryptographic fingerprints (FNV-1a, 64 bit, hex) for change detection.
#pragma once
#include <string>
#include <string_view>

namespace virtumancer {

std::string fnv1a_hex(std::string_view data);

} // namespace virtumancer
