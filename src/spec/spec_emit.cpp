// Model -> YAML (for `import`): kind/name/host first, then fields in descriptor order, fields
// equal to their documented default left out, devices under their list keys, residue as `xml:`.
// load_spec_text(emit_spec_yaml(...)) gives back an equal object.
#include <pugixml.hpp>

#include <cctype>
#include <cstdio>
#include <sstream>

#include "spec_internal.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

bool is_special_word(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const char* words[] = {"true", "false", "yes", "no",   "on",    "off",  "null",
                                  "~",    "y",     "n",   ".inf", "-.inf", ".nan", "<<"};
    for (const char* w : words)
        if (s == w) return true;
    return false;
}

bool looks_numeric(const std::string& s) {
    if (s.empty()) return false;
    char c0 = s[0];
    if (!(std::isdigit(static_cast<unsigned char>(c0)) || c0 == '-' || c0 == '+' || c0 == '.'))
        return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c)) &&
            std::string("._+-xXoO:").find(c) == std::string::npos)
            return false;
    return true;
}

bool plain_ok(const std::string& s, bool flow) {
    if (s.empty() || is_special_word(s) || looks_numeric(s)) return false;
    auto ok_first = [](unsigned char c) { return std::isalnum(c) || c == '/' || c == '_'; };
    if (!ok_first(static_cast<unsigned char>(s[0]))) return false;
    for (unsigned char c : s) {
        if (std::isalnum(c) ||
            std::string("_./@+=-").find(static_cast<char>(c)) != std::string::npos)
            continue;
        if (!flow && (c == ':' || c == ',')) continue;
        return false;
    }
    if (!flow) {
        if (s.back() == ':') return false;
        if (s.find(": ") != std::string::npos) return false;
    }
    return true;
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

std::string scalar(const std::string& s, bool flow = false) {
    return plain_ok(s, flow) ? s : quoted(s);
}

std::string value_yaml(const FieldDesc& f, const std::string& v) {
    switch (f.type) {
    case FieldType::Int:
        return v;
    case FieldType::Bool:
    case FieldType::OnOff:
    case FieldType::Presence:
        return spec::yaml_spelling(f, v);
    case FieldType::SizeKiB:
    case FieldType::SizeBytes:
        return spec::yaml_spelling(f, v);
    case FieldType::List: {
        std::vector<std::string> items;
        std::stringstream ss(v);
        std::string it;
        while (std::getline(ss, it, ',')) items.push_back(scalar(it, true));
        return "[" + spec::join(items, ", ") + "]";
    }
    case FieldType::String:
        return scalar(v);
    }
    return scalar(v);
}

std::string normalize_element(const std::string& xml) {
    pugi::xml_document d;
    if (!d.load_string(xml.c_str()) || !d.document_element()) return "";
    return xml_string(d.document_element());
}

// The residue as readable, indented XML when that loads back to the same residue.
std::string xml_text(const std::string& residue, const std::string& element) {
    pugi::xml_document d;
    if (d.load_string(residue.c_str()) && d.document_element()) {
        std::string pretty = xml_string(d.document_element(), "  ", pugi::format_indent);
        while (!pretty.empty() && pretty.back() == '\n') pretty.pop_back();
        // Indentation grows with depth: deeply nested residue stays on one line rather than
        // multiplying the spec's size (a 63 KB document 9,000 deep once gave 160 MB).
        if (pretty.size() > 2 * residue.size() + 4096) return residue;
        try {
            std::string back = element == "*" ? normalize_element(pretty)
                                              : merge_xml_fragment("", element, pretty);
            if (back == residue) return pretty;
        } catch (const std::exception&) {
        }
    }
    return residue;
}

bool literal_ok(const std::string& s) {
    if (s.empty() || s[0] == ' ' || s.back() == '\n' || s.back() == ' ') return false;
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
        if (c == '\n' && (i + 1 >= s.size() || s[i + 1] == '\n' || s[i - 1] == ' ')) return false;
    }
    return true;
}

void emit_xml(std::ostringstream& os, const std::string& indent, const std::string& residue,
              const std::string& element) {
    std::string text = xml_text(residue, element);
    if (!literal_ok(text)) {
        os << indent << "xml: " << quoted(text) << "\n";
        return;
    }
    os << indent << "xml: |-\n";
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) os << indent << "  " << line << "\n";
}

struct Emitter {
    std::ostringstream os;
    std::string host, vm_name;
    int nic_index = 0;

