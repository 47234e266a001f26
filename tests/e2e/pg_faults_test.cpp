// Faults of shared state on PostgreSQL against the real libvirtd (issue 14): runners in
// separate directories and processes on one database. Concurrent applies serialise on the
// server's lock; a runner killed with SIGKILL (recorded as another machine) frees the lock at
// once and the next run interrupts its tasks and converges; a connection cut mid-apply makes
// apply exit 1 saying so, records nothing it did not do, and the next run converges.
#include <fcntl.h>

#include <regex>
#include <set>

#include "../unit/store_test_util.hpp"
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;
using virtumancer::testing_util::secs_since;

const std::string kPrefix = "vmr-e2e-pgf-";
const std::string kVm = "vmr-e2e-pgf-vm";
const std::string kLater = "vmr-e2e-pgf-later";
const std::string kSchema = "vmr_e2e_pgf";
const std::string kElsewhere = "vmr-e2e-pgf-elsewhere"; // the killed runner's machine

std::string host_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n";
}

// A diskless VM: it boots into SeaBIOS and ignores ACPI, so a shutdown waits the whole
// timeout and then forces it off (or fails, without force_stop).
std::string vm_yaml(const std::string& name, const std::string& state, bool force = true,
                    int timeout = 4) {
    return "---\nkind: VirtualMachine\nname: " + name +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
           "acpi: true\nstate: " +
           state + "\nforce_stop: " + (force ? "true" : "false") +
           "\nshutdown_timeout: " + std::to_string(timeout) + "\n";
}

