#include "device_match.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <pugixml.hpp>

#include "virtumancer/parse_int.hpp"

namespace virtumancer::devmatch {
namespace {

bool parse(pugi::xml_document& doc, const std::string& xml) {
    return doc.load_string(xml.c_str(), pugi::parse_default) && doc.document_element();
}

bool iequal(const char* a, const char* b) {
    size_t n = std::strlen(a);
    if (n != std::strlen(b)) return false;
    for (size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string trimmed(const char* s) {
    std::string v(s);
    auto sp = [](unsigned char c) { return std::isspace(c) != 0; };
    v.erase(v.begin(), std::find_if_not(v.begin(), v.end(), sp));
    v.erase(std::find_if_not(v.rbegin(), v.rend(), sp).base(), v.end());
    return v;
}

bool skipped(pugi::xml_node n, bool skip_address) {
    std::string name = n.name();
    return name == "alias" || (skip_address && name == "address");
}

// Every attribute and (non-blank) text of `want`, recursively, is on `have`. Numbers written
// as hex or decimal (0x08 / 8) compare as numbers.
bool value_equal(const char* a, const char* b) {
    if (std::strcmp(a, b) == 0) return true;
    auto x = parse_int<unsigned long long>(a, Radix::CStyle);
    auto y = parse_int<unsigned long long>(b, Radix::CStyle);
    return x && y && *x == *y;
}

bool subset(pugi::xml_node want, pugi::xml_node have, bool skip_address) {
    for (auto a : want.attributes()) {
        auto h = have.attribute(a.name());
        if (!h || !value_equal(a.value(), h.value())) return false;
    }
    std::string text = trimmed(want.child_value());
    if (!text.empty() && text != trimmed(have.child_value())) return false;
    for (auto c : want.children()) {
        if (c.type() != pugi::node_element || skipped(c, skip_address)) continue;
        bool found = false;
        for (auto hc : have.children(c.name()))
            if (subset(c, hc, false)) {
                found = true;
                break;
            }
        if (!found) return false;
    }
    return true;
}

std::string attr(pugi::xml_node n, const char* path) {
    auto r = n.select_node(path);
    return r.attribute() ? r.attribute().value() : "";
}

// Whether `have` is the device `want` names (see find_device).
bool same_device(pugi::xml_node want, pugi::xml_node have) {
    std::string kind = want.name();
    std::string alias = attr(want, "alias/@name");
    if (!alias.empty()) return attr(have, "alias/@name") == alias;
    auto keyed = [&](const char* path) -> int { // 1 equal, 0 different, -1 no key
        std::string w = attr(want, path);
        if (w.empty()) return -1;
        return iequal(w.c_str(), attr(have, path).c_str()) ? 1 : 0;
    };
    int k = -1;
    if (kind == "interface")
        k = keyed("mac/@address");
    else if (kind == "disk")
        k = keyed("target/@dev");
    else if (kind == "filesystem")
        k = keyed("target/@dir");
    else if (kind == "controller") {
        if (attr(want, "@type") != attr(have, "@type")) return false;
        k = keyed("@index");
    } else if (kind == "hostdev" && want.child("source")) {
        return subset(want.child("source"), have.child("source"), false);
    }
    if (k >= 0) return k == 1;
    if (want.child("address")) return subset(want.child("address"), have.child("address"), false);
    return subset(want, have, true);
}

std::string describe(pugi::xml_node n) {
    std::string kind = n.name();
    std::vector<std::string> parts;
    auto add = [&](const std::string& label, const std::string& v) {
        if (!v.empty()) parts.push_back(label + v);
    };
    if (kind == "interface") {
        add("MAC ", attr(n, "mac/@address"));
        add("model ", attr(n, "model/@type"));
    } else if (kind == "disk") {
        add("target ", attr(n, "target/@dev"));
        std::string src = attr(n, "source/@file");
        if (src.empty()) src = attr(n, "source/@dev");
        if (src.empty()) src = attr(n, "source/@volume");
        add("source ", src);
        add("bus ", attr(n, "target/@bus"));
    } else if (kind == "filesystem") {
        add("target ", attr(n, "target/@dir"));
    } else {
        add("type ", attr(n, "@type"));
        add("bus ", attr(n, "@bus"));
        add("model ", attr(n, "@model"));
    }
    add("alias ", attr(n, "alias/@name"));
    std::string out = kind;
    for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? " (" : ", ") + parts[i];
    if (!parts.empty()) out += ")";
    return out;
}

pugi::xml_node find(const pugi::xml_document& dom, pugi::xml_node want) {
    for (auto have : dom.document_element().child("devices").children(want.name()))
        if (same_device(want, have)) return have;
    return {};
}

} // namespace

std::optional<DeviceRef> find_device(const std::string& domain_xml, const std::string& device_xml) {
    pugi::xml_document dom, dev;
    if (!parse(dom, domain_xml) || !parse(dev, device_xml)) return std::nullopt;
    pugi::xml_node have = find(dom, dev.document_element());
    if (!have) return std::nullopt;
    DeviceRef r;
    r.element = have.name();
    r.alias = attr(have, "alias/@name");
    r.description = describe(have);
    return r;
}

bool has_same_device(const std::string& domain_xml, const std::string& device_xml) {
    pugi::xml_document dom, dev;
    if (!parse(dom, domain_xml) || !parse(dev, device_xml)) return false;
    pugi::xml_node want = dev.document_element();
    for (auto have : dom.document_element().child("devices").children(want.name()))
        if (same_device(want, have) && subset(want, have, true)) return true;
    return false;
}

std::vector<std::string> device_aliases(const std::string& domain_xml, const std::string& element) {
    std::vector<std::string> out;
    pugi::xml_document dom;
    if (!parse(dom, domain_xml)) return out;
    for (auto d : dom.document_element().child("devices").children()) {
        if (d.type() != pugi::node_element || (!element.empty() && element != d.name())) continue;
        std::string a = attr(d, "alias/@name");
        if (!a.empty()) out.push_back(a);
    }
    return out;
}

std::string element_of(const std::string& device_xml) {
    pugi::xml_document dev;
    return parse(dev, device_xml) ? dev.document_element().name() : "";
}

std::string describe_device(const std::string& device_xml) {
    pugi::xml_document dev;
    if (!parse(dev, device_xml)) return "device";
    return describe(dev.document_element());
}

} // namespace virtumancer::devmatch