    void fields(const Object& o, const std::string& indent, bool first_dash) {
        const KindDesc& k = *o.kind;
        bool first = true;
        auto line = [&](const std::string& text) {
            if (first && first_dash)
                os << indent.substr(0, indent.size() - 2) << "- " << text << "\n";
            else
                os << indent << text << "\n";
            first = false;
        };
        bool is_nic = k.kind == "interface";
        int my_nic = is_nic ? nic_index++ : -1;
        if (k.element != "*") {
            for (const auto& f : k.fields) {
                if (f.key == "name" && (k.kind == "domain" || k.kind == "pool" ||
                                        k.kind == "volume" || k.kind == "network"))
                    continue;
                auto def = spec::default_for(k, f, o);
                auto it = o.fields.find(f.key);
                if (it == o.fields.end()) {
                    if (def) {
                        if (f.type == FieldType::Presence)
                            line(f.key + ": false");
                        else
                            line(f.key + ": null");
                    } else if (spec::has_late_default(k, f.key, o)) {
                        line(f.key + ": null");
                    }
                    continue;
                }
                if (def && *def == it->second) continue;
                if (is_nic && f.key == "mac" && it->second == derived_mac(host, vm_name, my_nic))
                    continue;
                line(f.key + ": " + value_yaml(f, it->second));
            }
        }
        for (const KindDesc* ck : spec::child_kinds(k)) {
            bool any = false;
            for (const auto& c : o.children) {
                if (c.kind != ck) continue;
                if (!any) line(ck->yaml_list + ":");
                any = true;
                std::ostringstream save;
                save.swap(os);
                fields(c, indent + "    ", true);
                std::string body = os.str();
                save.swap(os);
                if (body.empty())
                    os << indent << "  - {}\n";
                else
                    os << body;
            }
        }
        if (!o.extra_xml.empty()) {
            std::ostringstream save;
            save.swap(os);
            emit_xml(os, "", o.extra_xml, k.element);
            std::string body = os.str();
            save.swap(os);
            std::stringstream ss(body);
            std::string l;
            bool firstl = true;
            while (std::getline(ss, l)) {
                if (firstl)
                    line(l);
                else
                    os << indent << l << "\n";
                firstl = false;
            }
        }
    }
};

} // namespace

std::string emit_host_yaml(const HostSpec& h) {
    std::ostringstream os;
    os << "kind: Host\nname: " << scalar(h.name) << "\nuri: " << scalar(h.uri) << "\n";
    if (!h.description.empty()) os << "description: " << scalar(h.description) << "\n";
    return os.str();
}

std::string emit_spec_yaml(const std::string& kind, const Spec& s) {
    Emitter e;
    e.host = s.host;
    e.vm_name = mac_seed(s.obj); // what its derived MACs hash
    e.os << "kind: " << kind << "\nname: " << scalar(s.obj.name()) << "\nhost: " << scalar(s.host)
         << "\n";
    if (kind == "VirtualMachine") {
        const VmSettings& v = s.vm;
        VmSettings d;
        if (v.is_template) e.os << "template: true\n";
        if (v.state != d.state && !(v.is_template && v.state == "shutoff"))
            e.os << "state: " << v.state << "\n";
        if (v.autostart) e.os << "autostart: true\n";
        if (!v.clone_of.empty()) e.os << "clone_of: " << scalar(v.clone_of) << "\n";
        if (v.restart_policy != d.restart_policy)
            e.os << "restart_policy: " << v.restart_policy << "\n";
        if (v.shutdown_timeout != d.shutdown_timeout)
            e.os << "shutdown_timeout: " << v.shutdown_timeout << "\n";
        if (v.force_stop) e.os << "force_stop: true\n";
        if (const WaitForIp& w = v.wait_for_ip; w.enabled) {
            WaitForIp dw;
            e.os << "wait_for_ip:";
            if (w == WaitForIp{true, dw.timeout, dw.source, dw.ipv4, dw.ipv6}) e.os << " true";
            e.os << "\n";
            if (w.timeout != dw.timeout) e.os << "  timeout: " << w.timeout << "s\n";
            if (w.source != dw.source) e.os << "  source: " << w.source << "\n";
            if (w.ipv4 != dw.ipv4) e.os << "  ipv4: " << (w.ipv4 ? "true" : "false") << "\n";
            if (w.ipv6 != dw.ipv6) e.os << "  ipv6: " << (w.ipv6 ? "true" : "false") << "\n";
        }
    }
    e.fields(s.obj, "", false);
    return e.os.str();
}

} // namespace virtumancer
