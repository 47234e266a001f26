// Placeholder until the spec loader lands; replaced by src/spec/*.cpp.
#include "virtumancer/spec.hpp"

namespace virtumancer {
SpecLoadResult load_spec_files(const std::vector<std::string>&) {
    throw Error("spec loading is not implemented yet");
}
SpecLoadResult load_spec_text(const std::string&, const std::string&) {
    throw Error("spec loading is not implemented yet");
}
std::string emit_host_yaml(const HostSpec&) { throw Error("not implemented yet"); }
std::string emit_spec_yaml(const std::string&, const Spec&) { throw Error("not implemented yet"); }
std::string spec_json_schema() { throw Error("not implemented yet"); }
bool is_safe_name(const std::string&, std::string*) { return false; }
std::string derived_mac(const std::string&, const std::string&, int) { return {}; }
} // namespace virtumancer
