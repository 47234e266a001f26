// The documented defaults, ranges and spec-only keys of the YAML format: one table each.
// docs/spec-reference.md and the JSON Schema are generated from these and the descriptors.
#include "spec_internal.hpp"
#include "virtumancer/parse_int.hpp"
#include <unordered_map>

namespace virtumancer::spec {

namespace {

using Fn = std::function<std::optional<std::string>(const Object&)>;

Fn constant(std::string v) {
    return [v](const Object&) { return std::optional<std::string>(v); };
}

} // namespace

const std::vector<SpecDefault>& spec_defaults() {
    static const std::vector<SpecDefault> table = {
        {"domain", "domain_type", "kvm", constant("kvm")},
        {"domain", "os_type", "hvm", constant("hvm")},
        {"domain", "arch", "x86_64", constant("x86_64")},
        {"domain", "acpi", "true", constant("yes")},
        {"domain", "apic", "true", constant("yes")},
        {"disk", "type", "volume / file / block / dir / network, from the source key given",
         [](const Object& o) -> std::optional<std::string> {
             if (o.has("volume")) return "volume";
             if (o.has("file")) return "file";
             if (o.has("dev")) return "block";
             if (o.has("dir")) return "dir";
             if (o.has("protocol")) return "network";
             return std::nullopt;
         }},
        {"disk", "device", "disk", constant("disk")},
        {"disk", "bus", "virtio (cdrom: sata, floppy: fdc)",
         [](const Object& o) -> std::optional<std::string> {
             std::string dev = o.get("device", "disk");
             if (dev == "cdrom") return "sata";
             if (dev == "floppy") return "fdc";
             return "virtio";
         }},
        {"disk", "target",
         "next free name for the bus: vda, vdb, ... (sata/scsi/usb: sda, ...; "
         "ide: hda, ...; fdc: fda, ...)",
         nullptr},
        {"disk", "pool", "the pool of the Volume spec named by `volume`", nullptr},
        {"disk", "format", "the format of the Volume spec named by `volume`", nullptr},
        {"interface", "type", "network / bridge / direct, from the source key given",
         [](const Object& o) -> std::optional<std::string> {
             if (o.has("network")) return "network";
             if (o.has("bridge")) return "bridge";
             if (o.has("source_dev")) return "direct";
             return std::nullopt;
         }},
        {"interface", "model", "virtio", constant("virtio")},
        {"interface", "mac",
         "52:54:00:xx:xx:xx derived from host, VM uuid (else name) and interface index (stable)",
         nullptr},
        {"pool", "type", "dir", constant("dir")},
        {"pool", "autostart", "true", constant("yes")},
        {"network", "autostart", "true", constant("yes")},
        {"volume", "format", "qcow2", constant("qcow2")},
        {"VirtualMachine", "state", "running", nullptr},
        {"VirtualMachine", "autostart", "false", nullptr},
        {"VirtualMachine", "template", "false", nullptr},
        {"VirtualMachine", "restart_policy", "never", nullptr},
        {"VirtualMachine", "shutdown_timeout", "60", nullptr},
        {"VirtualMachine", "force_stop", "false", nullptr},
        {"VirtualMachine", "current_memory", "unset (libvirt uses `memory`)", nullptr},
        {"VirtualMachine", "machine", "unset (libvirt picks its default)", nullptr},
        {"Network", "mode", "unset: isolated (no forwarding), like libvirt", nullptr},
        {"Snapshot", "memory", "false", nullptr},
    };
    return table;
}

std::optional<std::string> default_for(const KindDesc& k, const FieldDesc& f, const Object& o) {
    // Where the default of a field comes from is looked up once per thread: load asks for
    // every field of every object, and the linear scans (then a map keyed by strings) were
    // 16% and then 14% of `load` (docs/performance.md).
    struct Source {
        const SpecDefault* table = nullptr;
        const FieldDesc* field = nullptr;
    };
    thread_local std::unordered_map<const FieldDesc*, Source> cache;
    auto [it, fresh] = cache.try_emplace(&f);
    if (fresh) {
        for (const auto& d : spec_defaults())
            if (d.kind == k.kind && d.key == f.key) {
                it->second.table = &d;
                break;
            }
        if (!it->second.table) it->second.field = &f;
    }
    const Source& src = it->second;
    if (src.table) return src.table->value ? src.table->value(o) : std::nullopt;
    if (src.field && !src.field->default_value.empty()) return model_default(*src.field);
    return std::nullopt;
}

std::optional<std::string> default_for(const KindDesc& k, const std::string& key, const Object& o) {
    if (const FieldDesc* f = k.field(key)) return default_for(k, *f, o);
    for (const auto& d : spec_defaults()) // spec-only settings (Host, VirtualMachine, ...)
        if (d.kind == k.kind && d.key == key) return d.value ? d.value(o) : std::nullopt;
    return std::nullopt;
}

bool has_late_default(const KindDesc& k, const std::string& key, const Object& o) {
    if (k.kind == "disk") {
        if (key == "target") return true;
        if (key == "format" || key == "pool") return o.get("type") == "volume" || o.has("volume");
    }
    return k.kind == "interface" && key == "mac";
}

const std::vector<Range>& spec_ranges() {
    static const std::vector<Range> r = {
        {"domain", "vcpus", 1, 4096},
        {"domain", "vcpus_current", 1, 4096},
        {"domain", "memory", 1LL << 20, 1LL << 52},
        {"domain", "iothreads", 0, 1024},
        {"disk", "boot_order", 1, 1000},
        {"interface", "boot_order", 1, 1000},
        {"interface", "mtu", 68, 65535},
        {"interface", "vlan", 0, 4095},
        {"interface", "queues", 1, 1024},
        {"disk", "queues", 1, 1024},
        {"network", "mtu", 68, 65535},
        {"ip", "prefix", 0, 128},
        {"volume", "capacity", 1, 1LL << 60},
        {"VirtualMachine", "shutdown_timeout", 0, 86400},
    };
    return r;
}

const Range* range_for(const std::string& kind, const std::string& key) {
    for (const auto& r : spec_ranges())
        if (r.kind == kind && r.key == key) return &r;
    return nullptr;
}

std::string model_default(const FieldDesc& f) {
    const std::string& v = f.default_value;
    bool t = v == "true" || v == "yes" || v == "on";
    switch (f.type) {
    case FieldType::Bool:
        return t ? "yes" : "no";
    case FieldType::OnOff:
        return t ? "on" : "off";
    case FieldType::Presence:
        return "yes";
    default:
        return v;
    }
}

std::string yaml_spelling(const FieldDesc& f, const std::string& v) {
    switch (f.type) {
    case FieldType::Bool:
    case FieldType::OnOff:
    case FieldType::Presence:
        return (v == "yes" || v == "on") ? "true" : "false";
    case FieldType::SizeKiB:
    case FieldType::SizeBytes: {
        auto bytes = parse_int<unsigned long long>(v);
        return bytes ? format_size(*bytes) : v;
    }
    default:
        return v;
    }
}

const std::vector<SpecKey>& vm_setting_keys() {
    static const std::vector<SpecKey> k = {
        {"state", "enum", {"running", "shutoff", "paused"}, "running", "desired power state"},
        {"autostart", "boolean", {}, "false", "start the VM when the host boots"},
        {"template", "boolean", {}, "false", "a template is defined but never started"},
        {"clone_of",
         "string",
         {},
         "",
         "the template VM (same host) this VM is cloned from; its disks are overlays of the "
         "template's volumes (give them with Volume `backing_volume`)"},
        {"restart_policy",
         "enum",
         {"never", "allowed"},
         "never",
         "whether virtumancer may restart the VM to apply a change that needs a restart"},
        {"shutdown_timeout", "integer", {}, "60", "seconds of ACPI shutdown before giving up"},
        {"force_stop", "boolean", {}, "false", "destroy the VM when shutdown times out"},
        {"xml",
         "string",
         {},
         "",
         "raw XML merged into <domain> (attributes set, child elements appended) for anything "
         "without a key"},
    };
    return k;
}

const std::vector<SpecKey>& host_keys() {
    static const std::vector<SpecKey> k = {
        {"uri",
         "string",
         {},
         "",
         "libvirt connection URI (qemu:///system, qemu+ssh://root@kvm1/system)"},
        {"description", "string", {}, "", "free text"},
    };
    return k;
}

const std::vector<SpecKey>& snapshot_keys() {
    static const std::vector<SpecKey> k = {
        {"vm", "string", {}, "", "the VirtualMachine (same host) the snapshot is of"},
        {"description", "string", {}, "", "free text"},
        {"memory", "boolean", {}, "false", "include the memory state (a running VM's RAM)"},
    };
    return k;
}

std::optional<std::string> refused_key(const KindDesc& k, const std::string& key) {
    if (k.kind == "graphics" && (key == "password" || key == "passwd"))
        return "a literal password is not accepted in a spec (it would be stored in the database "
               "and in git); use `password_file: /path/to/file` or `password_env: VAR_NAME`";
    return std::nullopt;
}

std::vector<const KindDesc*> child_kinds(const KindDesc& k) {
    std::vector<const KindDesc*> out = k.children;
    if (k.catch_all) out.push_back(&other_device_kind());
    return out;
}

} // namespace virtumancer::spec