std::string this_hostname() {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

class PgFaults : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        admin_uri_ = store_test::pg_test_uri();
        VMR_PG_CONNECT_OR_SKIP(admin_, admin_uri_);
        admin_->exec("DROP SCHEMA IF EXISTS " + kSchema + " CASCADE");
        admin_->exec("CREATE SCHEMA " + kSchema);
        db_ = uri_named("virtumancer");
        cleanup(kPrefix);
        for (auto* d : {&a_, &b_}) fs::create_directories(d->path() / "specs");
        ready_ = true;
    }
    void TearDown() override {
        if (!ready_) return;
        if (HasFailure())
            std::cerr << "tasks:\n"
                      << rows("SELECT id, run_id, type, target_name, status, hostname, pid, "
                              "started_at, finished_at FROM tasks ORDER BY id")
                      << "\n";
        cleanup(kPrefix);
        db_conn_.reset();
        try {
            admin_->exec("DROP SCHEMA IF EXISTS " + kSchema + " CASCADE");
        } catch (...) { // safe: the next run drops it first
        }
    }

    // The database's URI; application_name names the runner's sessions on the server.
    std::string uri_named(const std::string& app) const {
        return store_test::pg_schema_uri(admin_uri_, kSchema) + "&application_name=" + app;
    }

    void write_specs(store_test::TempDir& d, const std::string& yaml) {
        std::ofstream(d.path() / "specs" / "fleet.yaml") << yaml;
    }

    // argv of the binary on the database (`uri`, default db_); `machine` non-empty: run in a
    // UTS namespace of its own with that hostname, as a runner on another machine.
    std::vector<std::string> cmd(const std::vector<std::string>& args, std::string uri = "",
                                 const std::string& machine = "") const {
        std::vector<std::string> v;
        if (!machine.empty())
            v = {"unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", machine};
        v.push_back(VIRTUMANCER_BINARY);
        v.push_back("--db");
        v.push_back(uri.empty() ? db_ : uri);
        v.insert(v.end(), args.begin(), args.end());
        return v;
    }

    // Starts argv in directory `dir` (stdin /dev/null, stdout+stderr to `log`); the pid is
    // the binary's own (exec, no shell in between unless `machine` was given).
    pid_t spawn(const fs::path& dir, std::vector<std::string> argv, const std::string& log) {
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        std::string d = dir.string();
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(d.c_str()) != 0) _exit(126);
            int in = open("/dev/null", O_RDONLY);
            int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (in < 0 || out < 0) _exit(126);
            dup2(in, 0);
            dup2(out, 1);
            dup2(out, 2);
            execvp(a[0], a.data());
            _exit(127);
        }
        return pid;
    }

    static int wait_code(pid_t pid, int* raw = nullptr) {
        int st = 0;
        waitpid(pid, &st, 0);
        if (raw) *raw = st;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }

    Result run_in(store_test::TempDir& d, const std::vector<std::string>& argv) {
        std::string log = (d.path() / "run.log").string();
        Result r;
        r.code = wait_code(spawn(d.path(), argv, log));
        r.out = slurp(log);
        return r;
    }

    static std::string slurp(const std::string& path) {
        std::ifstream f(path);
        std::ostringstream os;
        os << f.rdbuf();
        return os.str();
    }

    // Queries on the test's database (a connection of the test's own).
    virtumancer::sql::Connection& conn() {
        if (!db_conn_)
            db_conn_ = virtumancer::sql::open_postgres_connection(uri_named("vmr-e2e-pgf-test"), 5);
        return *db_conn_;
    }
    long long num(const std::string& q) { return conn().execAndGet(q).getInt64(); }
    std::string str(const std::string& q) { return conn().execAndGet(q).getString(); }
    std::string rows(const std::string& q) {
        std::string out;
        try {
            virtumancer::sql::Statement s(conn(), q);
            while (s.executeStep()) {
                for (int i = 0; i < 9; ++i) out += (i ? "|" : "") + s.getColumn(i).getString();
                out += "\n";
            }
        } catch (const std::exception& e) {
            out += e.what();
        }
        return out;
    }

    // Polls (up to 60 s) until the apply waits in the shutdown of kVm (its task RUNNING).
    bool shutdown_running() {
        for (int i = 0; i < 600; ++i) {
            if (num("SELECT count(*) FROM tasks WHERE status='RUNNING' AND type='vm.shutdown'") > 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    // Sessions of the server whose application_name is `app`.
    long long sessions(const std::string& app) {
        return num("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'");
    }

    // No two runs' tasks interleave: ordered by their first task, each run started its first
    // task after the run before had finished its last, and task ids do not overlap either.
    void expect_runs_do_not_interleave() {
        virtumancer::sql::Statement s(
            conn(), "SELECT run_id, min(id), max(id), min(started_at), max(finished_at), "
                    "count(*) FROM tasks GROUP BY run_id ORDER BY min(id)");
        std::string prev_run, prev_end;
        long long prev_max = 0;
        while (s.executeStep()) {
            std::string run = s.getColumn(0).getString();
            long long lo = s.getColumn(1).getInt64(), hi = s.getColumn(2).getInt64();
            std::string start = s.getColumn(3).getString(), end = s.getColumn(4).getString();
            if (!prev_run.empty()) {
                EXPECT_GT(lo, prev_max) << run << " interleaves with " << prev_run;
                EXPECT_GE(start, prev_end) << run << " started before " << prev_run << " ended";
            }
            prev_run = run;
            prev_end = end;
            prev_max = hi;
        }
    }

    bool defined(const std::string& name) {
        std::string all = virsh("list --all --name");
        std::istringstream is(all);
        std::string line;
        while (std::getline(is, line))
            if (line == name) return true;
        return false;
    }

    // Applies kVm running from runner A (the starting point of every test).
    void start_running_vm() {
        write_specs(a_, host_yaml() + vm_yaml(kVm, "running"));
        Result r = run_in(a_, cmd({"apply", "--auto-approve", "--actor", "runner-a", "specs"}));
        ASSERT_EQ(r.code, 0) << r.out;
        ASSERT_TRUE(contains(virsh("domstate " + kVm), "running"));
    }

    std::string admin_uri_, db_;
    std::unique_ptr<virtumancer::sql::Connection> admin_, db_conn_;
    store_test::TempDir a_, b_;
    bool ready_ = false;
};

// Two applies of the same change started at the same moment from two directories: one holds
// the lock, the other waits (its message names the holder's actor, machine, pid and start
// time), then finds nothing left to do. The change ran once; the history has no interleaving.
TEST_F(PgFaults, ConcurrentAppliesSerialiseAndTheSecondFindsNoChanges) {
    start_running_vm();
    long long before = num("SELECT coalesce(max(id), 0) FROM tasks");
    std::string change = host_yaml() + vm_yaml(kVm, "shutoff") + vm_yaml(kLater, "shutoff");
    write_specs(a_, change);
    write_specs(b_, change);
    std::string la = (a_.path() / "a.log").string(), lb = (b_.path() / "b.log").string();
    auto args = [](const std::string& actor) {
        return std::vector<std::string>{
            "apply", "--auto-approve", "--actor", actor,  "--lock-timeout",
            "120",   "--parallelism",  "1",       "specs"};
    };
    pid_t pa = spawn(a_.path(), cmd(args("runner-a")), la);
    pid_t pb = spawn(b_.path(), cmd(args("runner-b")), lb);
    int ca = wait_code(pa), cb = wait_code(pb);
    std::string oa = slurp(la), ob = slurp(lb);
    ASSERT_EQ(ca, 0) << oa;
    ASSERT_EQ(cb, 0) << ob;

    // Exactly one waited, and its message names the other as the holder.
    bool a_waited = contains(oa, "waiting up to"), b_waited = contains(ob, "waiting up to");
    ASSERT_NE(a_waited, b_waited) << "A:\n" << oa << "\nB:\n" << ob;
    const std::string& waiter = a_waited ? oa : ob;
    const std::string& holder = a_waited ? ob : oa;
    std::string holder_actor = a_waited ? "runner-b" : "runner-a";
    pid_t holder_pid = a_waited ? pb : pa;
    std::regex who("waiting up to 120s for the apply lock \\(actor " + holder_actor + ", pid " +
                   std::to_string(holder_pid) + " on host " + this_hostname() +
                   ", since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d");
    EXPECT_TRUE(std::regex_search(waiter, who)) << waiter;
    // The holder applied; the waiter planned after it and found the state converged.
    EXPECT_TRUE(contains(waiter, "No changes.")) << waiter;
    EXPECT_FALSE(contains(holder, "No changes.")) << holder;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    EXPECT_TRUE(defined(kLater));

    // The change ran once, by one run: one shutdown, one define, all completed.
    std::string since = " AND id > " + std::to_string(before);
    EXPECT_EQ(num("SELECT count(DISTINCT run_id) FROM tasks WHERE 1=1" + since), 1);
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE type='vm.shutdown'" + since), 1);
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE type='vm.define' AND target_name='" + kLater +
                  "'" + since),
              1);
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE status <> 'COMPLETED'"), 0);
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE actor='" + holder_actor + "'" + since),
              num("SELECT count(*) FROM tasks WHERE 1=1" + since));
    EXPECT_EQ(num("SELECT count(*) FROM audit_log WHERE action='vm.shutdown'"), 1);
    expect_runs_do_not_interleave();
    EXPECT_EQ(num("SELECT count(*) FROM apply_lock"), 0);
    for (auto* d : {&a_, &b_}) {
        Result p = run_in(*d, cmd({"plan", "--detailed-exitcode"}));
        EXPECT_EQ(p.code, 0) << p.out;
    }
}

