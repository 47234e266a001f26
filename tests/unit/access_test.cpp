// Access control: the permissions generated from the step vocabulary, the built-in roles, the
// pure decision as a role x step matrix, the rows on both backends, and the commands on SQLite.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "store_test_util.hpp"
#include "test_support.hpp"
#include "virtumancer/access.hpp"
#include "virtumancer/access_store.hpp"
#include "virtumancer/store.hpp"

using namespace virtumancer;
using virtumancer::testing_util::run_cli;
namespace fs = std::filesystem;

namespace {

template <size_t... I> StepPayload payload_at(size_t i, std::index_sequence<I...>) {
    StepPayload out;
    ((i == I ? (out = std::variant_alternative_t<I, StepPayload>{}, 0) : 0), ...);
    return out;
}
StepPayload payload_of(Op op) {
    return payload_at(static_cast<size_t>(op),
                      std::make_index_sequence<std::variant_size_v<StepPayload>>{});
}

// A plan of one change `kind/name` with `action` and one step per op.
Plan plan_of(const std::string& kind, const std::string& name, Action action,
             const std::vector<Op>& ops) {
    Plan p;
    ResourceChange rc;
    rc.host = "h";
    rc.kind = kind;
    rc.name = name;
    rc.action = action;
    p.changes.push_back(rc);
    int id = 0;
    for (Op op : ops) {
        Step s;
        s.id = ++id;
        s.host = "h";
        s.kind = kind;
        s.name = name;
        s.payload = payload_of(op);
        s.change = rc.address();
        p.steps.push_back(s);
    }
    return p;
}

std::set<std::string> perms_of(const std::string& role) {
    return *access::builtin_role(role);
}

} // namespace

TEST(AccessPermissions, GeneratedFromEveryOpAndHoldTheIssuesNames) {
    std::set<std::string> names;
    for (const auto& p : access::all_permissions()) {
        EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
        EXPECT_FALSE(p.description.empty()) << p.name;
    }
    for (const char* n : {"vm.create",       "vm.update",      "vm.delete",       "vm.start",
                          "vm.stop",         "vm.restart",     "vm.rename",       "volume.create",
                          "volume.resize",   "volume.delete",  "pool.create",     "pool.update",
                          "pool.start",      "pool.delete",    "network.create",  "network.update",
                          "network.start",   "network.delete", "snapshot.create", "snapshot.update",
                          "snapshot.delete", "spec.load",      "db.admin",        "rbac.admin"})
        EXPECT_TRUE(names.count(n)) << n;
    EXPECT_EQ(names.size(), 24u);
    // Every op in every context needs a permission of the list (nothing written twice).
    for (int i = 0; i <= static_cast<int>(Op::SnapshotDelete); ++i)
        for (Action a : {Action::Create, Action::Update, Action::Replace, Action::Delete})
            for (bool r : {false, true})
                EXPECT_TRUE(
                    access::is_permission(access::step_permission(static_cast<Op>(i), a, r)))
                    << op_name(static_cast<Op>(i));
}

TEST(AccessPermissions, BuiltinRoles) {
    auto admin = perms_of("admin"), op = perms_of("operator"), viewer = perms_of("viewer");
    EXPECT_EQ(admin.size(), access::all_permissions().size());
    EXPECT_TRUE(viewer.empty());
    EXPECT_EQ(
        op, (std::set<std::string>{"network.start", "network.update", "pool.start", "pool.update",
                                   "snapshot.create", "snapshot.update", "spec.load", "vm.restart",
                                   "vm.start", "vm.stop", "vm.update", "volume.resize"}));
    for (const auto& p : op) EXPECT_EQ(p.find(".delete"), std::string::npos) << p;
    EXPECT_FALSE(access::builtin_role("auditor"));
}

