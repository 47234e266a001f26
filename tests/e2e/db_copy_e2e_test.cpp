// `db copy` against the real libvirtd (issue 14): state applied from a SQLite file, copied to
// PostgreSQL, keeps its ownership and history: another runner in another directory planning
// against the server finds nothing to do and sees the file's tasks and audit entries.
#include <filesystem>
#include <fstream>

#include "../unit/store_test_util.hpp"
#include "e2e_util.hpp"

namespace {

namespace fs = std::filesystem;
using virtumancer::testing_util::run_cli;

const std::string kVm = "vmr-e2e-copy-vm";

void cleanup() {
    std::system(("virsh -c qemu:///system destroy " + kVm +
                 " >/dev/null 2>&1; virsh -c qemu:///system undefine " + kVm +
                 " --nvram >/dev/null 2>&1")
                    .c_str());
}

} // namespace

TEST(DbCopyE2e, SqliteStateCopiedToPostgresKeepsOwnershipAndHistory) {
    std::unique_ptr<virtumancer::Hypervisor> hv;
    VMR_E2E_CONNECT_OR_SKIP(hv);
    std::string admin = store_test::pg_test_uri();
    std::unique_ptr<virtumancer::sql::Connection> pg;
    VMR_PG_CONNECT_OR_SKIP(pg, admin);
    const std::string schema = "vmr_e2e_copy";
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    pg->exec("CREATE SCHEMA " + schema);
    const std::string uri = store_test::pg_schema_uri(admin, schema);
    const std::string pgdb = "'" + uri + "'";
    cleanup();
    store_test::TempDir a, b;
    fs::create_directories(a.path() / "specs");
    std::ofstream(a.path() / "specs" / "vm.yaml")
        << "kind: Host\nname: local\nuri: qemu:///system\n---\nkind: VirtualMachine\nname: " << kVm
        << "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
           "state: shutoff\n";
    auto in = [](store_test::TempDir& d, const std::string& args) {
        return run_cli(args, "cd " + d.path().string() + " && ");
    };
    // The file: load and apply.
    auto ap = in(a, "--db state.db apply specs --auto-approve");
    ASSERT_EQ(ap.rc, 0) << ap.out;
    int st = -1;
    auto state = virtumancer::testing_util::run_shell(
        "virsh -c qemu:///system domstate " + kVm + " 2>&1", &st);
    ASSERT_EQ(st, 0) << state;
    auto before = in(a, "--db state.db tasks --json");
    ASSERT_EQ(before.rc, 0) << before.out;

    // Copied to the server.
    auto cp = in(a, "--db state.db db copy --to " + pgdb);
    ASSERT_EQ(cp.rc, 0) << cp.out;
    EXPECT_NE(cp.out.find("verified"), std::string::npos) << cp.out;

    // Another runner, another directory, only the server: nothing to do.
    auto plan = in(b, "--db " + pgdb + " plan --detailed-exitcode");
    EXPECT_EQ(plan.rc, 0) << plan.out;
    EXPECT_EQ(plan.out.find("another virtumancer database"), std::string::npos) << plan.out;
    // The file's history, on the server.
    auto tasks = in(b, "--db " + pgdb + " tasks --json");
    EXPECT_EQ(tasks.rc, 0) << tasks.out;
    EXPECT_EQ(tasks.out, before.out); // the same tasks, ids and times
    EXPECT_NE(tasks.out.find(kVm), std::string::npos) << tasks.out;
    EXPECT_NE(tasks.out.find("COMPLETED"), std::string::npos) << tasks.out;
    auto audit = in(b, "--db " + pgdb + " audit --target vm/" + kVm);
    EXPECT_EQ(audit.rc, 0) << audit.out;
    EXPECT_NE(audit.out.find("vm.define"), std::string::npos) << audit.out;
    // A second copy into the now-used server is refused.
    auto again = in(a, "--db state.db db copy --to " + pgdb);
    EXPECT_EQ(again.rc, 1) << again.out;
    EXPECT_NE(again.out.find("not empty"), std::string::npos) << again.out;
    // The runner on the server wrote no file.
    for (const auto& e : fs::directory_iterator(b.path())) ADD_FAILURE() << e.path();
    cleanup();
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}
