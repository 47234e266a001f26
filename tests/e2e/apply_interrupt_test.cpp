// Ctrl-C (SIGINT) and SIGTERM during apply on the real libvirtd: the shutdown wait stops at
// once, nothing new starts, the task is INTERRUPTED (none left RUNNING), the output says what
// was done and what was not, the lock is free, the exit code is 130 and the domain survives.
#include <chrono>

#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-sig-";
const std::string kVm = "vmr-e2e-sig-vm";
const std::string kLater = "vmr-e2e-sig-later";

std::string host_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n";
}

// A diskless VM: it boots into SeaBIOS and ignores ACPI, so the shutdown waits the whole
// timeout (no force_stop).
std::string vm_yaml(const std::string& name, const std::string& state) {
    return "---\nkind: VirtualMachine\nname: " + name +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
           "acpi: true\nstate: " +
           state + "\nforce_stop: false\nshutdown_timeout: 60\n";
}

class ApplyInterrupt : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        cleanup(kPrefix);
        db_ = dir_.file("v.db");
        specs_ = dir_.file("specs.yaml");
    }
    void TearDown() override { cleanup(kPrefix); }
    int count(const std::string& q) { return std::atoi(sql(db_, q).c_str()); }
    // Whether a vm.shutdown task is RUNNING (the apply waits for the guest), polled up to 30 s.
    bool shutdown_waits() {
        for (int i = 0; i < 300; ++i) {
            if (count("SELECT count(*) FROM tasks WHERE status='RUNNING' AND "
                      "type='vm.shutdown'") > 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    // Applies a running VM, then starts an apply that shuts it down (and defines a second VM
    // after it, with parallelism 1) and sends `sig` once the shutdown waits.
    void interrupt_shutdown(int sig, const char* name) {
        dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "running"));
        Result r = vm(db_, "apply --auto-approve " + quote(specs_));
        ASSERT_EQ(r.code, 0) << r.out;
        ASSERT_TRUE(contains(virsh("domstate " + kVm), "running"));

        dir_.write("specs.yaml",
                   host_yaml() + vm_yaml(kVm, "shutoff") + vm_yaml(kLater, "shutoff"));
        std::string log = dir_.file(std::string("bg-") + name + ".log");
        pid_t pid =
            vm_background(db_, "apply --auto-approve --parallelism 1 " + quote(specs_), log);
        ASSERT_TRUE(shutdown_waits()) << sh("cat " + quote(log)).out;
        std::this_thread::sleep_for(std::chrono::milliseconds(700)); // inside the wait loop
        auto t0 = std::chrono::steady_clock::now();
        kill(pid, sig);
        int st = 0;
        waitpid(pid, &st, 0);
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::string out = sh("cat " + quote(log)).out;
        ASSERT_TRUE(WIFEXITED(st)) << "killed by the signal instead of exiting: " << out;
        EXPECT_EQ(WEXITSTATUS(st), 130) << out;
        EXPECT_LT(took, 5.0) << out;

        // What was done and what was not.
        EXPECT_TRUE(contains(out, std::string(name) + " received")) << out;
        EXPECT_TRUE(contains(out, "STOPPED vm.shutdown")) << out;
        EXPECT_TRUE(contains(out, "interrupted: ")) << out;
        EXPECT_TRUE(contains(out, "stopped waiting for VM " + kVm + " to shut down")) << out;
        EXPECT_TRUE(contains(out, std::string("Apply interrupted by ") + name)) << out;
        EXPECT_TRUE(contains(out, "The apply lock was released")) << out;

        EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
        EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='INTERRUPTED' AND "
                        "type='vm.shutdown'"),
                  1);
        EXPECT_EQ(count("SELECT count(*) FROM apply_lock"), 0);
        // The step after the shutdown (parallelism 1) was not run: listed, VM not defined.
        EXPECT_TRUE(contains(out, "not run: 2 vm.define local/vm/" + kLater)) << out;
        EXPECT_TRUE(contains(out, "1 interrupted, 1 not run")) << out;
        EXPECT_FALSE(contains(virsh("list --all --name"), kLater)) << out;
        EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE target_name='" + kLater + "'"), 0);
        // The domain is still there (the interrupt did not force it off or remove it).
        EXPECT_TRUE(contains(virsh("list --all --name"), kVm));
        EXPECT_FALSE(contains(virsh("domstate " + kVm), "shut off")) << "forced off?";

        // The lock is free: plan and apply run at once, without taking over anything.
        Result p = vm(db_, "plan");
        EXPECT_TRUE(p.code == 0 || p.code == 2) << p.out;
        EXPECT_TRUE(contains(p.out, kVm)) << p.out;
        dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "running"));
        Result again = vm(db_, "apply --auto-approve " + quote(specs_));
        EXPECT_EQ(again.code, 0) << again.out;
        EXPECT_FALSE(contains(again.out, "took over")) << again.out;
        EXPECT_FALSE(contains(again.out, "left RUNNING")) << again.out;
    }

    TempDir dir_;
    std::string db_, specs_;
};

