// `virtumancer import --from-xml FILE... --out DIR [--host NAME]`: one YAML spec per domain.
// The live form (--host NAME | --uri URI) is in cmd_import_live.cpp.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "import_cmd.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/import_xml.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;

namespace virtumancer::cli {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read " + path, "check the path and its permissions");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int run_import(const Globals& g, const ImportOpts& o) {
    if (o.from_xml.empty()) return run_import_live(g, o);
    if (!o.domains.empty() || o.all || !o.host_name.empty())
        throw Error("--domain, --all and --host-name select domains of a live host",
                    "drop them with --from-xml, or drop --from-xml to import from a host");
    const std::string uri = o.uri.empty() ? "qemu:///system" : o.uri;
    std::string host = o.host.empty() ? "local" : o.host;
    std::string why;
    if (!is_safe_name(host, &why))
        throw Error("host name `" + host + "` is not usable: " + why, "choose another --host");
    fs::create_directories(o.out);
    // Everything is parsed and checked before anything is written.
    std::vector<ImportedDomain> doms;
    std::set<std::string> names;
    for (const auto& f : o.from_xml) {
        ImportedDomain d;
        try {
            d = import_domain_xml(read_file(f), host);
        } catch (const XmlError& e) {
            throw Error(f + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) +
                            ": " + e.message(),
                        e.remedy());
        } catch (const Error& e) {
            throw Error(f + ": " + e.what(), e.remedy());
        }
        std::string name = d.spec.obj.name();
        if (!is_safe_name(name, &why))
            throw Error(f + ": domain name `" + name + "` cannot be a spec name: " + why,
                        "rename the domain (virsh domrename) before importing it");
        if (!names.insert(name).second)
            throw Error(f + ": a second domain named `" + name + "`",
                        "import domains of one host at a time");
        for (const auto& w : d.warnings) std::cerr << "warning: " << f << ": " << w << "\n";
        if (d.was_live) std::cerr << "note: " << f << ": live XML; run-time data left out\n";
        doms.push_back(std::move(d));
    }
    for (const auto& d : doms) {
        fs::path p = fs::path(o.out) / (d.spec.obj.name() + ".yaml");
        write_spec_file(p.string(), emit_spec_yaml("VirtualMachine", d.spec), o.force);
        std::cout << "wrote " << p.string() << "\n";
    }
    fs::path hp = fs::path(o.out) / ("host-" + host + ".yaml");
    if (!o.no_host_file && !fs::exists(hp)) {
        HostSpec h;
        h.name = host;
        h.uri = uri;
        write_spec_file(hp.string(), emit_host_yaml(h), false);
        std::cout << "wrote " << hp.string() << " (uri " << uri << ")\n";
    }
    return kExitOk;
}

} // namespace

void write_spec_file(const std::string& path, const std::string& text, bool force) {
    if (fs::exists(path) && !force)
        throw Error(path + " exists", "remove it, choose another --out, or pass --force");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error("cannot write " + path, "check the directory permissions");
}

void register_import(CLI::App& app, Globals& g, Runner& run) {
    auto opts = std::make_shared<ImportOpts>();
    auto* cmd = app.add_subcommand(
        "import",
        "Write specs for existing domains: from a live host (--host NAME | --uri URI, with "
        "--domain NAME... or --all; also the pools, volumes and networks they use; recorded in "
        "the database as adopted, stamped as managed when you apply) or from domain XML files "
        "(--from-xml)");
    cmd->add_option("--from-xml", opts->from_xml, "domain XML files (virsh dumpxml output)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", opts->out, "directory the YAML specs are written to")->required();
    cmd->add_option("--host", opts->host,
                    "live: a Host spec in the database to import from; with --from-xml: the "
                    "host the VMs belong to (default: local)");
    cmd->add_option("--uri", opts->uri,
                    "live: the libvirt URI to import from (host name: --host-name); with "
                    "--from-xml: the URI written into the Host spec (default qemu:///system)");
    cmd->add_option("--host-name", opts->host_name,
                    "live with --uri: the host's name (default local)");
    cmd->add_option("--domain", opts->domains, "live: a domain to import (repeatable)");
    cmd->add_flag("--all", opts->all,
                  "live: every persistent domain not managed by virtumancer yet");
    cmd->add_flag("--no-host-file", opts->no_host_file,
                  "do not write host-<NAME>.yaml (the Host is defined elsewhere)");
    cmd->add_flag("--no-load", opts->no_load,
                  "live: only write the spec files; do not load them or record the adoption");
    cmd->add_flag("--force", opts->force, "overwrite existing spec files");
    cmd->callback([&run, &g, opts] { run = [&g, opts] { return run_import(g, *opts); }; });
}

} // namespace virtumancer::cli
