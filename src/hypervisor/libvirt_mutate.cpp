// Every change the adapter makes: one libvirt call each, errors naming the object.
// Object handles are held in locals until after lv::fail(): freeing one (a libvirt API call)
// resets the thread's last error, and the message would be lost.
#include <algorithm>
#include <pugixml.hpp>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

std::string q(const std::string& kind, const std::string& name) {
    return kind + " '" + name + "'";
}

// VIR_DOMAIN_AFFECT_* from the live/config pair; neither -> CURRENT (0).
unsigned affect(bool live, bool config) {
    return (live ? unsigned{VIR_DOMAIN_AFFECT_LIVE} : 0u) |
           (config ? unsigned{VIR_DOMAIN_AFFECT_CONFIG} : 0u);
}

} // namespace

lv::Domain LibvirtHypervisor::domain(const std::string& name) const {
    virDomainPtr d = virDomainLookupByName(conn_.get(), name.c_str());
    if (!d) lv::fail(q("domain", name) + " on " + uri_);
    return lv::Domain(d);
}

lv::Pool LibvirtHypervisor::pool(const std::string& name) const {
    virStoragePoolPtr p = virStoragePoolLookupByName(conn_.get(), name.c_str());
    if (!p) lv::fail(q("pool", name) + " on " + uri_);
    return lv::Pool(p);
}

lv::Net LibvirtHypervisor::network(const std::string& name) const {
    virNetworkPtr n = virNetworkLookupByName(conn_.get(), name.c_str());
    if (!n) lv::fail(q("network", name) + " on " + uri_);
    return lv::Net(n);
}

// ---- domains ----

void LibvirtHypervisor::define_domain(const std::string& xml) {
    virDomainPtr d = virDomainDefineXML(conn_.get(), xml.c_str());
    if (!d) lv::fail("cannot define domain on " + uri_);
    lv::Domain owner(d);
}

void LibvirtHypervisor::undefine_domain(const std::string& name, bool keep_nvram, bool keep_tpm) {
    auto d = domain(name);
    unsigned base = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
    unsigned flags = base | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                     (keep_nvram ? VIR_DOMAIN_UNDEFINE_KEEP_NVRAM : VIR_DOMAIN_UNDEFINE_NVRAM) |
                     (keep_tpm ? VIR_DOMAIN_UNDEFINE_KEEP_TPM : VIR_DOMAIN_UNDEFINE_TPM);
    if (virDomainUndefineFlags(d.get(), flags) == 0) return;
    // Drivers without NVRAM/TPM/checkpoint support (the test driver) refuse those flags.
    if (lv::last_code() == VIR_ERR_INVALID_ARG && virDomainUndefineFlags(d.get(), base) == 0)
        return;
    lv::fail("cannot undefine " + q("domain", name));
}

void LibvirtHypervisor::power_call(const std::string& name, const char* verb,
                                   int (*call)(virDomainPtr),
                                   bool (*reached)(int state, int reason)) {
    auto d = domain(name);
    if (call(d.get()) == 0) return;
    std::string why = lv::last_message(); // before the state call resets it
    if (lv::last_code() == VIR_ERR_OPERATION_INVALID) {
        int state = 0, reason = 0;
        if (virDomainGetState(d.get(), &state, &reason, 0) == 0 && reached(state, reason))
            return; // already there (e.g. a re-run after a killed apply)
    }
    throw Error(std::string("cannot ") + verb + " " + q("domain", name) + ": " + why,
                "check the VM with `virsh domstate`; fix what libvirt reports, then apply again");
}

namespace {
bool is_running(int state, int) {
    return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED;
}
bool is_shutoff(int state, int) {
    return state == VIR_DOMAIN_SHUTOFF;
}
bool is_paused(int state, int) {
    return state == VIR_DOMAIN_PAUSED;
}
// Started: running, or still being started (paused with reason starting_up).
bool is_started(int state, int reason) {
    return is_running(state, reason) ||
           (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_STARTING_UP);
}
} // namespace

void LibvirtHypervisor::start_domain(const std::string& name) {
    power_call(name, "start", virDomainCreate, is_started);
}

void LibvirtHypervisor::shutdown_domain(const std::string& name) {
    power_call(name, "shut down", virDomainShutdown, is_shutoff);
}

