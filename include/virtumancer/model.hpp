// The canonical model: one set of types for a domain, pool, volume and network.
// YAML specs, SQLite rows and libvirt XML are three encodings of these values.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "virtumancer/descriptors.hpp"

namespace virtumancer {

// Typed field values, keyed by FieldDesc::key, in their canonical string form
// (XML spelling for enums and yes/no, bytes for sizes, comma-joined for lists).
using Fields = std::map<std::string, std::string>;

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

// Settings of a VM that are not part of libvirt's XML.
struct VmSettings {
    std::string state = "running"; // running | shutoff | paused
    bool autostart = false;
    bool is_template = false;
    std::string clone_of;                 // template VM name
    std::string restart_policy = "never"; // never | allowed
    int shutdown_timeout = 60;            // seconds of ACPI shutdown before giving up
    bool force_stop = false;              // destroy after the timeout
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
struct DesiredState {
    std::vector<HostSpec> hosts;
    std::vector<Spec> pools;
    std::vector<Spec> volumes; // obj field "pool" names the pool
    std::vector<Spec> networks;
    std::vector<Spec> vms;
    std::vector<SnapshotSpec> snapshots;
    std::string revision;
    std::string owner_id; // this database's id, stamped into ownership markers ("" in tests)
};

} // namespace virtumancer