// The matrix: each step of each kind of change, the permission it needs, and which built-in
// role may run it.
TEST(AccessDecision, RoleByStepMatrix) {
    struct Row {
        const char* kind;
        Action action;
        std::vector<Op> ops;
        std::vector<std::string> need; // per step
        bool admin, op, viewer;        // all steps allowed
    };
    std::vector<Row> rows = {
        {"vm", Action::Create, {Op::VmDefine, Op::VmStart}, {"vm.create", "vm.start"}, 1, 0, 0},
        {"vm", Action::Update, {Op::VmStart}, {"vm.start"}, 1, 1, 0},
        {"vm", Action::Update, {Op::VmResume}, {"vm.start"}, 1, 1, 0},
        {"vm", Action::Update, {Op::VmShutdown}, {"vm.stop"}, 1, 1, 0},
        {"vm", Action::Update, {Op::VmSuspend}, {"vm.stop"}, 1, 1, 0},
        {"vm",
         Action::Update,
         {Op::VmDefine, Op::VmShutdown, Op::VmStart},
         {"vm.update", "vm.restart", "vm.restart"},
         1,
         1,
         0},
        {"vm",
         Action::Update,
         {Op::VmAttachDevice, Op::VmDetachDevice, Op::VmUpdateDevice, Op::VmSetVcpus,
          Op::VmSetMemory, Op::VmAutostart},
         {"vm.update", "vm.update", "vm.update", "vm.update", "vm.update", "vm.update"},
         1,
         1,
         0},
        {"vm", Action::Update, {Op::VmRename}, {"vm.rename"}, 1, 0, 0},
        {"vm",
         Action::Delete,
         {Op::VmDestroy, Op::VmUndefine},
         {"vm.delete", "vm.delete"},
         1,
         0,
         0},
        {"pool",
         Action::Create,
         {Op::PoolDefine, Op::PoolStart},
         {"pool.create", "pool.start"},
         1,
         0,
         0},
        {"pool", Action::Update, {Op::PoolStart}, {"pool.start"}, 1, 1, 0},
        {"network",
         Action::Create,
         {Op::NetworkDefine, Op::NetworkStart, Op::NetworkAutostart},
         {"network.create", "network.start", "network.update"},
         1,
         0,
         0},
        {"pool", Action::Update, {Op::PoolAutostart}, {"pool.update"}, 1, 1, 0},
        {"pool", Action::Delete, {Op::PoolUndefine}, {"pool.delete"}, 1, 0, 0},
        {"volume", Action::Create, {Op::VolumeCreate}, {"volume.create"}, 1, 0, 0},
        {"volume", Action::Update, {Op::VolumeResize}, {"volume.resize"}, 1, 1, 0},
        {"volume", Action::Delete, {Op::VolumeDelete}, {"volume.delete"}, 1, 0, 0},
        {"network", Action::Replace, {Op::NetworkDefine}, {"network.update"}, 1, 1, 0},
        {"network", Action::Update, {Op::NetworkUpdate}, {"network.update"}, 1, 1, 0},
        {"network", Action::Delete, {Op::NetworkUndefine}, {"network.delete"}, 1, 0, 0},
        {"snapshot", Action::Create, {Op::SnapshotCreate}, {"snapshot.create"}, 1, 1, 0},
        {"snapshot", Action::Update, {Op::SnapshotSetDescription}, {"snapshot.update"}, 1, 1, 0},
        {"snapshot", Action::Delete, {Op::SnapshotDelete}, {"snapshot.delete"}, 1, 0, 0},
    };
    std::set<Op> covered;
    for (const auto& r : rows) {
        Plan p = plan_of(r.kind, "x", r.action, r.ops);
        auto need = access::step_permissions(p);
        ASSERT_EQ(need.size(), r.ops.size());
        for (size_t i = 0; i < need.size(); ++i) {
            EXPECT_EQ(need[i].permission, r.need[i]) << r.kind << " " << op_name(r.ops[i]);
            EXPECT_EQ(need[i].step, p.steps[i].id);
            covered.insert(r.ops[i]);
        }
        for (auto [role, want] : {std::pair<const char*, bool>{"admin", r.admin},
                                  {"operator", r.op},
                                  {"viewer", r.viewer}}) {
            bool all = true;
            for (const auto& d : access::decide(perms_of(role), p)) all &= d.allowed;
            EXPECT_EQ(all, want) << role << " on " << r.kind << " " << op_name(r.ops[0]);
        }
    }
    EXPECT_EQ(covered.size(), static_cast<size_t>(Op::SnapshotDelete) + 1)
        << "every op appears in the matrix";
}

TEST(AccessDecision, OnlyTheMissingStepsAreDeniedAndACustomRoleCounts) {
    Plan p = plan_of("vm", "web", Action::Update, {Op::VmSetMemory, Op::VmStart});
    auto d = access::decide({"vm.start"}, p);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_FALSE(d[0].allowed);
    EXPECT_EQ(d[0].permission, "vm.update");
    EXPECT_TRUE(d[1].allowed);
    // A restart is neither a start nor a stop.
    Plan r = plan_of("vm", "web", Action::Update, {Op::VmShutdown, Op::VmStart});
    for (const auto& x : access::decide({"vm.start", "vm.stop"}, r)) EXPECT_FALSE(x.allowed);
    for (const auto& x : access::decide({"vm.restart"}, r)) EXPECT_TRUE(x.allowed);
    EXPECT_TRUE(access::decide({}, Plan{}).empty());
}