void LibvirtHypervisor::destroy_domain(const std::string& name) {
    power_call(name, "destroy (power off)", virDomainDestroy, is_shutoff);
}

void LibvirtHypervisor::suspend_domain(const std::string& name) {
    power_call(name, "pause", virDomainSuspend, is_paused);
}

void LibvirtHypervisor::resume_domain(const std::string& name) {
    power_call(name, "resume", virDomainResume, is_running);
}

std::string LibvirtHypervisor::domain_state(const std::string& name) {
    int state = 0, reason = 0;
    auto d = domain(name);
    if (virDomainGetState(d.get(), &state, &reason, 0) < 0)
        lv::fail("cannot read the state of " + q("domain", name));
    return state_name(state);
}

void LibvirtHypervisor::set_domain_autostart(const std::string& name, bool on) {
    auto d = domain(name);
    if (virDomainSetAutostart(d.get(), on ? 1 : 0) < 0)
        lv::fail("cannot set autostart of " + q("domain", name));
}

void LibvirtHypervisor::rename_domain(const std::string& name, const std::string& new_name) {
    auto d = domain(name);
    if (virDomainRename(d.get(), new_name.c_str(), 0) < 0)
        lv::fail("cannot rename " + q("domain", name) + " to '" + new_name + "'");
}

void LibvirtHypervisor::update_device(const std::string& dom, const std::string& xml, bool live,
                                      bool config) {
    auto d = domain(dom);
    if (virDomainUpdateDeviceFlags(d.get(), xml.c_str(), affect(live, config)) < 0)
        lv::fail("cannot update a device of " + q("domain", dom));
}

void LibvirtHypervisor::set_vcpus(const std::string& dom, int n, bool live, bool config) {
    auto d = domain(dom);
    if (virDomainSetVcpusFlags(d.get(), static_cast<unsigned>(n), affect(live, config)) < 0)
        lv::fail("cannot set " + std::to_string(n) + " vCPUs on " + q("domain", dom));
}

void LibvirtHypervisor::set_memory(const std::string& dom, unsigned long long kib, bool live,
                                   bool config) {
    auto d = domain(dom);
    if (virDomainSetMemoryFlags(d.get(), kib, affect(live, config)) < 0)
        lv::fail("cannot set memory to " + std::to_string(kib) + " KiB on " + q("domain", dom));
}

void LibvirtHypervisor::set_max_vcpus(const std::string& dom, int n) {
    auto d = domain(dom);
    if (virDomainSetVcpusFlags(d.get(), static_cast<unsigned>(n),
                               unsigned{VIR_DOMAIN_VCPU_MAXIMUM} | VIR_DOMAIN_AFFECT_CONFIG) < 0)
        lv::fail("cannot set maximum vCPUs to " + std::to_string(n) + " on " + q("domain", dom));
}

void LibvirtHypervisor::set_max_memory(const std::string& dom, unsigned long long kib) {
    auto d = domain(dom);
    if (virDomainSetMemoryFlags(d.get(), kib,
                                unsigned{VIR_DOMAIN_MEM_MAXIMUM} | VIR_DOMAIN_AFFECT_CONFIG) < 0)
        lv::fail("cannot set maximum memory to " + std::to_string(kib) + " KiB on " +
                 q("domain", dom));
}

void LibvirtHypervisor::create_snapshot(const std::string& dom, const std::string& xml) {
    auto d = domain(dom);
    virDomainSnapshotPtr s = virDomainSnapshotCreateXML(d.get(), xml.c_str(), 0);
    if (!s) lv::fail("cannot create a snapshot of " + q("domain", dom));
    lv::Snap owner(s);
}

void LibvirtHypervisor::delete_snapshot(const std::string& dom, const std::string& name) {
    auto d = domain(dom);
    virDomainSnapshotPtr s = virDomainSnapshotLookupByName(d.get(), name.c_str(), 0);
    if (!s) lv::fail(q("snapshot", name) + " of " + q("domain", dom));
    lv::Snap owner(s);
    if (virDomainSnapshotDelete(s, 0) < 0)
        lv::fail("cannot delete " + q("snapshot", name) + " of " + q("domain", dom));
}

