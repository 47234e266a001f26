// A PostgreSQL server that stops answering in the middle of an apply (issue 14: a hung host
// hangs nothing), against the real libvirtd and the test server: the backend serving the
// apply is stopped (SIGSTOP; only that backend, never the postmaster: the server is shared).
// The apply exits 1 within --db-timeout (plus the shutdown it was waiting for), naming host and
// port and not the password; once the backend runs again the next apply takes over, marks the
// task left RUNNING as INTERRUPTED and converges; the VM and the data on its disk survive.
#include <signal.h>
#include <sys/wait.h>

#include <vector>

#include "../unit/store_test_util.hpp"
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;
using virtumancer::testing_util::secs_since;
namespace sql = virtumancer::sql;
using virtumancer::testing_util::slurp;

const std::string kPrefix = "vmr-e2e-pgsilent-";
const std::string kVm = "vmr-e2e-pgsilent-vm";
const std::string kLater = "vmr-e2e-pgsilent-later";
const std::string kPool = "vmr-e2e-pgsilent-pool";
const std::string kVol = "vmr-e2e-pgsilent-root.img";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-pgsilent-pool";
const std::string kSchema = "vmr_e2e_pgsilent";
const std::string kApp = "vmr-e2e-pgsilent-apply"; // application_name of the stopped apply
const std::string kMarker = "vmr-e2e-pgsilent data that must survive";

std::string infra_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n"
           "---\nkind: StoragePool\nname: " +
           kPool + "\nhost: local\ntype: dir\npath: " + kPoolDir +
           "\n"
           "---\nkind: Volume\nname: " +
           kVol + "\nhost: local\npool: " + kPool + "\ncapacity: 16MiB\nformat: raw\n";
}

// A VM booting from an empty disk: it idles in the firmware and ignores ACPI, so a shutdown
// waits `timeout` seconds and then forces it off.
std::string vm_yaml(const std::string& name, const std::string& state, bool disk, int timeout) {
    std::string y = "---\nkind: VirtualMachine\nname: " + name +
                    "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
                    "acpi: true\nstate: " +
                    state + "\nforce_stop: true\nshutdown_timeout: " + std::to_string(timeout) +
                    "\n";
    if (disk) y += "disks:\n  - pool: " + kPool + "\n    volume: " + kVol + "\n    target: vda\n";
    return y;
}