TEST_F(ApplyInterrupt, SigintStopsTheShutdownWaitAndReleasesTheLock) {
    interrupt_shutdown(SIGINT, "SIGINT");
}

TEST_F(ApplyInterrupt, SigtermStopsTheShutdownWaitAndReleasesTheLock) {
    interrupt_shutdown(SIGTERM, "SIGTERM");
}

// A second Ctrl-C right after the first exits at once, still releasing the lock and marking the
// running task INTERRUPTED through a connection of its own.
TEST_F(ApplyInterrupt, SecondSigintExitsAtOnceAndStillReleasesTheLock) {
    dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "running"));
    Result r = vm(db_, "apply --auto-approve " + quote(specs_));
    ASSERT_EQ(r.code, 0) << r.out;
    dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "shutoff"));
    std::string log = dir_.file("bg-twice.log");
    pid_t pid = vm_background(db_, "apply --auto-approve " + quote(specs_), log);
    ASSERT_TRUE(shutdown_waits()) << sh("cat " + quote(log)).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    kill(pid, SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // within one 0.5 s poll
    kill(pid, SIGINT);
    int st = 0;
    waitpid(pid, &st, 0);
    std::string out = sh("cat " + quote(log)).out;
    ASSERT_TRUE(WIFEXITED(st)) << out;
    EXPECT_EQ(WEXITSTATUS(st), 130) << out;
    EXPECT_TRUE(contains(out, "SIGINT again: exiting at once; the apply lock was released")) << out;
    EXPECT_FALSE(contains(out, "Apply interrupted by")) << "the second signal did not exit at once";
    EXPECT_EQ(count("SELECT count(*) FROM apply_lock"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='INTERRUPTED' AND "
                    "type='vm.shutdown'"),
              1);
    EXPECT_TRUE(contains(virsh("list --all --name"), kVm));
    // The lock is free: an apply (nothing to change: the guest ignored ACPI) takes it at once.
    dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "running"));
    Result again = vm(db_, "apply --auto-approve " + quote(specs_));
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_FALSE(contains(again.out, "took over")) << again.out;
}

// A killed apply (SIGKILL: no cleanup at all) leaves its lock and a RUNNING task behind; the
// re-run takes over the dead holder's lock, converges (the half-done shutdown is done again,
// the VM the killed run never defined is created and started) and exits 0; plan is then empty.
TEST_F(ApplyInterrupt, ReRunAfterAKilledApplyExitsZero) {
    dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "running"));
    Result r = vm(db_, "apply --auto-approve " + quote(specs_));
    ASSERT_EQ(r.code, 0) << r.out;
    dir_.write("specs.yaml", host_yaml() + vm_yaml(kVm, "shutoff") + vm_yaml(kLater, "running"));
    std::string log = dir_.file("bg-killed.log");
    pid_t pid = vm_background(db_, "apply --auto-approve --parallelism 1 " + quote(specs_), log);
    ASSERT_TRUE(shutdown_waits()) << sh("cat " + quote(log)).out;
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFSIGNALED(st));
    ASSERT_EQ(count("SELECT count(*) FROM apply_lock"), 1) << "the killed run left its lock";
    ASSERT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 1);

    // The re-run (force_stop now, so the guest that ignores ACPI is stopped in 1 s).
    std::string forced = vm_yaml(kVm, "shutoff");
    forced.replace(forced.find("force_stop: false\nshutdown_timeout: 60"), 38,
                   "force_stop: true\nshutdown_timeout: 1");
    dir_.write("specs.yaml", host_yaml() + forced + vm_yaml(kLater, "running"));
    Result again = vm(db_, "apply --auto-approve " + quote(specs_));
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    EXPECT_TRUE(contains(virsh("domstate " + kLater), "running"));
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status='RUNNING'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM apply_lock"), 0);
    Result p = vm(db_, "plan --detailed-exitcode " + quote(specs_));
    EXPECT_EQ(p.code, 0) << p.out;
}

} // namespace
