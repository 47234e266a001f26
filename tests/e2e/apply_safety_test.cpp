// apply on the real libvirtd: a stale saved plan is refused, one apply at a time per database
// (fail at once or after --lock-timeout, naming the holder; a dead holder is taken over), and
// an apply killed with SIGKILL mid-way leaves an INTERRUPTED task and converges when re-run.
#include <chrono>

#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-ap-";
const std::string kVm = "vmr-e2e-ap-sv";

std::string host_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n";
}

std::string net_yaml(const std::string& name) {
    return "---\nkind: Network\nname: " + name + "\nhost: local\nmode: isolated\n";
}

// A diskless VM: it boots into SeaBIOS and ignores ACPI, like any guest without an OS.
std::string vm_yaml(const std::string& state, int vcpus_current, bool force, int timeout) {
    return "---\nkind: VirtualMachine\nname: " + kVm +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 2\n"
           "vcpus_current: " +
           std::to_string(vcpus_current) + "\nacpi: true\nstate: " + state +
           "\nforce_stop: " + (force ? "true" : "false") +
           "\nshutdown_timeout: " + std::to_string(timeout) + "\n";
}

class ApplySafety : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        cleanup(kPrefix);
        db_ = dir_.file("v.db");
        specs_ = dir_.file("specs.yaml");
    }
    void TearDown() override { cleanup(kPrefix); }
    void write(const std::string& yaml) { dir_.write("specs.yaml", yaml); }
    Result apply(const std::string& extra = "") {
        return vm(db_, "apply --auto-approve " + extra + " " + quote(specs_));
    }
    int count(const std::string& q) { return std::atoi(sql(db_, q).c_str()); }

    TempDir dir_;
    std::string db_, specs_;
};

TEST_F(ApplySafety, StaleSavedPlanIsRefused) {
    write(host_yaml() + vm_yaml("running", 1, true, 2));
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;

    // A saved plan for a change, then an out-of-band change to the same VM.
    write(host_yaml() + vm_yaml("running", 2, true, 2));
    std::string plan = dir_.file("plan.json");
    r = vm(db_, "plan --out " + quote(plan) + " " + quote(specs_));
    ASSERT_EQ(r.code, 0) << r.out;
    int tasks_before = count("SELECT count(*) FROM tasks");
    ASSERT_TRUE(
        contains(virsh("desc --config --new-desc changed-behind-our-back " + kVm), "updated"));
    r = vm(db_, "apply --auto-approve --plan " + quote(plan));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "saved plan is stale")) << r.out;
    EXPECT_TRUE(contains(r.out, "local/vm/" + kVm + " changed")) << r.out;
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), tasks_before) << "something was executed";
    EXPECT_TRUE(contains(virsh("vcpucount --live --active " + kVm), "1"));

    // A fresh saved plan of the same change applies (the check is not always "stale").
    r = vm(db_, "plan --out " + quote(plan));
    ASSERT_EQ(r.code, 0) << r.out;
    r = vm(db_, "apply --auto-approve --plan " + quote(plan));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(virsh("vcpucount --live --active " + kVm), "2"))
        << virsh("vcpucount " + kVm);
    EXPECT_GT(count("SELECT count(*) FROM tasks"), tasks_before);
}

TEST_F(ApplySafety, SecondApplyFailsNamingTheHolderOrWaitsForTheTimeout) {
    write(host_yaml() + net_yaml("vmr-e2e-ap-lock"));
    Result r = vm(db_, "plan " + quote(specs_)); // creates and loads the database
    ASSERT_EQ(r.code, 0) << r.out;
    std::string host = sh("hostname").out;
    host.erase(host.find_last_not_of("\n") + 1);
    // This test process holds the lock (a live pid on this machine).
    sql(db_, "INSERT INTO apply_lock(id, actor, pid, hostname, since) VALUES(1, "
             "'lock-holder-e2e', " +
                 std::to_string(getpid()) + ", '" + host +
                 "', strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
    auto t0 = std::chrono::steady_clock::now();
    r = apply();
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "lock-holder-e2e")) << r.out;
    EXPECT_TRUE(contains(r.out, "pid " + std::to_string(getpid()))) << r.out;
    EXPECT_TRUE(contains(r.out, host)) << r.out;
    EXPECT_LT(took, 5.0);

    t0 = std::chrono::steady_clock::now();
    r = apply("--lock-timeout 2");
    took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "lock-holder-e2e")) << r.out;
    EXPECT_GE(took, 2.0);
    EXPECT_LT(took, 8.0);
    EXPECT_FALSE(contains(virsh("net-list --all --name"), "vmr-e2e-ap-lock"))
        << "an apply ran without the lock";

    // A holder that died is taken over, with a warning, and the lock is released after.
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, nullptr, 0);
    sql(db_, "UPDATE apply_lock SET pid = " + std::to_string(dead));
    r = apply();
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "took over")) << r.out;
    EXPECT_TRUE(contains(virsh("net-list --all --name"), "vmr-e2e-ap-lock"));
    EXPECT_EQ(sql(db_, "SELECT count(*) FROM apply_lock"), "0\n");
}

TEST_F(ApplySafety, KilledApplyLeavesInterruptedTaskAndRerunConverges) {
    write(host_yaml() + vm_yaml("running", 1, false, 60));
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;

    // Several steps: a network, then a shutdown the guest ignores (60 s, no force).
    write(host_yaml() + net_yaml("vmr-e2e-ap-kill") + vm_yaml("shutoff", 1, false, 60));
    pid_t pid = vm_background(db_, "apply --auto-approve --parallelism 1 " + quote(specs_),
                              dir_.file("bg.log"));
    bool running = false;
    for (int i = 0; i < 300 && !running; ++i) { // up to 30 s
        running = count("SELECT count(*) FROM tasks WHERE status='RUNNING' AND "
                        "type='vm.shutdown'") > 0;
        if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(running) << sh("cat " + quote(dir_.file("bg.log"))).out;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE type='network.define' AND "
                    "status='COMPLETED'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM apply_lock"), 1) << "the dead apply's lock is gone?";

    // Re-run (now allowed to force the stop): interrupted task reported, lock taken over,
    // and the hosts converge.
    write(host_yaml() + net_yaml("vmr-e2e-ap-kill") + vm_yaml("shutoff", 1, true, 1));
    r = apply();
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "marked 1 task(s)")) << r.out;
    EXPECT_TRUE(contains(r.out, "INTERRUPTED")) << r.out;
    EXPECT_TRUE(contains(r.out, "took over")) << r.out;
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='INTERRUPTED' AND "
                    "type='vm.shutdown'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    Result p = vm(db_, "plan --detailed-exitcode");
    EXPECT_EQ(p.code, 0) << p.out;
}

TEST_F(ApplySafety, RefusesWithoutTerminalOrAutoApprove) {
    write(host_yaml() + net_yaml("vmr-e2e-ap-tty"));
    Result r = vm(db_, "apply " + quote(specs_));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "--auto-approve")) << r.out;
    EXPECT_TRUE(contains(r.out, "--plan")) << r.out;
    EXPECT_FALSE(contains(virsh("net-list --all --name"), "vmr-e2e-ap-tty"));
}

} // namespace
