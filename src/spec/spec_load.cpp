// Stage 1 of loading: one YAML document -> one spec, checking types, ranges, allowed values,
// unknown and missing keys; every problem is reported with its file:line:col.
#include <pugixml.hpp>

#include <algorithm>
#include <cctype>

#include "spec_internal.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer::spec {

std::string annot_key(const std::string& doc_kind, const std::string& host, const std::string& name,
                      int child, const std::string& key) {
    return doc_kind + "|" + host + "|" + name + "|" + std::to_string(child) + "|" + key;
}

std::string Positions::doc_id(const std::string& kind, const std::string& host,
                              const std::string& name) {
    return kind + "|" + host + "|" + name;
}

uint32_t Positions::intern(std::vector<std::string>& table,
                           std::unordered_map<std::string, uint32_t>& index, const std::string& s) {
    auto [it, fresh] = index.try_emplace(s, static_cast<uint32_t>(table.size()));
    if (fresh) table.push_back(s);
    return it->second;
}

void Positions::set(const std::string& doc_kind, const std::string& host, const std::string& name,
                    int child, const std::string& key, const std::string& file, int line, int col) {
    put(docs_[doc_id(doc_kind, host, name)],
        Entry{child, intern(keys_, key_index_, key), intern(files_, file_index_, file), line, col});
}

void Positions::put(std::vector<Entry>& v, const Entry& e) {
    for (auto& x : v)
        if (x.child == e.child && x.key == e.key) {
            x = e;
            return;
        }
    v.push_back(e);
}

std::optional<SourceRef> Positions::find(const std::string& doc_kind, const std::string& host,
                                         const std::string& name, int child,
                                         const std::string& key) const {
    auto d = docs_.find(doc_id(doc_kind, host, name));
    auto k = key_index_.find(key);
    if (d == docs_.end() || k == key_index_.end()) return std::nullopt;
    for (const auto& e : d->second)
        if (e.child == child && e.key == k->second) return SourceRef{files_[e.file], e.line, e.col};
    return std::nullopt;
}

void Positions::merge_later(const Positions& later) {
    for (const auto& [id, entries] : later.docs_) {
        auto& v = docs_[id];
        for (const auto& e : entries)
            put(v, Entry{e.child, intern(keys_, key_index_, later.keys_[e.key]),
                         intern(files_, file_index_, later.files_[e.file]), e.line, e.col});
    }
}

namespace {

const std::vector<std::string> kKinds = {"Host",    "StoragePool",    "Volume",
                                         "Network", "VirtualMachine", "Snapshot"};

struct Ctx {
    const std::string& file;
    Diagnostics& diags;
    Annotations& notes;
    std::string doc_kind, host, name;

