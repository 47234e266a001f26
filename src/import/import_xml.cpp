#include "virtumancer/import_xml.hpp"

#include <cctype>
#include <map>
#include <pugixml.hpp>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

std::string env_part(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
    return out;
}

bool is_live_xml(const std::string& xml) {
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str())) return false;
    return static_cast<bool>(doc.document_element().attribute("id"));
}

// Removes @passwd from a graphics residue; returns true when there was one.
bool take_password(Object& g) {
    if (g.extra_xml.empty()) return false;
    pugi::xml_document doc;
    if (!doc.load_string(g.extra_xml.c_str())) return false;
    auto root = doc.document_element();
    auto a = root.attribute("passwd");
    if (!a) return false;
    root.remove_attribute(a);
    if (!root.first_attribute() && !root.first_child()) {
        g.extra_xml.clear();
    } else {
        g.extra_xml = xml_string(root);
    }
    return true;
}

} // namespace

std::string password_env_name(const std::string& vm, const std::string& dev) {
    return "VIRTUMANCER_" + env_part(vm) + "_" + env_part(dev) + "_PASSWORD";
}

ImportedDomain import_domain_xml(const std::string& xml, const std::string& host) {
    ImportedDomain out;
    check_xml_input(xml); // malformed or too deep: an XmlError with line and column
    std::string text = xml;
    if (is_live_xml(xml)) {
        out.was_live = true;
        text = strip_live_only_domain(xml);
    }
    OwnerMarker marker;
    out.spec.obj = parse_xml(text, domain_kind(), &marker);
    out.spec.host = host;
    const std::string vm = out.spec.obj.name();
    if (vm.empty()) throw Error("the domain XML has no <name>", "add <name>NAME</name>");
    std::map<std::string, int> seen;
    for (auto& ch : out.spec.obj.children) {
        if (!ch.kind || ch.kind->kind != "graphics") continue;
        std::string type = ch.get("type", "graphics");
        int n = seen[type]++;
        if (!take_password(ch)) continue;
        std::string dev = type + (n > 0 ? std::to_string(n + 1) : "");
        std::string var = password_env_name(vm, dev);
        ch.fields["password_env"] = var;
        out.warnings.push_back("VM " + vm + ": the " + type +
                               " password was not written into the spec; set the environment "
                               "variable " +
                               var + " (password_env) before apply");
    }
    for (const auto& ch : out.spec.obj.children)
        if (ch.kind && ch.kind->kind == "disk" && ch.extra_xml.find("<cookie") != std::string::npos)
            out.warnings.push_back("VM " + vm + ": disk " + ch.get("target") +
                                   " has HTTP cookies; their values are kept in the spec's "
                                   "`xml:` and may be secrets: keep the spec file private, or "
                                   "remove the cookies from that `xml:`");
    return out;
}

} // namespace virtumancer
