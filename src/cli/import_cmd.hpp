// `virtumancer import`: options shared by the offline (--from-xml) and live (--host/--uri)
// forms, and the spec file writer both use.
#pragma once
#include <string>
#include <vector>

#include "commands.hpp"

namespace virtumancer::cli {

struct ImportOpts {
    std::vector<std::string> from_xml;
    std::string out;
    std::string host;      // offline: the host name; live: a Host spec in the database
    std::string uri;       // offline: written into the Host spec; live: where to connect
    std::string host_name; // live with --uri: the host name (default local)
    std::vector<std::string> domains;
    bool all = false;
    bool no_host_file = false;
    bool no_load = false;
    bool force = false;
};

// Writes one spec file; refuses to overwrite unless `force`.
void write_spec_file(const std::string& path, const std::string& text, bool force);

// The live form: observe the host, write specs, load them, mark the VMs adopted.
int run_import_live(const Globals& g, const ImportOpts& o);

} // namespace virtumancer::cli
