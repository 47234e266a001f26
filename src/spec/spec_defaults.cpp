// The defaults and spec-only keys of the YAML format. The defaults and ranges of descriptor
// fields are in the descriptors (src/model/descriptors*.cpp); docs/spec-reference.md and the
// JSON Schema are generated from these tables and the descriptors.
#include "spec_internal.hpp"
#include "virtumancer/parse_int.hpp"
#include <algorithm>

namespace virtumancer::spec {

namespace {

void add_kind_defaults(const KindDesc& k, std::vector<SpecDefault>& out,
                       std::vector<const KindDesc*>& seen) {
    if (std::find(seen.begin(), seen.end(), &k) != seen.end()) return;
    seen.push_back(&k);
    for (const auto& f : k.fields)
        if (std::string shown = shown_default(f); !shown.empty())
            out.push_back({k.kind, f.key, shown});
    for (const KindDesc* ck : child_kinds(k)) add_kind_defaults(*ck, out, seen);
}

} // namespace

const std::vector<SpecDefault>& spec_only_defaults() {
    static const std::vector<SpecDefault> table = {
        {"VirtualMachine", "state", "running"},
        {"VirtualMachine", "autostart", "false"},
        {"VirtualMachine", "template", "false"},
        {"VirtualMachine", "restart_policy", "never"},
        {"VirtualMachine", "shutdown_timeout", "60"},
        {"VirtualMachine", "force_stop", "false"},
        {"VirtualMachine", "current_memory", "unset (libvirt uses `memory`)"},
        {"VirtualMachine", "machine", "unset (libvirt picks its default)"},
        {"Network", "mode", "unset: isolated (no forwarding), like libvirt"},
        {"Snapshot", "memory", "false"},
    };
    return table;
}

const std::vector<SpecDefault>& spec_defaults() {
    static const std::vector<SpecDefault> table = [] {
        std::vector<SpecDefault> out;
        std::vector<const KindDesc*> seen;
        for (const KindDesc* k : {&domain_kind(), &pool_kind(), &network_kind(), &volume_kind()})
            add_kind_defaults(*k, out, seen);
        for (const auto& d : spec_only_defaults()) out.push_back(d);
        return out;
    }();
    return table;
}

std::string shown_default(const FieldDesc& f) {
    return f.default_doc.empty() ? f.default_value : f.default_doc;
}

std::optional<std::string> default_for(const KindDesc&, const FieldDesc& f, const Object& o) {
    if (f.default_from) return f.default_from(o);
    if (!f.default_value.empty()) return model_default(f);
    return std::nullopt;
}

std::optional<std::string> default_for(const KindDesc& k, const std::string& key, const Object& o) {
    if (const FieldDesc* f = k.field(key)) return default_for(k, *f, o);
    return std::nullopt; // spec-only settings (Host, VirtualMachine, ...) have their own loaders
}

bool has_late_default(const KindDesc& k, const std::string& key, const Object& o) {
    const FieldDesc* f = k.field(key);
    return f && f->late_default && f->late_default(o);
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
        {"shutdown_timeout",
         "integer",
         {},
         "60",
         "seconds of ACPI shutdown before giving up",
         IntRange{0, 86400}},
        {"force_stop", "boolean", {}, "false", "destroy the VM when shutdown times out"},
        {"cloud_init",
         "object",
         {},
         "",
         "a cloud-init NoCloud seed (user_data, user_data_file or user_data_env, meta_data, "
         "network_config; see `cloud_init` below), attached as a read-only cdrom"},
        {"wait_for_ip",
         "object",
         {},
         "",
         "apply waits until each NIC of the running VM has an address (matched by MAC, "
         "link-local ignored) and fails when it does not get one in time; `true` for the "
         "defaults. Apply behaviour only: never a plan change",
         std::nullopt,
         wait_for_ip_keys()},
        {"xml",
         "string",
         {},
         "",
         "raw XML merged into <domain> (attributes set, child elements appended) for anything "
         "without a key"},
    };
    return k;
}

const std::vector<SpecKey>& wait_for_ip_keys() {
    static const std::vector<SpecKey> k = {
        {"timeout",
         "duration",
         {},
         "120s",
         "how long apply waits for the addresses (seconds, or `90s`, `5m`, `1h`)"},
        {"source",
         "enum",
         {"any", "lease", "agent", "arp"},
         "any",
         "where addresses come from: the DHCP lease of a libvirt network, the guest agent, the "
         "host's ARP table, or whichever answers"},
        {"ipv4", "boolean", {}, "true", "wait for an IPv4 address on each NIC"},
        {"ipv6", "boolean", {}, "false", "wait for an IPv6 address (not link-local) on each NIC"},
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

std::optional<RefusedKey> refused_key(const KindDesc& k, const std::string& key) {
    if (k.kind == "graphics" && (key == "password" || key == "passwd"))
        return RefusedKey{
            "a literal password is not accepted in a spec (it would be stored in the database "
            "and in git); use `password_file: /path/to/file` or `password_env: VAR_NAME`",
            "replace `" + key +
                "` with `password_file: /path/to/file` or `password_env: VAR_NAME`"};
    return std::nullopt;
}

std::vector<const KindDesc*> child_kinds(const KindDesc& k) {
    std::vector<const KindDesc*> out = k.children;
    if (k.catch_all) out.push_back(&other_device_kind());
    return out;
}

} // namespace virtumancer::spec
