// The hypervisor seam: observing and changing libvirt objects on one host.
// The real adapter talks to libvirt; tests of pure logic use fakes.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace virtumancer {

struct ObservedDomain {
    std::string name, uuid;
    std::string inactive_xml; // persistent config (virsh dumpxml --inactive)
    std::string live_xml;     // running config ("" when not running)
    std::string state;        // running | shutoff | paused | other
    // Why it is in that state (virDomainGetState's reason, lower case: "user", "starting_up",
    // "booted", ...). Always read for paused domains (a domain paused with "starting_up" is
    // still being started, not paused by someone); "" when it was not asked (domains seen
    // running or shut off in a bulk observation).
    std::string state_reason;
    bool persistent = true;
    bool autostart = false;
    std::vector<std::string> snapshots;
    std::map<std::string, std::string> snapshot_descriptions; // name -> <description> ("" none)
};

struct ObservedVolume {
    std::string pool, name, xml, path;
};

struct ObservedPool {
    std::string name, xml;
    bool active = false, autostart = false;
    std::vector<ObservedVolume> volumes;
};

struct ObservedNetwork {
    std::string name, xml; // xml: the persistent config
    bool active = false, autostart = false;
    std::string live_xml = {}; // the running network's definition ("" when inactive)
};

struct ObservedHost {
    std::string host; // spec host name
    std::string uri;
    bool reachable = false;
    std::string error; // why not reachable
    // The hypervisor's own UUID (capabilities <host><uuid>); "" when unknown.
    std::string host_uuid;
    std::vector<ObservedDomain> domains;
    std::vector<ObservedPool> pools;
    std::vector<ObservedNetwork> networks;

    const ObservedDomain* domain(const std::string& name) const;
    const ObservedPool* pool(const std::string& name) const;
    const ObservedNetwork* network(const std::string& name) const;
};

// One address of a running domain's NIC (virDomainInterfaceAddresses).
struct InterfaceAddress {
    std::string mac;     // lower case, as in the domain XML
    std::string name;    // libvirt's interface name (vnet0 for lease/arp, eth0 for the agent)
    std::string family;  // ipv4 | ipv6
    std::string address; // without the prefix
    int prefix = 0;
};

// What one address source answered.
struct AddressAnswer {
    std::vector<InterfaceAddress> addresses;
    // source agent only: the guest agent is not connected (yet); `error` is libvirt's message.
    bool agent_unavailable = false;
    std::string error;
};

// Errors from libvirt are thrown as virtumancer::Error with libvirt's message.
class Hypervisor {
  public:
    virtual ~Hypervisor() = default;
    virtual std::string uri() const = 0;

    // Lists domains, pools (with volumes) and networks and fetches their XML.
    // `parallelism` fetches many objects at once (libvirt connections are thread-safe).
    virtual ObservedHost observe(int parallelism) = 0;
    virtual ObservedDomain observe_domain(const std::string& name) = 0;

    // Domains
    virtual void define_domain(const std::string& xml) = 0;
    virtual void undefine_domain(const std::string& name, bool keep_nvram, bool keep_tpm) = 0;
    virtual void start_domain(const std::string& name) = 0;
    virtual void shutdown_domain(const std::string& name) = 0; // ACPI request, returns at once
    virtual void destroy_domain(const std::string& name) = 0;
    virtual void suspend_domain(const std::string& name) = 0;
    virtual void resume_domain(const std::string& name) = 0;
    virtual std::string domain_state(const std::string& name) = 0;
    virtual void set_domain_autostart(const std::string& name, bool on) = 0;
    // virDomainRename: an inactive domain gets a new name, keeping its UUID, disks, NVRAM and
    // snapshots. Not pure; the default throws Error.
    virtual void rename_domain(const std::string& name, const std::string& new_name);
    // live/config select VIR_DOMAIN_AFFECT_LIVE / _CONFIG.
    virtual void attach_device(const std::string& domain, const std::string& xml, bool live,
                               bool config) = 0;
    virtual void detach_device(const std::string& domain, const std::string& xml, bool live,
                               bool config) = 0;
    virtual void update_device(const std::string& domain, const std::string& xml, bool live,
                               bool config) = 0;
    virtual void set_vcpus(const std::string& domain, int n, bool live, bool config) = 0;
    virtual void set_memory(const std::string& domain, unsigned long long kib, bool live,
                            bool config) = 0;
    // Maximum vCPUs / memory (VIR_DOMAIN_VCPU_MAXIMUM / VIR_DOMAIN_MEM_MAXIMUM), persistent
    // config only: QEMU cannot change either on a running VM. Not pure, so fakes need not
    // implement them; the default throws Error.
    virtual void set_max_vcpus(const std::string& domain, int n);
    virtual void set_max_memory(const std::string& domain, unsigned long long kib);
    // The persistent config WITH secrets (VIR_DOMAIN_XML_SECURE|INACTIVE: graphics passwd),
    // live-only data stripped. Only for `import`, which must know which graphics devices
    // have a password so it can replace each by a reference; never stored or printed.
    // Not pure; the default throws Error.
    virtual std::string domain_xml_with_secrets(const std::string& name);
    virtual void create_snapshot(const std::string& domain, const std::string& xml) = 0;
    virtual void delete_snapshot(const std::string& domain, const std::string& name) = 0;
    // Rewrites an existing snapshot's <description> (its metadata redefined with
    // VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE, staying current if it was). Not pure; the default
    // throws Error.
    virtual void set_snapshot_description(const std::string& domain, const std::string& name,
                                          const std::string& description);
    // The addresses of a running domain's NICs from one source: lease (the DHCP leases of the
    // libvirt networks its NICs are on), agent (the guest agent), arp (the host's ARP table).
    // Not pure; the default throws Error.
    virtual AddressAnswer interface_addresses(const std::string& domain, const std::string& source);

