// Users, roles and permissions in the canonical schema (tables users, roles, permissions,
// role_permissions; docs/schema.md), and the PostgreSQL privileges that make a non-admin login
// unable to change them or the audit history. Names only: which permissions exist and what the
// built-in roles hold is decided by access.hpp (planner layer) and passed in by the commands.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "virtumancer/database.hpp"

namespace virtumancer {

struct UserRow {
    int64_t id = 0;
    std::string username;
    std::string role; // "" when the user's role was deleted
};

class AccessStore {
  public:
    explicit AccessStore(Database& db) : db_(db) {}

    // False while no user exists: open mode (nothing is checked).
    bool any_user();
    std::optional<UserRow> user(const std::string& name);
    std::vector<UserRow> users();     // by name
    std::vector<std::string> roles(); // by name
    bool role_exists(const std::string& role);
    // The permissions role_permissions gives the role, sorted.
    std::vector<std::string> role_permissions(const std::string& role);

    // Writes: each runs in one write transaction of its own.
    // Inserts the permissions that are missing (and refreshes descriptions), creates the
    // built-in roles and sets their role_permissions to exactly the given lists.
    void sync_catalog(const std::vector<std::pair<std::string, std::string>>& permissions,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& builtin);
    void create_role(const std::string& role, const std::vector<std::string>& permissions);
    void delete_role(const std::string& role);
    void grant(const std::string& role, const std::vector<std::string>& permissions);
    void revoke(const std::string& role, const std::vector<std::string>& permissions);
    // Inserts the user or changes its role; true when it was inserted.
    bool set_user(const std::string& name, const std::string& role);
    bool remove_user(const std::string& name);

    // PostgreSQL only ("" on SQLite): the authenticated login of this session (session_user,
    // which SET ROLE does not change).
    std::string session_user();

    // PostgreSQL: the statements that make the group roles PREFIX_admin and PREFIX_member,
    // grant them the privileges on this schema's tables (members: no writes to users, roles,
    // permissions, role_permissions; nobody but the owner: UPDATE or DELETE of audit_log) and
    // grant each login its group. `admins`/`members` are the logins (virtumancer user names).
    std::vector<std::string> privilege_statements(const std::string& prefix,
                                                  const std::vector<std::string>& admins,
                                                  const std::vector<std::string>& members);
    // Runs them in one transaction.
    void run_statements(const std::vector<std::string>& statements);

  private:
    int64_t role_id(const std::string& role); // 0 when there is none
    Database& db_;
};

} // namespace virtumancer
