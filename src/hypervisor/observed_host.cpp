// Look-ups in an ObservedHost, and the defaults of optional Hypervisor operations.
#include <algorithm>
#include <cstring>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer {

namespace {
// observe() returns every list sorted by name: binary search first (planning 10,000 domains
// looked each one up linearly: quadratic). A list filled in another order (tests, fakes) is
// still searched completely when the binary search misses.
template <class T> const T* find_named(const std::vector<T>& v, const std::string& n) {
    size_t lo = 0, hi = v.size(); // a plain bisection: well-defined on any order
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].name < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v.size() && v[lo].name == n) return &v[lo];
    for (const auto& x : v)
        if (x.name == n) return &x;
    return nullptr;
}
} // namespace

const ObservedDomain* ObservedHost::domain(const std::string& n) const {
    return find_named(domains, n);
}

const ObservedPool* ObservedHost::pool(const std::string& n) const {
    return find_named(pools, n);
}

const ObservedNetwork* ObservedHost::network(const std::string& n) const {
    return find_named(networks, n);
}

void Hypervisor::set_pool_autostart(const std::string& name, bool) {
    throw Error("cannot set the autostart of pool '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::set_network_autostart(const std::string& name, bool) {
    throw Error("cannot set the autostart of network '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::start_pool(const std::string& name) {
    throw Error("cannot start pool '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::start_network(const std::string& name) {
    throw Error("cannot start network '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::set_max_vcpus(const std::string& domain, int) {
    throw Error("cannot set the maximum vCPUs of domain '" + domain + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::set_max_memory(const std::string& domain, unsigned long long) {
    throw Error("cannot set the maximum memory of domain '" + domain + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::set_snapshot_description(const std::string& domain, const std::string& name,
                                          const std::string&) {
    throw Error("cannot change snapshot '" + name + "' of domain '" + domain + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

AddressAnswer Hypervisor::interface_addresses(const std::string& domain,
                                              const std::string& source) {
    throw Error("cannot read the " + source + " addresses of domain '" + domain + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::upload_volume(const std::string& pool, const std::string& name, unsigned long long,
                               const std::function<size_t(char*, size_t)>&) {
    throw Error("cannot upload into volume '" + pool + "/" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

unsigned long long Hypervisor::volume_capacity(const std::string& pool, const std::string& name) {
    throw Error("cannot read the capacity of volume '" + pool + "/" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::upload_volume_bytes(const std::string& pool, const std::string& name,
                                     const std::string& bytes) {
    size_t off = 0;
    upload_volume(pool, name, bytes.size(), [&](char* buf, size_t size) {
        size_t n = std::min(size, bytes.size() - off);
        std::memcpy(buf, bytes.data() + off, n);
        off += n;
        return n;
    });
}

void Hypervisor::rename_domain(const std::string& name, const std::string& new_name) {
    throw Error("cannot rename domain '" + name + "' to '" + new_name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

void Hypervisor::update_network(const std::string& name, const std::string& section,
                                const std::string&, int, const std::string&, bool, bool) {
    throw Error("cannot update the " + section + " of network '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

std::string Hypervisor::domain_xml_with_secrets(const std::string& name) {
    throw Error("cannot read the secrets of domain '" + name + "' on " + uri() +
                    ": not supported by this hypervisor adapter",
                "use a libvirt connection (qemu:///system or qemu+ssh://...) for this host");
}

} // namespace virtumancer
