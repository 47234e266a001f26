// Placeholder until the libvirt adapter lands; replaced by src/hypervisor/*.cpp.
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer {
const ObservedDomain* ObservedHost::domain(const std::string& n) const {
    for (auto& d : domains)
        if (d.name == n) return &d;
    return nullptr;
}
const ObservedPool* ObservedHost::pool(const std::string& n) const {
    for (auto& d : pools)
        if (d.name == n) return &d;
    return nullptr;
}
const ObservedNetwork* ObservedHost::network(const std::string& n) const {
    for (auto& d : networks)
        if (d.name == n) return &d;
    return nullptr;
}
std::unique_ptr<Hypervisor> connect_libvirt(const std::string&) {
    throw Error("not implemented yet");
}
std::string strip_live_only_domain(const std::string& xml) { return xml; }
} // namespace virtumancer
