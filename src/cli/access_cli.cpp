// Access control as the commands apply it: see access_cli.hpp.
#include "access_cli.hpp"

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "virtumancer/actor.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

std::set<std::string> role_permission_set(AccessStore& s, const std::string& role) {
    if (auto b = access::builtin_role(role)) return *b;
    auto v = s.role_permissions(role);
    return {v.begin(), v.end()};
}

Identity resolve_identity(Database& db, const std::string& actor_flag) {
    AccessStore s(db);
    Identity who;
    bool pg = db.backend() == sql::Backend::postgresql;
    try {
        who.open = !s.any_user();
        if (who.open) {
            who.name = current_actor(actor_flag);
            return who;
        }
        if (pg) {
            who.name = s.session_user();
            who.login = true;
            if (!actor_flag.empty() && actor_flag != who.name)
                throw Error("on PostgreSQL you act as your database login " + who.name +
                                "; --actor " + actor_flag + " cannot change that",
                            "connect as " + actor_flag +
                                "'s own login (the user in the URI), or drop --actor");
        } else {
            who.name = current_actor(actor_flag);
        }
        if (auto u = s.user(who.name)) {
            who.known = true;
            who.role = u->role;
            if (!u->role.empty()) who.permissions = role_permission_set(s, u->role);
        }
    } catch (const sql::Exception& e) {
        throw Error(std::string("cannot read the users of ") + db.path() + ": " + e.what(),
                    "an admin adds this login as a user (virtumancer user add NAME --role "
                    "ROLE) and grants it the database privileges (virtumancer rbac setup-db); "
                    "see docs/access-control.md");
    }
    return who;
}

std::string admins_text(AccessStore& s) {
    std::string out;
    std::map<std::string, bool> admin_role;
    for (const auto& u : s.users()) {
        if (u.role.empty()) continue;
        auto it = admin_role.find(u.role);
        if (it == admin_role.end())
            it = admin_role
                     .emplace(u.role, role_permission_set(s, u.role).count(access::kRbacAdmin) > 0)
                     .first;
        if (it->second) out += (out.empty() ? "" : ", ") + u.username;
    }
    return out;
}

namespace {

std::string who_text(const Identity& who) {
    if (!who.known)
        return who.name + " (not a virtumancer user" +
               std::string(who.login ? ", the PostgreSQL login of this session" : "") + ")";
    return who.name + " (role " + (who.role.empty() ? std::string("none") : who.role) + ")";
}

std::string grant_remedy(AccessStore& s, const Identity& who, const std::string& permission) {
    std::string admins = admins_text(s);
    std::string how = who.known && !who.role.empty() && !access::builtin_role(who.role)
                          ? "virtumancer role grant " + who.role + " " + permission
                          : "virtumancer user add " + who.name + " --role ROLE (a role holding " +
                                permission + ")";
    return "an admin (" + (admins.empty() ? std::string("none found") : admins) +
           ") can grant it: " + how;
}

void audit_denial(Database& db, const Identity& who, const std::string& permission,
                  const std::string& command, const std::string& target_type,
                  const std::string& target_id, nlohmann::json details) {
    details["permission"] = permission;
    details["command"] = command;
    details["role"] = who.role;
    details["user"] = who.known;
    try {
        Store(db).audit(who.name, "denied:" + permission, target_type, target_id, details.dump());
    } catch (const std::exception& e) {
        std::cerr << "warning: could not record the denial in the audit log: " << e.what() << "\n";
    }
}

} // namespace

void require_permission(Database& db, const Identity& who, const std::string& permission,
                        const std::string& command, const std::string& target_type,
                        const std::string& target_id) {
    if (who.may(permission)) return;
    audit_denial(db, who, permission, command, target_type, target_id, nlohmann::json::object());
    AccessStore s(db);
    throw Error(command + " denied: " + who_text(who) + " lacks the permission " + permission +
                    "; nothing was done",
                grant_remedy(s, who, permission));
}

void require_db_admin(const std::string& target, const std::string& actor_flag,
                      const std::string& command) {
    if (!sql::is_postgres_uri(target) && !std::filesystem::exists(target)) return;
    Identity who;
    {
        auto ro = Database::open_readonly(target);
        if (ro->version() == 0) return;
        who = resolve_identity(*ro, actor_flag);
    }
    if (who.may(access::kDbAdmin)) return;
    auto w = Database::open_for_cleanup(target);
    require_permission(*w, who, access::kDbAdmin, command, "database", w->path());
}

std::vector<access::StepDecision> denied_steps(const Identity& who, const Plan& plan) {
    std::vector<access::StepDecision> out;
    if (who.open) return out;
    for (auto& d : access::decide(who.permissions, plan))
        if (!d.allowed) out.push_back(d);
    return out;
}

namespace {
const Step* step_by_id(const Plan& plan, int id) {
    for (const auto& s : plan.steps)
        if (s.id == id) return &s;
    return nullptr;
}
} // namespace

void print_denials(std::ostream& os, Database& db, const Identity& who, const Plan& plan,
                   const std::vector<access::StepDecision>& denied) {
    if (denied.empty()) return;
    std::set<std::string> missing;
    os << "\nAccess: " << denied.size() << " step(s) need a permission " << who_text(who)
       << " does not have (DENIED: apply refuses the plan):\n";
    for (const auto& d : denied) {
        const Step* s = step_by_id(plan, d.step);
        if (!s) continue;
        os << "  DENIED  " << op_name(s->op()) << " " << s->host << "/" << s->kind << "/" << s->name
           << "  (needs " << d.permission << ")\n";
        missing.insert(d.permission);
    }
    AccessStore st(db);
    std::string perms;
    for (const auto& m : missing) perms += (perms.empty() ? "" : " ") + m;
    os << "  " << grant_remedy(st, who, perms) << "\n";
}

void audit_denials(Database& db, const Identity& who, const std::string& command, const Plan& plan,
                   const std::vector<access::StepDecision>& denied) {
    for (const auto& d : denied) {
        const Step* s = step_by_id(plan, d.step);
        if (!s) continue;
        audit_denial(db, who, d.permission, command, s->kind, s->name,
                     {{"op", op_name(s->op())}, {"host", s->host}});
    }
}

std::string with_access_json(const std::string& plan_json, const Identity& who, const Plan& plan) {
    if (who.open) return plan_json;
    auto j = nlohmann::json::parse(plan_json);
    nlohmann::json denied = nlohmann::json::array();
    for (const auto& d : denied_steps(who, plan)) {
        const Step* s = step_by_id(plan, d.step);
        denied.push_back(
            {{"step", d.step}, {"op", s ? op_name(s->op()) : ""}, {"permission", d.permission}});
    }
    j["access"] = {{"actor", who.name}, {"open", who.open}, {"denied", denied}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
std::string g_command_actor;
}
void set_command_actor(const std::string& flag) {
    g_command_actor = flag;
}
const std::string& command_actor() {
    return g_command_actor;
}

void note_open_mode(std::ostream& os, const Identity& who) {
    if (!who.open) return;
    os << "note: access control is off (open mode: this database has no users, so nothing is "
          "checked); turn it on by adding the first admin: virtumancer user add NAME --role "
          "admin\n";
}

} // namespace virtumancer::cli
