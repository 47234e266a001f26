// Access control, the pure part: see access.hpp.
#include "virtumancer/access.hpp"

#include <algorithm>
#include <map>

namespace virtumancer::access {

namespace {

const char* kind_of(Op op) {
    switch (op) {
    case Op::VmDefine:
    case Op::VmStart:
    case Op::VmShutdown:
    case Op::VmDestroy:
    case Op::VmUndefine:
    case Op::VmAttachDevice:
    case Op::VmDetachDevice:
    case Op::VmUpdateDevice:
    case Op::VmSetVcpus:
    case Op::VmSetMemory:
    case Op::VmRename:
    case Op::VmAutostart:
    case Op::VmSuspend:
    case Op::VmResume:
    case Op::VolumeCloudInitSeed: // the seed is part of its VM (regenerated, never user data)
        return "vm";
    case Op::PoolDefine:
    case Op::PoolStart:
    case Op::PoolAutostart:
    case Op::PoolUndefine:
        return "pool";
    case Op::VolumeCreate:
    case Op::VolumeResize:
    case Op::VolumeDelete:
        return "volume";
    case Op::NetworkDefine:
    case Op::NetworkStart:
    case Op::NetworkAutostart:
    case Op::NetworkUpdate:
    case Op::NetworkUndefine:
        return "network";
    case Op::SnapshotCreate:
    case Op::SnapshotSetDescription:
    case Op::SnapshotDelete:
        return "snapshot";
    }
    return "unknown";
}

// The verb of a step outside a delete or a restart.
const char* verb_of(Op op, Action a) {
    switch (op) {
    case Op::VmDefine:
    case Op::PoolDefine:
    case Op::NetworkDefine:
    case Op::VolumeCloudInitSeed:
        return a == Action::Create ? "create" : "update";
    case Op::VmStart:
    case Op::VmResume:
    case Op::PoolStart:
    case Op::NetworkStart:
        return "start";
    case Op::VmShutdown:
    case Op::VmDestroy:
    case Op::VmSuspend:
        return "stop";
    case Op::VmUndefine:
    case Op::PoolUndefine:
    case Op::VolumeDelete:
    case Op::NetworkUndefine:
    case Op::SnapshotDelete:
        return "delete";
    case Op::VmAttachDevice:
    case Op::VmDetachDevice:
    case Op::VmUpdateDevice:
    case Op::VmSetVcpus:
    case Op::VmSetMemory:
    case Op::VmAutostart:
    case Op::PoolAutostart:
    case Op::NetworkAutostart:
    case Op::NetworkUpdate:
    case Op::SnapshotSetDescription:
        return "update";
    case Op::VmRename:
        return "rename";
    case Op::VolumeCreate:
    case Op::SnapshotCreate:
        return "create";
    case Op::VolumeResize:
        return "resize";
    }
    return "unknown";
}

bool is_power(Op op) {
    return op == Op::VmStart || op == Op::VmResume || op == Op::VmShutdown || op == Op::VmDestroy ||
           op == Op::VmSuspend;
}

const char* verb_text(const std::string& verb) {
    static const std::map<std::string, const char*> t = {
        {"create", "create"}, {"update", "change"}, {"delete", "delete"},
        {"start", "start"},   {"stop", "stop"},     {"restart", "restart (stop, then start)"},
        {"rename", "rename"}, {"resize", "grow"},
    };
    auto it = t.find(verb);
    return it == t.end() ? "act on" : it->second;
}

} // namespace

std::string step_permission(Op op, Action change_action, bool restart) {
    std::string kind = kind_of(op);
    if (change_action == Action::Delete) return kind + ".delete";
    if (restart && kind == "vm" && is_power(op)) return "vm.restart";
    return kind + "." + verb_of(op, change_action);
}

const std::vector<Permission>& all_permissions() {
    static const std::vector<Permission> all = [] {
        // permission -> the ops that need it
        std::map<std::string, std::set<std::string>> ops;
        for (int i = 0; i <= static_cast<int>(Op::SnapshotDelete); ++i) {
            Op op = static_cast<Op>(i);
            for (Action a : {Action::Create, Action::Update, Action::Replace, Action::Delete})
                for (bool restart : {false, true})
                    ops[step_permission(op, a, restart)].insert(op_name(op));
        }
        std::vector<Permission> out;
        for (const auto& [name, names] : ops) {
            auto dot = name.find('.');
            std::string kind = name.substr(0, dot), verb = name.substr(dot + 1);
            std::string steps;
            for (const auto& n : names) steps += (steps.empty() ? "" : ", ") + n;
            out.push_back({name, std::string(verb_text(verb)) + " " + kind +
                                     "s (plan steps: " + steps + ")"});
        }
        out.push_back({kSpecLoad, "change the desired state: load specs (also plan/apply/drift "
                                  "given spec paths)"});
        out.push_back({kDbAdmin, "administer the database: db migrate, db copy"});
        out.push_back({kRbacAdmin, "manage users and roles (user add/remove, role "
                                   "create/grant/revoke/delete, rbac setup-db)"});
        std::sort(out.begin(), out.end(),
                  [](const Permission& a, const Permission& b) { return a.name < b.name; });
        return out;
    }();
    return all;
}

bool is_permission(const std::string& name) {
    for (const auto& p : all_permissions())
        if (p.name == name) return true;
    return false;
}

const std::vector<std::string>& builtin_role_names() {
    static const std::vector<std::string> n = {"admin", "operator", "viewer"};
    return n;
}

std::optional<std::set<std::string>> builtin_role(const std::string& role) {
    if (role == "admin") {
        std::set<std::string> all;
        for (const auto& p : all_permissions()) all.insert(p.name);
        return all;
    }
    if (role == "operator") {
        // Start, stop, restart, update, snapshots, load: no create, no delete, no rename,
        // no administration.
        std::set<std::string> out;
        for (const auto& p : all_permissions()) {
            const std::string& n = p.name;
            auto verb = n.substr(n.find('.') + 1);
            auto kind = n.substr(0, n.find('.'));
            if (verb == "start" || verb == "stop" || verb == "restart" || verb == "update" ||
                verb == "resize" || (kind == "snapshot" && verb == "create"))
                out.insert(n);
        }
        out.insert(kSpecLoad);
        return out;
    }
    if (role == "viewer") return std::set<std::string>{};
    return std::nullopt;
}

std::vector<StepDecision> step_permissions(const Plan& plan) {
    std::map<std::string, Action> action; // change address -> action
    for (const auto& c : plan.changes) action[c.address()] = c.action;
    // A change that both stops and starts its VM is a restart.
    std::map<std::string, std::pair<bool, bool>> power; // change -> (stops, starts)
    for (const auto& s : plan.steps) {
        Op op = s.op();
        if (op == Op::VmShutdown || op == Op::VmDestroy) power[s.change].first = true;
        if (op == Op::VmStart) power[s.change].second = true;
    }
    std::vector<StepDecision> out;
    for (const auto& s : plan.steps) {
        auto it = action.find(s.change);
        Action a = it == action.end() ? Action::Update : it->second;
        auto p = power.find(s.change);
        bool restart = p != power.end() && p->second.first && p->second.second;
        out.push_back({s.id, step_permission(s.op(), a, restart), false});
    }
    return out;
}

std::vector<StepDecision> decide(const std::set<std::string>& perms, const Plan& plan) {
    auto out = step_permissions(plan);
    for (auto& d : out) d.allowed = perms.count(d.permission) > 0;
    return out;
}

} // namespace virtumancer::access
