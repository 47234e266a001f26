// The usage graph of one host (see usage.hpp). Pure: parses the XML libvirt reported.
#include "virtumancer/usage.hpp"

#include <algorithm>
#include <pugixml.hpp>

namespace virtumancer {

namespace {

// Paths compared as libvirt writes them: repeated and trailing slashes do not matter.
std::string norm(const std::string& p) {
    std::string out;
    for (char c : p)
        if (!(c == '/' && !out.empty() && out.back() == '/')) out += c;
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

void add_disk(pugi::xml_node disk, std::vector<DiskRef>& out) {
    std::string target = disk.child("target").attribute("dev").value();
    pugi::xml_node src = disk.child("source");
    DiskRef r;
    r.target = target;
    r.file = src.attribute("file").value();
    if (r.file.empty()) r.file = src.attribute("dev").value();
    r.pool = src.attribute("pool").value();
    r.volume = src.attribute("volume").value();
    if (!r.file.empty() || !r.volume.empty()) out.push_back(r);
    // A backing chain written into the domain XML: the disk uses those files too.
    for (pugi::xml_node b = disk.child("backingStore"); b; b = b.child("backingStore")) {
        DiskRef br;
        br.target = target + " backing file";
        br.file = b.child("source").attribute("file").value();
        if (br.file.empty()) br.file = b.child("source").attribute("dev").value();
        if (!br.file.empty()) out.push_back(br);
    }
}

void add_nic(pugi::xml_node nic, std::vector<NicRef>& out) {
    NicRef r;
    r.mac = nic.child("mac").attribute("address").value();
    r.network = nic.child("source").attribute("network").value();
    r.bridge = nic.child("source").attribute("bridge").value();
    if (!r.network.empty() || !r.bridge.empty()) out.push_back(r);
}

bool same_disk(const DiskRef& a, const DiskRef& b) {
    if (!a.target.empty() && a.target == b.target) return true;
    if (!a.file.empty() && norm(a.file) == norm(b.file)) return true;
    return !a.volume.empty() && a.volume == b.volume && a.pool == b.pool;
}

} // namespace

DomainRefs domain_refs(const std::string& xml) {
    DomainRefs out;
    if (xml.empty()) return out;
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str())) return out;
    pugi::xml_node root = doc.document_element();
    std::string name = root.name();
    if (name == "disk") {
        add_disk(root, out.disks);
    } else if (name == "interface") {
        add_nic(root, out.nics);
    } else {
        for (pugi::xml_node d : root.child("devices").children("disk")) add_disk(d, out.disks);
        for (pugi::xml_node n : root.child("devices").children("interface")) add_nic(n, out.nics);
    }
    return out;
}

std::string Use::text() const {
    return kind + " " + name + " (" + how + ")";
}

std::string users_text(const std::vector<Use>& users) {
    std::string out;
    for (const auto& u : users) out += (out.empty() ? "by " : ", by ") + u.text();
    return out;
}

Usage::Usage(const ObservedHost& h) {
    for (const auto& d : h.domains) {
        Dom& dom = domains_[d.name];
        dom.config = domain_refs(d.inactive_xml);
        dom.live = domain_refs(d.live_xml);
    }
    for (const auto& p : h.pools) {
        pugi::xml_document doc;
        if (doc.load_string(p.xml.c_str()))
            pool_paths_[p.name] =
                doc.document_element().child("target").child("path").text().as_string();
        for (const auto& v : p.volumes) {
            Vol vol;
            vol.path = v.path;
            pugi::xml_document vd;
            if (vd.load_string(v.xml.c_str())) {
                pugi::xml_node root = vd.document_element();
                if (vol.path.empty())
                    vol.path = root.child("target").child("path").text().as_string();
                vol.backing = root.child("backingStore").child("path").text().as_string();
            }
            volumes_[p.name + "/" + v.name] = vol;
        }
    }
    for (const auto& n : h.networks) {
        pugi::xml_document doc;
        if (doc.load_string(n.xml.c_str()))
            bridges_[n.name] = doc.document_element().child("bridge").attribute("name").value();
    }
}

void Usage::set_domain_config(const std::string& name, DomainRefs refs) {
    domains_[name].config = std::move(refs);
}

void Usage::set_domain_live(const std::string& name, DomainRefs refs) {
    domains_[name].live = std::move(refs);
}

void Usage::start_domain(const std::string& name) {
    Dom& d = domains_[name];
    d.live = d.config;
}

void Usage::stop_domain(const std::string& name) {
    auto it = domains_.find(name);
    if (it != domains_.end()) it->second.live = {};
}

void Usage::remove_domain(const std::string& name) {
    domains_.erase(name);
}