// With a short --lock-timeout the second apply gives up: exit 1, the holder named (actor,
// machine, pid, start time), nothing recorded by it; the first finishes undisturbed.
TEST_F(PgFaults, ASecondApplyWithAShortLockTimeoutFailsNamingTheHolder) {
    start_running_vm();
    std::string change = host_yaml() + vm_yaml(kVm, "shutoff");
    write_specs(a_, change);
    write_specs(b_, change);
    std::string la = (a_.path() / "a.log").string();
    pid_t pa =
        spawn(a_.path(), cmd({"apply", "--auto-approve", "--actor", "runner-a", "specs"}), la);
    ASSERT_TRUE(shutdown_running()) << slurp(la);
    auto t0 = std::chrono::steady_clock::now();
    Result b = run_in(b_, cmd({"apply", "--auto-approve", "--actor", "runner-b", "--lock-timeout",
                               "1", "specs"}));
    double took = secs_since(t0);
    EXPECT_EQ(b.code, 1) << b.out;
    EXPECT_GE(took, 1.0) << b.out;
    EXPECT_LT(took, 10.0) << b.out;
    std::regex who("another apply holds the lock on this database \\(actor runner-a, pid " +
                   std::to_string(pa) + " on host " + this_hostname() +
                   ", since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[^)]*\\); waited 1s");
    EXPECT_TRUE(std::regex_search(b.out, who)) << b.out;
    EXPECT_TRUE(contains(b.out, "--lock-timeout")) << b.out; // the remedy
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE actor='runner-b'"), 0);
    EXPECT_EQ(str("SELECT actor FROM apply_lock"), "runner-a"); // B did not disturb it
    int ca = wait_code(pa);
    EXPECT_EQ(ca, 0) << slurp(la);
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE status <> 'COMPLETED'"), 0);
    Result p = run_in(b_, cmd({"plan", "--detailed-exitcode"}));
    EXPECT_EQ(p.code, 0) << p.out;
}

