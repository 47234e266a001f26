// What tasks and audit entries say about a step: op, object, XML summary, arguments and the
// planned before/after of the fields it changes. Secrets never appear.
#include <algorithm>
#include <cctype>
#include <pugixml.hpp>

#include "applier_internal.hpp"

#include "virtumancer/xml_string.hpp"

namespace virtumancer {

bool is_secret_name(const std::string& name) {
    std::string l = name;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    return l.find("passwd") != std::string::npos || l.find("password") != std::string::npos ||
           l.find("secret") != std::string::npos;
}

namespace {
void redact_node(pugi::xml_node n) {
    for (auto a : n.attributes())
        if (is_secret_name(a.name())) a.set_value("(redacted)");
    for (auto c : n.children()) redact_node(c);
}
} // namespace

std::string redact_xml(const std::string& xml) {
    if (xml.empty()) return xml;
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str()))
        return "(unparsable XML, " + std::to_string(xml.size()) + " bytes)";
    redact_node(doc);
    return xml_document_string(doc);
}

namespace applier_detail {
namespace {

using nlohmann::json;

json redacted_args(const Step& s) {
    json a = step_args_json(s.payload);
    for (auto& [k, v] : a.items())
        if (is_secret_name(k)) v = "(redacted)";
    return a;
}

json diffs_json(const std::vector<FieldDiff>& diffs) {
    json out = json::array();
    for (const auto& d : diffs) {
        bool secret = is_secret_name(d.field);
        out.push_back({{"field", d.field},
                       {"before", secret && !d.before.empty() ? "(redacted)" : d.before},
                       {"after", secret && !d.after.empty() ? "(redacted)" : d.after},
                       {"class", change_class_name(d.cls)}});
    }
    return out;
}

} // namespace

std::vector<FieldDiff> step_diffs(const Plan& plan, const Step& s) {
    const ResourceChange* rc = nullptr;
    for (const auto& c : plan.changes)
        if (c.address() == s.change) rc = &c;
    if (!rc) return {};
    std::vector<FieldDiff> out;
    for (const auto& d : rc->diffs)
        if (std::find(s.fields.begin(), s.fields.end(), d.field) != s.fields.end())
            out.push_back(d);
    // A step that names none of them (made by hand, not by the planner): all of it.
    if (out.empty()) out = rc->diffs;
    return out;
}

json task_details(const Step& s, const std::vector<FieldDiff>& diffs) {
    json j = {{"step", s.id},
              {"op", op_name(s.op())},
              {"host", s.host},
              {"kind", s.kind},
              {"name", s.name},
              {"object", s.change},
              {"args", redacted_args(s)},
              {"deps", s.deps},
              {"planned", diffs_json(diffs)}};
    if (!s.xml().empty()) {
        std::string x = redact_xml(s.xml());
        j["xml_bytes"] = s.xml().size();
        j["xml"] = x.size() > 600 ? x.substr(0, 600) + "..." : x;
    }
    return j;
}

json audit_details(const Step& s, const std::vector<FieldDiff>& diffs, const std::string& run_id) {
    json changes = json::array();
    for (const auto& d : diffs_json(diffs))
        changes.push_back({{"field", d["field"]}, {"before", d["before"]}, {"after", d["after"]}});
    return {{"run_id", run_id}, {"host", s.host},           {"object", s.change},
            {"step", s.id},     {"args", redacted_args(s)}, {"changes", changes}};
}

} // namespace applier_detail
} // namespace virtumancer
