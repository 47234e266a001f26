// Plan <-> JSON: the stable, versioned machine format of `plan --json` and `plan --out`.
#include <nlohmann/json.hpp>

#include "virtumancer/planner.hpp"

namespace virtumancer {
namespace {

using nlohmann::json;

ChangeClass class_from(const std::string& s) {
    if (s == "live") return ChangeClass::Live;
    if (s == "next-boot") return ChangeClass::NextBoot;
    if (s == "restart") return ChangeClass::Restart;
    return ChangeClass::Replace;
}

Action action_from(const std::string& s) {
    if (s == "create") return Action::Create;
    if (s == "update") return Action::Update;
    if (s == "replace") return Action::Replace;
    if (s == "delete") return Action::Delete;
    return Action::NoOp;
}

json diffs_json(const std::vector<FieldDiff>& ds) {
    json diffs = json::array();
    for (const auto& d : ds)
        diffs.push_back({{"field", d.field},
                         {"before", d.before},
                         {"after", d.after},
                         {"class", change_class_name(d.cls)}});
    return diffs;
}

std::vector<FieldDiff> diffs_from(const json& arr) {
    std::vector<FieldDiff> out;
    for (const auto& d : arr)
        out.push_back({d.at("field"), d.at("before"), d.at("after"), class_from(d.at("class"))});
    return out;
}

} // namespace

std::string plan_to_json(const Plan& p) {
    json changes = json::array();
    for (const auto& c : p.changes) {
        json diffs = json::array();
        for (const auto& d : c.diffs)
            diffs.push_back({{"field", d.field},
                             {"before", d.before},
                             {"after", d.after},
                             {"class", change_class_name(d.cls)}});
        changes.push_back({{"address", c.address()},
                           {"host", c.host},
                           {"kind", c.kind},
                           {"name", c.name},
                           {"action", action_name(c.action)},
                           {"class", change_class_name(c.cls)},
                           {"note", c.note},
                           {"diffs", diffs}});
    }
    json steps = json::array();
    for (const auto& s : p.steps)
        steps.push_back({{"id", s.id},
                         {"op", s.op},
                         {"host", s.host},
                         {"kind", s.kind},
                         {"name", s.name},
                         {"xml", s.xml},
                         {"args", s.args},
                         {"deps", s.deps},
                         {"change", s.change}});
    json errors = json::array();
    for (const auto& e : p.errors)
        errors.push_back({{"severity", severity_name(e.severity)},
                          {"object", e.file},
                          {"line", e.line},
                          {"message", e.message}});
    // Running VMs whose config holds (or will hold) a change they do not run yet.
    json pending = json::array();
    for (const auto& c : p.pending)
        pending.push_back({{"address", c.address()},
                           {"host", c.host},
                           {"kind", c.kind},
                           {"name", c.name},
                           {"effect", c.effect},
                           {"diffs", diffs_json(c.diffs)},
                           {"after_apply", diffs_json(c.after_apply)}});
    json blocked = json::array();
    for (const auto& bl : p.blocked) {
        json diffs = json::array();
        for (const auto& d : bl.diffs)
            diffs.push_back({{"field", d.field},
                             {"before", d.before},
                             {"after", d.after},
                             {"class", change_class_name(d.cls)}});
        blocked.push_back({{"address", bl.address()},
                           {"host", bl.host},
                           {"kind", bl.kind},
                           {"name", bl.name},
                           {"op", bl.op},
                           {"reason", bl.reason},
                           {"users", bl.users},
                           {"diffs", diffs},
                           {"file", bl.file},
                           {"line", bl.line}});
    }
    std::map<std::string, int> counts;
    for (const auto& c : p.changes) counts[action_name(c.action)]++;
    int pending_now = 0;
    for (const auto& c : p.pending) pending_now += !c.diffs.empty();
    if (pending_now) counts["pending"] = pending_now;
    json doc = {{"format_version", p.format_version},
                {"revision_id", p.revision_id},
                {"summary", counts},
                {"changes", changes},
                {"steps", steps},
                {"pending", pending},
                {"blocked", blocked},
                {"unmanaged", p.unmanaged},
                {"errors", errors},
                {"fingerprints", p.fingerprints}};
    return doc.dump(2);
}

Plan plan_from_json(const std::string& text) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const std::exception& e) {
        throw Error(std::string("saved plan is not valid JSON: ") + e.what(),
                    "create it again with `virtumancer plan --out FILE`");
    }
    Plan p;
    try {
        p.format_version = doc.at("format_version").get<int>();
        if (p.format_version != 1)
            throw Error("saved plan has format version " + std::to_string(p.format_version) +
                            "; this virtumancer reads version 1",
                        "create the plan with this version of virtumancer");
        p.revision_id = doc.value("revision_id", 0LL);
        for (const auto& c : doc.at("changes")) {
            ResourceChange rc;
            rc.host = c.at("host");
            rc.kind = c.at("kind");
            rc.name = c.at("name");
            rc.action = action_from(c.at("action"));
            rc.cls = class_from(c.at("class"));
            rc.note = c.value("note", "");
            for (const auto& d : c.at("diffs"))
                rc.diffs.push_back(
                    {d.at("field"), d.at("before"), d.at("after"), class_from(d.at("class"))});
            p.changes.push_back(rc);
        }
        for (const auto& s : doc.at("steps")) {
            Step st;
            st.id = s.at("id");
            st.op = s.at("op");
            st.host = s.at("host");
            st.kind = s.at("kind");
            st.name = s.at("name");
            st.xml = s.at("xml");
            st.args = s.at("args").get<std::map<std::string, std::string>>();
            st.deps = s.at("deps").get<std::vector<int>>();
            st.change = s.at("change");
            p.steps.push_back(st);
        }
        if (doc.contains("pending"))
            for (const auto& c : doc.at("pending")) {
                PendingChange pc;
                pc.host = c.at("host");
                pc.kind = c.at("kind");
                pc.name = c.at("name");
                pc.effect = c.value("effect", "");
                pc.diffs = diffs_from(c.at("diffs"));
                pc.after_apply = diffs_from(c.value("after_apply", json::array()));
                p.pending.push_back(pc);
            }
        for (const auto& b : doc.value("blocked", json::array())) {
            Blocked bl;
            bl.host = b.at("host");
            bl.kind = b.at("kind");
            bl.name = b.at("name");
            bl.op = b.value("op", "");
            bl.reason = b.at("reason");
            bl.users = b.value("users", std::vector<std::string>{});
            for (const auto& d : b.value("diffs", json::array()))
                bl.diffs.push_back(
                    {d.at("field"), d.at("before"), d.at("after"), class_from(d.at("class"))});
            bl.file = b.value("file", "");
            bl.line = b.value("line", 0);
            p.blocked.push_back(bl);
        }
        for (const auto& e : doc.value("errors", json::array())) {
            Diagnostic dg;
            std::string sev = e.value("severity", "error");
            dg.severity = sev == "warning" ? Severity::Warning
                          : sev == "note"  ? Severity::Note
                                           : Severity::Error;
            dg.file = e.value("object", "");
            dg.line = e.value("line", 0);
            dg.message = e.value("message", "");
            p.errors.push_back(dg);
        }
        p.unmanaged = doc.value("unmanaged", std::vector<std::string>{});
        p.fingerprints = doc.at("fingerprints").get<std::map<std::string, std::string>>();
    } catch (const json::exception& e) {
        throw Error(std::string("saved plan is malformed: ") + e.what(),
                    "create it again with `virtumancer plan --out FILE`");
    }
    return p;
}

} // namespace virtumancer
