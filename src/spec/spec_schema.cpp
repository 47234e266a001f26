// The JSON Schema (draft-07) of the spec format and the key tables of docs/spec-reference.md,
// both generated from the field descriptors and the spec tables, so neither can disagree with
// the loader.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "spec_internal.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer {
namespace {

using json = nlohmann::ordered_json;

const char* kNamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

std::string describe(const KindDesc&, const FieldDesc& f) {
    std::string d = f.doc;
    if (std::string shown = spec::shown_default(f); !shown.empty())
        d += (d.empty() ? "" : ". ") + std::string("Default: ") + shown;
    return d;
}

json field_schema(const KindDesc& k, const FieldDesc& f) {
    json s;
    switch (f.type) {
    case FieldType::Int: {
        s["type"] = json::array({"integer", "null"});
        if (const auto& r = f.range) {
            s["minimum"] = r->min;
            s["maximum"] = r->max;
        }
        break;
    }
    case FieldType::Bool:
    case FieldType::OnOff:
    case FieldType::Presence:
        s["type"] = json::array({"boolean", "null"});
        break;
    case FieldType::SizeKiB:
    case FieldType::SizeBytes:
        s["$ref"] = "#/definitions/size";
        break;
    case FieldType::List:
        s["type"] = "array";
        s["items"] = {{"type", "string"}};
        break;
    case FieldType::String:
        s["type"] = json::array({"string", "null"});
        if (!f.allowed.empty()) {
            json e = json::array();
            if (!f.absent_spelling.empty()) e.push_back(f.absent_spelling);
            for (const auto& a : f.allowed)
                if (std::find(e.begin(), e.end(), a) == e.end()) e.push_back(a);
            e.push_back(nullptr);
            s["enum"] = e;
        }
        break;
    }
    std::string d = describe(k, f);
    if (!d.empty()) s["description"] = d;
    return s;
}

json setting_schema(const spec::SpecKey& k) {
    json s;
    if (k.type == "enum") {
        s["enum"] = k.allowed;
    } else if (k.type == "duration") {
        s["type"] = json::array({"integer", "string"});
        s["pattern"] = "^[0-9]+[smh]?$";
    } else if (k.type == "object") {
        json props = json::object();
        for (const auto& m : k.members) props[m.key] = setting_schema(m);
        s["type"] = json::array({"object", "boolean", "null"});
        s["properties"] = props;
        s["additionalProperties"] = false;
    } else {
        s["type"] = k.type;
    }
    std::string d = k.doc;
    if (!k.shown_default.empty()) d += ". Default: " + k.shown_default;
    s["description"] = d;
    return s;
}

std::string def_name(const KindDesc& k) {
    return "kind_" + k.kind;
}

json object_schema(const KindDesc& k, json& defs, const json& extra_props,
                   const std::vector<std::string>& required) {
    json s = {{"type", "object"}, {"additionalProperties", false}};
    if (!k.doc.empty()) s["description"] = k.doc;
    json props = extra_props.is_null() ? json::object() : extra_props;
    if (k.element == "*") {
        props["xml"] = {{"type", "string"},
                        {"description", "the device element, e.g. <audio id='1' type='none'/>"}};
        s["required"] = {"xml"};
    } else {
        for (const auto& f : k.fields) {
            if (props.contains(f.key)) continue;
            props[f.key] = field_schema(k, f);
        }
        for (const auto* ck : spec::child_kinds(k)) {
            std::string dn = def_name(*ck);
            if (!defs.contains(dn)) {
                defs[dn] = json::object(); // placeholder against recursion
                defs[dn] = object_schema(*ck, defs, nullptr, {});
            }
            props[ck->yaml_list] = {{"type", json::array({"array", "null"})},
                                    {"items", {{"$ref", "#/definitions/" + dn}}},
                                    {"description", "list of " + ck->kind + " items"}};
        }
        if (!k.element.empty())
            props["xml"] = {{"type", "string"},
                            {"description",
                             "raw XML merged into <" + k.element + "> for anything without a key"}};
    }
    if (k.kind == "graphics")
        s["not"] = {{"anyOf", json::array({json{{"required", {"password"}}},
                                           json{{"required", {"passwd"}}}})}};
    s["properties"] = props;
    if (!required.empty()) s["required"] = required;
    return s;
}

json common_props(bool has_host) {
    json p = json::object();
    p["kind"] = {{"type", "string"}};
    p["apiVersion"] = {{"const", "virtumancer/v1"}};
    p["name"] = {{"$ref", "#/definitions/name"}};
    if (has_host)
        p["host"] = {{"$ref", "#/definitions/name"}, {"description", "the Host spec's name"}};
    return p;
}

} // namespace