    // Storage
    virtual void define_pool(const std::string& xml, bool build, bool start, bool autostart) = 0;
    // Autostart of an existing pool / network alone, on or off. Not pure, so fakes need not
    // implement them; the default throws Error.
    virtual void set_pool_autostart(const std::string& name, bool on);
    virtual void set_network_autostart(const std::string& name, bool on);
    // Starts an existing, inactive pool / network (no-op when active). Not pure; the default
    // throws Error.
    virtual void start_pool(const std::string& name);
    virtual void start_network(const std::string& name);
    virtual void undefine_pool(const std::string& name) = 0;
    virtual void create_volume(const std::string& pool, const std::string& xml) = 0;
    virtual void resize_volume(const std::string& pool, const std::string& name,
                               unsigned long long bytes) = 0;
    virtual void delete_volume(const std::string& pool, const std::string& name) = 0;
    // Writes `length` bytes into an existing volume from offset 0 (virStorageVolUpload and a
    // stream, so it works on remote hosts): `read` fills the buffer and returns how many bytes
    // it gave (0: the end, which must come after exactly `length` bytes). Not pure; the
    // default throws Error.
    virtual void upload_volume(const std::string& pool, const std::string& name,
                               unsigned long long length,
                               const std::function<size_t(char* buf, size_t size)>& read);
    // The volume's current capacity in bytes (virStorageVolGetInfo). Not pure; the default
    // throws Error.
    virtual unsigned long long volume_capacity(const std::string& pool, const std::string& name);
    // The same with the whole content in memory (a cloud-init seed image): upload_volume over
    // a reader of `bytes`.
    void upload_volume_bytes(const std::string& pool, const std::string& name,
                             const std::string& bytes);

    // Networks
    virtual void define_network(const std::string& xml, bool start, bool autostart) = 0;
    virtual void undefine_network(const std::string& name) = 0;
    // virNetworkUpdate: changes one part of a defined network in place. section:
    // ip-dhcp-range | ip-dhcp-host; command: add-last | delete | modify; parent_index: which
    // <ip> element; live/config: VIR_NETWORK_UPDATE_AFFECT_LIVE / _CONFIG. Not pure; the
    // default throws Error.
    virtual void update_network(const std::string& name, const std::string& section,
                                const std::string& command, int parent_index,
                                const std::string& xml, bool live, bool config);
};

// How long a host may take to answer. libvirt itself has no connect timeout: the connect (and
// an observation) runs on a worker thread that is abandoned when the host does not answer in
// time (observe_libvirt watches the host's last answer). A connection made to change things
// (`events`) also gets libvirt's keepalive, driven by the adapter's event loop thread, which
// closes the connection when its peer stops answering and so fails the call waiting on it.
struct HostTimeouts {
    double seconds = 30; // connect; each wait for an answer while observing
    // Keepalive probes once connected (0: off); the connection is closed after about
    // `seconds` without an answer (keepalive_interval * (count + 1), count derived).
    int keepalive_interval = 5;
    // A live device detach waits this long for the device to be gone from the running
    // domain (the guest OS must release it) before the step fails.
    double detach_seconds = 10;
    // Event loop and keepalive on this connection: domain events (confirmed detach) and calls
    // that fail when the host goes silent. Costs each call a wake-up of the event thread;
    // observe_libvirt turns it off (reading needs neither).
    bool events = true;
};

// Connects to a libvirt URI (qemu:///system, test:///default, qemu+ssh://...).
// Throws Error with libvirt's message and a remedy when the host is unreachable, or "no answer
// from URI within N s" when it does not answer within `t.seconds`.
std::unique_ptr<Hypervisor> connect_libvirt(const std::string& uri, const HostTimeouts& t = {});

// Connects and observes one host. Never throws: an unreachable host, or one that stops
// answering for `t.seconds` (connect, or any part of the observation), comes back with
// reachable=false and the reason in `error`; the call returns within about `t.seconds` of the
// host's last answer. The abandoned worker finishes (or stays blocked) on its own.
ObservedHost observe_libvirt(const std::string& uri, int parallelism, const HostTimeouts& t = {});

// How many connects/observations were abandoned because their host did not answer. A
// process that abandoned any should end with _exit() after flushing its output: a worker
// still blocked in libvirt must not wake up while static objects are being destroyed.
int abandoned_host_calls();

// Removes what libvirt adds at run time and must never be stored as desired state:
// domain id, auto-generated aliases, autoport ports, dynamic seclabels, vnetN target
// names, channel state, pool/volume capacity figures and keys.
std::string strip_live_only_domain(const std::string& xml);

// The same for the other kinds (see src/hypervisor/live_strip.cpp for each rule):
// pool: capacity/allocation/available figures; volume: key, allocation, physical and
// timestamps (capacity is kept: it is desired state); network: the connections count.
std::string strip_live_only_pool(const std::string& xml);
std::string strip_live_only_volume(const std::string& xml);
std::string strip_live_only_network(const std::string& xml);

} // namespace virtumancer
