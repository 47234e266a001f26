// Two runners on one PostgreSQL database against the real libvirtd (issue 14): separate
// directories and processes, no shared file. After the first applies, the second plans no
// changes (the owner id is the database's) and both see one task and audit history.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../unit/store_test_util.hpp"
#include "e2e_util.hpp"

namespace {

namespace fs = std::filesystem;
using virtumancer::testing_util::run_cli;

const std::string kVm = "vmr-e2e-pgrun-vm";

std::string specs_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n---\nkind: VirtualMachine\nname: " + kVm +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
           "state: shutoff\n";
}

void cleanup() {
    std::system(("virsh -c qemu:///system destroy " + kVm +
                 " >/dev/null 2>&1; virsh -c "
                 "qemu:///system undefine " +
                 kVm + " --nvram >/dev/null 2>&1")
                    .c_str());
}

} // namespace

TEST(PgRunners, TheSecondRunnerPlansNoChangesAndSharesTheHistory) {
    std::unique_ptr<virtumancer::Hypervisor> hv;
    VMR_E2E_CONNECT_OR_SKIP(hv);
    std::string admin = store_test::pg_test_uri();
    std::unique_ptr<virtumancer::sql::Connection> pg;
    VMR_PG_CONNECT_OR_SKIP(pg, admin);
    const std::string schema = "vmr_e2e_pgrun";
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    pg->exec("CREATE SCHEMA " + schema);
    std::string db = "'" + store_test::pg_schema_uri(admin, schema) + "'";
    cleanup();
    store_test::TempDir a, b;
    for (auto* d : {&a, &b}) {
        fs::create_directories(d->path() / "specs");
        std::ofstream(d->path() / "specs" / "vm.yaml") << specs_yaml();
    }
    auto in = [](store_test::TempDir& d, const std::string& args) {
        return run_cli("--db " + args, "cd " + d.path().string() + " && ");
    };
    // Runner A loads and applies.
    auto la = in(a, db + " load specs");
    ASSERT_EQ(la.rc, 0) << la.out;
    auto ap = in(a, db + " apply --auto-approve --lock-timeout 30");
    ASSERT_EQ(ap.rc, 0) << ap.out;
    int st = -1;
    auto state = virtumancer::testing_util::run_shell(
        "virsh -c qemu:///system domstate " + kVm + " 2>&1", &st);
    EXPECT_EQ(st, 0) << state; // A defined it
    // Runner B, another directory, the same database: loads the same specs, plans nothing.
    auto lb = in(b, db + " load specs");
    EXPECT_EQ(lb.rc, 0) << lb.out;
    auto pb = in(b, db + " plan --detailed-exitcode");
    EXPECT_EQ(pb.rc, 0) << pb.out;
    EXPECT_EQ(pb.out.find("another virtumancer database"), std::string::npos) << pb.out;
    // One history: B sees A's define task and audit entry.
    auto tb = in(b, db + " tasks --json");
    EXPECT_EQ(tb.rc, 0) << tb.out;
    EXPECT_NE(tb.out.find(kVm), std::string::npos) << tb.out;
    EXPECT_NE(tb.out.find("COMPLETED"), std::string::npos) << tb.out;
    auto ab = in(b, db + " audit --target vm/" + kVm);
    EXPECT_EQ(ab.rc, 0) << ab.out;
    EXPECT_NE(ab.out.find("vm.define"), std::string::npos) << ab.out;
    // The apply lock is the server's: while another session holds it, B's apply waits
    // --lock-timeout and names the holder; when that session ends, B applies.
    std::string uri = db.substr(1, db.size() - 2);
    auto holder_db = virtumancer::Database::open(uri);
    virtumancer::Store holder(*holder_db);
    ASSERT_FALSE(holder.try_lock("holder-x").has_value());
    auto blocked = in(b, db + " apply --auto-approve --lock-timeout 1");
    EXPECT_EQ(blocked.rc, 1) << blocked.out;
    EXPECT_NE(blocked.out.find("holder-x"), std::string::npos) << blocked.out;
    EXPECT_NE(blocked.out.find("pid " + std::to_string(getpid())), std::string::npos)
        << blocked.out;
    holder_db.reset(); // the session ends without unlocking (as a killed runner's would)
    auto freed = in(b, db + " apply --auto-approve --lock-timeout 10");
    EXPECT_EQ(freed.rc, 0) << freed.out;
    // Neither directory holds a database file.
    for (auto* d : {&a, &b})
        for (const auto& e : fs::directory_iterator(d->path()))
            EXPECT_TRUE(e.path().filename() == "specs") << e.path();
    cleanup();
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}