    void error(const YNode& at, const std::string& msg, const std::string& remedy) {
        diags.error(file, at.line, at.col, msg, remedy);
    }
    void mark(int child, const std::string& key, const YNode& at) {
        notes.pos.set(doc_kind, host, name, child, key, file, at.line, at.col);
    }
};

std::string shown(const YNode& v) {
    if (v.type == YNode::Map) return "a mapping";
    if (v.type == YNode::Seq) return "a list";
    if (v.type == YNode::Null) return "nothing (null)";
    return "`" + spec::excerpt(v.value, 40) + "`";
}

bool is_integer_text(const std::string& s) {
    if (s.empty()) return false;
    size_t i = (s[0] == '-') ? 1 : 0;
    if (i >= s.size()) return false;
    if (s.size() - i > 1 && s[i] == '0') return false;
    for (; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

std::optional<bool> as_bool(const YNode& v) {
    if (v.type != YNode::Scalar || !v.plain) return std::nullopt;
    if (v.value == "true" || v.value == "True" || v.value == "TRUE") return true;
    if (v.value == "false" || v.value == "False" || v.value == "FALSE") return false;
    return std::nullopt;
}

bool check_range(Ctx& c, const std::optional<IntRange>& r, const std::string& key, bool size,
                 const YNode& at, long long v) {
    if (!r || (v >= r->min && v <= r->max)) return true;
    std::string lo = size ? format_size(r->min) : std::to_string(r->min);
    std::string hi = size ? format_size(r->max) : std::to_string(r->max);
    c.error(at,
            "`" + key + "` is out of range: " + (size ? format_size(v) : std::to_string(v)) +
                " is not between " + lo + " and " + hi +
                (size && v < r->min ? " (did you forget the unit, e.g. `512MiB`?)" : ""),
            "set `" + key + "` between " + lo + " and " + hi +
                (size ? ", with a unit such as `MiB` or `GiB`" : ""));
    return false;
}

// An integer scalar (is_integer_text) as a long long; beyond 64 bits is reported at its place.
bool integer_value(Ctx& c, const YNode& v, const std::string& key, long long* out) {
    auto n = parse_int_checked(v.value);
    if (n) {
        *out = n.value;
        return true;
    }
    c.error(v, "`" + key + "`: value out of range: " + shown(v) + " does not fit in 64 bits",
            "write a smaller number for `" + key + "`");
    return false;
}

// YAML value -> model string for one descriptor field. Returns false after reporting.
bool convert(Ctx& c, const KindDesc&, const FieldDesc& f, const YNode& v, std::string* out) {
    auto type_error = [&](const std::string& want) {
        c.error(v, "`" + f.key + "` must be " + want + ", got " + shown(v),
                "write " + want + " as the value of `" + f.key + "`");
        return false;
    };
    switch (f.type) {
    case FieldType::Int: {
        if (v.type != YNode::Scalar || !v.plain || !is_integer_text(v.value))
            return type_error("an integer");
        long long n = 0;
        if (!integer_value(c, v, f.key, &n)) return false;
        if (!check_range(c, f.range, f.key, false, v, n)) return false;
        *out = std::to_string(n);
        break;
    }
    case FieldType::Bool:
    case FieldType::OnOff:
    case FieldType::Presence: {
        auto b = as_bool(v);
        if (!b) return type_error("true or false");
        if (f.type == FieldType::Bool)
            *out = *b ? "yes" : "no";
        else if (f.type == FieldType::OnOff)
            *out = *b ? "on" : "off";
        else
            *out = *b ? "yes" : "";
        break;
    }
    case FieldType::SizeKiB:
    case FieldType::SizeBytes: {
        if (v.type != YNode::Scalar) return type_error("a size such as `2GiB` or `512MiB`");
        unsigned long long bytes = 0;
        std::string err;
        if (!parse_size(v.value, &bytes, &err)) {
            c.error(v, "`" + f.key + "`: " + err,
                    "write `" + f.key + "` as a whole number with a unit, e.g. `2GiB` or `512MiB`");
            return false;
        }
        if (bytes > (1ULL << 62)) {
            c.error(v, "`" + f.key + "` is too large", "give `" + f.key + "` a size below 4 EiB");
            return false;
        }
        if (!check_range(c, f.range, f.key, true, v, static_cast<long long>(bytes))) return false;
        *out = std::to_string(bytes);
        break;
    }
    case FieldType::List: {
        if (v.type != YNode::Seq) return type_error("a list of strings, e.g. [hd, cdrom]");
        std::vector<std::string> items;
        for (const auto& it : v.seq) {
            if (it.type != YNode::Scalar || it.value.empty() ||
                it.value.find(',') != std::string::npos) {
                c.error(it,
                        "items of `" + f.key + "` must be non-empty strings without commas, got " +
                            shown(it),
                        "write each item of `" + f.key + "` as its own string, e.g. [hd, cdrom]");
                return false;
            }
            if (!f.allowed.empty() &&
                std::find(f.allowed.begin(), f.allowed.end(), it.value) == f.allowed.end()) {
                c.error(it,
                        "`" + it.value + "` is not allowed in `" + f.key +
                            "`; allowed: " + join(f.allowed, ", "),
                        "use only " + join(f.allowed, ", ") + " in `" + f.key + "`");
                return false;
            }
            items.push_back(it.value);
        }
        if (items.empty()) return type_error("a non-empty list");
        *out = join(items, ",");
        return true;
    }
    case FieldType::String: {
        if (v.type != YNode::Scalar) return type_error("a string");
        *out = v.value;
        break;
    }
    }
    if (!f.allowed.empty() && f.type == FieldType::String &&
        std::find(f.allowed.begin(), f.allowed.end(), *out) == f.allowed.end()) {
        std::vector<std::string> allowed = f.allowed;
        if (!f.absent_spelling.empty()) allowed.insert(allowed.begin(), f.absent_spelling);
        c.error(v,
                "`" + f.key + "` must be one of " + join(allowed, ", ") + "; got " + shown(v) +
                    did_you_mean(*out, allowed),
                "set `" + f.key + "` to one of " + join(allowed, ", "));
        return false;
    }
    return true;
}

bool name_value(Ctx& c, const YNode& v, const std::string& key, std::string* out) {
    if (v.type != YNode::Scalar) {
        c.error(v, "`" + key + "` must be a name, got " + shown(v),
                "write `" + key + "` as a plain name, e.g. `" + key + ": web`");
        return false;
    }
    std::string why;
    if (!is_safe_name(v.value, &why)) {
        c.error(v, "invalid " + key + " `" + excerpt(v.value, 64) + "`: " + why,
                "choose a " + key +
                    " of 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit");
        return false;
    }
    *out = v.value;
    return true;
}

void unknown_key(Ctx& c, const YNode& k, const std::string& where,
                 const std::vector<std::string>& known) {
    static const std::map<std::string, std::string> synonyms = {
        {"size", "capacity"}, {"cpus", "vcpus"}, {"ram", "memory"}, {"mac_address", "mac"}};
    std::string hint = did_you_mean(k.value, known);
    auto it = synonyms.find(k.value);
    if (hint.empty() && it != synonyms.end() &&
        std::find(known.begin(), known.end(), it->second) != known.end())
        hint = " (did you mean `" + it->second + "`?)";
    // the suggested key, from " (did you mean `key`?)"
    auto tick = hint.find('`');
    std::string fix = tick == std::string::npos
                          ? "remove `" + k.value + "`, or correct it to a key of " + where +
                                " (`virtumancer schema --markdown` lists them)"
                          : "rename it to `" +
                                hint.substr(tick + 1, hint.find('`', tick + 1) - tick - 1) +
                                "`, or remove it";
    c.error(k, "unknown key `" + k.value + "` in " + where + hint, fix);
}

std::string normalize_element(Ctx& c, const YNode& v) {
    pugi::xml_document d;
    auto res = d.load_string(v.value.c_str());
    if (!res || !d.document_element()) {
        c.error(v,
                std::string("`xml` is not well-formed XML: ") +
                    (res ? "no element" : res.description()),
                "write `xml` as one well-formed element, e.g. `xml: \"<watchdog "
                "model='i6300esb'/>\"`");
        return "";
    }
    return xml_string(d.document_element());
}

Object load_object(Ctx& c, const YNode& map, const KindDesc& kind, int child,
                   const std::vector<std::string>& reserved, const std::string& where);

// An `other_devices` item whose element has a device kind of its own (a <watchdog>, an
// <audio> written before virtumancer typed it) becomes an object of that kind, exactly as
// its XML says: libvirt reports it as that kind, and only objects of one kind are paired.
void typed_if_known(Ctx& c, const YNode& at, Object& o) {
    if (o.extra_xml.empty()) return;
    pugi::xml_document d;
    if (!d.load_string(o.extra_xml.c_str())) return;
    const KindDesc* k = device_kind_by_element(d.document_element().name());
    if (!k || k->element == "*") return;
    try {
        o = parse_xml(o.extra_xml, *k);
    } catch (const Error& e) {
        c.error(at, std::string("`xml`: ") + e.what(),
                e.remedy().empty() ? "correct the element so it is a valid <" + k->element +
                                         ">, or write the device with its own keys instead of "
                                         "`xml:`"
                                   : e.remedy());
    }
}

void load_children(Ctx& c, const YNode& v, const KindDesc& ck, Object& parent, bool top) {
    if (v.type == YNode::Null) return;
    if (v.type != YNode::Seq) {
        c.error(v, "`" + ck.yaml_list + "` must be a list of mappings, got " + shown(v),
                "write each item of `" + ck.yaml_list + "` on its own line as `- key: value`");
        return;
    }
    for (const auto& item : v.seq) {
        if (item.type != YNode::Map) {
            c.error(item, "items of `" + ck.yaml_list + "` must be mappings, got " + shown(item),
                    "write the item as keys and values, e.g. `- key: value`");
            continue;
        }
        int idx = top ? static_cast<int>(parent.children.size()) : -2;
        Object o = load_object(c, item, ck, idx, {}, "an item of `" + ck.yaml_list + "`");
        parent.children.push_back(std::move(o));
    }
}

Object load_object(Ctx& c, const YNode& map, const KindDesc& kind, int child,
                   const std::vector<std::string>& reserved, const std::string& where) {
    Object o;
    o.kind = &kind;
    if (child >= 0) c.mark(child, "item", map);
    std::set<std::string> nulls;
    auto kids = child_kinds(kind);
    bool xml_given = false;
    for (const auto& [k, v] : map.map) {
        const std::string& key = k.value;
        if (std::find(reserved.begin(), reserved.end(), key) != reserved.end()) continue;
        if (child >= 0 || child == -1) c.mark(child, key, v);
        if (key == "xml" && !kind.element.empty()) {
            xml_given = true;
            if (v.type != YNode::Scalar) {
                c.error(v, "`xml` must be a string of XML, got " + shown(v),
                        "quote the XML as one string, e.g. `xml: \"<element .../>\"`");
                continue;
            }
            if (kind.element == "*") {
                o.extra_xml = normalize_element(c, v);
                typed_if_known(c, v, o);
                continue;
            }
            try {
                o.extra_xml = merge_xml_fragment(o.extra_xml, kind.element, v.value);
            } catch (const Error& e) {
                c.error(v, std::string("`xml`: ") + e.what(),
                        e.remedy().empty() ? "correct the XML of `xml` as the message says"
                                           : e.remedy());
            }
            continue;
        }
        const KindDesc* ck = nullptr;
        for (auto* kk : kids)
            if (kk->yaml_list == key) ck = kk;
        if (ck) {
            load_children(c, v, *ck, o, child == -1);
            continue;
        }
        if (auto refused = refused_key(kind, key)) {
            c.error(k, "`" + key + "`: " + refused->why, refused->remedy);
            continue;
        }
        const FieldDesc* f = kind.field(key);
        if (!f || kind.element == "*") {
            std::vector<std::string> known = reserved;
            if (kind.element != "*")
                for (const auto& fd : kind.fields) known.push_back(fd.key);
            for (auto* kk : kids) known.push_back(kk->yaml_list);
            if (!kind.element.empty()) known.push_back("xml");
            unknown_key(c, k, where, known);
            continue;
        }
        if (v.type == YNode::Null) {
            nulls.insert(key);
            if (child >= 0 || child == -1)
                c.notes.nulls.insert(annot_key(c.doc_kind, c.host, c.name, child, key));
            continue;
        }
        if (!f->absent_spelling.empty() && v.type == YNode::Scalar &&
            v.value == f->absent_spelling) {
            nulls.insert(key);
            continue;
        }
        std::string val;
        if (convert(c, kind, *f, v, &val) && !val.empty())
            o.fields[key] = val;
        else if (f->type == FieldType::Presence)
            nulls.insert(key); // false: absent, no default
    }
    if (kind.element == "*" && !xml_given)
        c.error(map, "an item of `other_devices` needs `xml: \"<element .../>\"`",
                "add `xml: \"<element .../>\"` with the device's XML to the item");
    // Defaults, in descriptor order (a default may depend on an earlier one: bus on device).
    for (const auto& f : kind.fields) {
        if (o.has(f.key) || nulls.count(f.key) || f.key == "name") continue;
        if (auto d = default_for(kind, f, o)) o.fields[f.key] = *d;
    }
    return o;
}

void require(Ctx& c, const YNode& map, const std::string& key, const std::string& what) {
    if (!map.find(key))
        c.error(map, "missing required key `" + key + "` (" + what + ")",
                "add `" + key + ":` to the document (" + what + ")");
}

bool get_bool(Ctx& c, const YNode& map, const std::string& key, bool def) {
    const YNode* v = map.find(key);
    if (!v) return def;
    auto b = as_bool(*v);
    if (!b) {
        c.error(*v, "`" + key + "` must be true or false, got " + shown(*v),
                "write `" + key + ": true` or `" + key + ": false`");
        return def;
    }
    return *b;
}

std::string get_enum(Ctx& c, const YNode& map, const std::string& key, const SpecKey& sk) {
    const YNode* v = map.find(key);
    if (!v) return sk.shown_default;
    if (v->type != YNode::Scalar ||
        std::find(sk.allowed.begin(), sk.allowed.end(), v->value) == sk.allowed.end()) {
        c.error(*v,
                "`" + key + "` must be one of " + join(sk.allowed, ", ") + "; got " + shown(*v) +
                    (v->type == YNode::Scalar ? did_you_mean(v->value, sk.allowed) : ""),
                "set `" + key + "` to one of " + join(sk.allowed, ", "));
        return sk.shown_default;
    }
    return v->value;
}

const SpecKey& setting(const std::string& key) {
    for (const auto& k : vm_setting_keys())
        if (k.key == key) return k;
    return vm_setting_keys().front();
}

// A duration: whole seconds (`90`) or a number with a unit (`90s`, `2m`, `1h`); nullopt when
// it is neither.
std::optional<long long> duration_seconds(const std::string& text) {
    if (text.empty()) return std::nullopt;
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 9) return std::nullopt;
    long long n = std::stoll(text.substr(0, digits));
    std::string unit = text.substr(digits);
    if (unit.empty() || unit == "s") return n;
    if (unit == "m") return n * 60;
    if (unit == "h") return n * 3600;
    return std::nullopt;
}

// `wait_for_ip:` (a mapping, or `true` for the defaults).
void load_wait_for_ip(Ctx& c, const YNode& v, WaitForIp& w) {
    c.mark(-1, "wait_for_ip", v);
    if (v.type == YNode::Scalar) {
        auto b = as_bool(v);
        if (!b) {
            c.error(v,
                    "`wait_for_ip` must be a mapping (timeout, source, ipv4, ipv6) or true, got " +
                        shown(v),
                    "write `wait_for_ip: true` for the defaults, or a mapping such as "
                    "`wait_for_ip: {timeout: 5m, source: lease}`");
            return;
        }
        w.enabled = *b;
        return;
    }
    if (v.type == YNode::Null) return;
    if (v.type != YNode::Map) {
        c.error(v, "`wait_for_ip` must be a mapping (timeout, source, ipv4, ipv6), got " + shown(v),
                "write `wait_for_ip: true` for the defaults, or a mapping such as "
                "`wait_for_ip: {timeout: 5m, source: lease}`");
        return;
    }
    w.enabled = true;
    std::vector<std::string> known;
    for (const auto& k : wait_for_ip_keys()) known.push_back(k.key);
    for (const auto& [k, val] : v.map)
        if (std::find(known.begin(), known.end(), k.value) == known.end())
            unknown_key(c, k, "wait_for_ip", known);
    if (const YNode* t = v.find("timeout")) {
        auto secs = t->type == YNode::Scalar ? duration_seconds(t->value) : std::nullopt;
        if (!secs || *secs < 1 || *secs > 86400)
            c.error(*t, "`wait_for_ip.timeout` must be a duration from 1s to 24h, got " + shown(*t),
                    "write seconds or a duration such as `120`, `90s` or `5m`");
        else
            w.timeout = static_cast<int>(*secs);
    }
    for (const auto& k : wait_for_ip_keys())
        if (k.key == "source") w.source = get_enum(c, v, "source", k);
    w.ipv4 = get_bool(c, v, "ipv4", true);
    w.ipv6 = get_bool(c, v, "ipv6", false);
    if (!w.ipv4 && !w.ipv6)
        c.error(v, "`wait_for_ip` waits for no address", "set `ipv4: true` or `ipv6: true`");
}

void load_vm(Ctx& c, const YNode& root, Spec& s) {
    const std::vector<std::string> reserved = {
        "kind",       "apiVersion", "name",       "host",           "state",
        "autostart",  "template",   "clone_of",   "restart_policy", "shutdown_timeout",
        "force_stop", "cloud_init", "wait_for_ip"};
    s.obj = load_object(c, root, domain_kind(), -1, reserved, "a VirtualMachine");
    s.obj.fields["name"] = c.name;
    require(c, root, "memory", "the VM's memory, e.g. `memory: 512MiB`");
    if (!root.find("vcpus")) require(c, root, "vcpus", "the number of vCPUs, e.g. `vcpus: 2`");
    VmSettings& vm = s.vm;
    vm.state = get_enum(c, root, "state", setting("state"));
    vm.autostart = get_bool(c, root, "autostart", false);
    vm.is_template = get_bool(c, root, "template", false);
    vm.restart_policy = get_enum(c, root, "restart_policy", setting("restart_policy"));
    vm.force_stop = get_bool(c, root, "force_stop", false);
    if (const YNode* v = root.find("shutdown_timeout")) {
        if (v->type != YNode::Scalar || !v->plain || !is_integer_text(v->value))
            c.error(*v, "`shutdown_timeout` must be an integer (seconds), got " + shown(*v),
                    "write a whole number of seconds, e.g. `shutdown_timeout: 120`");
        else if (long long n = 0; integer_value(c, *v, "shutdown_timeout", &n) &&
                                  check_range(c, setting("shutdown_timeout").range,
                                              "shutdown_timeout", false, *v, n))
            vm.shutdown_timeout = static_cast<int>(n);
    }
    if (const YNode* v = root.find("wait_for_ip")) load_wait_for_ip(c, *v, vm.wait_for_ip);
    if (const YNode* v = root.find("clone_of")) {
        c.mark(-1, "clone_of", *v);
        name_value(c, *v, "clone_of", &vm.clone_of);
    }
    if (vm.is_template && root.find("state") && vm.state != "shutoff")
        c.error(*root.find("state"),
                "a template is never started; remove `state` or set "
                "`state: shutoff`",
                "remove `state` from the template, or set `state: shutoff`");
    if (vm.is_template) vm.state = "shutoff";
    if (const YNode* v = root.find("cloud_init")) {
        c.mark(-1, "cloud_init", *v);
        load_cloud_init(c.file, c.diags, *v, c.name, s.obj, vm.cloud_init);
    }
    // password keys on graphics are refused in load_object; check interface MAC syntax here
    for (size_t i = 0; i < s.obj.children.size(); ++i) {
        const Object& ch = s.obj.children[i];
        if (ch.kind->kind != "interface" || !ch.has("mac")) continue;
        const std::string& m = ch.get("mac");
        bool ok = m.size() == 17;
        for (size_t j = 0; ok && j < 17; ++j)
            ok = (j % 3 == 2) ? m[j] == ':' : std::isxdigit(static_cast<unsigned char>(m[j])) != 0;
        if (ok && (parse_int<int>(m.substr(0, 2), Radix::Hex).value_or(0) & 1)) ok = false;
        if (!ok) {
            SourceRef at = c.notes.pos.find(c.doc_kind, c.host, c.name, static_cast<int>(i), "mac")
                               .value_or(s.src);
            c.diags.error(at.file, at.line, at.column,
                          "`mac` must be a unicast MAC address like 52:54:00:12:34:56, got `" + m +
                              "`",
                          "write six hex pairs separated by `:` with an even first byte, or "
                          "remove `mac` to have one derived from the VM");
        }
    }
}

void load_plain(Ctx& c, const YNode& root, Spec& s, const KindDesc& kind,
                const std::string& where) {
    s.obj = load_object(c, root, kind, -1, {"kind", "apiVersion", "name", "host"}, where);
    s.obj.fields["name"] = c.name;
}

template <typename F>
void load_keys(Ctx& c, const YNode& root, const std::vector<SpecKey>& keys, bool has_host,
               const std::string& where, F&& each) {
    std::vector<std::string> known = {"kind", "apiVersion", "name"};
    if (has_host) known.push_back("host");
    for (const auto& k : keys) known.push_back(k.key);
    for (const auto& [k, v] : root.map) {
        if (std::find(known.begin(), known.end(), k.value) == known.end()) {
            unknown_key(c, k, where, known);
            continue;
        }
        c.mark(-1, k.value, v);
        if (k.value == "kind" || k.value == "apiVersion" || k.value == "name" || k.value == "host")
            continue;
        each(k.value, v);
    }
}

std::string scalar(Ctx& c, const YNode& v, const std::string& key) {
    if (v.type != YNode::Scalar) {
        c.error(v, "`" + key + "` must be a string, got " + shown(v),
                "write `" + key + "` as a string (quote it if it starts with `[` or `{`)");
        return "";
    }
    return v.value;
}

} // namespace

void load_document(const Doc& doc, Loaded& out, Diagnostics& diags) {
    const YNode& root = doc.root;
    Ctx c{doc.file, diags, out.notes, "", "", ""};
    if (root.type != YNode::Map) {
        c.error(root,
                "a spec document must be a mapping with `kind` and `name`, got " + shown(root),
                "start the document with `kind: KIND` and `name: NAME` lines");
        return;
    }
    const YNode* kind = root.find("kind");
    if (!kind) {
        c.error(root, "missing required key `kind` (one of " + join(kKinds, ", ") + ")",
                "add `kind:` with one of " + join(kKinds, ", "));
        return;
    }
    if (kind->type != YNode::Scalar ||
        std::find(kKinds.begin(), kKinds.end(), kind->value) == kKinds.end()) {
        c.error(*kind,
                "`kind` must be one of " + join(kKinds, ", ") + "; got " + shown(*kind) +
                    (kind->type == YNode::Scalar ? did_you_mean(kind->value, kKinds) : ""),
                "set `kind` to one of " + join(kKinds, ", "));
        return;
    }
    c.doc_kind = kind->value;
    if (const YNode* api = root.find("apiVersion"))
        if (api->type != YNode::Scalar || api->value != "virtumancer/v1")
            c.error(*api, "`apiVersion` must be `virtumancer/v1`, got " + shown(*api),
                    "write `apiVersion: virtumancer/v1`, or remove the line");
    const YNode* name = root.find("name");
    if (!name) {
        c.error(root, "missing required key `name`",
                "add `name: NAME` (1-64 characters of A-Z a-z 0-9 . _ -)");
        return;
    }
    if (!name_value(c, *name, "name", &c.name)) return;
    const YNode* host = root.find("host");
    bool is_host = c.doc_kind == "Host";
    if (!is_host) {
        if (!host) {
            c.error(root, "missing required key `host` (the name of a Host spec)",
                    "add `host: NAME` naming a `kind: Host` document");
            return;
        }
        if (!name_value(c, *host, "host", &c.host)) return;
    }
    SourceRef src{doc.file, name->line, name->col};
    c.mark(-1, "name", *name);
    if (host) c.mark(-1, "host", *host);

    if (is_host) {
        HostSpec h;
        h.name = c.name;
        h.src = src;
        load_keys(c, root, host_keys(), false, "a Host", [&](const std::string& k, const YNode& v) {
            if (k == "uri")
                h.uri = scalar(c, v, k);
            else if (k == "description")
                h.description = scalar(c, v, k);
        });
        if (!root.find("uri"))
            require(c, root, "uri", "libvirt URI, e.g. qemu:///system");
        else if (h.uri.find("://") == std::string::npos && !h.uri.empty())
            c.error(*root.find("uri"),
                    "`uri` must be a libvirt URI such as qemu:///system, got `" + h.uri + "`",
                    "write a libvirt URI, e.g. `uri: qemu:///system` or "
                    "`uri: qemu+ssh://user@host/system`");
        out.state.hosts.push_back(std::move(h));
        return;
    }
    if (c.doc_kind == "Snapshot") {
        SnapshotSpec sn;
        sn.name = c.name;
        sn.host = c.host;
        sn.src = src;
        load_keys(c, root, snapshot_keys(), true, "a Snapshot",
                  [&](const std::string& k, const YNode& v) {
                      if (k == "vm")
                          name_value(c, v, "vm", &sn.vm);
                      else if (k == "description")
                          sn.description = scalar(c, v, k);
                      else if (k == "memory")
                          sn.memory = get_bool(c, root, "memory", false);
                  });
        require(c, root, "vm", "the VirtualMachine the snapshot is of");
        out.state.snapshots.push_back(std::move(sn));
        return;
    }
    Spec s;
    s.host = c.host;
    s.src = src;
    if (c.doc_kind == "VirtualMachine") {
        load_vm(c, root, s);
        out.state.vms.push_back(std::move(s));
    } else if (c.doc_kind == "StoragePool") {
        load_plain(c, root, s, pool_kind(), "a StoragePool");
        if (!s.obj.has("path") && s.obj.get("type") == "dir")
            require(c, root, "path", "the directory holding the volumes");
        out.state.pools.push_back(std::move(s));
    } else if (c.doc_kind == "Volume") {
        load_plain(c, root, s, volume_kind(), "a Volume");
        require(c, root, "pool", "the StoragePool holding the volume");
        require(c, root, "capacity", "the size, e.g. `capacity: 10GiB`");
        out.state.volumes.push_back(std::move(s));
    } else if (c.doc_kind == "Network") {
        load_plain(c, root, s, network_kind(), "a Network");
        out.state.networks.push_back(std::move(s));
    }
}

} // namespace virtumancer::spec
