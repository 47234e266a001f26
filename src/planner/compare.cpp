#include "compare.hpp"

#include <map>
#include <pugixml.hpp>
#include <set>

#include "virtumancer/parse_int.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer::planner {
namespace {

bool truthy(const std::string& v) {
    return v == "yes" || v == "on" || v == "true";
}

} // namespace

bool field_equal(const FieldDesc& f, const std::string& d, const std::string& o) {
    if (d == o) return true;
    switch (f.type) {
    case FieldType::Int:
    case FieldType::SizeKiB:
    case FieldType::SizeBytes: {
        auto a = parse_int(d, Radix::DecimalOrHex), b = parse_int(o, Radix::DecimalOrHex);
        return a && b && *a == *b;
    }
    case FieldType::Presence:
        return truthy(d) == truthy(o); // absent means false
    case FieldType::Bool:
    case FieldType::OnOff:
        return !o.empty() && truthy(d) == truthy(o);
    default:
        break;
    }
    switch (f.compare) {
    case CompareRule::MachineAlias:
        if (o.empty()) return false;
        // libvirt expands machine aliases: pc -> pc-i440fx-7.2, q35 -> pc-q35-7.2.
        if (d == "pc" && o.rfind("pc-i440fx-", 0) == 0) return true;
        if (d == "q35" && o.rfind("pc-q35-", 0) == 0) return true;
        return o.rfind(d + "-", 0) == 0;
    case CompareRule::CaseInsensitive: {
        std::string a = d, b = o;
        for (auto& c : a) c = static_cast<char>(std::tolower(c));
        for (auto& c : b) c = static_cast<char>(std::tolower(c));
        return a == b;
    }
    case CompareRule::ByType:
        break;
    }
    return false;
}

std::string observed_value(const Object& desired, const Object& observed, const FieldDesc& f) {
    std::string v = observed.get(f.key);
    if (!v.empty()) return v;
    // libvirt leaves some out when they equal their counterpart (current_memory, memory).
    if (!f.observed_fallback.empty()) return observed.get(f.observed_fallback);
    (void)desired;
    return v;
}

namespace {

// A console's target: libvirt's default for an x86 guest is a serial console.
std::string console_target(const Object& console) {
    return console.get("target_type", "serial");
}

bool is_chardev(const std::string& kind) {
    return kind == "serial" || kind == "console" || kind == "parallel" || kind == "channel";
}

// True when `observed` lacks field `f` (or holds what libvirt chose for it) because libvirt
// writes `want` that way on define (seen with libvirt 9.0 in the convergence test,
// tests/e2e/convergence_test.cpp): a value equal to libvirt's default is left out, and a port
// of -1 asks libvirt to pick one (absent in the config of a shut-off domain, the port chosen
// in a running one).
bool libvirt_implicit(const Object& observed, const FieldDesc& f, const std::string& want) {
    const std::string& kind = observed.kind->kind;
    const std::string have = observed.get(f.key);
    if (kind == "graphics" && want == "-1" &&
        (f.key == "port" || f.key == "tls_port" || f.key == "websocket"))
        return have.empty() || have == "-1" || observed.get("autoport") == "yes";
    if (!have.empty()) return false;
    if (kind == "disk") {
        // An empty drive (a cdrom without media) has no format in a running domain's XML.
        bool empty = true;
        for (const char* k : {"file", "dev", "dir", "volume", "source_name"})
            empty &= !observed.has(k);
        return (f.key == "tray" && want == "closed") || (f.key == "cache" && want == "default") ||
               (f.key == "format" && empty);
    }
    if (kind == "interface") return f.key == "queues" && want == "1";
    // A unix socket without a path: libvirt picks the path at start and writes no <source>.
    if (is_chardev(kind))
        return f.key == "source_mode" && want == "bind" && !observed.has("source_path");
    return false;
}

bool node_contained(pugi::xml_node want, pugi::xml_node have, const std::string& path,
                    std::string* why) {
    for (auto a : want.attributes()) {
        auto h = have.attribute(a.name());
        if (!h || std::string(h.value()) != a.value()) {
            if (why)
                *why = path + "/@" + a.name() + ": want '" + a.value() + "', have '" +
                       (h ? h.value() : "") + "'";
            return false;
        }
    }
    std::map<std::string, int> seen;
    for (auto c : want.children()) {
        if (c.type() == pugi::node_pcdata) {
            if (std::string(have.text().get()) != c.value()) {
                if (why) *why = path + ": text differs";
                return false;
            }
            continue;
        }
        if (c.type() != pugi::node_element) continue;
        int idx = seen[c.name()]++;
        pugi::xml_node h = have.child(c.name());
        for (int i = 0; i < idx && h; ++i) h = h.next_sibling(c.name());
        if (!h) {
            if (why) *why = path + "/" + c.name() + ": missing";
            return false;
        }
        if (!node_contained(c, h, path + "/" + c.name(), why)) return false;
    }
    return true;
}

} // namespace

