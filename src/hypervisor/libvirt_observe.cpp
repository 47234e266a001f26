// Observation: list every domain, pool (with volumes) and network of a host and fetch their
// XML, many at once over one connection (libvirt connections are thread-safe).
#include <algorithm>
#include <functional>
#include <pugixml.hpp>
#include <unordered_set>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/parallel.hpp"

namespace virtumancer {
namespace {

// The object disappeared between listing and fetching (undefined or, if transient, stopped).
// UUIDs of the domains a flag-filtered virConnectListAllDomains returns.
std::unordered_set<std::string> domain_uuids(virConnectPtr conn, unsigned int flags,
                                             const std::string& uri, const char* what) {
    virDomainPtr* raw = nullptr;
    int n = virConnectListAllDomains(conn, &raw, flags);
    if (n < 0) lv::fail(std::string("cannot list the ") + what + " domains on " + uri);
    std::unordered_set<std::string> out;
    for (auto& d : lv::adopt<lv::Domain>(raw, n)) {
        char uuid[VIR_UUID_STRING_BUFLEN] = {};
        if (virDomainGetUUIDString(d.get(), uuid) == 0) out.insert(uuid);
    }
    return out;
}

bool vanished() {
    int c = lv::last_code();
    return c == VIR_ERR_NO_DOMAIN || c == VIR_ERR_NO_STORAGE_POOL || c == VIR_ERR_NO_NETWORK ||
           c == VIR_ERR_NO_STORAGE_VOL;
}

} // namespace

std::optional<ObservedDomain> LibvirtHypervisor::fetch_domain(virDomainPtr d,
                                                              const lv::DomainFacts* facts) const {
    ObservedDomain o;
    o.name = virDomainGetName(d); // name and UUID are in the handle: no RPC
    const std::string what = "domain '" + o.name + "'";
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(d, uuid) == 0) o.uuid = uuid;
    auto in = [&](const std::unordered_set<std::string>& set) { return set.count(o.uuid) > 0; };

    const bool bulk = facts && !o.uuid.empty();
    bool active = false;
    if (bulk) {
        active = in(facts->active);
        o.persistent = !in(facts->transient);
        o.autostart = in(facts->autostart);
        if (!active)
            o.state = "shutoff";
        else if (in(facts->running))
            o.state = "running";
        else if (in(facts->paused))
            o.state = "paused";
    } else {
        o.persistent = virDomainIsPersistent(d) == 1;
        int autostart = 0;
        o.autostart = virDomainGetAutostart(d, &autostart) == 0 && autostart != 0;
    }
    // No facts, or active but neither running nor paused (blocked, ...), or paused: why it
    // is paused matters (a domain paused while it is being started is not paused by anyone).
    if (o.state.empty() || o.state == "paused") {
        int state = 0, reason = 0;
        if (virDomainGetState(d, &state, &reason, 0) < 0) {
            if (vanished()) return std::nullopt;
            lv::fail("cannot read the state of " + what);
        }
        o.state = state_name(state);
        o.state_reason = state_reason_name(state, reason);
        if (!bulk) active = virDomainIsActive(d) == 1;
    }

    // Never VIR_DOMAIN_XML_SECURE: passwords (VNC, SPICE) must not be read.
    char* inactive = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    if (!inactive) {
        if (vanished()) return std::nullopt;
        lv::fail("cannot read the configuration of " + what);
    }
    o.inactive_xml = strip_live_only_domain(lv::take(inactive));
    if (active) {
        char* live = virDomainGetXMLDesc(d, 0);
        if (!live) {
            if (vanished()) return std::nullopt;
            lv::fail("cannot read the running configuration of " + what);
        }
        o.live_xml = strip_live_only_domain(lv::take(live));
    }
    answered();