// A runner on another machine (its own hostname) is killed with SIGKILL while it waits for a
// guest to shut down: no cleanup runs, its task stays RUNNING and its apply_lock row stays.
// The server ends its session at once, so the lock is free: a runner here applies with
// --lock-timeout 0, takes over, marks the killed run's task INTERRUPTED (its pid means nothing
// on this machine: the free lock is the proof) and converges.
TEST_F(PgFaults, ARunnerKilledOnAnotherMachineFreesTheLockAtOnceAndTheOtherConverges) {
    // Another machine's hostname through a UTS namespace of its own (needs root, as the e2e
    // tests on qemu:///system do).
    if (sh("unshare --uts true").code != 0)
        GTEST_SKIP() << "unshare --uts is not permitted here: run the e2e tests as root";
    start_running_vm();
    write_specs(a_, host_yaml() + vm_yaml(kVm, "shutoff", /*force=*/false, /*timeout=*/120) +
                        vm_yaml(kLater, "running"));
    std::string la = (a_.path() / "a.log").string();
    pid_t pa =
        spawn(a_.path(),
              cmd({"apply", "--auto-approve", "--actor", "runner-a", "--parallelism", "1", "specs"},
                  uri_named("vmr-e2e-pgf-killed"), kElsewhere),
              la);
    ASSERT_TRUE(shutdown_running()) << slurp(la);
    // The killed run is recorded as another machine's.
    EXPECT_EQ(str("SELECT hostname FROM tasks WHERE status='RUNNING'"), kElsewhere);
    EXPECT_EQ(str("SELECT hostname FROM apply_lock"), kElsewhere);
    ASSERT_GE(sessions("vmr-e2e-pgf-killed"), 1);

    // unshare and sh exec: pa is the binary itself.
    auto t0 = std::chrono::steady_clock::now();
    kill(pa, SIGKILL);
    int raw = 0;
    wait_code(pa, &raw);
    ASSERT_TRUE(WIFSIGNALED(raw)) << slurp(la);
    // The server drops the session (and with it the lock) at once.
    while (sessions("vmr-e2e-pgf-killed") > 0 && secs_since(t0) < 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    double freed = secs_since(t0);
    EXPECT_LT(freed, 2.0) << "the killed runner's session outlived it";
    ASSERT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 1);
    ASSERT_EQ(num("SELECT count(*) FROM apply_lock"), 1) << "the killed run left its row";
    long long killed_task = num("SELECT id FROM tasks WHERE status='RUNNING'");
    EXPECT_FALSE(defined(kLater)); // killed before its step

    // Runner B, this machine: no waiting at all, force_stop now so the guest stops in 1 s.
    write_specs(b_, host_yaml() + vm_yaml(kVm, "shutoff", true, 1) + vm_yaml(kLater, "running"));
    Result b = run_in(b_, cmd({"apply", "--auto-approve", "--actor", "runner-b", "--lock-timeout",
                               "0", "specs"}));
    EXPECT_EQ(b.code, 0) << b.out;
    EXPECT_FALSE(contains(b.out, "another apply holds the lock")) << b.out;
    EXPECT_TRUE(contains(b.out, "took over the apply lock")) << b.out;
    EXPECT_TRUE(contains(b.out, "marked 1 task(s) left RUNNING")) << b.out;
    EXPECT_EQ(str("SELECT status FROM tasks WHERE id=" + std::to_string(killed_task)),
              "INTERRUPTED");
    EXPECT_EQ(str("SELECT hostname FROM tasks WHERE id=" + std::to_string(killed_task)),
              kElsewhere);
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_EQ(num("SELECT count(*) FROM apply_lock"), 0);
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    EXPECT_TRUE(contains(virsh("domstate " + kLater), "running"));
    expect_runs_do_not_interleave();
    for (auto* d : {&a_, &b_}) {
        write_specs(*d,
                    host_yaml() + vm_yaml(kVm, "shutoff", true, 1) + vm_yaml(kLater, "running"));
        Result p = run_in(*d, cmd({"plan", "--detailed-exitcode", "specs"}));
        EXPECT_EQ(p.code, 0) << p.out;
    }
}