bool residue_contained(const std::string& want, const std::string& have, std::string* why) {
    if (want.empty()) return true;
    pugi::xml_document w, h;
    if (!w.load_string(want.c_str())) {
        if (why) *why = "desired xml is not well-formed";
        return false;
    }
    if (have.empty() || !h.load_string(have.c_str())) {
        if (why) *why = "not present";
        return false;
    }
    return node_contained(w.document_element(), h.document_element(), w.document_element().name(),
                          why);
}

bool libvirt_adds_kind(const KindDesc& k) {
    // audio: libvirt adds <audio id='1' type='none'/> (or spice) next to graphics and sound
    // cards; before audio had a kind, it was an `other` device and ignored the same way.
    static const std::set<std::string> kinds = {"audio",      "controller", "input",
                                                "memballoon", "other",      "panic"};
    return kinds.count(k.kind) > 0;
}

namespace {

bool has_child(const Object& o, const std::string& kind) {
    for (const auto& c : o.children)
        if (c.kind->kind == kind) return true;
    return false;
}

// Devices libvirt adds as companions of others the spec has (seen on libvirt 9.0 with the
// web VM of specs/): a <video> for graphics, the <serial> behind a serial console, the
// <console> in front of a serial port. Not a change when the spec has none of that kind.
bool libvirt_companion(const Object& desired, const Object& dev) {
    const std::string& k = dev.kind->kind;
    // libvirt puts a serial console (a view of the first serial port) in front of any other
    // console when the domain has a serial port.
    if (k == "console" && console_target(dev) == "serial" && has_child(desired, "serial")) {
        bool wanted = false;
        for (const auto& c : desired.children)
            wanted |= c.kind->kind == "console" && console_target(c) == "serial";
        if (!wanted) return true;
    }
    if (has_child(desired, k)) return false;
    if (k == "video") return has_child(desired, "graphics");
    if (k == "console") return false; // the serial console: above
    if (k == "serial")
        for (const auto& c : desired.children)
            if (c.kind->kind == "console" && c.get("target_type", "serial") == "serial")
                return true;
    return false;
}

std::string element_of(const Object& o) {
    if (o.kind->element != "*") return o.kind->element;
    pugi::xml_document d;
    if (d.load_string(o.extra_xml.c_str())) return d.document_element().name();
    return "?";
}

std::string identity_label(const Object& o, size_t ordinal) {
    std::string id;
    for (const auto& k : o.kind->identity) {
        std::string v = o.get(k);
        if (v.empty()) continue;
        if (!id.empty()) id += ",";
        id += v;
    }
    if (o.kind->element == "*") return element_of(o) + "[" + std::to_string(ordinal) + "]";
    if (id.empty()) id = std::to_string(ordinal);
    return o.kind->kind + "[" + id + "]";
}

} // namespace

std::vector<DevicePair> match_devices(const Object& desired, const Object& observed) {
    std::vector<DevicePair> out;
    std::vector<bool> used(observed.children.size(), false);
    std::map<std::string, size_t> ordinal;
    for (const auto& d : desired.children) {
        std::string el = element_of(d);
        size_t ord = ordinal[el]++;
        const Object* match = nullptr;
        for (size_t i = 0; i < observed.children.size(); ++i) {
            const Object& o = observed.children[i];
            if (used[i] || o.kind != d.kind || element_of(o) != el) continue;
            // libvirt moves the serial console first: consoles pair by their target.
            if (d.kind->kind == "console" && console_target(d) != console_target(o)) continue;
            bool ok = true;
            for (const auto& k : d.kind->identity) {
                std::string dv = d.get(k);
                if (dv.empty()) continue;
                const FieldDesc* f = d.kind->field(k);
                if (!f || !field_equal(*f, dv, o.get(k))) ok = false;
            }
            if (!ok) continue;
            used[i] = true;
            match = &o;
            break;
        }
        out.push_back({&d, match, identity_label(d, ord)});
    }
    std::map<std::string, size_t> obs_ord;
    for (size_t i = 0; i < observed.children.size(); ++i) {
        const Object& o = observed.children[i];
        size_t ord = obs_ord[element_of(o)]++;
        if (used[i]) continue;
        out.push_back({nullptr, &o, identity_label(o, ord)});
    }
    return out;
}