class PgSilent : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        admin_uri_ = store_test::pg_test_uri();
        VMR_PG_CONNECT_OR_SKIP(admin_, admin_uri_);
        admin_->exec("DROP SCHEMA IF EXISTS " + kSchema + " CASCADE");
        admin_->exec("CREATE SCHEMA " + kSchema);
        cleanup(kPrefix);
        sh("rm -rf " + quote(kPoolDir));
        ready_ = true;
    }
    void TearDown() override {
        if (!ready_) return;
        resume(); // never leave a backend of the shared server stopped
        if (HasFailure()) std::cerr << "tasks:\n" << rows() << "\n";
        cleanup(kPrefix);
        sh("rm -rf " + quote(kPoolDir));
        db_conn_.reset();
        try {
            admin_->exec("DROP SCHEMA IF EXISTS " + kSchema + " CASCADE");
        } catch (...) { // safe: the next run drops it first
        }
    }

    std::string uri(const std::string& app) const {
        return store_test::pg_schema_uri(admin_uri_, kSchema) + "&application_name=" + app;
    }
    std::string password() const {
        std::string p = admin_uri_.substr(admin_uri_.rfind(':', admin_uri_.find('@')) + 1);
        return p.substr(0, p.find('@'));
    }
    std::string port() const {
        auto at = admin_uri_.find('@');
        auto colon = admin_uri_.find(':', at);
        return admin_uri_.substr(colon + 1, admin_uri_.find('/', colon) - colon - 1);
    }

    void specs(const std::string& yaml) { dir_.write("specs/fleet.yaml", yaml); }
    std::string specs_dir() const { return (dir_.path() / "specs").string(); }

    sql::Connection& conn() {
        if (!db_conn_) db_conn_ = sql::open_postgres_connection(uri("vmr-e2e-pgsilent-test"), 5);
        return *db_conn_;
    }
    long long num(const std::string& q) { return conn().execAndGet(q).getInt64(); }
    std::string str(const std::string& q) { return conn().execAndGet(q).getString(); }
    std::string rows() {
        std::string out;
        try {
            sql::Statement s(conn(), "SELECT id, run_id, type, target_name, status FROM tasks "
                                     "ORDER BY id");
            while (s.executeStep()) {
                for (int i = 0; i < 5; ++i) out += (i ? "|" : "") + s.getColumn(i).getString();
                out += "\n";
            }
        } catch (const std::exception& e) {
            out += e.what();
        }
        return out;
    }
    std::vector<long long> backends(const std::string& app) {
        std::vector<long long> v;
        sql::Statement s(*admin_,
                         "SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "'");
        while (s.executeStep()) v.push_back(s.getColumn(0).getInt64());
        return v;
    }
    void resume() {
        for (long long pid : stopped_) kill(static_cast<pid_t>(pid), SIGCONT);
        stopped_.clear();
    }
    bool shutdown_running() {
        for (int i = 0; i < 600; ++i) {
            if (num("SELECT count(*) FROM tasks WHERE status='RUNNING' AND type='vm.shutdown'") > 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
    std::string disk_file() const { return kPoolDir + "/" + kVol; }
    std::string read_marker() {
        return sh("dd if=" + quote(disk_file()) +
                  " bs=1 skip=1048576 count=" + std::to_string(kMarker.size()) + " status=none")
            .out;
    }

    std::string admin_uri_;
    std::unique_ptr<sql::Connection> admin_, db_conn_;
    std::vector<long long> stopped_;
    TempDir dir_;
    bool ready_ = false;
};

TEST_F(PgSilent, AServerThatStopsAnsweringMidApplyFailsItInTimeAndTheNextRunConverges) {
    // A running VM with a disk holding data.
    specs(infra_yaml() + vm_yaml(kVm, "running", true, 4));
    Result first = vm(uri("vmr-e2e-pgsilent-first"), "apply --auto-approve " + specs_dir());
    ASSERT_EQ(first.code, 0) << first.out;
    ASSERT_TRUE(contains(virsh("domstate " + kVm), "running"));
    ASSERT_EQ(sh("printf %s " + quote(kMarker) + " | dd of=" + quote(disk_file()) +
                 " bs=1 seek=1048576 conv=notrunc status=none")
                  .code,
              0);
    ASSERT_EQ(read_marker(), kMarker);

    // The change: stop it (4 s shutdown, then forced) and define another VM after it.
    std::string change =
        infra_yaml() + vm_yaml(kVm, "shutoff", true, 4) + vm_yaml(kLater, "shutoff", false, 4);
    specs(change);
    std::string log = dir_.file("apply.log");
    pid_t pa = vm_background(
        uri(kApp), "--db-timeout 3 apply --auto-approve --parallelism 1 " + specs_dir(), log);
    ASSERT_TRUE(shutdown_running()) << slurp(log);
    // Stop the backend(s) serving that apply: it is waiting for the guest, so its next
    // statement (recording the shutdown) meets a server that accepts bytes and answers nothing.
    auto pids = backends(kApp);
    ASSERT_FALSE(pids.empty());
    for (long long pid : pids) {
        ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGSTOP), 0) << pid;
        stopped_.push_back(pid);
    }
    auto t0 = std::chrono::steady_clock::now();
    int st = 0;
    // Bounded: an apply that hangs on the stopped server is killed and fails the test.
    while (waitpid(pa, &st, WNOHANG) == 0) {
        if (secs_since(t0) > 90) {
            kill(pa, SIGKILL);
            waitpid(pa, &st, 0);
            FAIL() << "apply still waits for the stopped server after 90 s:\n" << slurp(log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    double took = secs_since(t0);
    std::string out = slurp(log);
    std::cout << "apply exited " << took << " s after the server stopped answering:\n" << out;
    ASSERT_TRUE(WIFEXITED(st)) << out;
    EXPECT_EQ(WEXITSTATUS(st), 1) << out;
    // 4 s shutdown + 3 s silence + at most 3 s for the cancel, with room for a loaded machine.
    EXPECT_LT(took, 30.0) << out;
    EXPECT_GE(took, 2.9) << out;
    EXPECT_TRUE(contains(out, "the connection to the database was lost during the apply")) << out;
    EXPECT_TRUE(contains(out, "lost the connection to PostgreSQL at 127.0.0.1:" + port() +
                                  ": the server did not answer within 3 s"))
        << out;
    EXPECT_TRUE(contains(out, "raise --db-timeout")) << out;
    EXPECT_TRUE(contains(out, "run the same `virtumancer apply` again")) << out;
    EXPECT_FALSE(contains(out, password())) << "password shown";
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    // The step after it did not run.
    EXPECT_FALSE(contains(virsh("list --all --name"), kLater)) << out;

    // The backend runs again: it finds its client gone and ends, freeing the apply lock.
    resume();
    t0 = std::chrono::steady_clock::now();
    while (!backends(kApp).empty() && secs_since(t0) < 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(backends(kApp).empty()) << "the stopped session outlived its client";
    ASSERT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING' AND type='vm.shutdown'"), 1);
    long long cut = num("SELECT id FROM tasks WHERE status='RUNNING'");

    Result next =
        vm(uri("vmr-e2e-pgsilent-next"), "apply --auto-approve --lock-timeout 0 " + specs_dir());
    EXPECT_EQ(next.code, 0) << next.out;
    EXPECT_TRUE(contains(next.out, "took over the apply lock")) << next.out;
    EXPECT_TRUE(contains(next.out, "marked 1 task(s) left RUNNING")) << next.out;
    EXPECT_EQ(str("SELECT status FROM tasks WHERE id=" + std::to_string(cut)), "INTERRUPTED");
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_TRUE(contains(virsh("list --all --name"), kLater));
    Result plan = vm(uri("vmr-e2e-pgsilent-plan"), "plan --detailed-exitcode " + specs_dir());
    EXPECT_EQ(plan.code, 0) << plan.out;
    // Nothing lost: the VM, its volume and the data on it.
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    EXPECT_TRUE(contains(virsh("vol-list " + kPool), kVol));
    EXPECT_EQ(read_marker(), kMarker);
}

} // namespace