void Usage::detach_live(const std::string& name, const DomainRefs& dev) {
    auto it = domains_.find(name);
    if (it == domains_.end()) return;
    auto& disks = it->second.live.disks;
    for (const auto& r : dev.disks)
        disks.erase(std::remove_if(disks.begin(), disks.end(),
                                   [&](const DiskRef& d) { return same_disk(d, r); }),
                    disks.end());
    auto& nics = it->second.live.nics;
    for (const auto& r : dev.nics)
        nics.erase(
            std::remove_if(nics.begin(), nics.end(),
                           [&](const NicRef& n) { return !r.mac.empty() && n.mac == r.mac; }),
            nics.end());
}

void Usage::attach_live(const std::string& name, const DomainRefs& dev) {
    Dom& d = domains_[name];
    d.live.disks.insert(d.live.disks.end(), dev.disks.begin(), dev.disks.end());
    d.live.nics.insert(d.live.nics.end(), dev.nics.begin(), dev.nics.end());
}

void Usage::add_volume(const std::string& pool, const std::string& name, const std::string& path,
                       const std::string& backing_path) {
    volumes_[pool + "/" + name] = {path, backing_path};
}

void Usage::remove_volume(const std::string& pool, const std::string& name) {
    volumes_.erase(pool + "/" + name);
}

std::string Usage::pool_path(const std::string& pool) const {
    auto it = pool_paths_.find(pool);
    return it == pool_paths_.end() ? std::string() : it->second;
}

void Usage::disk_users(const std::function<bool(const DiskRef&)>& match,
                       std::vector<Use>& out) const {
    for (const auto& [name, d] : domains_) {
        std::vector<std::string> config, live_only;
        for (const auto& r : d.config.disks)
            if (match(r)) config.push_back(r.target);
        for (const auto& r : d.live.disks)
            if (match(r) && std::find(config.begin(), config.end(), r.target) == config.end())
                live_only.push_back(r.target);
        for (const auto& t : config) out.push_back({"domain", name, "disk " + t});
        for (const auto& t : live_only)
            out.push_back({"domain", name, "disk " + t + " of the running VM"});
    }
}

std::vector<Use> Usage::volume_users(const std::string& pool, const std::string& name) const {
    std::vector<Use> out;
    std::string key = pool + "/" + name;
    std::string path;
    auto it = volumes_.find(key);
    if (it != volumes_.end()) path = norm(it->second.path);
    if (path.empty()) {
        std::string dir = pool_path(pool);
        if (!dir.empty()) path = norm(dir + "/" + name);
    }
    disk_users(
        [&](const DiskRef& r) {
            if (!r.volume.empty()) return r.volume == name && r.pool == pool;
            return !path.empty() && norm(r.file) == path;
        },
        out);
    if (!path.empty())
        for (const auto& [other, v] : volumes_)
            if (other != key && !v.backing.empty() && norm(v.backing) == path)
                out.push_back({"volume", other, "backing file"});
    return out;
}

std::vector<Use> Usage::file_users(const std::string& path) const {
    std::vector<Use> out;
    std::string p = norm(path);
    if (p.empty()) return out;
    std::string key; // the volume ("pool/name") at that path, if libvirt has one
    for (const auto& [k, v] : volumes_)
        if (norm(v.path) == p) key = k;
    disk_users(
        [&](const DiskRef& r) {
            if (!r.volume.empty()) return !key.empty() && r.pool + "/" + r.volume == key;
            return norm(r.file) == p;
        },
        out);
    return out;
}

std::vector<Use> Usage::pool_users(const std::string& pool) const {
    std::vector<Use> out;
    std::string prefix = pool + "/";
    for (const auto& [key, v] : volumes_)
        if (key.rfind(prefix, 0) == 0) out.push_back({"volume", key, "a volume in the pool"});
    std::string dir = norm(pool_path(pool));
    disk_users(
        [&](const DiskRef& r) {
            if (!r.pool.empty()) return r.pool == pool;
            std::string f = norm(r.file);
            return dir.size() > 1 && f.size() > dir.size() && f.rfind(dir + "/", 0) == 0;
        },
        out);
    return out;
}

std::vector<Use> Usage::network_users(const std::string& network) const {
    std::vector<Use> out;
    std::string bridge;
    auto b = bridges_.find(network);
    if (b != bridges_.end()) bridge = b->second;
    for (const auto& [name, d] : domains_) {
        auto uses = [&](const NicRef& n) {
            return n.network == network || (!bridge.empty() && n.bridge == bridge);
        };
        std::vector<std::string> config;
        for (const auto& n : d.config.nics)
            if (uses(n)) config.push_back(n.mac);
        for (const auto& m : config) out.push_back({"domain", name, "interface " + m});
        for (const auto& n : d.live.nics)
            if (uses(n) && std::find(config.begin(), config.end(), n.mac) == config.end())
                out.push_back({"domain", name, "interface " + n.mac + " of the running VM"});
    }
    return out;
}

} // namespace virtumancer
