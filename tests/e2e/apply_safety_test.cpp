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

// ---- Nothing is lost (issue 12): deletions checked against every user on the real libvirtd.
namespace {

const std::string kSafe = "vmr-e2e-safe-";
const std::string kSafeDir = "/var/lib/libvirt/images/vmr-e2e-safe";

std::string safe_pool(const std::string& name) {
    return "---\nkind: StoragePool\nname: " + kSafe + name +
           "\nhost: local\ntype: dir\npath: " + kSafeDir + "/" + name + "\n";
}

std::string safe_volume(const std::string& pool, const std::string& name,
                        const std::string& extra = "") {
    return "---\nkind: Volume\nname: " + name + "\nhost: local\npool: " + kSafe + pool +
           "\ncapacity: 8MiB\nformat: qcow2\n" + extra;
}

// A diskless-firmware VM (TCG, no OS) with the given disks ("target:pool:volume:bus").
std::string safe_vm(const std::string& state, const std::vector<std::string>& disks,
                    const std::string& net = "") {
    std::string y = "---\nkind: VirtualMachine\nname: " + kSafe +
                    "vm\nhost: local\ndomain_type: qemu\nmachine: pc\nacpi: true\nmemory: 64MiB\n"
                    "vcpus: 1\nstate: " +
                    state + "\nforce_stop: true\nshutdown_timeout: 1\n";
    if (!disks.empty()) y += "disks:\n";
    for (const auto& d : disks) {
        std::vector<std::string> f;
        std::stringstream ss(d);
        std::string part;
        while (std::getline(ss, part, ':')) f.push_back(part);
        if (f[1] == "file") // by path: the disk names no Volume spec
            y += "  - target: " + f[0] + "\n    type: file\n    file: " + kSafeDir + "/" + f[2] +
                 "\n    format: qcow2\n    bus: " + f[3] + "\n";
        else
            y += "  - target: " + f[0] + "\n    pool: " + kSafe + f[1] + "\n    volume: " + f[2] +
                 "\n    bus: " + f[3] + "\n";
    }
    // USB disks: more ports than piix3-uhci's two.
    y += "controllers:\n  - type: usb\n    index: 0\n    model: qemu-xhci\n    ports: 8\n";
    if (!net.empty()) y += "interfaces:\n  - network: " + kSafe + net + "\n";
    return y;
}

class PruneSafety : public OwnedObjectsTest {
  protected:
    PruneSafety() : OwnedObjectsTest(kSafe, kSafeDir) {}
    void write(const std::string& yaml) { dir_.write("specs.yaml", yaml); }
    std::string specs() const { return dir_.file("specs.yaml"); }
    Result apply(const std::string& extra = "") {
        return vm(db_, "apply --auto-approve " + extra + " " + quote(specs()));
    }
    bool file_exists(const std::string& path) { return sh("test -f " + quote(path)).code == 0; }
    bool volume_exists(const std::string& pool, const std::string& vol) {
        return contains(virsh("vol-list " + kSafe + pool), vol);
    }
};

// A volume still used by the VM that stays (its disk, and as the backing file of the VM's
// overlay) is never deleted: the plan shows each deletion BLOCKED with its users, apply
// refuses the whole plan (exit 1) and executes nothing; the files survive.
TEST_F(PruneSafety, PruneOfVolumesInUseIsRefusedAndTheFilesSurvive) {
    std::string host = "kind: Host\nname: local\nuri: qemu:///system\n";
    std::string base = safe_volume("a", "base.qcow2");
    std::string over = safe_volume("a", "over.qcow2", "backing_volume: base.qcow2\n");
    std::string data = safe_volume("a", "data.qcow2");
    write(host + safe_pool("a") + base + over + data +
          safe_vm("running", {"vda:a:over.qcow2:virtio", "sda:a:data.qcow2:usb"}));
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(contains(virsh("domstate " + kSafe + "vm"), "running"));

    // The backing volume's spec goes (the overlay keeps using it as its backing file), and
    // the data volume's spec goes while the VM still uses its file (a disk by path).
    // The overlay's spec names its backing file by path (it is compared: the chain stays).
    std::string over_plain = safe_volume(
        "a", "over.qcow2", "backing_path: " + kSafeDir + "/a/base.qcow2\nbacking_format: qcow2\n");
    write(host + safe_pool("a") + over_plain +
          safe_vm("running", {"vda:a:over.qcow2:virtio", "sda:file:a/data.qcow2:usb"}));
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out; // the disk by path is the same disk: a no-op or a redefine
    int tasks_before = std::atoi(sql(db_, "SELECT count(*) FROM tasks").c_str());
    r = vm(db_, "plan --prune " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "BLOCKED")) << r.out;
    EXPECT_TRUE(contains(r.out, "used by volume " + kSafe + "a/over.qcow2 (backing file)"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "used by domain " + kSafe + "vm (disk sda)")) << r.out;
    r = apply("--prune");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "apply refuses the whole plan")) << r.out;
    EXPECT_EQ(std::atoi(sql(db_, "SELECT count(*) FROM tasks").c_str()), tasks_before)
        << "a step of a refused plan ran";
    EXPECT_TRUE(file_exists(kSafeDir + "/a/base.qcow2"));
    EXPECT_TRUE(file_exists(kSafeDir + "/a/over.qcow2"));
    EXPECT_TRUE(file_exists(kSafeDir + "/a/data.qcow2"));
    EXPECT_TRUE(volume_exists("a", "base.qcow2"));
    EXPECT_TRUE(volume_exists("a", "data.qcow2"));
    EXPECT_TRUE(contains(virsh("domstate " + kSafe + "vm"), "running"));
}

