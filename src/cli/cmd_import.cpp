// `virtumancer import --from-xml FILE... --out DIR [--host NAME]`: one YAML spec per domain.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/import_xml.hpp"
#include "virtumancer/spec.hpp"

namespace fs = std::filesystem;

namespace virtumancer::cli {
namespace {

struct ImportOpts {
    std::vector<std::string> from_xml;
    std::string out;
    std::string host;
    std::string uri = "qemu:///system";
    bool no_host_file = false;
    bool force = false;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read " + path, "check the path and its permissions");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& text, bool force) {
    if (fs::exists(p) && !force)
        throw Error(p.string() + " exists", "remove it, choose another --out, or pass --force");
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error("cannot write " + p.string(), "check the directory permissions");
}

int run_import(const ImportOpts& o) {
    if (o.from_xml.empty()) {
        std::cerr << "error: import from a live host is not implemented yet\n"
                  << "  hint: use `virtumancer import --from-xml FILE... --out DIR`\n";
        return kExitError;
    }
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
        write_file(p, emit_spec_yaml("VirtualMachine", d.spec), o.force);
        std::cout << "wrote " << p.string() << "\n";
    }
    fs::path hp = fs::path(o.out) / ("host-" + host + ".yaml");
    if (!o.no_host_file && !fs::exists(hp)) {
        HostSpec h;
        h.name = host;
        h.uri = o.uri;
        write_file(hp, emit_host_yaml(h), false);
        std::cout << "wrote " << hp.string() << " (uri " << o.uri << ")\n";
    }
    return kExitOk;
}

} // namespace

void register_import(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto opts = std::make_shared<ImportOpts>();
    auto* cmd = app.add_subcommand(
        "import", "Write specs for existing domains (from domain XML files; live hosts: not yet)");
    cmd->add_option("--from-xml", opts->from_xml, "domain XML files (virsh dumpxml output)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", opts->out, "directory the YAML specs are written to")->required();
    cmd->add_option("--host", opts->host, "host the VMs belong to (default: local)");
    cmd->add_option("--uri", opts->uri, "libvirt URI written into the Host spec")
        ->capture_default_str();
    cmd->add_flag("--no-host-file", opts->no_host_file,
                  "do not write host-<NAME>.yaml (the Host is defined elsewhere)");
    cmd->add_flag("--force", opts->force, "overwrite existing spec files");
    cmd->callback([&run, opts] { run = [opts] { return run_import(*opts); }; });
}

} // namespace virtumancer::cli
