// `virtumancer import`: options shared by the offline (--from-xml) and live (--host/--uri)
// forms, and the spec file writer both use.
#pragma once
#include <string>
#include <vector>

#include "commands.hpp"
#include "virtumancer/model.hpp"

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

// The specs an import must not define a second time: those of the database (`db`, may be
// null) and those already in the --out directory (read as far as they parse; a directory whose
// specs reference objects defined elsewhere still counts). Both import forms use it.
DesiredState existing_specs(const std::string& out, const DesiredState* db);

// Where an existing spec is defined, for messages: "specs/hosts.yaml:3" (or "the database").
std::string spec_place(const SourceRef& src);

// Whether a Host spec for `host` must be written. False (with a note on stderr that the
// existing Host is kept) when `existing` defines it with the same URI, or with any URI when
// `uri_given` is false. Throws Error when it is defined with a URI other than the one given.
bool need_host_spec(const DesiredState& existing, const std::string& host, const std::string& uri,
                    bool uri_given);

// The existing spec of the same kind, host and name (and pool, for volumes), or null.
const Spec* existing_spec(const std::vector<Spec>& specs, const std::string& host, const Spec& s);

// Writes one spec file; refuses to overwrite unless `force`.
void write_spec_file(const std::string& path, const std::string& text, bool force);

// The live form: observe the host, write specs, load them, mark the VMs adopted.
int run_import_live(const Globals& g, const ImportOpts& o);

} // namespace virtumancer::cli
