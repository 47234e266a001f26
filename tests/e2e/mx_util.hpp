// Helpers of the planner e2e tests (plan_matrix, drift, specs_apply): the real binary with
// stdout apart from stderr, XPath probes of libvirt XML, plan/drift JSON lookups.
// Objects these tests create are named vmr-e2e-mx-*.
#pragma once
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "apply_e2e_util.hpp"

namespace mx_e2e {

using apply_e2e::quote;
using apply_e2e::sh;
using apply_e2e::virsh;

inline const std::string kPrefix = "vmr-e2e-mx-";
inline const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-mx-pool";

struct CliRun {
    int code = -1;
    std::string out, err;
};

// The binary with a database; stdout and stderr kept apart (JSON on stdout stays parseable).
inline CliRun vm(const std::string& db, const std::string& args) {
    char tmpl[] = "/tmp/vmr-e2e-mx-err-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    // sh() appends 2>&1 to the command: the subshell keeps our own redirection of stderr.
    apply_e2e::Result r = sh("(" + std::string(VIRTUMANCER_BINARY) + " --db " + quote(db) + " " +
                             args + " </dev/null 2>" + tmpl + ")");
    CliRun out;
    out.code = r.code;
    out.out = r.out;
    out.err = sh(std::string("cat ") + tmpl).out;
    std::remove(tmpl);
    return out;
}

// Every vmr-e2e-mx-* domain, pool (and its volumes) and network, and the pool directory.
inline void cleanup_all() {
    apply_e2e::cleanup(kPrefix);
    sh("rm -rf " + kPoolDir);
}

// The value at an XPath: an attribute's value, an element's text, "present" for an empty
// element, "" when nothing matches.
inline std::string xpath(const std::string& xml, const std::string& path) {
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str())) return "(unparseable)";
    pugi::xpath_node n;
    try {
        n = doc.select_node(path.c_str());
    } catch (const pugi::xpath_exception& e) {
        return std::string("(bad xpath: ") + e.what() + ")";
    }
    if (n.attribute()) return n.attribute().value();
    if (!n.node()) return "";
    std::string t = n.node().text().get();
    return t.empty() ? "present" : t;
}

inline std::string live_xml(const std::string& dom) {
    return virsh("dumpxml " + dom);
}
inline std::string inactive_xml(const std::string& dom) {
    return virsh("dumpxml --inactive " + dom);
}
inline std::string domid(const std::string& dom) {
    return sh("(virsh -c qemu:///system domid " + dom + " 2>/dev/null)").out;
}

// The change of one object in `plan --json` output (null when absent).
inline nlohmann::json plan_change(const nlohmann::json& plan, const std::string& kind,
                                  const std::string& name) {
    for (const auto& c : plan.value("changes", nlohmann::json::array()))
        if (c.value("kind", "") == kind && c.value("name", "") == name) return c;
    return nullptr;
}

inline nlohmann::json diff_of(const nlohmann::json& change, const std::string& field) {
    if (change.is_null()) return nullptr;
    for (const auto& d : change.value("diffs", nlohmann::json::array()))
        if (d.value("field", "") == field) return d;
    return nullptr;
}

inline nlohmann::json parse_json(const std::string& text) {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

} // namespace mx_e2e