// The server ends the applying session (pg_terminate_backend from another connection) while
// it waits for a guest to shut down: apply exits 1 saying the database connection was lost and
// what to do; the shutdown it completed is reported as not recorded (its task stays RUNNING),
// and the step after it never ran. The next run marks the task INTERRUPTED and converges.
TEST_F(PgFaults, AConnectionLostMidApplyExitsOneSayingSoAndTheNextRunConverges) {
    start_running_vm();
    std::string change =
        host_yaml() + vm_yaml(kVm, "shutoff", true, 5) + vm_yaml(kLater, "shutoff");
    write_specs(a_, change);
    write_specs(b_, change);
    std::string la = (a_.path() / "a.log").string();
    pid_t pa =
        spawn(a_.path(),
              cmd({"apply", "--auto-approve", "--actor", "runner-a", "--parallelism", "1", "specs"},
                  uri_named("vmr-e2e-pgf-cut")),
              la);
    ASSERT_TRUE(shutdown_running()) << slurp(la);
    EXPECT_GE(num("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                  "application_name = 'vmr-e2e-pgf-cut'"),
              1);
    auto t0 = std::chrono::steady_clock::now();
    int ca = wait_code(pa);
    double took = secs_since(t0);
    std::string out = slurp(la);
    EXPECT_EQ(ca, 1) << out;
    EXPECT_LT(took, 30.0) << out;
    EXPECT_TRUE(contains(out, "the connection to the database was lost during the apply")) << out;
    EXPECT_TRUE(contains(out, "lost the connection to PostgreSQL at 127.0.0.1:")) << out;
    EXPECT_TRUE(contains(out, "run the same `virtumancer apply` again")) << out;
    // The shutdown was done on the host but could not be recorded: said, not silent.
    EXPECT_TRUE(contains(out, "the action succeeded but recording it failed")) << out;
    std::string password = admin_uri_.substr(admin_uri_.rfind(':', admin_uri_.find('@')) + 1);
    password = password.substr(0, password.find('@'));
    EXPECT_FALSE(contains(out, password)) << "password shown";
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    // Nothing ran unrecorded: the step after it (define kLater) did not run.
    EXPECT_FALSE(defined(kLater)) << out;
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE target_name='" + kLater + "'"), 0);
    ASSERT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING' AND type='vm.shutdown'"), 1);
    long long cut_task = num("SELECT id FROM tasks WHERE status='RUNNING'");

    Result b = run_in(b_, cmd({"apply", "--auto-approve", "--actor", "runner-b", "--lock-timeout",
                               "0", "specs"}));
    EXPECT_EQ(b.code, 0) << b.out;
    EXPECT_TRUE(contains(b.out, "took over the apply lock")) << b.out;
    EXPECT_TRUE(contains(b.out, "marked 1 task(s) left RUNNING")) << b.out;
    EXPECT_EQ(str("SELECT status FROM tasks WHERE id=" + std::to_string(cut_task)), "INTERRUPTED");
    EXPECT_EQ(num("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_TRUE(defined(kLater));
    EXPECT_EQ(num("SELECT count(*) FROM apply_lock"), 0);
    expect_runs_do_not_interleave();
    for (auto* d : {&a_, &b_}) {
        Result p = run_in(*d, cmd({"plan", "--detailed-exitcode"}));
        EXPECT_EQ(p.code, 0) << p.out;
    }
}

} // namespace