// The snapshot's own XML with the description replaced, redefined over it (what
// `virsh snapshot-edit` does); REDEFINE needs the full XML libvirt gave, domain included.
void LibvirtHypervisor::set_snapshot_description(const std::string& dom, const std::string& name,
                                                 const std::string& description) {
    auto d = domain(dom);
    virDomainSnapshotPtr s = virDomainSnapshotLookupByName(d.get(), name.c_str(), 0);
    if (!s) lv::fail(q("snapshot", name) + " of " + q("domain", dom));
    lv::Snap owner(s);
    char* raw = virDomainSnapshotGetXMLDesc(s, VIR_DOMAIN_SNAPSHOT_XML_SECURE);
    if (!raw) lv::fail("cannot read " + q("snapshot", name) + " of " + q("domain", dom));
    std::string xml = lv::take(raw);
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single))
        throw Error(
            "libvirt returned malformed XML for " + q("snapshot", name) + " of " + q("domain", dom),
            "check the snapshot with `virsh snapshot-dumpxml`; report the output if it is not XML");
    pugi::xml_node root = doc.document_element();
    root.remove_child("description");
    if (!description.empty()) {
        pugi::xml_node n = root.child("name");
        pugi::xml_node desc =
            n ? root.insert_child_after("description", n) : root.prepend_child("description");
        desc.text().set(description.c_str());
    }
    unsigned flags = VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE;
    if (virDomainSnapshotIsCurrent(s, 0) == 1) flags |= VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT;
    virDomainSnapshotPtr out =
        virDomainSnapshotCreateXML(d.get(), xml_document_string(doc).c_str(), flags);
    if (!out)
        lv::fail("cannot redefine " + q("snapshot", name) + " of " + q("domain", dom) +
                 " with a new description");
    lv::Snap done(out);
}

// ---- storage ----

void LibvirtHypervisor::define_pool(const std::string& xml, bool build, bool start,
                                    bool autostart) {
    virStoragePoolPtr raw = virStoragePoolDefineXML(conn_.get(), xml.c_str(), 0);
    if (!raw) lv::fail("cannot define storage pool on " + uri_);
    lv::Pool p(raw);
    std::string name = virStoragePoolGetName(raw);
    // Flags 0: for dir/fs pools only the target directory is made (NO_OVERWRITE would ask for
    // a file system to be made, and fails without a source device); disk pools refuse to
    // write a partition table over a non-empty device.
    if (build && virStoragePoolBuild(raw, 0) < 0) lv::fail("cannot build " + q("pool", name));
    if (start && virStoragePoolIsActive(raw) != 1 && virStoragePoolCreate(raw, 0) < 0)
        lv::fail("cannot start " + q("pool", name));
    if (autostart && virStoragePoolSetAutostart(raw, 1) < 0)
        lv::fail("cannot set autostart of " + q("pool", name));
}

// Stops and forgets the pool; the storage itself (directory, volumes) is left alone.
void LibvirtHypervisor::undefine_pool(const std::string& name) {
    auto p = pool(name);
    if (virStoragePoolIsActive(p.get()) == 1 && virStoragePoolDestroy(p.get()) < 0)
        lv::fail("cannot stop " + q("pool", name));
    if (virStoragePoolUndefine(p.get()) < 0) lv::fail("cannot undefine " + q("pool", name));
}

void LibvirtHypervisor::create_volume(const std::string& pool_name, const std::string& xml) {
    auto p = pool(pool_name);
    virStorageVolPtr v = virStorageVolCreateXML(p.get(), xml.c_str(), 0);
    if (!v) lv::fail("cannot create a volume in " + q("pool", pool_name));
    lv::Vol owner(v);
}

namespace {
lv::Vol volume_in(virStoragePoolPtr p, const std::string& pool_name, const std::string& name) {
    virStorageVolPtr v = virStorageVolLookupByName(p, name.c_str());
    if (!v) lv::fail(q("volume", name) + " in " + q("pool", pool_name));
    return lv::Vol(v);
}
} // namespace

// Growing only: libvirt refuses to shrink without VIR_STORAGE_VOL_RESIZE_SHRINK, and a shrink
// loses data, so that refusal is passed on.
void LibvirtHypervisor::resize_volume(const std::string& pool_name, const std::string& name,
                                      unsigned long long bytes) {
    auto p = pool(pool_name);
    auto v = volume_in(p.get(), pool_name, name);
    if (virStorageVolResize(v.get(), bytes, 0) < 0)
        lv::fail("cannot resize " + q("volume", name) + " in " + q("pool", pool_name) + " to " +
                 std::to_string(bytes) + " bytes");
}

