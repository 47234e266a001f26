#include "virtumancer/model.hpp"

namespace virtumancer {

std::string Object::get(const std::string& key, const std::string& def) const {
    auto it = fields.find(key);
    return it == fields.end() ? def : it->second;
}

} // namespace virtumancer
