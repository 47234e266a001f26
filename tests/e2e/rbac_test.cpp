// Access control on the real libvirtd, on SQLite and on PostgreSQL (issue 16): an operator
// starts a VM but is refused a prune (nothing executed, the denial audited); a viewer plans and
// drifts but may not apply. On PostgreSQL the identity is the login: a non-admin login is
// refused UPDATE on audit_log and INSERT on users by the server itself, and --actor naming the
// admin does not make it one.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../unit/store_test_util.hpp"
#include "e2e_util.hpp"
#include "virtumancer/store.hpp"

namespace {

namespace fs = std::filesystem;
using virtumancer::testing_util::run_cli;
using virtumancer::testing_util::run_shell;

const char* kPgDir = "/var/tmp/virtumancer-pg";
const char* kPgPort = "55432";

std::string vm_yaml(const std::string& name, const std::string& state) {
    return "kind: VirtualMachine\nname: " + name +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\nstate: " +
           state + "\n";
}

void destroy(const std::string& vm) {
    std::system(("virsh -c qemu:///system destroy " + vm +
                 " >/dev/null 2>&1; virsh -c qemu:///system undefine " + vm +
                 " --nvram >/dev/null 2>&1")
                    .c_str());
}

std::string domstate(const std::string& vm) {
    int st = -1;
    std::string out = run_shell("virsh -c qemu:///system domstate " + vm + " 2>&1", &st);
    if (virtumancer::testing_util::exit_code(st) != 0) return "absent";
    return out.substr(0, out.find('\n'));
}

// As the PostgreSQL superuser of the test server (scripts/testenv.sh: peer login over its
// socket directory).
int psql_super(const std::string& sql) {
    int st = -1;
    std::string out =
        run_shell(std::string("runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "
                              "-h ") +
                      kPgDir + " -p " + kPgPort + " -d postgres -c \"" + sql + "\" 2>&1",
                  &st);
    if (virtumancer::testing_util::exit_code(st) != 0) ADD_FAILURE() << sql << ": " << out;
    return virtumancer::testing_util::exit_code(st);
}

// The URI with another login and password.
std::string with_login(const std::string& uri, const std::string& user, const std::string& pw) {
    auto start = uri.find("://") + 3;
    auto at = uri.find('@', start);
    return uri.substr(0, start) + user + ":" + pw + uri.substr(at);
}

std::string login_of(const std::string& uri) {
    auto start = uri.find("://") + 3;
    return uri.substr(start, uri.find_first_of(":@", start) - start);
}

class RbacE2e : public ::testing::TestWithParam<virtumancer::sql::Backend> {};

TEST_P(RbacE2e, OperatorStartsButIsRefusedAPruneViewerPlansButCannotApply) {
    std::unique_ptr<virtumancer::Hypervisor> hv;
    VMR_E2E_CONNECT_OR_SKIP(hv);
    bool pg = GetParam() == virtumancer::sql::Backend::postgresql;
    std::string tag = pg ? "pg" : "lite";
    const std::string vm_a = "vmr-e2e-rbac-" + tag + "-a", vm_b = "vmr-e2e-rbac-" + tag + "-b";
    store_test::TempDir tmp;
    std::string db, admin, op = "vmr_e2e_rbac_op", viewer = "vmr_e2e_rbac_view";
    std::string op_db, viewer_db; // how the operator and the viewer reach the database
    std::string admin_flag, op_flag, viewer_flag; // SQLite: --actor (self-declared)
    std::unique_ptr<virtumancer::sql::Connection> owner;
    const std::string schema = "vmr_e2e_rbac";
    if (pg) {
        std::string uri = store_test::pg_test_uri();
        try {
            if (!uri.empty()) owner = virtumancer::sql::open_postgres_connection(uri, 5);
        } catch (const std::exception&) {
        }
        if (!owner) {
            if (store_test::pg_required()) FAIL() << "the test PostgreSQL is unreachable";
            GTEST_SKIP() << "no test PostgreSQL (scripts/testenv.sh start)";
        }
        owner->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        owner->exec("CREATE SCHEMA " + schema);
        db = store_test::pg_schema_uri(uri, schema);
        admin = login_of(uri);
        // Two logins of their own, and the group roles setup-db uses, which the owner may
        // grant (a superuser's one-time set-up; docs/access-control.md).
        for (const auto& l : {op, viewer})
            psql_super("DO \\$\\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" +
                       l + "') THEN CREATE ROLE " + l + " LOGIN; END IF; END \\$\\$; ALTER ROLE " +
                       l + " LOGIN PASSWORD 'pw-" + l + "'");
        for (const auto& g : {"vmr_e2e_rbac_admin", "vmr_e2e_rbac_member"})
            psql_super(std::string("DO \\$\\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
                                   "rolname = '") +
                       g + "') THEN CREATE ROLE " + g + " NOLOGIN; END IF; END \\$\\$; GRANT " + g +
                       " TO " + admin + " WITH ADMIN OPTION");
        op_db = store_test::pg_schema_uri(with_login(uri, op, "pw-" + op), schema);
        viewer_db = store_test::pg_schema_uri(with_login(uri, viewer, "pw-" + viewer), schema);
    } else {
        db = op_db = viewer_db = tmp.file("rbac.db");
        admin = "vmr-rbac-admin";
        op = "vmr-rbac-op";
        viewer = "vmr-rbac-viewer";
        admin_flag = " --actor " + admin;
        op_flag = " --actor " + op;
        viewer_flag = " --actor " + viewer;
    }
    auto as = [&](const std::string& who_db, const std::string& args) {
        return run_cli("--db '" + who_db + "' " + args);
    };
    destroy(vm_a);
    destroy(vm_b);
    fs::create_directories(tmp.path() / "specs");
    std::string specs = (tmp.path() / "specs").string();
    std::ofstream(tmp.path() / "specs" / "host.yaml")
        << "kind: Host\nname: local\nuri: qemu:///system\n";
    std::ofstream(tmp.path() / "specs" / "a.yaml") << vm_yaml(vm_a, "shutoff");
    std::ofstream(tmp.path() / "specs" / "b.yaml") << vm_yaml(vm_b, "shutoff");

    // The admin turns access control on and defines both VMs.
    auto r = as(db, "user add " + admin + " --role admin" + admin_flag);
    ASSERT_EQ(r.rc, 0) << r.out;
    ASSERT_EQ(as(db, "user add " + op + " --role operator" + admin_flag).rc, 0);
    ASSERT_EQ(as(db, "user add " + viewer + " --role viewer" + admin_flag).rc, 0);
    if (pg) {
        r = as(db, "rbac setup-db --group-prefix vmr_e2e_rbac");
        ASSERT_EQ(r.rc, 0) << r.out;
    }
    r = as(db, "load " + specs + admin_flag);
    ASSERT_EQ(r.rc, 0) << r.out;
    r = as(db, "apply --auto-approve" + admin_flag);
    ASSERT_EQ(r.rc, 0) << r.out;
    ASSERT_EQ(domstate(vm_a), "shut off");
    ASSERT_EQ(domstate(vm_b), "shut off");

    // The specs change: a runs, b is removed. The operator loads them (spec.load).
    std::ofstream(tmp.path() / "specs" / "a.yaml") << vm_yaml(vm_a, "running");
    fs::remove(tmp.path() / "specs" / "b.yaml");
    r = as(op_db, "load " + specs + op_flag);
    ASSERT_EQ(r.rc, 0) << r.out;

    // The viewer plans (the start is marked denied; --detailed-exitcode says error) and drifts,
    // but may not apply.
    r = as(viewer_db, "plan" + viewer_flag);
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("DENIED  vm.start local/vm/" + vm_a + "  (needs vm.start)"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(as(viewer_db, "plan --detailed-exitcode" + viewer_flag).rc, 1);
    r = as(viewer_db, "drift");
    EXPECT_NE(r.rc, 1) << r.out;
    r = as(viewer_db, "apply --auto-approve" + viewer_flag);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("executed nothing"), std::string::npos) << r.out;
    EXPECT_EQ(domstate(vm_a), "shut off");

    // The operator starts a.
    r = as(op_db, "apply --auto-approve" + op_flag);
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_EQ(domstate(vm_a), "running");

    // ... but a prune (deleting b) is refused as a whole: nothing executed.
    auto dbh = virtumancer::Database::open(db);
    virtumancer::Store store(*dbh);
    size_t tasks_before = store.tasks(1000, "").size();
    r = as(op_db, "apply --prune --auto-approve" + op_flag);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("vm.delete"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("an admin (" + admin + ")"), std::string::npos) << r.out;
    EXPECT_EQ(domstate(vm_b), "shut off") << "the VM survived";
    EXPECT_EQ(store.tasks(1000, "").size(), tasks_before) << "no step ran";
    bool audited = false, viewer_audited = false;
    for (const auto& a : store.audit_rows("", "vm", vm_b)) {
        audited |= a.actor == op && a.action == "denied:vm.delete" && !a.timestamp.empty();
    }
    for (const auto& a : store.audit_rows("", "vm", vm_a))
        viewer_audited |= a.actor == viewer && a.action == "denied:vm.start";
    EXPECT_TRUE(audited) << "the operator's denied prune is in the audit log";
    EXPECT_TRUE(viewer_audited) << "the viewer's denied apply is in the audit log";

    if (pg) {
        // The login is the identity: naming the admin changes nothing.
        r = as(op_db, "apply --prune --auto-approve --actor " + admin);
        EXPECT_EQ(r.rc, 1) << r.out;
        EXPECT_NE(r.out.find("cannot change that"), std::string::npos) << r.out;
        r = as(op_db, "user add " + op + " --role admin");
        EXPECT_EQ(r.rc, 1) << r.out;
        EXPECT_EQ(domstate(vm_b), "shut off");
        // The server refuses the operator's login what the application would refuse it.
        auto c = virtumancer::sql::open_postgres_connection(op_db, 5);
        EXPECT_THROW(c->exec("UPDATE audit_log SET actor = 'someone else'"),
                     virtumancer::sql::Exception);
        EXPECT_THROW(c->exec("DELETE FROM audit_log"), virtumancer::sql::Exception);
        EXPECT_THROW(c->exec("INSERT INTO users(username) VALUES('intruder')"),
                     virtumancer::sql::Exception);
        EXPECT_THROW(c->exec("UPDATE users SET role_id = (SELECT id FROM roles WHERE name = "
                             "'admin') WHERE username = '" +
                             op + "'"),
                     virtumancer::sql::Exception);
        EXPECT_NO_THROW(c->exec("INSERT INTO audit_log(actor, action, target_type, target_id) "
                                "VALUES('x', 'note', 'vm', 'x')"));
        EXPECT_EQ(store.audit_rows("", "", "").size() > 0, true);
    }

    // The admin may prune.
    r = as(db, "apply --prune --auto-approve" + admin_flag);
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_EQ(domstate(vm_b), "absent");
    destroy(vm_a);
    destroy(vm_b);
    dbh.reset();
    if (owner) owner->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

INSTANTIATE_TEST_SUITE_P(Backends, RbacE2e,
                         ::testing::Values(virtumancer::sql::Backend::sqlite,
                                           virtumancer::sql::Backend::postgresql),
                         store_test::backend_name);

} // namespace