void LibvirtHypervisor::delete_volume(const std::string& pool_name, const std::string& name) {
    auto p = pool(pool_name);
    auto v = volume_in(p.get(), pool_name, name);
    if (virStorageVolDelete(v.get(), 0) < 0)
        lv::fail("cannot delete " + q("volume", name) + " in " + q("pool", pool_name));
}

// ---- networks ----

void LibvirtHypervisor::set_pool_autostart(const std::string& name, bool on) {
    auto p = pool(name);
    if (virStoragePoolSetAutostart(p.get(), on ? 1 : 0) < 0)
        lv::fail("cannot set autostart of " + q("pool", name));
}

void LibvirtHypervisor::set_network_autostart(const std::string& name, bool on) {
    auto n = network(name);
    if (virNetworkSetAutostart(n.get(), on ? 1 : 0) < 0)
        lv::fail("cannot set autostart of " + q("network", name));
}

void LibvirtHypervisor::start_pool(const std::string& name) {
    auto p = pool(name);
    if (virStoragePoolIsActive(p.get()) != 1 && virStoragePoolCreate(p.get(), 0) < 0)
        lv::fail("cannot start " + q("pool", name));
}

void LibvirtHypervisor::start_network(const std::string& name) {
    auto n = network(name);
    if (virNetworkIsActive(n.get()) != 1 && virNetworkCreate(n.get()) < 0)
        lv::fail("cannot start " + q("network", name));
}

void LibvirtHypervisor::define_network(const std::string& xml, bool start, bool autostart) {
    virNetworkPtr raw = virNetworkDefineXML(conn_.get(), xml.c_str());
    if (!raw) lv::fail("cannot define network on " + uri_);
    lv::Net n(raw);
    std::string name = virNetworkGetName(raw);
    if (start && virNetworkIsActive(raw) != 1 && virNetworkCreate(raw) < 0)
        lv::fail("cannot start " + q("network", name));
    if (autostart && virNetworkSetAutostart(raw, 1) < 0)
        lv::fail("cannot set autostart of " + q("network", name));
}

void LibvirtHypervisor::update_network(const std::string& name, const std::string& section,
                                       const std::string& command, int parent_index,
                                       const std::string& xml, bool live, bool config) {
    int sec = section == "ip-dhcp-range"  ? VIR_NETWORK_SECTION_IP_DHCP_RANGE
              : section == "ip-dhcp-host" ? VIR_NETWORK_SECTION_IP_DHCP_HOST
                                          : -1;
    int cmd = command == "add-last" ? VIR_NETWORK_UPDATE_COMMAND_ADD_LAST
              : command == "delete" ? VIR_NETWORK_UPDATE_COMMAND_DELETE
              : command == "modify" ? VIR_NETWORK_UPDATE_COMMAND_MODIFY
                                    : -1;
    if (sec < 0 || cmd < 0)
        throw Error("cannot update " + q("network", name) + ": unknown section '" + section +
                        "' or command '" + command + "'",
                    "the plan is malformed; make a new one with virtumancer plan");
    auto n = network(name);
    unsigned flags = (live ? unsigned{VIR_NETWORK_UPDATE_AFFECT_LIVE} : 0u) |
                     (config ? unsigned{VIR_NETWORK_UPDATE_AFFECT_CONFIG} : 0u);
    if (virNetworkUpdate(n.get(), static_cast<unsigned>(cmd), static_cast<unsigned>(sec),
                         parent_index, xml.c_str(), flags) < 0)
        lv::fail("cannot " + command + " " + section + " " + xml + " of " + q("network", name));
}

void LibvirtHypervisor::undefine_network(const std::string& name) {
    auto n = network(name);
    if (virNetworkIsActive(n.get()) == 1 && virNetworkDestroy(n.get()) < 0)
        lv::fail("cannot stop " + q("network", name));
    if (virNetworkUndefine(n.get()) < 0) lv::fail("cannot undefine " + q("network", name));
}

} // namespace virtumancer
