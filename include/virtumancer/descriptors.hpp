// Field descriptors: the one description of every field, shared by YAML, SQL and XML.
//
// Adding a libvirt attribute to virtumancer is one entry in src/model/descriptors.cpp (YAML key,
// XML path, type, SQL column or props_json, change class) -- and everything else about it too:
// default, range, comparison rule, change-class exceptions (tests/unit/field_tables_test.cpp).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtumancer {

enum class FieldType {
    String,    // attribute or element text, kept verbatim
    Int,       // integer (decimal); compared by value
    Bool,      // XML yes|no, YAML true|false
    OnOff,     // XML on|off, YAML true|false
    Presence,  // an empty element whose presence means true (<readonly/>, <acpi/>)
    SizeKiB,   // element text with a unit attribute; stored in bytes, rendered in KiB
    SizeBytes, // same, rendered in bytes
    List,      // repeated empty elements carrying one attribute (<boot dev='hd'/>): a YAML list
};

// How a change reaches a running VM. Ordered by increasing disruption.
enum class ChangeClass {
    Live,     // applied to the running VM and its persistent config, no restart
    NextBoot, // persistent config only; takes effect at the next boot (VM marked pending)
    Restart,  // needs a restart of the VM (done when its restart_policy allows)
    Replace,  // the object is destroyed and recreated
};
const char* change_class_name(ChangeClass c);

struct Object;

// How two values of a field compare beyond their type (Int by value, Bool by truth, ...).
enum class CompareRule {
    ByType,          // by the field's type only
    CaseInsensitive, // MAC addresses and UUIDs: letter case does not matter
    MachineAlias,    // libvirt expands machine aliases: pc -> pc-i440fx-7.2, q35 -> pc-q35-7.2
};

struct IntRange {
    long long min = 0, max = 0;
};

// Everything about one field. Written with designated initialisers in the tables
// (F{.key = "cache", .path = "driver/@cache", .column = "driver_cache", ...}); every member has
// a default, so an entry names only what differs.
struct FieldDesc {
    std::string key{};  // YAML key and model key (snake_case)
    std::string path{}; // XML path from the object's element; "" for spec-only fields
    FieldType type = FieldType::String;
    std::string column{}; // SQL column in the kind's table; "" -> stored in props_json
    ChangeClass change = ChangeClass::NextBoot;
    std::string doc{};                  // one line for docs and the JSON Schema
    std::vector<std::string> allowed{}; // allowed values (empty: any)

    // --- defaults applied by the spec loader (src/spec/spec_defaults.cpp) when the key is absent
    std::string default_value{}; // a constant default in YAML spelling ("" none)
    // A default computed from the object's other fields (nullopt: none in that case); a field
    // has either this or default_value.
    std::function<std::optional<std::string>(const Object&)> default_from{};
    std::string default_doc{}; // how docs show a default that is not a constant ("" none)
    // A default the loader fills in a later pass (disk target, interface mac): when absent from
    // a model object, emit writes `key: null` to keep it absent.
    std::function<bool(const Object&)> late_default{};
    std::optional<IntRange> range{}; // accepted values of an Int or size field (spec loader)
    // A YAML value that means "absent" and is accepted besides `allowed` (network mode
    // `isolated`: no <forward>); "" none.
    std::string absent_spelling{};

    // --- comparison of desired and observed values (src/planner/compare.cpp)
    CompareRule compare = CompareRule::ByType;
    // The field whose observed value stands in when libvirt leaves this one out because the
    // two are equal (current_memory -> memory).
    std::string observed_fallback{};

    // --- exceptions to `change` on a running VM (src/planner/planner.cpp, classify_counts)
    // A value above the running VM's value of this field needs a restart (vcpus_current above
    // vcpus, current_memory above memory); "" none.
    std::string live_max_field{};
    // The class of a decrease below the running value, when it differs from `change` (fewer
    // vCPUs need the guest to eject them: next boot).
    std::optional<ChangeClass> decrease_change{};
    // Adding or removing the object to a running VM works only with one of these values of this
    // field (absent: the first one); otherwise it is a next-boot change. Empty: no condition.
    std::vector<std::string> hotplug_values{};
};

struct KindDesc {
    std::string kind;          // model kind name: "domain", "disk", "interface", "pool", ...
    std::string yaml_list;     // YAML key of the list holding objects of this kind ("disks")
    std::string element;       // XML element name ("disk"); "*" for the catch-all device kind
    std::string table;         // SQL table holding one row per object
    std::string attach_table;  // "" or the *_attachments table linking a row to its VM
    std::string discriminator; // value stored in the table's device_kind column ("" none)
    ChangeClass add_remove = ChangeClass::NextBoot; // adding/removing one to a running VM
    std::vector<FieldDesc> fields;
    std::vector<std::string> identity; // field keys identifying an object across two states
    std::string container; // path of the element holding child objects ("devices"; "" = self)
    std::vector<const KindDesc*> children; // kinds of child objects
    bool catch_all = false; // every element in the container becomes a child (unknown -> "other")
    std::string doc;

    const FieldDesc* field(std::string_view key) const;
};

// Registry of every kind.
const KindDesc& domain_kind();
const KindDesc& pool_kind();
const KindDesc& volume_kind();
const KindDesc& network_kind();
const KindDesc& other_device_kind();
const std::vector<const KindDesc*>& device_kinds();
const KindDesc* device_kind_by_element(std::string_view element);
const KindDesc* kind_by_name(std::string_view kind);

} // namespace virtumancer