std::string spec_json_schema() {
    json defs = json::object();
    defs["name"] = {{"type", "string"},
                    {"pattern", kNamePattern},
                    {"not", {{"pattern", "\\.\\."}}},
                    {"description", "1-64 characters of A-Z a-z 0-9 . _ - starting with a letter "
                                    "or digit, without `..`"}};
    defs["size"] = {{"description", "a size: `2GiB`, `512MiB`, `1024KiB` (powers of 1024), "
                                    "`20GB` (powers of 1000), or a plain integer (bytes)"},
                    {"oneOf", json::array({json{{"type", "integer"}, {"minimum", 0}},
                                           json{{"type", "string"},
                                                {"pattern", "^[0-9]+ ?(B|KiB|MiB|GiB|TiB|PiB|KB|"
                                                            "MB|GB|TB|PB)?$"}},
                                           json{{"type", "null"}}})}};
    json kinds = json::array();
    json all = json::array();
    auto add = [&](const std::string& kind, json schema) {
        kinds.push_back(kind);
        defs[kind] = std::move(schema);
        all.push_back({{"if", {{"properties", {{"kind", {{"const", kind}}}}}}},
                       {"then", {{"$ref", "#/definitions/" + kind}}}});
    };
    {
        json p = common_props(false);
        for (const auto& k : spec::host_keys()) p[k.key] = setting_schema(k);
        add("Host", {{"type", "object"},
                     {"additionalProperties", false},
                     {"properties", p},
                     {"required", {"kind", "name", "uri"}}});
    }
    add("StoragePool",
        object_schema(pool_kind(), defs, common_props(true), {"kind", "name", "host"}));
    add("Volume", object_schema(volume_kind(), defs, common_props(true),
                                {"kind", "name", "host", "pool", "capacity"}));
    add("Network",
        object_schema(network_kind(), defs, common_props(true), {"kind", "name", "host"}));
    {
        json p = common_props(true);
        for (const auto& k : spec::vm_setting_keys())
            if (k.key != "xml") p[k.key] = setting_schema(k);
        {
            json ci = {{"type", "object"}, {"additionalProperties", false}};
            ci["description"] = p["cloud_init"]["description"];
            for (const auto& k : spec::cloud_init_keys()) {
                json s = setting_schema(k);
                if (k.key == "meta_data") s["type"] = "object";
                if (k.key == "network_config") {
                    s.erase("type");
                    s["type"] = {"object", "string"};
                }
                ci["properties"][k.key] = s;
            }
            p["cloud_init"] = ci;
        }
        add("VirtualMachine",
            object_schema(domain_kind(), defs, p, {"kind", "name", "host", "memory", "vcpus"}));
    }
    {
        json p = common_props(true);
        for (const auto& k : spec::snapshot_keys()) p[k.key] = setting_schema(k);
        add("Snapshot", {{"type", "object"},
                         {"additionalProperties", false},
                         {"properties", p},
                         {"required", {"kind", "name", "host", "vm"}}});
    }
    json root;
    root["$schema"] = "http://json-schema.org/draft-07/schema#";
    root["$id"] = "https://virtumancer.dev/schema/virtumancer.schema.json";
    root["title"] = "virtumancer spec document";
    root["description"] = "One YAML document of a virtumancer spec (generated by `virtumancer "
                          "schema` from the field descriptors; do not edit)";
    root["type"] = "object";
    root["required"] = {"kind", "name"};
    root["properties"] = {{"kind", {{"enum", kinds}}}};
    root["allOf"] = all;
    root["definitions"] = defs;
    return root.dump(2) + "\n";
}

