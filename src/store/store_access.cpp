// Users, roles and permissions: see access_store.hpp.
#include "virtumancer/access_store.hpp"

#include <set>

#include "virtumancer/diag.hpp"
#include "virtumancer/sql.hpp"

namespace virtumancer {

namespace {

std::vector<std::string> strings(sql::Connection& c, const std::string& q,
                                 const std::string& arg = {}) {
    sql::Statement st(c, q);
    if (!arg.empty()) st.bind(1, arg);
    std::vector<std::string> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getString());
    return out;
}

// A PostgreSQL identifier, double-quoted.
std::string ident(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

int64_t permission_id(sql::Connection& c, const std::string& name) {
    sql::Statement st(c, "SELECT id FROM permissions WHERE action = ?");
    st.bind(1, name);
    if (!st.executeStep())
        throw Error("no permission " + name + " in the database",
                    "list them with: virtumancer role permissions");
    return st.getColumn(0).getInt64();
}

} // namespace

bool AccessStore::any_user() {
    return db_.db().execAndGet("SELECT count(*) FROM users").getInt64() > 0;
}

std::optional<UserRow> AccessStore::user(const std::string& name) {
    sql::Statement st(db_.db(), "SELECT u.id, u.username, coalesce(r.name, '') FROM users u "
                                "LEFT JOIN roles r ON r.id = u.role_id WHERE u.username = ?");
    st.bind(1, name);
    if (!st.executeStep()) return std::nullopt;
    return UserRow{st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                   st.getColumn(2).getString()};
}

std::vector<UserRow> AccessStore::users() {
    sql::Statement st(db_.db(), "SELECT u.id, u.username, coalesce(r.name, '') FROM users u "
                                "LEFT JOIN roles r ON r.id = u.role_id ORDER BY u.username");
    std::vector<UserRow> out;
    while (st.executeStep())
        out.push_back(
            {st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString()});
    return out;
}

std::vector<std::string> AccessStore::roles() {
    return strings(db_.db(), "SELECT name FROM roles ORDER BY name");
}

bool AccessStore::role_exists(const std::string& role) {
    return role_id(role) != 0;
}

int64_t AccessStore::role_id(const std::string& role) {
    sql::Statement st(db_.db(), "SELECT id FROM roles WHERE name = ?");
    st.bind(1, role);
    return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

std::vector<std::string> AccessStore::role_permissions(const std::string& role) {
    return strings(db_.db(),
                   "SELECT p.action FROM role_permissions rp JOIN roles r ON r.id = rp.role_id "
                   "JOIN permissions p ON p.id = rp.permission_id WHERE r.name = ? "
                   "ORDER BY p.action",
                   role);
}

void AccessStore::sync_catalog(
    const std::vector<std::pair<std::string, std::string>>& permissions,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& builtin) {
    db_.write([&] {
        auto& c = db_.db();
        {
            sql::Statement st(c, "INSERT INTO permissions(action, description) VALUES(?, ?) "
                                 "ON CONFLICT(action) DO UPDATE SET description = "
                                 "excluded.description");
            for (const auto& [name, desc] : permissions) {
                st.bind(1, name);
                st.bind(2, desc);
                st.exec();
                st.reset();
            }
        }
        for (const auto& [role, perms] : builtin) {
            {
                sql::Statement st(c, "INSERT INTO roles(name) VALUES(?) ON CONFLICT(name) DO "
                                     "NOTHING");
                st.bind(1, role);
                st.exec();
            }
            int64_t rid = role_id(role);
            {
                sql::Statement del(c, "DELETE FROM role_permissions WHERE role_id = ?");
                del.bind(1, rid);
                del.exec();
            }
            sql::Statement ins(c, "INSERT INTO role_permissions(role_id, permission_id) "
                                  "VALUES(?, ?)");
            for (const auto& p : perms) {
                ins.bind(1, rid);
                ins.bind(2, permission_id(c, p));
                ins.exec();
                ins.reset();
            }
        }
    });
}

void AccessStore::create_role(const std::string& role,
                              const std::vector<std::string>& permissions) {
    db_.write([&] {
        if (role_exists(role))
            throw Error("role " + role + " exists",
                        "change it with: virtumancer role grant|revoke " + role + " PERM...");
        sql::Statement st(db_.db(), "INSERT INTO roles(name) VALUES(?)");
        st.bind(1, role);
        st.exec();
    });
    grant(role, permissions);
}

void AccessStore::delete_role(const std::string& role) {
    db_.write([&] {
        sql::Statement st(db_.db(), "DELETE FROM roles WHERE name = ?");
        st.bind(1, role);
        if (st.exec() == 0) throw Error("no role " + role, "list them with: virtumancer role list");
    });
}

void AccessStore::grant(const std::string& role, const std::vector<std::string>& permissions) {
    db_.write([&] {
        int64_t rid = role_id(role);
        if (rid == 0) throw Error("no role " + role, "list them with: virtumancer role list");
        sql::Statement st(db_.db(), "INSERT INTO role_permissions(role_id, permission_id) "
                                    "VALUES(?, ?) ON CONFLICT DO NOTHING");
        for (const auto& p : permissions) {
            st.bind(1, rid);
            st.bind(2, permission_id(db_.db(), p));
            st.exec();
            st.reset();
        }
    });
}

void AccessStore::revoke(const std::string& role, const std::vector<std::string>& permissions) {
    db_.write([&] {
        int64_t rid = role_id(role);
        if (rid == 0) throw Error("no role " + role, "list them with: virtumancer role list");
        sql::Statement st(db_.db(),
                          "DELETE FROM role_permissions WHERE role_id = ? AND permission_id = ?");
        for (const auto& p : permissions) {
            st.bind(1, rid);
            st.bind(2, permission_id(db_.db(), p));
            st.exec();
            st.reset();
        }
    });
}

bool AccessStore::set_user(const std::string& name, const std::string& role) {
    bool inserted = false;
    db_.write([&] {
        int64_t rid = role_id(role);
        if (rid == 0) throw Error("no role " + role, "list them with: virtumancer role list");
        sql::Statement up(db_.db(), "UPDATE users SET role_id = ? WHERE username = ?");
        up.bind(1, rid);
        up.bind(2, name);
        if (up.exec() > 0) return;
        sql::Statement ins(db_.db(), "INSERT INTO users(username, role_id) VALUES(?, ?)");
        ins.bind(1, name);
        ins.bind(2, rid);
        ins.exec();
        inserted = true;
    });
    return inserted;
}

bool AccessStore::remove_user(const std::string& name) {
    bool removed = false;
    db_.write([&] {
        sql::Statement st(db_.db(), "DELETE FROM users WHERE username = ?");
        st.bind(1, name);
        removed = st.exec() > 0;
    });
    return removed;
}

std::string AccessStore::session_user() {
    if (db_.backend() != sql::Backend::postgresql) return {};
    return db_.db().execAndGet("SELECT session_user").getString();
}

std::vector<std::string>
AccessStore::privilege_statements(const std::string& prefix, const std::vector<std::string>& admins,
                                  const std::vector<std::string>& members) {
    if (db_.backend() != sql::Backend::postgresql)
        throw Error("database privileges exist on PostgreSQL only (" + db_.path() +
                        " is a SQLite file: access control there is a guard rail of the "
                        "application; protect the file with file permissions)",
                    "see docs/access-control.md");
    auto& c = db_.db();
    std::string schema = ident(c.execAndGet("SELECT current_schema()").getString());
    std::string admin = prefix + "_admin", member = prefix + "_member";
    std::vector<std::string> out;
    for (const auto& g : {admin, member}) {
        sql::Statement st(c, "SELECT 1 FROM pg_roles WHERE rolname = ?");
        st.bind(1, g);
        if (!st.executeStep()) out.push_back("CREATE ROLE " + ident(g) + " NOLOGIN");
    }
    std::string both = ident(admin) + ", " + ident(member);
    std::string rbac_tables = "users, roles, permissions, role_permissions";
    out.push_back("GRANT USAGE ON SCHEMA " + schema + " TO " + both);
    out.push_back("REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM PUBLIC");
    out.push_back("REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM " + both);
    out.push_back("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema +
                  " TO " + both);
    // Members read the access tables; nobody but the owner rewrites history.
    out.push_back("REVOKE INSERT, UPDATE, DELETE ON " + rbac_tables + " FROM " + ident(member));
    out.push_back("REVOKE UPDATE, DELETE ON audit_log FROM " + both);
    // The schema version and the database's owner id are the owner's (migrations).
    out.push_back("REVOKE INSERT, UPDATE, DELETE ON virtumancer_schema_version, installation "
                  "FROM " +
                  both);
    out.push_back("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + both);
    std::set<std::string> admin_set(admins.begin(), admins.end());
    for (const auto& login : admins) {
        sql::Statement st(c, "SELECT 1 FROM pg_roles WHERE rolname = ?");
        st.bind(1, login);
        if (!st.executeStep()) continue; // no such login (yet): nothing to grant
        out.push_back("GRANT " + ident(admin) + " TO " + ident(login));
    }
    for (const auto& login : members) {
        if (admin_set.count(login)) continue;
        sql::Statement st(c, "SELECT 1 FROM pg_roles WHERE rolname = ?");
        st.bind(1, login);
        if (!st.executeStep()) continue;
        out.push_back("GRANT " + ident(member) + " TO " + ident(login));
        out.push_back("REVOKE " + ident(admin) + " FROM " + ident(login));
    }
    return out;
}

void AccessStore::run_statements(const std::vector<std::string>& statements) {
    db_.write([&] {
        for (const auto& s : statements) db_.db().exec(s);
    });
}

} // namespace virtumancer