// The data disk is removed from the VM's spec with its Volume spec: the delete waits for the
// config redefine and the live detach, then runs; the VM no longer has the disk (config and
// running), the file is gone, and the next plan is empty.
TEST_F(PruneSafety, PruneDeletesAVolumeOnlyAfterItsDiskIsDetached) {
    std::string host = "kind: Host\nname: local\nuri: qemu:///system\n";
    std::string root = safe_volume("a", "root.qcow2");
    write(host + safe_pool("a") + root + safe_volume("a", "data.qcow2") +
          safe_vm("running", {"vda:a:root.qcow2:virtio", "sda:a:data.qcow2:usb"}));
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    write(host + safe_pool("a") + root + safe_vm("running", {"vda:a:root.qcow2:virtio"}));
    r = vm(db_, "plan --prune " + quote(specs()));
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_FALSE(contains(r.out, "BLOCKED")) << r.out;
    r = apply("--prune");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_FALSE(file_exists(kSafeDir + "/a/data.qcow2"));
    EXPECT_TRUE(file_exists(kSafeDir + "/a/root.qcow2"));
    EXPECT_FALSE(contains(virsh("dumpxml " + kSafe + "vm"), "data.qcow2"));
    EXPECT_FALSE(contains(virsh("dumpxml --inactive " + kSafe + "vm"), "data.qcow2"));
    // The delete ran after the detach (task order).
    std::string order = sql(db_, "SELECT type FROM tasks WHERE type IN ('vm.detach_device', "
                                 "'volume.delete') ORDER BY id");
    EXPECT_EQ(order, "vm.detach_device\nvolume.delete\n");
    r = vm(db_, "plan --prune --detailed-exitcode");
    EXPECT_EQ(r.code, 0) << r.out;
}

// Unused network, pool (its volume's spec removed too) and snapshot are really deleted.
TEST_F(PruneSafety, PruneDeletesUnusedNetworkPoolAndSnapshot) {
    std::string host = "kind: Host\nname: local\nuri: qemu:///system\n";
    std::string keep = safe_pool("a") + safe_volume("a", "root.qcow2");
    std::string gone_pool = safe_pool("b") + safe_volume("b", "scratch.qcow2");
    std::string net = "---\nkind: Network\nname: " + kSafe + "net\nhost: local\nmode: isolated\n";
    std::string snap =
        "---\nkind: Snapshot\nname: before\nhost: local\nvm: " + kSafe + "vm\nmemory: false\n";
    std::string vm_off = safe_vm("shutoff", {"vda:a:root.qcow2:virtio"});
    write(host + keep + gone_pool + net + vm_off + snap);
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(contains(virsh("snapshot-list --name " + kSafe + "vm"), "before"));
    ASSERT_TRUE(contains(virsh("net-list --all --name"), kSafe + "net"));
    ASSERT_TRUE(contains(virsh("pool-list --all --name"), kSafe + "b"));

    write(host + keep + vm_off);
    r = vm(db_, "plan " + quote(specs()));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "run with --prune")) << r.out; // said, not silently kept
    r = apply("--prune");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_FALSE(contains(virsh("snapshot-list --name " + kSafe + "vm"), "before"));
    EXPECT_FALSE(contains(virsh("net-list --all --name"), kSafe + "net"));
    EXPECT_FALSE(contains(virsh("pool-list --all --name"), kSafe + "b"));
    EXPECT_TRUE(contains(virsh("pool-list --all --name"), kSafe + "a"));
    EXPECT_TRUE(file_exists(kSafeDir + "/a/root.qcow2"));
    r = vm(db_, "plan --prune --detailed-exitcode");
    EXPECT_EQ(r.code, 0) << r.out;
}

