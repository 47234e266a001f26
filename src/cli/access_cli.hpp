// Access control as the commands apply it (docs/access-control.md): who is acting, what they
// may do, the checks before anything executes, and the denial messages and audit entries.
// The decision itself is access.hpp (pure); the rows are access_store.hpp.
#pragma once
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "virtumancer/access.hpp"
#include "virtumancer/access_store.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/planner.hpp"

namespace virtumancer::cli {

struct Identity {
    std::string name;   // who acts: recorded in tasks and audit entries
    bool open = false;  // no user exists: open mode, nothing is checked
    bool known = false; // a users row names it
    bool login = false; // PostgreSQL: the authenticated login (session_user)
    std::string role;   // its role ("" when unknown)
    std::set<std::string> permissions;
    bool may(const std::string& permission) const { return open || permissions.count(permission); }
};

// SQLite: current_actor(actor_flag) (self-declared). PostgreSQL, once a user exists: the
// session's login; an --actor naming someone else is refused (Error).
Identity resolve_identity(Database& db, const std::string& actor_flag);

// What a role holds: a built-in role's list from access.hpp, another role's from the database.
std::set<std::string> role_permission_set(AccessStore& s, const std::string& role);

// The users whose role holds rbac.admin, "a, b" ("" when none).
std::string admins_text(AccessStore& s);

// Throws Error naming the missing permission and who can grant it, after recording the denial
// in the audit log (action "denied:PERMISSION"). Nothing when allowed (or open mode).
void require_permission(Database& db, const Identity& who, const std::string& permission,
                        const std::string& command, const std::string& target_type,
                        const std::string& target_id);

// db.admin for `command` (db migrate, db copy) on the database `target`, checked before it is
// migrated or changed: a database that does not exist yet (or has no schema) is open. Throws
// like require_permission.
void require_db_admin(const std::string& target, const std::string& actor_flag,
                      const std::string& command);

// The plan's steps `who` may not run (empty in open mode).
std::vector<access::StepDecision> denied_steps(const Identity& who, const Plan& plan);

// "Access: N step(s) need a permission ACTOR does not have" and one line per step, with who
// can grant it.
void print_denials(std::ostream& os, Database& db, const Identity& who, const Plan& plan,
                   const std::vector<access::StepDecision>& denied);

// One audit entry per denied step (actor, "denied:PERMISSION", kind, name).
void audit_denials(Database& db, const Identity& who, const std::string& command, const Plan& plan,
                   const std::vector<access::StepDecision>& denied);

// The plan JSON with "access": {"actor", "open", "denied": [{"step", "op", "permission"}]}.
std::string with_access_json(const std::string& plan_json, const Identity& who, const Plan& plan);

// The --actor of the running command ("" when not given): what loading spec paths given to
// plan/apply/drift checks spec.load for and records as the loader.
void set_command_actor(const std::string& flag);
const std::string& command_actor();

// Prints once, to `os`, that no user exists and nothing is checked (plan, db status).
void note_open_mode(std::ostream& os, const Identity& who);

} // namespace virtumancer::cli