void diff_fields(const Object& desired, const Object& observed, const std::string& prefix,
                 std::vector<FieldDiff>* out) {
    for (const auto& f : desired.kind->fields) {
        if (f.path.empty()) continue; // spec-only (autostart, pool, password_file, ...)
        auto it = desired.fields.find(f.key);
        if (it == desired.fields.end()) continue;
        std::string ov = observed_value(desired, observed, f);
        if (!field_equal(f, it->second, ov) && !libvirt_implicit(observed, f, it->second))
            out->push_back({prefix + f.key, ov, it->second, f.change});
    }
    std::string why;
    if (!desired.extra_xml.empty() &&
        !residue_contained(desired.extra_xml, observed.extra_xml, &why))
        out->push_back({prefix + "xml", why, desired.extra_xml, ChangeClass::NextBoot});
}

std::vector<FieldDiff> diff_domain(const Object& desired, const Object& observed) {
    std::vector<FieldDiff> out;
    diff_fields(desired, observed, "", &out);
    for (const auto& p : match_devices(desired, observed)) {
        if (p.desired && p.observed) {
            diff_fields(*p.desired, *p.observed, p.label + ".", &out);
        } else if (p.desired) {
            out.push_back({p.label, "", "(added)", p.desired->kind->add_remove});
        } else if (!libvirt_adds_kind(*p.observed->kind) &&
                   !libvirt_companion(desired, *p.observed)) {
            out.push_back({p.label, "(present)", "", p.observed->kind->add_remove});
        }
    }
    return out;
}

namespace {

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

// autostart of a pool or network spec: true unless the spec says false.
bool wants_autostart(const Object& o) {
    std::string v = o.get("autostart", "yes");
    return !(v == "no" || v == "false" || v == "off");
}

// "start=192.168.150.100 end=192.168.150.199": an object's typed values, for a diff of a
// whole item (added or removed).
std::string summary(const Object& o) {
    std::string out;
    for (const auto& f : o.kind->fields) {
        auto it = o.fields.find(f.key);
        if (it == o.fields.end()) continue;
        if (!out.empty()) out += " ";
        out += f.key + "=" + it->second;
    }
    return out.empty() ? "(present)" : out;
}

// The <dns> element of a network's residue ("" when none).
std::string dns_of(const std::string& residue) {
    if (residue.empty()) return "";
    pugi::xml_document doc;
    if (!doc.load_string(residue.c_str())) return "";
    pugi::xml_node dns = doc.document_element().child("dns");
    return dns ? xml_string(dns) : "";
}

bool same_xml(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return a == b;
    return residue_contained(a, b, nullptr) && residue_contained(b, a, nullptr);
}

} // namespace

std::vector<FieldDiff> diff_pool(const Object& desired, const ObservedPool& observed) {
    std::vector<FieldDiff> out;
    diff_fields(desired, parse_xml(observed.xml, pool_kind()), "", &out);
    if (!observed.active) out.push_back({"active", "no", "yes", ChangeClass::Live});
    bool autostart = wants_autostart(desired);
    if (observed.autostart != autostart)
        out.push_back(
            {"autostart", yes_no(observed.autostart), yes_no(autostart), ChangeClass::Live});
    return out;
}

std::vector<FieldDiff> diff_volume(const Object& desired, const Object& observed) {
    std::vector<FieldDiff> out;
    std::string want_cap = desired.get("capacity"), have_cap = observed.get("capacity");
    auto w = parse_int(want_cap, Radix::DecimalOrHex), h = parse_int(have_cap, Radix::DecimalOrHex);
    if (!want_cap.empty() && !(w && h && *w == *h)) {
        bool shrink = w && h && *w < *h;
        out.push_back(
            {"capacity", have_cap, want_cap, shrink ? ChangeClass::Replace : ChangeClass::Live});
    }
    // The rest of the typed fields and the residue; capacity is above, allocation is only
    // what to preallocate at creation.
    Object rest = desired;
    rest.fields.erase("capacity");
    rest.fields.erase("allocation");
    if (!observed.has("format")) rest.fields.erase("format"); // pools without image formats
    diff_fields(rest, observed, "", &out);
    // An overlay the spec does not ask for is a difference too (libvirt reports the chain).
    for (const char* k : {"backing_path", "backing_format"})
        if (!desired.has(k) && observed.has(k))
            out.push_back({k, observed.get(k), "", ChangeClass::Replace});
    return out;
}