// Changes no step can make are plan errors at the spec's line (exit 1), never "No changes":
// a shrink, a format change (the VM's disk driver is not retargeted), a disk-only snapshot of
// a running VM.
TEST_F(PruneSafety, ShrinkFormatChangeAndRunningDiskSnapshotArePlanErrors) {
    std::string host = "kind: Host\nname: local\nuri: qemu:///system\n";
    std::string vm_on = safe_vm("running", {"vda:a:root.qcow2:virtio"});
    write(host + safe_pool("a") + safe_volume("a", "root.qcow2") + vm_on);
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;

    std::string shrunk = safe_volume("a", "root.qcow2");
    shrunk.replace(shrunk.find("8MiB"), 4, "4MiB");
    write(host + safe_pool("a") + shrunk + vm_on);
    r = vm(db_, "plan --detailed-exitcode " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "specs.yaml:")) << r.out;
    EXPECT_TRUE(contains(r.out, "never shrinks or reformats a volume in place")) << r.out;
    r = apply();
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(virsh("vol-info --bytes --pool " + kSafe + "a root.qcow2"), "8388608"));

    std::string raw = safe_volume("a", "root.qcow2");
    raw.replace(raw.find("format: qcow2"), 13, "format: raw");
    write(host + safe_pool("a") + raw + vm_on);
    r = apply();
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "is qcow2, the spec says raw")) << r.out;
    EXPECT_TRUE(contains(virsh("dumpxml --inactive " + kSafe + "vm"), "type='qcow2'"))
        << "the disk driver was retargeted";

    // A pool path change: an error, the pool keeps its path.
    std::string moved = safe_pool("a");
    moved.replace(moved.find(kSafeDir + "/a"), kSafeDir.size() + 2, kSafeDir + "/elsewhere");
    write(host + moved + safe_volume("a", "root.qcow2") + vm_on);
    r = vm(db_, "plan --detailed-exitcode " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "changes path of an existing pool")) << r.out;

    std::string snap = "---\nkind: Snapshot\nname: disk-only\nhost: local\nvm: " + kSafe + "vm\n";
    write(host + safe_pool("a") + safe_volume("a", "root.qcow2") + vm_on + snap);
    r = vm(db_, "plan --detailed-exitcode " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "memory: true")) << r.out;
}

// Two Host specs for one libvirt: a validation error naming both places when the URIs are the
// same; a plan error (nothing planned, the VM not pruned) when only the host UUID is.
TEST_F(PruneSafety, TwoHostSpecsForOneLibvirtAreRefused) {
    std::string two = "kind: Host\nname: local\nuri: qemu:///system\n---\nkind: Host\nname: "
                      "other\nuri: qemu:///system\n";
    write(two);
    Result r = vm(db_, "validate " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "same uri")) << r.out;
    EXPECT_TRUE(contains(r.out, "specs.yaml:2:7)")) << r.out; // the first one's place
    EXPECT_TRUE(contains(r.out, "specs.yaml:7:")) << r.out;   // the second one

    std::string vm_on = safe_vm("running", {});
    write("kind: Host\nname: local\nuri: qemu:///system\n" + vm_on);
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    // The VM's spec moves to a second Host spec that reaches the same libvirt by another URI.
    std::string moved = vm_on;
    moved.replace(moved.find("host: local"), 11, "host: other");
    write("kind: Host\nname: local\nuri: qemu:///system\n---\nkind: Host\nname: other\nuri: "
          "qemu+unix:///system\n" +
          moved);
    r = apply("--prune");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "reach the same libvirt host")) << r.out;
    EXPECT_TRUE(contains(virsh("domstate " + kSafe + "vm"), "running"));
}

} // namespace

namespace {
// A VM renamed in its spec without its uuid (a new VM on the old domain's volume): plan and
// `apply --prune` are refused naming the domain and the uuid remedy; the old domain keeps
// running, its volume and file survive, no task runs.
TEST_F(PruneSafety, RenameWithoutUuidIsRefusedAndTheOldDomainSurvives) {
    std::string host = "kind: Host\nname: local\nuri: qemu:///system\n";
    std::string vol = safe_volume("a", "root.qcow2");
    std::string yaml =
        host + safe_pool("a") + vol + safe_vm("running", {"vda:a:root.qcow2:virtio"});
    write(yaml);
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    const std::string old_name = kSafe + "vm", new_name = kSafe + "vm2";
    auto pos = yaml.find("name: " + old_name + "\n");
    ASSERT_NE(pos, std::string::npos);
    write(yaml.replace(pos, 6 + old_name.size(), "name: " + new_name));
    int tasks_before = std::atoi(sql(db_, "SELECT count(*) FROM tasks").c_str());
    r = vm(db_, "plan --prune " + quote(specs()));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "used by domain " + old_name + " (disk vda)")) << r.out;
    EXPECT_TRUE(contains(r.out, "put that domain's uuid in the spec")) << r.out;
    r = apply("--prune");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(std::atoi(sql(db_, "SELECT count(*) FROM tasks").c_str()), tasks_before)
        << "a refused plan executed a step";
    EXPECT_TRUE(contains(virsh("domstate " + old_name), "running"));
    EXPECT_FALSE(contains(virsh("list --all --name"), new_name));
    EXPECT_TRUE(volume_exists("a", "root.qcow2"));
    EXPECT_TRUE(file_exists(kSafeDir + "/a/root.qcow2"));
}
} // namespace
