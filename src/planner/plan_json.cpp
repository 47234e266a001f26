// Plan <-> JSON: the stable, versioned machine format of `plan --json` and `plan --out`.
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

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

// The one table of op names (Op order): plans, tasks and audit entries use these.
constexpr const char* kOpNames[] = {
    "vm.define",        "vm.start",
    "vm.shutdown",      "vm.destroy",
    "vm.undefine",      "vm.attach_device",
    "vm.detach_device", "vm.update_device",
    "vm.set_vcpus",     "vm.set_memory",
    "vm.rename",        "vm.autostart",
    "vm.suspend",       "vm.resume",
    "pool.define",      "pool.start",
    "pool.autostart",   "pool.undefine",
    "volume.create",    "volume.resize",
    "volume.delete",    "network.define",
    "network.start",    "network.autostart",
    "network.update",   "network.undefine",
    "snapshot.create",  "snapshot.set_description",
    "snapshot.delete",  "volume.cloud_init_seed",
};
static_assert(std::size(kOpNames) == std::variant_size_v<StepPayload>, "one name per Op");

json passwords_json(const std::vector<GraphicsPassword>& pw) {
    json out = json::array();
    for (const auto& g : pw) {
        json one = {{"index", g.index}};
        if (!g.file.empty())
            one["file"] = g.file;
        else
            one["env"] = g.env;
        out.push_back(one);
    }
    return out;
}

// Each payload's arguments (its XML travels beside them, as the step's "xml").
struct ArgsJson {
    json operator()(const VmDefine& v) const { return with_passwords(json::object(), v.passwords); }
    json operator()(const VmStart&) const { return json::object(); }
    json operator()(const VmShutdown& v) const {
        return {{"timeout", v.timeout}, {"force", v.force}};
    }
    json operator()(const VmDestroy&) const { return json::object(); }
    json operator()(const VmUndefine& v) const {
        return {{"keep_nvram", v.keep_nvram}, {"keep_tpm", v.keep_tpm}};
    }
    json operator()(const VmAttachDevice& v) const {
        return with_passwords({{"live", v.live}, {"config", v.config}}, v.passwords);
    }
    json operator()(const VmDetachDevice& v) const {
        return {{"live", v.live}, {"config", v.config}};
    }
    json operator()(const VmUpdateDevice& v) const {
        return with_passwords({{"live", v.live}, {"config", v.config}}, v.passwords);
    }
    json operator()(const VmSetVcpus& v) const {
        return {{"count", v.count}, {"live", v.live}, {"config", v.config}};
    }
    json operator()(const VmSetMemory& v) const {
        return {{"kib", v.kib}, {"live", v.live}, {"config", v.config}};
    }
    json operator()(const VmRename& v) const { return {{"new_name", v.new_name}}; }
    json operator()(const VmAutostart& v) const { return {{"autostart", v.autostart}}; }
    json operator()(const VmSuspend&) const { return json::object(); }
    json operator()(const VmResume&) const { return json::object(); }
    json operator()(const PoolDefine& v) const {
        return {{"build", v.build}, {"start", v.start}, {"autostart", v.autostart}};
    }
    json operator()(const PoolStart&) const { return json::object(); }
    json operator()(const PoolAutostart& v) const { return {{"autostart", v.autostart}}; }
    json operator()(const PoolUndefine&) const { return json::object(); }
    json operator()(const VolumeCreate& v) const {
        if (v.source.empty()) return {{"pool", v.pool}};
        return {{"pool", v.pool},     {"source", v.source}, {"checksum", v.checksum},
                {"volume", v.volume}, {"format", v.format}, {"capacity", v.capacity}};
    }
    json operator()(const VolumeResize& v) const {
        return {{"pool", v.pool}, {"volume", v.volume}, {"bytes", v.bytes}};
    }
    json operator()(const VolumeDelete& v) const {
        return {{"pool", v.pool}, {"volume", v.volume}};
    }
    json operator()(const NetworkDefine& v) const {
        return {{"start", v.start}, {"autostart", v.autostart}};
    }
    json operator()(const NetworkStart&) const { return json::object(); }
    json operator()(const NetworkAutostart& v) const { return {{"autostart", v.autostart}}; }
    json operator()(const NetworkUpdate& v) const {
        return {{"section", v.section},
                {"command", v.command},
                {"parent_index", v.parent_index},
                {"live", v.live},
                {"config", v.config}};
    }
    json operator()(const NetworkUndefine&) const { return json::object(); }
    json operator()(const SnapshotCreate& v) const {
        return {{"domain", v.domain}, {"memory", v.memory}};
    }
    json operator()(const SnapshotSetDescription& v) const {
        return {{"domain", v.domain}, {"snapshot", v.snapshot}, {"description", v.description}};
    }
    json operator()(const SnapshotDelete& v) const {
        return {{"domain", v.domain}, {"snapshot", v.snapshot}};
    }

