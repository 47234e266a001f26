// Shorthand for writing descriptor tables (src/model/descriptors*.cpp only).
#pragma once
#include "virtumancer/descriptors.hpp"

namespace virtumancer::descriptor_builder {

using T = FieldType;
using C = ChangeClass;

inline FieldDesc F(std::string key, std::string path, T type = T::String, std::string column = {},
                   C change = C::NextBoot, std::string doc = {},
                   std::vector<std::string> allowed = {}, std::string def = {}) {
    return FieldDesc{std::move(key), std::move(path),    type,          std::move(column), change,
                     std::move(doc), std::move(allowed), std::move(def)};
}

} // namespace virtumancer::descriptor_builder