    if (bulk && !in(facts->has_snapshot)) return o;
    virDomainSnapshotPtr* snaps = nullptr;
    int n = virDomainListAllSnapshots(d, &snaps, 0);
    if (n < 0) {
        if (vanished()) return std::nullopt;
        lv::fail("cannot list the snapshots of " + what);
    }
    for (auto& s : lv::adopt<lv::Snap>(snaps, n)) {
        std::string name = virDomainSnapshotGetName(s.get());
        char* sx = virDomainSnapshotGetXMLDesc(s.get(), 0);
        if (!sx) {
            if (lv::last_code() == VIR_ERR_NO_DOMAIN_SNAPSHOT) continue; // deleted meanwhile
            if (vanished()) return std::nullopt;
            lv::fail("cannot read snapshot '" + name + "' of " + what);
        }
        pugi::xml_document doc;
        std::string text = lv::take(sx);
        o.snapshots.push_back(name);
        if (doc.load_string(text.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single))
            o.snapshot_descriptions[name] =
                doc.document_element().child("description").text().get();
    }
    std::sort(o.snapshots.begin(), o.snapshots.end());
    answered();
    return o;
}

std::optional<ObservedPool> LibvirtHypervisor::fetch_pool(virStoragePoolPtr p) const {
    ObservedPool o;
    o.name = virStoragePoolGetName(p);
    const std::string what = "pool '" + o.name + "'";
    char* xml = virStoragePoolGetXMLDesc(p, VIR_STORAGE_XML_INACTIVE);
    if (!xml && lv::last_code() == VIR_ERR_INVALID_ARG) // the test driver lacks the flag
        xml = virStoragePoolGetXMLDesc(p, 0);
    if (!xml) {
        if (vanished()) return std::nullopt; // undefined meanwhile
        lv::fail("cannot read the configuration of " + what);
    }
    o.xml = strip_live_only_pool(lv::take(xml));
    o.active = virStoragePoolIsActive(p) == 1;
    int autostart = 0;
    o.autostart = virStoragePoolGetAutostart(p, &autostart) == 0 && autostart != 0;
    answered();
    if (!o.active) return o; // an inactive pool cannot list its volumes

    virStorageVolPtr* vols = nullptr;
    int n = virStoragePoolListAllVolumes(p, &vols, 0);
    if (n < 0) {
        if (vanished()) return std::nullopt;
        std::string why = lv::last_message(); // before the next call resets it
        if (virStoragePoolIsActive(p) == 0) { // stopped meanwhile
            o.active = false;
            return o;
        }
        throw Error(
            "cannot list the volumes of " + what + ": " + why,
            "check the pool with `virsh pool-info` and `virsh pool-refresh`, then run again");
    }
    for (auto& v : lv::adopt<lv::Vol>(vols, n)) {
        ObservedVolume ov;
        ov.pool = o.name;
        ov.name = virStorageVolGetName(v.get());
        char* vxml = virStorageVolGetXMLDesc(v.get(), 0);
        if (!vxml) {
            if (vanished()) continue;
            lv::fail("cannot read volume '" + ov.name + "' in " + what);
        }
        ov.xml = strip_live_only_volume(lv::take(vxml));
        ov.path = lv::take(virStorageVolGetPath(v.get()));
        answered();
        o.volumes.push_back(std::move(ov));
    }
    std::sort(o.volumes.begin(), o.volumes.end(),
              [](const ObservedVolume& a, const ObservedVolume& b) { return a.name < b.name; });
    return o;
}

std::optional<ObservedNetwork> LibvirtHypervisor::fetch_network(virNetworkPtr n) const {
    ObservedNetwork o;
    o.name = virNetworkGetName(n);
    char* xml = virNetworkGetXMLDesc(n, VIR_NETWORK_XML_INACTIVE);
    if (!xml && lv::last_code() == VIR_ERR_INVALID_ARG) xml = virNetworkGetXMLDesc(n, 0);
    if (!xml) {
        if (vanished()) return std::nullopt;
        lv::fail("cannot read the configuration of network '" + o.name + "'");
    }
    o.xml = strip_live_only_network(lv::take(xml));
    o.active = virNetworkIsActive(n) == 1;
    if (o.active) // what the running network uses: a redefine takes effect only at its restart
        if (char* live = virNetworkGetXMLDesc(n, 0))
            o.live_xml = strip_live_only_network(lv::take(live));
    int autostart = 0;
    o.autostart = virNetworkGetAutostart(n, &autostart) == 0 && autostart != 0;
    answered();
    return o;
}

