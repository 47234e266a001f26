// Domain XML -> VM spec, for `virtumancer import --from-xml` (and the live import).
// Secrets are never carried into the spec: they become references the user fills in.
#pragma once
#include <string>
#include <vector>

#include "virtumancer/hypervisor.hpp"
#include "virtumancer/model.hpp"

namespace virtumancer {

struct ImportedDomain {
    Spec spec;                         // host set, obj parsed, VM settings at their defaults
    std::vector<std::string> warnings; // one line each, for stderr
    bool was_live = false;             // live XML (had <domain id=...>): live-only data stripped
};

// Parses one domain XML document. Live XML (a running domain's, recognised by <domain id=>)
// goes through strip_live_only_domain first. A graphics @passwd is removed and replaced by
// `password_env: VIRTUMANCER_<VM>_<TYPE>[<N>]_PASSWORD`, with a warning. Throws Error on
// malformed XML or a root other than <domain>.
ImportedDomain import_domain_xml(const std::string& xml, const std::string& host);

// Environment variable name for a graphics password: VIRTUMANCER_<VM>_<DEV>_PASSWORD, with
// every character outside [A-Z0-9] turned into '_'.
std::string password_env_name(const std::string& vm, const std::string& dev);

// Specs for domains of a live host (`virtumancer import --host/--uri`) and for the pools,
// volumes and networks they use, each object once.
struct HostImport {
    std::vector<ImportedDomain> vms;
    std::vector<Spec> pools, volumes, networks;
    std::vector<std::string> notes; // one line each, for stderr
};

// Adds one observed domain to `out`. `xml` is its persistent config, with secrets when they
// could be read (so graphics passwords are found and replaced by references); `od` gives the
// VM's state and autostart. From `obs`: a disk of type volume, or whose file/dev source is the
// path of a volume of an active pool, gives a Volume spec (capacity, format; a backing image
// that is a volume of the same pool becomes backing_volume and is imported too) and its
// StoragePool spec; an interface of type network gives a Network spec. Disks keep their XML
// form (type file stays file: rewriting it to type volume would change the domain XML).
// UUIDs of pools and networks are left out (they are identified by name).
void import_observed_domain(HostImport& out, const ObservedHost& obs, const ObservedDomain& od,
                            const std::string& xml, const std::string& host);

} // namespace virtumancer
