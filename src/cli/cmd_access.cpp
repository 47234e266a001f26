// `virtumancer user ...`, `role ...` and `rbac setup-db`: users, roles and permissions
// (docs/access-control.md).
#include <iostream>
#include <regex>

#include "access_cli.hpp"
#include "commands.hpp"
#include "virtumancer/access.hpp"
#include "virtumancer/access_store.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer::cli {

namespace {

struct AccessArgs {
    std::string actor, name, role, prefix = "virtumancer";
    std::vector<std::string> perms;
    bool print_sql = false;
};

void sync_catalog(AccessStore& s) {
    std::vector<std::pair<std::string, std::string>> perms;
    for (const auto& p : access::all_permissions()) perms.emplace_back(p.name, p.description);
    std::vector<std::pair<std::string, std::vector<std::string>>> builtin;
    for (const auto& r : access::builtin_role_names()) {
        auto set = *access::builtin_role(r);
        builtin.emplace_back(r, std::vector<std::string>(set.begin(), set.end()));
    }
    s.sync_catalog(perms, builtin);
}

void check_name(const std::string& what, const std::string& name) {
    static const std::regex ok(R"([A-Za-z0-9_][A-Za-z0-9_.@-]{0,62})");
    if (!std::regex_match(name, ok))
        throw Error(what + " name '" + name + "' is not valid",
                    "use letters, digits and _ . @ - (at most 63 characters; on PostgreSQL a "
                    "user is named like its database login)");
}

void check_permissions(const std::vector<std::string>& perms) {
    for (const auto& p : perms)
        if (!access::is_permission(p))
            throw Error("no permission " + p, "list them with: virtumancer role permissions");
}

void refuse_builtin(const std::string& role, const std::string& what) {
    if (access::builtin_role(role))
        throw Error("role " + role + " is built in and cannot be " + what,
                    "create a role of your own: virtumancer role create NAME --allow PERM...");
}

// The users still holding rbac.admin if `name` got role `role` ("" role: removed).
int admins_after(AccessStore& s, const std::string& name, const std::string& role) {
    int n = 0;
    for (const auto& u : s.users()) {
        std::string r = u.username == name ? role : u.role;
        if (!r.empty() && role_permission_set(s, r).count(access::kRbacAdmin)) ++n;
    }
    return n;
}

// Opens the database and checks rbac.admin for `command`; returns the identity.
Identity admin_identity(Database& db, const AccessArgs& a, const std::string& command,
                        const std::string& target_type, const std::string& target) {
    Identity who = resolve_identity(db, a.actor);
    require_permission(db, who, access::kRbacAdmin, command, target_type, target);
    return who;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

void add_actor(CLI::App* cmd, AccessArgs& a) {
    cmd->add_option("--actor", a.actor,
                    "who is acting (SQLite; on PostgreSQL the database login is the actor)");
}

} // namespace

void register_role(CLI::App& app, Globals& g, Runner& run) {
    auto* role = app.add_subcommand("role", "Roles and the permissions they hold: permissions, "
                                            "list, create, grant, revoke, delete");
    role->require_subcommand(1);
    role->add_subcommand("permissions", "List every permission (generated from the plan's step "
                                        "kinds) with what it allows")
        ->callback([&run] {
            run = [] {
                for (const auto& p : access::all_permissions())
                    std::cout << p.name
                              << std::string(p.name.size() < 18 ? 18 - p.name.size() : 1, ' ')
                              << p.description << "\n";
                return kExitOk;
            };
        });
    role->add_subcommand("list", "List the roles (built-in and custom) and their permissions")
        ->callback([&] {
            run = [&g] {
                auto db = Database::open_for_reading(g.db_path);
                AccessStore s(*db);
                std::set<std::string> names(access::builtin_role_names().begin(),
                                            access::builtin_role_names().end());
                for (const auto& r : s.roles()) names.insert(r);
                for (const auto& r : names) {
                    auto perms = role_permission_set(s, r);
                    std::cout << r << (access::builtin_role(r) ? " (built-in)" : "") << ": "
                              << (perms.empty()
                                      ? std::string("(read-only commands only)")
                                      : join(std::vector<std::string>(perms.begin(), perms.end())))
                              << "\n";
                }
                return kExitOk;
            };
        });
    {
        auto a = std::make_shared<AccessArgs>();
        auto* c = role->add_subcommand("create", "Create a role holding the given permissions "
                                                 "(needs rbac.admin)");
        c->add_option("name", a->name, "the role's name")->required();
        c->add_option("--allow", a->perms,
                      "a permission it holds (repeatable; see role "
                      "permissions)")
            ->required();
        add_actor(c, *a);
        c->callback([&g, &run, a] {
            run = [&g, a] {
                check_name("role", a->name);
                refuse_builtin(a->name, "created");
                check_permissions(a->perms);
                auto db = Database::open(g.db_path);
                admin_identity(*db, *a, "role create", "role", a->name);
                AccessStore s(*db);
                sync_catalog(s);
                s.create_role(a->name, a->perms);
                std::cout << "created role " << a->name << ": " << join(a->perms) << "\n";
                return kExitOk;
            };
        });
    }
    for (bool grant : {true, false}) {
        auto a = std::make_shared<AccessArgs>();
        auto* c = role->add_subcommand(grant ? "grant" : "revoke",
                                       grant ? "Give a custom role permissions (needs rbac.admin)"
                                             : "Take permissions from a custom role (needs "
                                               "rbac.admin)");
        c->add_option("role", a->role, "the role")->required();
        c->add_option("permissions", a->perms, "permissions (see role permissions)")->required();
        add_actor(c, *a);
        c->callback([&g, &run, a, grant] {
            run = [&g, a, grant] {
                refuse_builtin(a->role, "changed");
                check_permissions(a->perms);
                auto db = Database::open(g.db_path);
                admin_identity(*db, *a, grant ? "role grant" : "role revoke", "role", a->role);
                AccessStore s(*db);
                sync_catalog(s);
                bool removes_admin = false;
                for (const auto& p : a->perms) removes_admin |= p == access::kRbacAdmin;
                if (!grant && removes_admin) {
                    // Never leave users but no one able to manage them.
                    int others = 0, with_role = 0;
                    for (const auto& u : s.users()) {
                        if (u.role == a->role)
                            ++with_role;
                        else if (!u.role.empty())
                            others += role_permission_set(s, u.role).count(access::kRbacAdmin);
                    }
                    if (with_role > 0 && others == 0)
                        throw Error("revoking rbac.admin from " + a->role +
                                        " would leave no user able to manage users",
                                    "give another user the admin role first");
                }
                if (grant)
                    s.grant(a->role, a->perms);
                else
                    s.revoke(a->role, a->perms);
                std::cout << (grant ? "granted " : "revoked ") << join(a->perms)
                          << (grant ? " to " : " from ") << a->role << "\n";
                return kExitOk;
            };
        });
    }
    {
        auto a = std::make_shared<AccessArgs>();
        auto* c = role->add_subcommand("delete", "Delete a custom role no user has (needs "
                                                 "rbac.admin)");
        c->add_option("role", a->role, "the role")->required();
        add_actor(c, *a);
        c->callback([&g, &run, a] {
            run = [&g, a] {
                refuse_builtin(a->role, "deleted");
                auto db = Database::open(g.db_path);
                admin_identity(*db, *a, "role delete", "role", a->role);
                AccessStore s(*db);
                for (const auto& u : s.users())
                    if (u.role == a->role)
                        throw Error("user " + u.username + " has role " + a->role,
                                    "give the users another role first (virtumancer user add "
                                    "NAME --role ROLE)");
                s.delete_role(a->role);
                std::cout << "deleted role " << a->role << "\n";
                return kExitOk;
            };
        });
    }
}

void register_user(CLI::App& app, Globals& g, Runner& run) {
    auto* user = app.add_subcommand("user", "Users (each with one role): add, remove, list; "
                                            "while none exists nothing is checked (open mode)");
    user->require_subcommand(1);
    {
        auto a = std::make_shared<AccessArgs>();
        auto* c = user->add_subcommand("add", "Add a user with a role, or change a user's role "
                                              "(needs rbac.admin; the first user must be an "
                                              "admin)");
        c->add_option("name", a->name,
                      "the user (on PostgreSQL: the database login it connects as)")
            ->required();
        c->add_option("--role", a->role, "its role (admin, operator, viewer or a custom role)")
            ->required();
        add_actor(c, *a);
        c->callback([&g, &run, a] {
            run = [&g, a] {
                check_name("user", a->name);
                auto db = Database::open(g.db_path);
                Identity who = admin_identity(*db, *a, "user add", "user", a->name);
                AccessStore s(*db);
                sync_catalog(s);
                if (!s.role_exists(a->role))
                    throw Error("no role " + a->role, "list them with: virtumancer role list");
                bool admin_role = role_permission_set(s, a->role).count(access::kRbacAdmin) > 0;
                if (who.open && !admin_role)
                    throw Error("the first user must be an admin (role " + a->role +
                                    " lacks rbac.admin): nobody could manage users after it",
                                "add an admin first: virtumancer user add NAME --role admin");
                if (!who.open && admins_after(s, a->name, a->role) == 0)
                    throw Error("user " + a->name + " is the last admin",
                                "give another user the admin role first");
                bool inserted = s.set_user(a->name, a->role);
                std::cout << (inserted ? "added user " : "changed the role of user ") << a->name
                          << ": " << a->role << "\n";
                if (who.open) {
                    std::cout << "access control is now on: every command that changes "
                                 "something checks the actor's permissions\n";
                    if (a->name != who.name)
                        std::cerr << "note: you act as " << who.name
                                  << ", who is not a user: from now on only " << a->name
                                  << " can manage users\n";
                }
                return kExitOk;
            };
        });
    }
    {
        auto a = std::make_shared<AccessArgs>();
        auto* c = user->add_subcommand("remove", "Remove a user (needs rbac.admin; never the "
                                                 "last admin)");
        c->add_option("name", a->name, "the user")->required();
        add_actor(c, *a);
        c->callback([&g, &run, a] {
            run = [&g, a] {
                auto db = Database::open(g.db_path);
                admin_identity(*db, *a, "user remove", "user", a->name);
                AccessStore s(*db);
                if (!s.user(a->name))
                    throw Error("no user " + a->name, "list them with: virtumancer user list");
                if (admins_after(s, a->name, "") == 0)
                    throw Error("user " + a->name + " is the last admin",
                                "give another user the admin role first");
                s.remove_user(a->name);
                std::cout << "removed user " << a->name
                          << " (its tasks and audit entries keep its name)\n";
                return kExitOk;
            };
        });
    }
    user->add_subcommand("list", "List the users and their roles")->callback([&] {
        run = [&g] {
            auto db = Database::open_for_reading(g.db_path);
            AccessStore s(*db);
            auto users = s.users();
            if (users.empty()) std::cout << "no users: open mode (nothing is checked)\n";
            for (const auto& u : users)
                std::cout << u.username << " " << (u.role.empty() ? "(no role)" : u.role) << "\n";
            return kExitOk;
        };
    });
}

void register_rbac(CLI::App& app, Globals& g, Runner& run) {
    auto* rbac = app.add_subcommand("rbac", "Access control set-up on the database server");
    rbac->require_subcommand(1);
    auto a = std::make_shared<AccessArgs>();
    auto* c = rbac->add_subcommand(
        "setup-db",
        "PostgreSQL: create the group roles PREFIX_admin and PREFIX_member, grant them "
        "privileges on this database's tables (members cannot write users, roles, permissions, "
        "role_permissions; nobody can UPDATE or DELETE audit_log) and put each user's login in "
        "its group. Run as the tables' owner after each migration and after user changes");
    c->add_option("--group-prefix", a->prefix, "prefix of the two group roles")
        ->capture_default_str();
    c->add_flag("--print-sql", a->print_sql,
                "print the statements instead of running them (for a superuser to run)");
    add_actor(c, *a);
    c->callback([&g, &run, a] {
        run = [&g, a] {
            check_name("group prefix", a->prefix);
            auto db = Database::open(g.db_path);
            admin_identity(*db, *a, "rbac setup-db", "database", db->path());
            AccessStore s(*db);
            sync_catalog(s);
            std::vector<std::string> admins, members;
            for (const auto& u : s.users()) {
                if (!u.role.empty() && role_permission_set(s, u.role).count(access::kRbacAdmin))
                    admins.push_back(u.username);
                else
                    members.push_back(u.username);
            }
            auto stmts = s.privilege_statements(a->prefix, admins, members);
            if (a->print_sql) {
                for (const auto& st : stmts) std::cout << st << ";\n";
                return kExitOk;
            }
            try {
                s.run_statements(stmts);
            } catch (const sql::Exception& e) {
                throw Error(std::string("setting the privileges failed (nothing was changed): ") +
                                e.what(),
                            "run it as the owner of the tables with CREATEROLE (or membership "
                            "WITH ADMIN OPTION in the group roles), or print the statements "
                            "with --print-sql for a superuser");
            }
            std::cout << "privileges set: " << stmts.size() << " statement(s); admins "
                      << admins.size() << ", members " << members.size() << "\n";
            return kExitOk;
        };
    });
}

} // namespace virtumancer::cli
