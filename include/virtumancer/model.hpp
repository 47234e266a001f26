// The canonical model: one set of types for a domain, pool, volume and network.
// YAML specs, SQLite rows and libvirt XML are three encodings of these values.
#pragma once
#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "virtumancer/descriptors.hpp"

namespace virtumancer {

// Typed field values, keyed by FieldDesc::key, in their canonical string form
// (XML spelling for enums and yes/no, bytes for sizes, comma-joined for lists).
// A map kept as one sorted vector (an object has a few dozen fields at most): the std::map
// interface the code uses, in key order, at about half the memory of a node per field, which
// matters with 10,000 domains held at once (docs/performance.md).
class Fields {
  public:
    using value_type = std::pair<std::string, std::string>;
    using iterator = std::vector<value_type>::iterator;
    using const_iterator = std::vector<value_type>::const_iterator;

    Fields() = default;
    Fields(std::initializer_list<value_type> init) { // like std::map: the first of a key wins
        for (const auto& kv : init)
            if (find(kv.first) == end()) (*this)[kv.first] = kv.second;
    }

    std::string& operator[](const std::string& key) {
        auto it = lower(key);
        if (it == v_.end() || it->first != key) it = v_.insert(it, {key, std::string()});
        return it->second;
    }
    iterator find(std::string_view key) {
        auto it = lower(key);
        return it != v_.end() && it->first == key ? it : v_.end();
    }
    const_iterator find(std::string_view key) const {
        auto it = lower(key);
        return it != v_.end() && it->first == key ? it : v_.end();
    }
    size_t count(std::string_view key) const { return find(key) == end() ? 0 : 1; }
    size_t erase(std::string_view key) {
        auto it = find(key);
        if (it == v_.end()) return 0;
        v_.erase(it);
        return 1;
    }
    iterator erase(const_iterator it) { return v_.erase(it); }
    iterator begin() { return v_.begin(); }
    iterator end() { return v_.end(); }
    const_iterator begin() const { return v_.begin(); }
    const_iterator end() const { return v_.end(); }
    size_t size() const { return v_.size(); }
    bool empty() const { return v_.empty(); }
    void clear() { v_.clear(); }
    void shrink_to_fit() { v_.shrink_to_fit(); }
    bool operator==(const Fields& o) const { return v_ == o.v_; }

  private:
    std::vector<value_type> v_; // sorted by key, keys unique

    iterator lower(std::string_view key) {
        return std::lower_bound(
            v_.begin(), v_.end(), key,
            [](const value_type& kv, std::string_view k) { return kv.first < k; });
    }
    const_iterator lower(std::string_view key) const {
        return std::lower_bound(
            v_.begin(), v_.end(), key,
            [](const value_type& kv, std::string_view k) { return kv.first < k; });
    }
};

// One libvirt object or device: typed fields, plus the XML that has no typed home yet
// (the residue: the object's element with every typed part removed), so nothing is lost.
struct Object {
    const KindDesc* kind = nullptr;
    Fields fields;
    std::string extra_xml;        // residue element, "" when nothing is left
    std::vector<Object> children; // devices of a domain, ip ranges of a network, ...

    std::string get(const std::string& key, const std::string& def = {}) const;
    bool has(const std::string& key) const { return fields.count(key) > 0; }
    std::string name() const { return get("name"); }
};

// Where a spec came from, for diagnostics.
struct SourceRef {
    std::string file;
    int line = 0;
    int column = 0;
};

struct HostSpec {
    std::string name;
    std::string uri;
    std::string description;
    SourceRef src;
};

// A VM's cloud-init NoCloud seed (`cloud_init:`), as the database keeps it. The content of
// user_data_file and user_data_env is never kept: only the reference and `hash`, the content
// hash of the seed made from it at load; the applier reads it again and refuses a different one.
struct CloudInitSpec {
    bool enabled = false;
    std::string user_data;      // inline user_data (stored: not for secrets)
    std::string user_data_file; // user_data_file, absolute ("" none)
    std::string user_data_env;  // user_data_env: the variable's name ("" none)
    std::string meta_data;      // meta-data as the seed has it (instance-id, local-hostname added)
    std::string network_config; // network-config as the seed has it (YAML text)
    bool has_network_config = false;
    std::string hash; // cloud_init_hash() of the seed's files ("sha256:HEX")
    bool operator==(const CloudInitSpec&) const = default;
};

// `wait_for_ip:` of a VM: after apply, wait until each NIC has an address (matched by MAC).
// Apply behaviour only: never part of the domain XML, never a plan change by itself.
struct WaitForIp {
    bool enabled = false;       // the key is present
    int timeout = 120;          // seconds
    std::string source = "any"; // lease | agent | arp | any
    bool ipv4 = true, ipv6 = false;
    bool operator==(const WaitForIp&) const = default;
};

// Settings of a VM that are not part of libvirt's XML.
struct VmSettings {
    std::string state = "running"; // running | shutoff | paused
    bool autostart = false;
    bool is_template = false;
    std::string clone_of;                 // template VM name
    std::string restart_policy = "never"; // never | allowed
    int shutdown_timeout = 60;            // seconds of ACPI shutdown before giving up
    bool force_stop = false;              // destroy after the timeout
    CloudInitSpec cloud_init;             // cloud_init: (enabled false: none)
    WaitForIp wait_for_ip;
};

struct SnapshotSpec {
    std::string name;
    std::string vm;
    std::string host;
    std::string description;
    bool memory = false;
    SourceRef src;
};

// A named desired object on a host.
struct Spec {
    std::string host;
    Object obj;
    VmSettings vm;            // VMs only
    std::string content_hash; // hash of the spec document (ownership marker, staleness)
    SourceRef src;
};

// Everything the specs say, as loaded from the database.
// What virtumancer uploaded into a volume created from an image `source` (libvirt does not
// remember it): recorded when the step succeeds, compared by the next plan.
struct VolumeSourceRecord {
    std::string source, checksum; // as the spec had them ("" checksum: none)
    std::string digest;           // what was uploaded, "sha256:HEX" (the checksum's algorithm)
};

struct DesiredState {
    std::vector<HostSpec> hosts;
    std::vector<Spec> pools;
    std::vector<Spec> volumes; // obj field "pool" names the pool
    std::vector<Spec> networks;
    std::vector<Spec> vms;
    std::vector<SnapshotSpec> snapshots;
    std::string revision;
    std::string owner_id; // this database's id, stamped into ownership markers ("" in tests)
    // Keyed by volume_source_key(host, pool, volume).
    std::map<std::string, VolumeSourceRecord> volume_sources;
};

inline std::string volume_source_key(const std::string& host, const std::string& pool,
                                     const std::string& volume) {
    return host + "/" + pool + "/" + volume;
}

} // namespace virtumancer
