// Shorthand for writing descriptor tables (src/model/descriptors*.cpp only).
#pragma once
#include "virtumancer/descriptors.hpp"

namespace virtumancer::descriptor_builder {

using T = FieldType;
using C = ChangeClass;

using F = FieldDesc; // F{.key = "cache", .path = "driver/@cache", ...}

} // namespace virtumancer::descriptor_builder
