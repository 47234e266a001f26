// The one read of a domain's secrets (graphics passwords), for `import` only: it must know
// which graphics devices have a password to replace each by a reference the user fills in.
#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {

std::string LibvirtHypervisor::domain_xml_with_secrets(const std::string& name) {
    auto d = domain(name);
    char* xml = virDomainGetXMLDesc(d.get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    if (!xml)
        lv::fail("cannot read the configuration (with secrets) of domain '" + name + "' on " + uri_,
                 "reading graphics passwords needs a read-write connection with full access");
    return strip_live_only_domain(lv::take(xml));
}

} // namespace virtumancer