// The rows on both backends.
class AccessStoreTest : public store_test::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, AccessStoreTest,
                         ::testing::Values(sql::Backend::sqlite, sql::Backend::postgresql),
                         store_test::backend_name);

TEST_P(AccessStoreTest, CatalogRolesAndUsers) {
    auto db = Database::open(target("a"));
    AccessStore s(*db);
    EXPECT_FALSE(s.any_user());
    EXPECT_TRUE(s.users().empty());
    s.sync_catalog({{"vm.start", "start"}, {"vm.stop", "stop"}, {"rbac.admin", "x"}},
                   {{"admin", {"vm.start", "vm.stop", "rbac.admin"}}, {"viewer", {}}});
    // Again: idempotent, and a built-in role's list is set exactly.
    s.sync_catalog({{"vm.start", "start VMs"}, {"vm.stop", "stop"}, {"rbac.admin", "x"}},
                   {{"admin", {"vm.start", "rbac.admin"}}, {"viewer", {}}});
    EXPECT_EQ(s.role_permissions("admin"), (std::vector<std::string>{"rbac.admin", "vm.start"}));
    EXPECT_EQ(db->db()
                  .execAndGet("SELECT description FROM permissions WHERE action='vm.start'")
                  .getString(),
              "start VMs");
    s.create_role("starter", {"vm.start"});
    EXPECT_THROW(s.create_role("starter", {}), Error);
    s.grant("starter", {"vm.stop", "vm.start"});
    EXPECT_EQ(s.role_permissions("starter"), (std::vector<std::string>{"vm.start", "vm.stop"}));
    s.revoke("starter", {"vm.start"});
    EXPECT_EQ(s.role_permissions("starter"), (std::vector<std::string>{"vm.stop"}));
    EXPECT_THROW(s.grant("starter", {"vm.fly"}), Error);
    EXPECT_THROW(s.grant("nobody", {"vm.stop"}), Error);
    EXPECT_TRUE(s.set_user("alice", "admin"));
    EXPECT_TRUE(s.set_user("bob", "starter"));
    EXPECT_FALSE(s.set_user("bob", "viewer")); // changed, not inserted
    EXPECT_THROW(s.set_user("carol", "nobody"), Error);
    EXPECT_TRUE(s.any_user());
    ASSERT_EQ(s.users().size(), 2u);
    EXPECT_EQ(s.user("bob")->role, "viewer");
    EXPECT_FALSE(s.user("carol"));
    EXPECT_EQ(s.roles(), (std::vector<std::string>{"admin", "starter", "viewer"}));
    s.delete_role("starter");
    EXPECT_FALSE(s.role_exists("starter"));
    EXPECT_TRUE(s.remove_user("bob"));
    EXPECT_FALSE(s.remove_user("bob"));
    EXPECT_EQ(s.session_user().empty(), !pg());
}