namespace spec {

namespace {

std::string type_name(const FieldDesc& f) {
    switch (f.type) {
    case FieldType::Int:
        return "integer";
    case FieldType::Bool:
    case FieldType::OnOff:
    case FieldType::Presence:
        return "boolean";
    case FieldType::SizeKiB:
    case FieldType::SizeBytes:
        return "size";
    case FieldType::List:
        return "list of strings";
    case FieldType::String:
        return f.allowed.empty() ? "string" : "enum";
    }
    return "string";
}

std::string cell(std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

void kind_table(std::ostringstream& os, const KindDesc& k) {
    os << "| key | type | default | allowed / range | description |\n|---|---|---|---|---|\n";
    for (const auto& f : k.fields) {
        if (f.key == "name" &&
            (k.kind == "domain" || k.kind == "pool" || k.kind == "volume" || k.kind == "network"))
            continue;
        std::string def = shown_default(f);
        std::string allowed = join(f.allowed, ", ");
        if (!f.absent_spelling.empty()) allowed = f.absent_spelling + ", " + allowed;
        if (const auto& r = f.range)
            allowed = (f.type == FieldType::SizeKiB || f.type == FieldType::SizeBytes)
                          ? format_size(r->min) + " .. " + format_size(r->max)
                          : std::to_string(r->min) + " .. " + std::to_string(r->max);
        os << "| `" << f.key << "` | " << type_name(f) << " | " << cell(def) << " | "
           << cell(allowed) << " | "
           << cell(f.path.empty() ? f.doc + " (spec only, not XML)" : f.doc) << " |\n";
    }
    for (const auto* ck : child_kinds(k))
        os << "| `" << ck->yaml_list << "` | list of " << ck->kind << " | | | see `" << ck->kind
           << "` below |\n";
    if (!k.element.empty() && k.element != "*")
        os << "| `xml` | XML string | | | merged into `<" << k.element << ">` |\n";
    os << "\n";
}

void keys_table(std::ostringstream& os, const std::vector<SpecKey>& keys) {
    os << "| key | type | default | allowed | description |\n|---|---|---|---|---|\n";
    for (const auto& k : keys) {
        os << "| `" << k.key << "` | " << k.type << " | " << cell(k.shown_default) << " | "
           << cell(join(k.allowed, ", ")) << " | " << cell(k.doc) << " |\n";
        for (const auto& m : k.members)
            os << "| `" << k.key << "." << m.key << "` | " << m.type << " | "
               << cell(m.shown_default) << " | " << cell(join(m.allowed, ", ")) << " | "
               << cell(m.doc) << " |\n";
    }
    os << "\n";
}

} // namespace

std::string reference_markdown() {
    std::ostringstream os;
    os << "### Defaults\n\nApplied by the loader when a key is absent (`key: null` keeps it "
          "unset instead):\n\n| kind | key | default |\n|---|---|---|\n";
    for (const auto& d : spec_defaults())
        os << "| " << d.kind << " | `" << d.key << "` | " << cell(d.shown) << " |\n";
    os << "\n### Host\n\nKeys: `kind`, `name`, and:\n\n";
    keys_table(os, host_keys());
    os << "### StoragePool\n\nKeys: `kind`, `name`, `host`, and:\n\n";
    kind_table(os, pool_kind());
    os << "### Volume\n\nKeys: `kind`, `name`, `host`, and:\n\n";
    kind_table(os, volume_kind());
    os << "### Network\n\nKeys: `kind`, `name`, `host`, and:\n\n";
    kind_table(os, network_kind());
    for (const auto* ck : child_kinds(network_kind())) {
        os << "#### `" << ck->yaml_list << "` items (" << ck->kind << ")\n\n";
        kind_table(os, *ck);
        for (const auto* gk : child_kinds(*ck)) {
            os << "#### `" << gk->yaml_list << "` items (" << gk->kind << ", inside `"
               << ck->yaml_list << "`)\n\n";
            kind_table(os, *gk);
        }
    }
    os << "### VirtualMachine\n\nKeys: `kind`, `name`, `host`, the settings below, the domain "
          "keys, and the device lists.\n\n#### Settings (not part of libvirt's XML)\n\n";
    keys_table(os, vm_setting_keys());
    os << "#### `cloud_init`\n\nA NoCloud seed: an ISO 9660 image labelled `cidata` (Rock Ridge "
          "and "
          "Joliet names `user-data`, `meta-data`, `network-config`) uploaded as the volume "
          "`<vm>-cidata.iso` into the pool of the VM's first disk and attached as a read-only "
          "cdrom (sata on q35, ide on pc). At most one of `user_data`, `user_data_file`, "
          "`user_data_env`. A change of the seed's content is a next-boot change.\n\n";
    keys_table(os, cloud_init_keys());
    os << "#### Domain keys\n\n";
    kind_table(os, domain_kind());
    for (const auto* ck : child_kinds(domain_kind())) {
        os << "#### `" << ck->yaml_list << "` items (" << ck->kind << ")\n\n";
        if (!ck->doc.empty()) os << ck->doc << ".\n\n";
        if (ck->element == "*") {
            os << "Each item is `{xml: \"<element .../>\"}`: the device element, kept as is.\n\n";
            continue;
        }
        kind_table(os, *ck);
    }
    os << "### Snapshot\n\nKeys: `kind`, `name`, `host`, and:\n\n";
    keys_table(os, snapshot_keys());
    return os.str();
}

} // namespace spec

std::string spec_reference_markdown() {
    return spec::reference_markdown();
}
} // namespace virtumancer
