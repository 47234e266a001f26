// `virtumancer import --host NAME | --uri URI [--domain NAME...] [--all] --out DIR`: specs for
// existing domains of a live host and the pools, volumes and networks they use; loaded into
// the database (with the paths of the latest load, so nothing else is marked for deletion)
// and the VMs marked adopted. The ownership marker is stamped by the next apply.
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "import_cmd.hpp"
#include "pipeline.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/import_xml.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;

namespace virtumancer::cli {
namespace {

struct Target {
    std::string host, uri;
    bool write_host = true; // no Host spec names it yet (need_host_spec)
};

Target resolve_host(const ImportOpts& o, const DesiredState& have) {
    if (o.host.empty() == o.uri.empty())
        throw Error("import from a live host needs exactly one of --host NAME or --uri URI",
                    "--host NAME uses the URI of a Host spec in the database; --uri URI "
                    "connects directly (name the host with --host-name); or import domain XML "
                    "files with --from-xml");
    Target t;
    if (!o.host.empty()) {
        if (!o.host_name.empty())
            throw Error("--host-name goes with --uri", "drop --host-name: --host names the host");
        t.host = o.host;
        for (const auto& h : have.hosts)
            if (h.name == o.host) t.uri = h.uri;
        if (t.uri.empty())
            throw Error("the database holds no Host spec named `" + o.host + "`",
                        "load the specs that define it first (virtumancer load specs/), or "
                        "pass --uri URI --host-name " +
                            o.host + " instead");
        return t;
    }
    t.host = o.host_name.empty() ? "local" : o.host_name;
    t.uri = o.uri;
    std::string why;
    if (!is_safe_name(t.host, &why))
        throw Error("host name `" + t.host + "` is not usable: " + why,
                    "choose another --host-name");
    return t; // a Host spec of that name with another URI: need_host_spec refuses
}

bool under(const fs::path& p, const fs::path& dir) {
    auto a = fs::weakly_canonical(p), b = fs::weakly_canonical(dir);
    auto [end, it] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
    return end == b.end();
}

// Paths loaded after the import: those of the latest load (so the specs loaded before stay
// loaded) plus --out. Checked before anything is written.
std::vector<std::string> load_paths(Store& store, const std::string& out) {
    std::vector<std::string> paths = store.last_load_paths();
    bool covered = false;
    for (const auto& p : paths) {
        if (!fs::exists(p))
            throw Error("the latest load read `" + p + "`, which is not found from " +
                            fs::current_path().string(),
                        "run import from the directory you load from, or pass --no-load and "
                        "run `virtumancer load` with every spec path and " +
                            out + " yourself");
        if (under(out, p)) covered = true;
    }
    if (!covered) paths.push_back(out);
    return paths;
}

bool has_marker(const ObservedDomain& d) {
    OwnerMarker m;
    try {
        parse_xml(d.inactive_xml, domain_kind(), &m);
    } catch (const Error&) {
        return false;
    }
    return m.present();
}

std::vector<const ObservedDomain*>
select_domains(const ImportOpts& o, const ObservedHost& obs,
               const std::map<std::string, std::string>& spec_vms /* name -> where */) {
    std::vector<const ObservedDomain*> out;
    std::string why;
    if (o.all) {
        for (const auto& d : obs.domains) {
            std::string skip;
            if (!d.persistent)
                skip = "transient (no persistent config to adopt)";
            else if (has_marker(d))
                skip = "already managed by virtumancer";
            else if (spec_vms.count(d.name))
                skip = "already has a spec (" + spec_vms.at(d.name) +
                       "; adopted once loaded, apply stamps it)";
            else if (!is_safe_name(d.name, &why))
                skip = "its name cannot be a spec name (" + why + "); rename it (virsh domrename)";
            if (!skip.empty()) {
                std::cerr << "note: skipped domain " << d.name << ": " << skip << "\n";
                continue;
            }
            out.push_back(&d);
        }
        return out;
    }
    std::set<std::string> seen;
    for (const auto& name : o.domains) {
        if (!seen.insert(name).second) continue;
        const ObservedDomain* d = obs.domain(name);
        if (!d)
            throw Error("no domain named `" + name + "` on " + obs.uri,
                        "virsh -c " + obs.uri + " list --all shows the domains there");
        if (!d->persistent)
            throw Error("domain `" + name + "` is transient: it has no persistent config",
                        "make it persistent (virsh define its XML) first");
        if (has_marker(*d))
            throw Error("domain `" + name + "` is already managed by virtumancer",
                        "its spec is in your spec files; drop --domain " + name);
        if (spec_vms.count(name))
            throw Error("VM `" + name + "` of this host already has a spec (" + spec_vms.at(name) +
                            ")",
                        "it is imported already; apply stamps it as managed");
        if (!is_safe_name(name, &why))
            throw Error("domain name `" + name + "` cannot be a spec name: " + why,
                        "rename the domain (virsh domrename) before importing it");
        out.push_back(d);
    }
    return out;
}

struct File {
    std::string path, text, what;
};

// The files to write: objects already in the database's specs are left out (noted).
std::vector<File> plan_files(const ImportOpts& o, const Target& t, const HostImport& imp,
                             const DesiredState& have) {
    std::vector<File> files;
    auto path = [&](const std::string& name) { return (fs::path(o.out) / name).string(); };
    std::set<std::string> dropped_pools;
    std::string why;
    auto keep = [&](const char* kind, const std::vector<Spec>& known, const Spec& s,
                    const std::string& label) {
        if (const Spec* x = existing_spec(known, t.host, s)) {
            std::cerr << "note: " << kind << " " << label << " already has a spec ("
                      << spec_place(x->src) << "); not written\n";
            return false;
        }
        if (!is_safe_name(s.obj.name(), &why)) {
            std::cerr << "warning: " << kind << " " << label
                      << " not written: its name cannot be a spec name (" << why
                      << "); rename it on the host, or write its spec by hand\n";
            return false;
        }
        return true;
    };
    for (const auto& d : imp.vms)
        files.push_back({path(d.spec.obj.name() + ".yaml"),
                         emit_spec_yaml("VirtualMachine", d.spec), "VM " + d.spec.obj.name()});
    for (const auto& s : imp.pools) {
        if (!is_safe_name(s.obj.name())) dropped_pools.insert(s.obj.name());
        if (!keep("pool", have.pools, s, s.obj.name())) continue;
        files.push_back({path("pool-" + s.obj.name() + ".yaml"), emit_spec_yaml("StoragePool", s),
                         "pool " + s.obj.name()});
    }
    for (const auto& s : imp.volumes) {
        std::string pool = s.obj.get("pool");
        std::string label = pool + "/" + s.obj.name();
        if (dropped_pools.count(pool)) {
            std::cerr << "warning: volume " << label
                      << " not written: its pool is not written; rename the pool on the host, "
                         "or write both specs by hand\n";
            continue;
        }
        if (!keep("volume", have.volumes, s, label)) continue;
        files.push_back({path("volume-" + pool + "-" + s.obj.name() + ".yaml"),
                         emit_spec_yaml("Volume", s), "volume " + label});
    }
    for (const auto& s : imp.networks) {
        if (!keep("network", have.networks, s, s.obj.name())) continue;
        files.push_back({path("network-" + s.obj.name() + ".yaml"), emit_spec_yaml("Network", s),
                         "network " + s.obj.name()});
    }
    std::string hp = path("host-" + t.host + ".yaml");
    if (t.write_host && !fs::exists(hp)) {
        HostSpec h;
        h.name = t.host;
        h.uri = t.uri;
        files.push_back({hp, emit_host_yaml(h), "host " + t.host + " (uri " + t.uri + ")"});
    }
    std::set<std::string> paths;
    for (const auto& f : files) {
        if (!paths.insert(f.path).second)
            throw Error("two imported objects would be written to " + f.path,
                        "import them separately into different --out directories");
        if (fs::exists(f.path) && !o.force)
            throw Error(f.path + " exists", "remove it, choose another --out, or pass --force");
    }
    return files;
}

} // namespace

int run_import_live(const Globals& g, const ImportOpts& o) {
    if (o.domains.empty() == !o.all)
        throw Error(o.all ? "--all and --domain exclude each other" : "name the domains to import",
                    "pass --domain NAME (repeatable) or --all");
    auto db = Database::open(g.db_path);
    Store store(*db);
    DesiredState have = store.load_desired();
    Target t = resolve_host(o, have);
    // The database's specs and those already in --out: none is written a second time.
    have = existing_specs(o.out, &have);
    t.write_host = !o.no_host_file && need_host_spec(have, t.host, t.uri, true);
    std::vector<std::string> paths;
    if (!o.no_load) paths = load_paths(store, o.out);

    auto hv = connect_libvirt(t.uri);
    ObservedHost obs = hv->observe(4);
    obs.host = t.host;
    std::map<std::string, std::string> spec_vms;
    for (const auto& v : have.vms)
        if (v.host == t.host) spec_vms.emplace(v.obj.name(), spec_place(v.src));
    auto chosen = select_domains(o, obs, spec_vms);
    if (chosen.empty()) {
        std::cout << "nothing to import from " << t.uri << "\n";
        return kExitOk;
    }

    HostImport imp;
    for (const ObservedDomain* d : chosen) {
        std::string xml;
        try {
            xml = hv->domain_xml_with_secrets(d->name);
        } catch (const Error& e) {
            xml = d->inactive_xml;
            std::cerr << "warning: VM " << d->name << ": graphics passwords cannot be read ("
                      << e.what()
                      << "); if its VNC/SPICE has a password, add password_env to that graphics "
                         "device in the spec before apply, or apply removes the password\n";
        }
        import_observed_domain(imp, obs, *d, xml, t.host);
    }
    for (const auto& d : imp.vms)
        for (const auto& w : d.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& n : imp.notes) std::cerr << "note: " << n << "\n";

    auto files = plan_files(o, t, imp, have);
    fs::create_directories(o.out);
    for (const auto& f : files) {
        write_spec_file(f.path, f.text, o.force);
        std::cout << "wrote " << f.path << " (" << f.what << ")\n";
    }
    if (o.no_load) {
        std::cout << "not loaded (--no-load): run `virtumancer load` with your spec paths and "
                  << o.out << "\n";
        return kExitOk;
    }
    desired_state(*db, paths); // the same load as `virtumancer load`; throws on spec errors
    int adopted = 0;
    for (const auto& d : imp.vms)
        if (store.mark_adopted(t.host, d.spec.obj.name())) ++adopted;
    std::cout << "imported " << imp.vms.size() << " VM(s) from " << t.uri << " as host " << t.host
              << "; " << adopted
              << " recorded as adopted. `virtumancer plan` shows the adoption; apply stamps "
                 "virtumancer's ownership marker\n";
    return kExitOk;
}

} // namespace virtumancer::cli