    // The references of user_data_file / user_data_env, never their content.
    json operator()(const VolumeCloudInitSeed& v) const {
        json j = {{"pool", v.pool},           {"volume", v.volume}, {"vm", v.vm},
                  {"meta_data", v.meta_data}, {"hash", v.hash},     {"exists", v.exists}};
        if (!v.user_data_file.empty())
            j["user_data_file"] = v.user_data_file;
        else if (!v.user_data_env.empty())
            j["user_data_env"] = v.user_data_env;
        else
            j["user_data"] = v.user_data;
        if (v.has_network_config) j["network_config"] = v.network_config;
        return j;
    }

    static json with_passwords(json args, const std::vector<GraphicsPassword>& pw) {
        if (!pw.empty()) args["passwords"] = passwords_json(pw);
        return args;
    }
};

struct XmlOf {
    const std::string& operator()(const VmDefine& v) const { return v.xml; }
    const std::string& operator()(const VmAttachDevice& v) const { return v.xml; }
    const std::string& operator()(const VmDetachDevice& v) const { return v.xml; }
    const std::string& operator()(const VmUpdateDevice& v) const { return v.xml; }
    const std::string& operator()(const PoolDefine& v) const { return v.xml; }
    const std::string& operator()(const VolumeCreate& v) const { return v.xml; }
    const std::string& operator()(const NetworkDefine& v) const { return v.xml; }
    const std::string& operator()(const NetworkUpdate& v) const { return v.xml; }
    const std::string& operator()(const SnapshotCreate& v) const { return v.xml; }
    template <class T> const std::string& operator()(const T&) const {
        static const std::string none;
        return none;
    }
};

} // namespace

const char* op_name(Op op) {
    auto i = static_cast<size_t>(op);
    return i < std::size(kOpNames) ? kOpNames[i] : "?";
}

std::optional<Op> op_from_name(const std::string& name) {
    for (size_t i = 0; i < std::size(kOpNames); ++i)
        if (name == kOpNames[i]) return static_cast<Op>(i);
    return std::nullopt;
}

const std::string& Step::xml() const {
    return std::visit(XmlOf{}, payload);
}

nlohmann::json step_args_json(const StepPayload& p) {
    return std::visit(ArgsJson{}, p);
}

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
                         {"op", op_name(s.op())},
                         {"host", s.host},
                         {"kind", s.kind},
                         {"name", s.name},
                         {"xml", s.xml()},
                         {"args", step_args_json(s.payload)},
                         {"deps", s.deps},
                         {"change", s.change},
                         {"fields", s.fields}});
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
                {"options",
                 {{"prune", p.options.prune},
                  {"targets", p.options.targets},
                  {"restart_pending", p.options.restart_pending}}},
                {"summary", counts},
                {"changes", changes},
                {"steps", steps},
                {"pending", pending},
                {"blocked", blocked},
                {"unmanaged", p.unmanaged},
                {"errors", errors},
                {"fingerprints", p.fingerprints}};
    if (p.speculative) doc["speculative"] = true; // absent: a plan apply --plan may execute
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

bool flag(const json& args, const char* key) {
    return args.at(key).get<bool>();
}

std::string text(const json& args, const char* key) {
    return args.at(key).get<std::string>();
}

std::vector<GraphicsPassword> passwords_from(const json& args, const std::string& where) {
    std::vector<GraphicsPassword> out;
    for (const auto& g : args.value("passwords", json::array())) {
        GraphicsPassword pw;
        pw.index = int_member(g, "index", where + "passwords[" + std::to_string(out.size()) + "].");
        pw.file = g.value("file", "");
        pw.env = g.value("env", "");
        if (pw.file.empty() == pw.env.empty())
            throw Error("saved plan: `" + where + "passwords[" + std::to_string(out.size()) +
                            "]` needs exactly one of `file` and `env`",
                        "create it again with `virtumancer plan --out FILE`");
        out.push_back(std::move(pw));
    }
    return out;
}

