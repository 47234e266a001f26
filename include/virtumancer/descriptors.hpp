// Field descriptors: the one description of every field, shared by YAML, SQL and XML.
//
// Adding a libvirt attribute to virtumancer is one entry in src/model/descriptors.cpp:
// its YAML key, its XML path, its type, its SQL column (or none: then it lives in the row's
// props_json) and how a change to it reaches a running VM.
#pragma once
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

struct FieldDesc {
    std::string key;  // YAML key and model key (snake_case)
    std::string path; // XML path from the object's element; "" for spec-only fields
    FieldType type = FieldType::String;
    std::string column; // SQL column in the kind's table; "" -> stored in props_json
    ChangeClass change = ChangeClass::NextBoot;
    std::string doc;                  // one line for docs and the JSON Schema
    std::vector<std::string> allowed; // allowed values (empty: any)
    std::string default_value;        // documented default applied by the spec loader ("" none)
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
