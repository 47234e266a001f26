// Live import: one observed domain -> a VM spec, plus specs for the pools, volumes and
// networks it uses (each once across every domain imported together).
#include <functional>
#include <pugixml.hpp>

#include "virtumancer/diag.hpp"
#include "virtumancer/import_xml.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

bool has_spec(const std::vector<Spec>& v, const std::string& name, const std::string& pool = {}) {
    for (const auto& s : v)
        if (s.obj.name() == name && (pool.empty() || s.obj.get("pool") == pool)) return true;
    return false;
}

// Drops empty elements from a residue (libvirt writes <source/> into every dir pool) and the
// residue itself when nothing else is left.
void tidy_residue(Object& o) {
    if (o.extra_xml.empty()) return;
    pugi::xml_document doc;
    if (!doc.load_string(o.extra_xml.c_str())) return;
    auto root = doc.document_element();
    std::function<void(pugi::xml_node)> prune = [&](pugi::xml_node n) {
        for (auto c = n.first_child(); c;) {
            auto next = c.next_sibling();
            if (c.type() == pugi::node_element) {
                prune(c);
                if (!c.first_child() && !c.first_attribute()) n.remove_child(c);
            }
            c = next;
        }
    };
    prune(root);
    if (!root.first_child() && !root.first_attribute()) {
        o.extra_xml.clear();
        return;
    }
    o.extra_xml = xml_string(root);
}

void add_pool(HostImport& out, const ObservedPool& p, const std::string& host) {
    if (has_spec(out.pools, p.name)) return;
    Spec s;
    s.host = host;
    s.obj = parse_xml(p.xml, pool_kind());
    s.obj.fields.erase("uuid");
    s.obj.fields["autostart"] = p.autostart ? "yes" : "no";
    tidy_residue(s.obj);
    out.pools.push_back(std::move(s));
}

const ObservedVolume* volume_by_path(const ObservedPool& p, const std::string& path) {
    for (const auto& v : p.volumes)
        if (!path.empty() && v.path == path) return &v;
    return nullptr;
}

// Typed essentials only: a volume that exists is compared by capacity and format; the rest
// of its XML (target path, owner, qcow2 features) matters only when it is created.
void add_volume(HostImport& out, const ObservedPool& p, const ObservedVolume& v,
                const std::string& host) {
    if (has_spec(out.volumes, v.name, p.name)) return;
    add_pool(out, p, host);
    Object have = parse_xml(v.xml, volume_kind());
    Spec s;
    s.host = host;
    s.obj.kind = &volume_kind();
    s.obj.fields["name"] = v.name;
    s.obj.fields["pool"] = p.name;
    for (const char* k : {"capacity", "format"})
        if (have.has(k)) s.obj.fields[k] = have.get(k);
    std::string back = have.get("backing_path");
    if (const ObservedVolume* bv = volume_by_path(p, back); bv && bv != &v) {
        s.obj.fields["backing_volume"] = bv->name;
        out.volumes.push_back(std::move(s)); // before the recursion: a cycle stops here
        add_volume(out, p, *bv, host);
        return;
    }
    if (!back.empty()) {
        s.obj.fields["backing_path"] = back;
        if (have.has("backing_format")) s.obj.fields["backing_format"] = have.get("backing_format");
    }
    out.volumes.push_back(std::move(s));
}

void add_network(HostImport& out, const ObservedNetwork& n, const std::string& host) {
    if (has_spec(out.networks, n.name)) return;
    Spec s;
    s.host = host;
    s.obj = parse_xml(n.xml, network_kind());
    s.obj.fields.erase("uuid");
    s.obj.fields["autostart"] = n.autostart ? "yes" : "no";
    out.networks.push_back(std::move(s));
}

void add_disk(HostImport& out, const ObservedHost& obs, const Object& disk, const std::string& vm,
              const std::string& host) {
    const std::string target = disk.get("target", "?");
    if (disk.get("type") == "volume") {
        const ObservedPool* p = obs.pool(disk.get("pool"));
        const ObservedVolume* v = nullptr;
        if (p)
            for (const auto& x : p->volumes)
                if (x.name == disk.get("volume")) v = &x;
        if (!v) {
            out.notes.push_back("VM " + vm + ": disk " + target + " uses volume " +
                                disk.get("volume") + " of pool " + disk.get("pool") +
                                ", which is not found (pool missing or not running); no "
                                "Volume spec written");
            if (p) add_pool(out, *p, host);
            return;
        }
        add_volume(out, *p, *v, host);
        return;
    }
    std::string path = disk.get("file", disk.get("dev"));
    if (path.empty()) return;
    for (const auto& p : obs.pools)
        if (const ObservedVolume* v = volume_by_path(p, path)) {
            add_volume(out, p, *v, host);
            return;
        }
}

} // namespace

void import_observed_domain(HostImport& out, const ObservedHost& obs, const ObservedDomain& od,
                            const std::string& xml, const std::string& host) {
    ImportedDomain d = import_domain_xml(xml, host);
    const std::string vm = d.spec.obj.name();
    if (od.state == "running" || od.state == "shutoff" || od.state == "paused") {
        d.spec.vm.state = od.state;
    } else {
        d.spec.vm.state = "running";
        d.warnings.push_back("VM " + vm + " is in state `" + od.state +
                             "`; the spec says `state: running`: edit it if that is wrong");
    }
    d.spec.vm.autostart = od.autostart;
    for (const auto& dev : d.spec.obj.children) {
        if (!dev.kind) continue;
        if (dev.kind->kind == "disk") add_disk(out, obs, dev, vm, host);
        if (dev.kind->kind == "interface" && dev.get("type") == "network" && dev.has("network")) {
            if (const ObservedNetwork* n = obs.network(dev.get("network")))
                add_network(out, *n, host);
            else
                out.notes.push_back("VM " + vm + ": network " + dev.get("network") +
                                    " is not defined on the host; no Network spec written: "
                                    "define that network on the host, or write its Network "
                                    "spec, before apply");
        }
    }
    out.vms.push_back(std::move(d));
}

} // namespace virtumancer
