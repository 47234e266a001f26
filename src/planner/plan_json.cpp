// Plan <-> JSON: the stable, versioned machine format of `plan --json` and `plan --out`.
#include <limits>
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
        changes.push_back({{"address", c.address()},
                           {"host", c.host},
                           {"kind", c.kind},
                           {"name", c.name},
                           {"action", action_name(c.action)},
                           {"class", change_class_name(c.cls)},
                           {"note", c.note},
                           {"diffs", diffs_json(c.diffs)}});
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
        blocked.push_back({{"address", bl.address()},
                           {"host", bl.host},
                           {"kind", bl.kind},
                           {"name", bl.name},
                           {"op", bl.op},
                           {"reason", bl.reason},
                           {"users", bl.users},
                           {"diffs", diffs_json(bl.diffs)},
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
    return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

namespace {

// An integer member of a saved plan, range-checked: a float (1e300, or an integer beyond 64
// bits, which the JSON parser reads as a float) or a value outside [lo, hi] is an error that
// names the member, never a silent conversion.
long long int_in_range(const json& v, const std::string& where, long long lo, long long hi) {
    bool ok = false;
    long long n = 0;
    if (v.is_number_unsigned()) {
        auto u = v.get<unsigned long long>();
        ok = u <= static_cast<unsigned long long>(hi);
        n = ok ? static_cast<long long>(u) : 0;
    } else if (v.is_number_integer()) {
        n = v.get<long long>();
        ok = n >= lo && n <= hi;
    }
    if (!ok)
        throw Error("saved plan: `" + where + "` is " +
                        (v.is_number() ? "out of range: " : "not an integer: ") +
                        v.dump(-1, ' ', false, json::error_handler_t::replace) +
                        " (an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                        " is expected)",
                    "create it again with `virtumancer plan --out FILE`");
    return n;
}

int int_member(const json& obj, const char* key, const std::string& where) {
    return static_cast<int>(
        int_in_range(obj.at(key), where + key, 0, std::numeric_limits<int>::max()));
}

} // namespace

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
        p.format_version = int_member(doc, "format_version", "");
        if (p.format_version != 1)
            throw Error("saved plan has format version " + std::to_string(p.format_version) +
                            "; this virtumancer reads version 1",
                        "create the plan with this version of virtumancer");
        if (doc.contains("revision_id"))
            p.revision_id = int_in_range(doc.at("revision_id"), "revision_id", 0,
                                         std::numeric_limits<long long>::max());
        for (const auto& c : doc.at("changes")) {
            ResourceChange rc;
            rc.host = c.at("host");
            rc.kind = c.at("kind");
            rc.name = c.at("name");
            rc.action = action_from(c.at("action"));
            rc.cls = class_from(c.at("class"));
            rc.note = c.value("note", "");
            rc.diffs = diffs_from(c.at("diffs"));
            p.changes.push_back(rc);
        }
        for (const auto& s : doc.at("steps")) {
            Step st;
            std::string where = "steps[" + std::to_string(p.steps.size()) + "].";
            st.id = int_member(s, "id", where);
            st.op = s.at("op");
            st.host = s.at("host");
            st.kind = s.at("kind");
            st.name = s.at("name");
            st.xml = s.at("xml");
            st.args = s.at("args").get<std::map<std::string, std::string>>();
            for (const auto& d : s.at("deps"))
                st.deps.push_back(static_cast<int>(
                    int_in_range(d, where + "deps[" + std::to_string(st.deps.size()) + "]", 0,
                                 std::numeric_limits<int>::max())));
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
            bl.diffs = diffs_from(b.value("diffs", json::array()));
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
