// Domain XML -> VM spec, for `virtumancer import --from-xml` (and the live import).
// Secrets are never carried into the spec: they become references the user fills in.
#pragma once
#include <string>
#include <vector>

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

} // namespace virtumancer
