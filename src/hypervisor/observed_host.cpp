// Look-ups in an ObservedHost, and the defaults of optional Hypervisor operations.
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer {

const ObservedDomain* ObservedHost::domain(const std::string& n) const {
    for (auto& d : domains)
        if (d.name == n) return &d;
    return nullptr;
}

const ObservedPool* ObservedHost::pool(const std::string& n) const {
    for (auto& p : pools)
        if (p.name == n) return &p;
    return nullptr;
}

const ObservedNetwork* ObservedHost::network(const std::string& n) const {
    for (auto& x : networks)
        if (x.name == n) return &x;
    return nullptr;
}

void Hypervisor::set_max_vcpus(const std::string& domain, int) {
    throw Error("cannot set the maximum vCPUs of domain '" + domain + "' on " + uri() +
                ": not supported by this hypervisor adapter");
}

void Hypervisor::set_max_memory(const std::string& domain, unsigned long long) {
    throw Error("cannot set the maximum memory of domain '" + domain + "' on " + uri() +
                ": not supported by this hypervisor adapter");
}

std::string Hypervisor::domain_xml_with_secrets(const std::string& name) {
    throw Error("cannot read the secrets of domain '" + name + "' on " + uri() +
                ": not supported by this hypervisor adapter");
}

} // namespace virtumancer
