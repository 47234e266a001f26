// The addresses of a running domain's NICs (virDomainInterfaceAddresses), for wait_for_ip and
// `virtumancer status`.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {

AddressAnswer LibvirtHypervisor::interface_addresses(const std::string& name,
                                                     const std::string& source) {
    unsigned src = 0;
    if (source == "lease")
        src = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE;
    else if (source == "agent")
        src = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT;
    else if (source == "arp")
        src = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP;
    else
        throw Error("unknown address source '" + source + "'", "use lease, agent or arp");
    auto d = domain(name);
    virDomainInterfacePtr* ifaces = nullptr;
    int n = virDomainInterfaceAddresses(d.get(), &ifaces, src, 0);
    AddressAnswer out;
    if (n < 0) {
        int code = lv::last_code();
        if (source == "agent" &&
            (code == VIR_ERR_AGENT_UNRESPONSIVE || code == VIR_ERR_AGENT_UNSYNCED)) {
            out.agent_unavailable = true;
            out.error = lv::last_message();
            return out;
        }
        lv::fail("cannot read the " + source + " addresses of domain '" + name + "' on " + uri_);
    }
    answered();
    for (int i = 0; i < n; ++i) {
        virDomainInterfacePtr ifc = ifaces[i];
        std::string mac = ifc->hwaddr ? ifc->hwaddr : "";
        std::transform(mac.begin(), mac.end(), mac.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        for (unsigned j = 0; j < ifc->naddrs; ++j) {
            const virDomainIPAddress& a = ifc->addrs[j];
            InterfaceAddress ia;
            ia.mac = mac;
            ia.name = ifc->name ? ifc->name : "";
            ia.family = a.type == VIR_IP_ADDR_TYPE_IPV6 ? "ipv6" : "ipv4";
            ia.address = a.addr ? a.addr : "";
            ia.prefix = static_cast<int>(a.prefix);
            out.addresses.push_back(std::move(ia));
        }
        virDomainInterfaceFree(ifc);
    }
    free(ifaces);
    return out;
}

} // namespace virtumancer