NetworkComparison diff_network(const Object& desired, const ObservedNetwork& observed) {
    NetworkComparison out;
    Object have = parse_xml(observed.xml, network_kind());
    auto redefine = [&](FieldDiff df) {
        // A redefined network config applies when the network restarts: pending, never a
        // replace (virtumancer keeps its UUID), except a UUID the spec changes.
        if (df.field != "uuid" && df.field != "name") df.cls = ChangeClass::NextBoot;
        out.diffs.push_back(std::move(df));
        out.redefine = true;
    };
    std::vector<FieldDiff> top;
    diff_fields(desired, have, "", &top);
    for (auto& df : top) redefine(df);
    // libvirt adds no <dns> by itself: one the spec does not have is a difference.
    std::string want_dns = dns_of(desired.extra_xml), have_dns = dns_of(have.extra_xml);
    if (!same_xml(want_dns, have_dns)) {
        bool reported = false; // a residue diff already covers a <dns> the spec has
        for (const auto& df : top) reported |= df.field == "xml";
        if (!reported) redefine({"dns", have_dns, want_dns, ChangeClass::NextBoot});
    }
    int ip_index = -1;
    std::map<const Object*, int> index_of;
    for (const auto& c : have.children)
        if (c.kind->kind == "ip") index_of[&c] = ++ip_index;
    for (const auto& p : match_devices(desired, have)) {
        if (!p.desired) {
            redefine({p.label, summary(*p.observed), "", ChangeClass::NextBoot});
            continue;
        }
        if (!p.observed) {
            redefine({p.label, "", summary(*p.desired), ChangeClass::NextBoot});
            continue;
        }
        std::vector<FieldDiff> ipd;
        diff_fields(*p.desired, *p.observed, p.label + ".", &ipd);
        for (auto& df : ipd) redefine(df);
        int parent = index_of.count(p.observed) ? index_of[p.observed] : 0;
        for (const auto& q : match_devices(*p.desired, *p.observed)) {
            const Object& item = q.desired ? *q.desired : *q.observed;
            std::string section =
                item.kind->kind == "dhcp_range" ? "ip-dhcp-range" : "ip-dhcp-host";
            std::string label = p.label + "." + q.label;
            if (q.desired && q.observed) {
                std::vector<FieldDiff> d;
                diff_fields(*q.desired, *q.observed, label + ".", &d);
                if (d.empty()) continue;
                for (auto& df : d) {
                    df.cls = ChangeClass::Live;
                    out.diffs.push_back(df);
                }
                if (section == "ip-dhcp-host") {
                    out.updates.push_back({section, "modify", parent, render_xml(*q.desired)});
                } else { // libvirt cannot modify a range in place: delete it, add the new one
                    out.updates.push_back({section, "delete", parent, render_xml(*q.observed)});
                    out.updates.push_back({section, "add-last", parent, render_xml(*q.desired)});
                }
            } else if (q.desired) {
                out.diffs.push_back({label, "", summary(*q.desired), ChangeClass::Live});
                out.updates.push_back({section, "add-last", parent, render_xml(*q.desired)});
            } else {
                out.diffs.push_back({label, summary(*q.observed), "", ChangeClass::Live});
                out.updates.push_back({section, "delete", parent, render_xml(*q.observed)});
            }
        }
    }
    // Removals before additions: a host moved to another address must leave first.
    std::stable_sort(out.updates.begin(), out.updates.end(),
                     [](const NetworkUpdate& a, const NetworkUpdate& b) {
                         return (a.command == "delete") > (b.command == "delete");
                     });
    if (!observed.active) out.diffs.push_back({"active", "no", "yes", ChangeClass::Live});
    bool autostart = wants_autostart(desired);
    if (observed.autostart != autostart)
        out.diffs.push_back(
            {"autostart", yes_no(observed.autostart), yes_no(autostart), ChangeClass::Live});
    return out;
}

std::vector<FieldDiff> diff_snapshot(const SnapshotSpec& desired, const ObservedDomain& observed) {
    std::vector<FieldDiff> out;
    auto it = observed.snapshot_descriptions.find(desired.name);
    if (it == observed.snapshot_descriptions.end()) return out;
    if (it->second != desired.description)
        out.push_back({"description", it->second, desired.description, ChangeClass::Live});
    return out;
}

} // namespace virtumancer::planner