ObservedHost LibvirtHypervisor::observe(int parallelism) {
    ObservedHost host;
    host.uri = uri_;
    // The hypervisor's identity: two Host specs reaching one libvirt are refused at plan time.
    if (char* caps = virConnectGetCapabilities(conn_.get())) {
        pugi::xml_document doc;
        if (doc.load_string(lv::take(caps).c_str()))
            host.host_uuid =
                doc.child("capabilities").child("host").child("uuid").text().as_string();
    }

    virDomainPtr* draw = nullptr;
    int nd = virConnectListAllDomains(conn_.get(), &draw, 0); // persistent and transient
    if (nd < 0) lv::fail("cannot list domains on " + uri_);
    auto doms = lv::adopt<lv::Domain>(draw, nd);
    answered();
    // The per-domain facts in bulk: one list call each instead of one RPC per domain each.
    // Taken after the list above, like the per-domain calls were.
    lv::DomainFacts facts;
    virConnectPtr c = conn_.get();
    facts.active = domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_ACTIVE, uri_, "active");
    facts.running = domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_RUNNING, uri_, "running");
    facts.paused = domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_PAUSED, uri_, "paused");
    facts.transient = domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_TRANSIENT, uri_, "transient");
    facts.autostart = domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_AUTOSTART, uri_, "autostart");
    facts.has_snapshot =
        domain_uuids(c, VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT, uri_, "snapshotted");
    answered();

    virStoragePoolPtr* praw = nullptr;
    int np = virConnectListAllStoragePools(conn_.get(), &praw, 0);
    if (np < 0) lv::fail("cannot list storage pools on " + uri_);
    auto pools = lv::adopt<lv::Pool>(praw, np);

    virNetworkPtr* nraw = nullptr;
    int nn = virConnectListAllNetworks(conn_.get(), &nraw, 0);
    if (nn < 0) lv::fail("cannot list networks on " + uri_);
    auto nets = lv::adopt<lv::Net>(nraw, nn);
    answered();

    std::vector<std::optional<ObservedDomain>> dres(doms.size());
    std::vector<std::optional<ObservedPool>> pres(pools.size());
    std::vector<std::optional<ObservedNetwork>> nres(nets.size());
    std::vector<std::function<void()>> tasks;
    for (size_t i = 0; i < doms.size(); ++i)
        tasks.emplace_back([&, i] { dres[i] = fetch_domain(doms[i].get(), &facts); });
    for (size_t i = 0; i < pools.size(); ++i)
        tasks.emplace_back([&, i] { pres[i] = fetch_pool(pools[i].get()); });
    for (size_t i = 0; i < nets.size(); ++i)
        tasks.emplace_back([&, i] { nres[i] = fetch_network(nets[i].get()); });
    parallel_for(tasks.size(), static_cast<size_t>(std::max(parallelism, 1)),
                 [&](size_t i) { tasks[i](); });

    for (auto& d : dres)
        if (d) host.domains.push_back(std::move(*d));
    for (auto& p : pres)
        if (p) host.pools.push_back(std::move(*p));
    for (auto& n : nres)
        if (n) host.networks.push_back(std::move(*n));
    auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
    std::sort(host.domains.begin(), host.domains.end(), by_name);
    std::sort(host.pools.begin(), host.pools.end(), by_name);
    std::sort(host.networks.begin(), host.networks.end(), by_name);
    host.reachable = true;
    return host;
}

void LibvirtHypervisor::answered() const {
    if (heartbeat_) heartbeat_->store(lv::now_ms());
}

ObservedDomain LibvirtHypervisor::observe_domain(const std::string& name) {
    auto d = domain(name);
    auto o = fetch_domain(d.get());
    if (!o)
        throw Error("domain '" + name + "' disappeared while it was being read on " + uri_,
                    "something else undefined it meanwhile; run again");
    return std::move(*o);
}

} // namespace virtumancer