// The commands on a SQLite file: open mode, the first admin, denials with their audit entry.
TEST(AccessCli, OpenModeFirstAdminAndDenials) {
    store_test::TempDir tmp;
    std::string db = "--db " + tmp.file("a.db") + " ";
    auto perms = run_cli("role permissions");
    EXPECT_EQ(perms.rc, 0);
    EXPECT_NE(perms.out.find("vm.restart"), std::string::npos) << perms.out;
    EXPECT_NE(perms.out.find("rbac.admin"), std::string::npos) << perms.out;
    // Open mode: anyone may do anything; the first user must be an admin.
    auto first = run_cli(db + "user add bob --role operator");
    EXPECT_EQ(first.rc, 1) << first.out;
    EXPECT_NE(first.out.find("first user must be an admin"), std::string::npos) << first.out;
    auto ul = run_cli(db + "user list");
    EXPECT_NE(ul.out.find("open mode"), std::string::npos) << ul.out;
    ASSERT_EQ(run_cli(db + "user add alice --role admin --actor alice").rc, 0);
    // Now bob (no user) may not add users, nor make himself one.
    auto self = run_cli(db + "user add bob --role admin --actor bob");
    EXPECT_EQ(self.rc, 1) << self.out;
    EXPECT_NE(self.out.find("rbac.admin"), std::string::npos) << self.out;
    EXPECT_NE(self.out.find("an admin (alice)"), std::string::npos) << self.out;
    ASSERT_EQ(run_cli(db + "user add bob --role viewer --actor alice").rc, 0);
    // A viewer may not load; the message names the permission and the admins.
    fs::create_directories(tmp.path() / "specs");
    std::ofstream(tmp.path() / "specs" / "h.yaml")
        << "kind: Host\nname: local\nuri: test:///default\n";
    std::string specs = (tmp.path() / "specs").string();
    auto load = run_cli(db + "load " + specs + " --actor bob");
    EXPECT_EQ(load.rc, 1) << load.out;
    EXPECT_NE(load.out.find("spec.load"), std::string::npos) << load.out;
    EXPECT_NE(load.out.find("alice"), std::string::npos) << load.out;
    auto dbh = Database::open(tmp.file("a.db"));
    EXPECT_EQ(dbh->db().execAndGet("SELECT count(*) FROM hosts").getInt64(), 0)
        << "nothing was loaded";
    auto rows = Store(*dbh).audit_rows("", "", "");
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows.back().actor, "bob");
    EXPECT_EQ(rows.back().action, "denied:spec.load");
    EXPECT_FALSE(rows.back().timestamp.empty());
    // The entry links to bob's users row.
    EXPECT_EQ(dbh->db()
                  .execAndGet("SELECT u.username FROM audit_log a JOIN users u ON u.id = "
                              "a.user_id ORDER BY a.id DESC LIMIT 1")
                  .getString(),
              "bob");
    // Plan given paths loads first: denied the same way. db migrate needs db.admin.
    auto plan = run_cli(db + "plan " + specs + " --actor bob");
    EXPECT_EQ(plan.rc, 1) << plan.out;
    auto mig = run_cli(db + "db migrate", "VIRTUMANCER_ACTOR=bob ");
    EXPECT_EQ(mig.rc, 1) << mig.out;
    EXPECT_NE(mig.out.find("db.admin"), std::string::npos) << mig.out;
    EXPECT_EQ(run_cli(db + "db migrate", "VIRTUMANCER_ACTOR=alice ").rc, 0);
    // db copy needs db.admin on the source too; nothing is written to the target.
    auto copy = run_cli(db + "db copy --to " + tmp.file("copy-bob.db"), "VIRTUMANCER_ACTOR=bob ");
    EXPECT_EQ(copy.rc, 1) << copy.out;
    EXPECT_NE(copy.out.find("db copy denied"), std::string::npos) << copy.out;
    EXPECT_NE(copy.out.find("db.admin"), std::string::npos) << copy.out;
    EXPECT_FALSE(fs::exists(tmp.file("copy-bob.db")));
    EXPECT_EQ(
        run_cli(db + "db copy --to " + tmp.file("copy-alice.db"), "VIRTUMANCER_ACTOR=alice ").rc,
        0);
    // An operator may load; the last admin cannot be removed or demoted.
    ASSERT_EQ(run_cli(db + "user add bob --role operator --actor alice").rc, 0);
    EXPECT_EQ(run_cli(db + "load " + specs + " --actor bob").rc, 0);
    EXPECT_EQ(run_cli(db + "user remove alice --actor alice").rc, 1);
    EXPECT_EQ(run_cli(db + "user add alice --role viewer --actor alice").rc, 1);
    // Custom roles: built-in ones are fixed, unknown permissions refused.
    EXPECT_EQ(run_cli(db + "role grant operator vm.delete --actor alice").rc, 1);
    EXPECT_EQ(run_cli(db + "role create fly --allow vm.fly --actor alice").rc, 1);
    ASSERT_EQ(run_cli(db + "role create starter --allow vm.start --actor alice").rc, 0);
    ASSERT_EQ(run_cli(db + "role grant starter vm.stop --actor alice").rc, 0);
    auto rl = run_cli(db + "role list");
    EXPECT_NE(rl.out.find("starter: vm.start vm.stop"), std::string::npos) << rl.out;
    EXPECT_NE(rl.out.find("viewer (built-in)"), std::string::npos) << rl.out;
    auto st = run_cli(db + "db status");
    EXPECT_NE(st.out.find("access control: on (2 users; admins: alice)"), std::string::npos)
        << st.out;
}