// A step's payload from its op, arguments and XML (`where`: "steps[i].args.").
StepPayload payload_from(Op op, const json& a, const std::string& xml, const std::string& where) {
    constexpr long long kMax = std::numeric_limits<long long>::max();
    auto ull = [&](const char* k) {
        return static_cast<unsigned long long>(int_in_range(a.at(k), where + k, 0, kMax));
    };
    switch (op) {
    case Op::VmDefine:
        return VmDefine{xml, passwords_from(a, where)};
    case Op::VmStart:
        return VmStart{};
    case Op::VmShutdown:
        return VmShutdown{int_in_range(a.at("timeout"), where + "timeout", 0, kMax),
                          flag(a, "force")};
    case Op::VmDestroy:
        return VmDestroy{};
    case Op::VmUndefine:
        return VmUndefine{flag(a, "keep_nvram"), flag(a, "keep_tpm")};
    case Op::VmAttachDevice:
        return VmAttachDevice{xml, flag(a, "live"), flag(a, "config"), passwords_from(a, where)};
    case Op::VmDetachDevice:
        return VmDetachDevice{xml, flag(a, "live"), flag(a, "config")};
    case Op::VmUpdateDevice:
        return VmUpdateDevice{xml, flag(a, "live"), flag(a, "config"), passwords_from(a, where)};
    case Op::VmSetVcpus:
        return VmSetVcpus{int_member(a, "count", where), flag(a, "live"), flag(a, "config")};
    case Op::VmSetMemory:
        return VmSetMemory{ull("kib"), flag(a, "live"), flag(a, "config")};
    case Op::VmRename:
        return VmRename{text(a, "new_name")};
    case Op::VmAutostart:
        return VmAutostart{flag(a, "autostart")};
    case Op::VmSuspend:
        return VmSuspend{};
    case Op::VmResume:
        return VmResume{};
    case Op::PoolDefine:
        return PoolDefine{xml, flag(a, "build"), flag(a, "start"), flag(a, "autostart")};
    case Op::PoolStart:
        return PoolStart{};
    case Op::PoolAutostart:
        return PoolAutostart{flag(a, "autostart")};
    case Op::PoolUndefine:
        return PoolUndefine{};
    case Op::VolumeCreate:
        if (a.contains("source"))
            return VolumeCreate{text(a, "pool"),   xml,
                                text(a, "source"), text(a, "checksum"),
                                text(a, "volume"), text(a, "format"),
                                ull("capacity")};
        return VolumeCreate{text(a, "pool"), xml};
    case Op::VolumeResize:
        return VolumeResize{text(a, "pool"), text(a, "volume"), ull("bytes")};
    case Op::VolumeDelete:
        return VolumeDelete{text(a, "pool"), text(a, "volume")};
    case Op::NetworkDefine:
        return NetworkDefine{xml, flag(a, "start"), flag(a, "autostart")};
    case Op::NetworkStart:
        return NetworkStart{};
    case Op::NetworkAutostart:
        return NetworkAutostart{flag(a, "autostart")};
    case Op::NetworkUpdate:
        return NetworkUpdate{
            text(a, "section"),
            text(a, "command"),
            static_cast<int>(int_in_range(a.at("parent_index"), where + "parent_index", -1,
                                          std::numeric_limits<int>::max())),
            xml,
            flag(a, "live"),
            flag(a, "config")};
    case Op::NetworkUndefine:
        return NetworkUndefine{};
    case Op::SnapshotCreate:
        return SnapshotCreate{text(a, "domain"), xml, flag(a, "memory")};
    case Op::SnapshotSetDescription:
        return SnapshotSetDescription{text(a, "domain"), text(a, "snapshot"),
                                      text(a, "description")};
    case Op::SnapshotDelete:
        return SnapshotDelete{text(a, "domain"), text(a, "snapshot")};
    case Op::VolumeCloudInitSeed: {
        VolumeCloudInitSeed v;
        v.pool = text(a, "pool");
        v.volume = text(a, "volume");
        v.vm = text(a, "vm");
        v.user_data = a.value("user_data", "");
        v.user_data_file = a.value("user_data_file", "");
        v.user_data_env = a.value("user_data_env", "");
        v.meta_data = text(a, "meta_data");
        v.has_network_config = a.contains("network_config");
        v.network_config = a.value("network_config", "");
        v.hash = text(a, "hash");
        v.exists = flag(a, "exists");
        return v;
    }
    }
    throw Error("saved plan: `" + where + "` belongs to an unknown operation",
                "create it again with `virtumancer plan --out FILE`");
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
        if (p.format_version != kPlanFormatVersion)
            throw Error("saved plan has format version " + std::to_string(p.format_version) +
                            " (made by " +
                            (p.format_version < kPlanFormatVersion ? "an older" : "a newer") +
                            " virtumancer); this virtumancer reads only version " +
                            std::to_string(kPlanFormatVersion),
                        "make the plan again with this virtumancer (virtumancer plan --out "
                        "FILE), review it, and apply that");
        const json& o = doc.at("options");
        p.options.prune = o.at("prune").get<bool>();
        p.options.targets = o.at("targets").get<std::vector<std::string>>();
        p.options.restart_pending = o.at("restart_pending").get<bool>();
        if (doc.contains("revision_id"))
            p.revision_id = int_in_range(doc.at("revision_id"), "revision_id", 0,
                                         std::numeric_limits<long long>::max());
        if (doc.contains("speculative")) p.speculative = doc.at("speculative").get<bool>();
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
            std::string op = s.at("op");
            std::optional<Op> known = op_from_name(op);
            if (!known)
                throw Error("saved plan: `" + where + "op` is an unknown operation '" + op + "'",
                            "make the plan again with this virtumancer (virtumancer plan --out "
                            "FILE)");
            st.host = s.at("host");
            st.kind = s.at("kind");
            st.name = s.at("name");
            st.payload = payload_from(*known, s.at("args"), s.at("xml"), where + "args.");
            for (const auto& d : s.at("deps"))
                st.deps.push_back(static_cast<int>(
                    int_in_range(d, where + "deps[" + std::to_string(st.deps.size()) + "]", 0,
                                 std::numeric_limits<int>::max())));
            st.change = s.at("change");
            st.fields = s.value("fields", std::vector<std::string>{});
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
