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
    DesiredState existing = existing_specs(o.out, nullptr);
    bool write_host = !o.no_host_file && need_host_spec(existing, host, uri, !o.uri.empty());
    // Everything is parsed and checked before anything is written.
    std::vector<ImportedDomain> doms;
    std::set<std::string> names;
    std::error_code ec;
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
        fs::path target = fs::path(o.out) / (name + ".yaml");
        if (const Spec* x = existing_spec(existing.vms, host, d.spec);
            x && !(o.force && fs::equivalent(x->src.file, target, ec)))
            throw Error(f + ": VM `" + name + "` of host " + host + " already has a spec (" +
                            spec_place(x->src) + "); nothing was written",
                        "remove that spec first, or import into another --out");
        for (const auto& w : d.warnings) std::cerr << "warning: " << f << ": " << w << "\n";
        if (d.was_live) std::cerr << "note: " << f << ": live XML; run-time data left out\n";
        doms.push_back(std::move(d));
    }
    fs::path hp = fs::path(o.out) / ("host-" + host + ".yaml");
    write_host = write_host && !fs::exists(hp);
    for (const auto& d : doms) {
        fs::path p = fs::path(o.out) / (d.spec.obj.name() + ".yaml");
        if (fs::exists(p) && !o.force)
            throw Error(p.string() + " exists; nothing was written",
                        "remove it, choose another --out, or pass --force");
    }
    fs::create_directories(o.out);
    for (const auto& d : doms) {
        fs::path p = fs::path(o.out) / (d.spec.obj.name() + ".yaml");
        write_spec_file(p.string(), emit_spec_yaml("VirtualMachine", d.spec), o.force);
        std::cout << "wrote " << p.string() << "\n";
    }
    if (write_host) {
        HostSpec h;
        h.name = host;
        h.uri = uri;
        write_spec_file(hp.string(), emit_host_yaml(h), false);
        std::cout << "wrote " << hp.string() << " (uri " << uri << ")\n";
    }
    return kExitOk;
}

} // namespace

DesiredState existing_specs(const std::string& out, const DesiredState* db) {
    DesiredState all;
    if (db) all = *db;
    std::error_code ec;
    if (!fs::is_directory(out, ec)) return all;
    // Diagnostics are not ours to report here: `load` reports them. What parsed counts.
    SpecLoadResult r = load_spec_files({out});
    auto add = [](std::vector<Spec>& into, std::vector<Spec>& from) {
        for (auto& s : from) into.push_back(std::move(s));
    };
    for (auto& h : r.state.hosts) all.hosts.push_back(std::move(h));
    add(all.pools, r.state.pools);
    add(all.volumes, r.state.volumes);
    add(all.networks, r.state.networks);
    add(all.vms, r.state.vms);
    return all;
}

std::string spec_place(const SourceRef& src) {
    if (src.file.empty()) return "the database";
    return src.line > 0 ? src.file + ":" + std::to_string(src.line) : src.file;
}

bool need_host_spec(const DesiredState& existing, const std::string& host, const std::string& uri,
                    bool uri_given) {
    for (const auto& h : existing.hosts) {
        if (h.name != host) continue;
        if (h.uri != uri && uri_given)
            throw Error("Host `" + host + "` is already defined (" + spec_place(h.src) +
                            ") with URI " + h.uri + ", not " + uri + "; nothing was written",
                        "import with that URI, or give this host another name (--host with "
                        "--from-xml, --host-name with --uri)");
        std::cerr << "note: Host " << host << " is already defined (" << spec_place(h.src)
                  << ", uri " << h.uri << "); kept it, no Host spec written\n";
        return false;
    }
    return true;
}

const Spec* existing_spec(const std::vector<Spec>& specs, const std::string& host, const Spec& s) {
    for (const auto& x : specs)
        if (x.host == host && x.obj.name() == s.obj.name() &&
            x.obj.get("pool") == s.obj.get("pool"))
            return &x;
    return nullptr;
}

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
