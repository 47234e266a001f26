// apply on the real libvirtd: a full lifecycle (pool, volume, network and VM created and
// started; disk and NIC hot-plugged; vCPUs changed live; a restart-requiring change applied
// under restart_policy; stopped; removed with --prune), with `plan` empty after each apply,
// and the tasks and audit rows it leaves.
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-ap-";
const std::string kVm = "vmr-e2e-ap-vm";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-ap-pool";

struct VmShape {
    bool second_disk = false, second_nic = false, present = true;
    int vcpus_current = 1;
    std::string memory = "64MiB";
    std::string state = "running";
};

std::string infra_yaml(bool second_volume) {
    std::string y = "kind: Host\nname: local\nuri: qemu:///system\n"
                    "---\nkind: StoragePool\nname: vmr-e2e-ap-pool\nhost: local\ntype: dir\n"
                    "path: " +
                    kPoolDir +
                    "\n"
                    "---\nkind: Volume\nname: vmr-e2e-ap-root.qcow2\nhost: local\n"
                    "pool: vmr-e2e-ap-pool\ncapacity: 16MiB\nformat: qcow2\n"
                    "---\nkind: Network\nname: vmr-e2e-ap-net\nhost: local\nmode: isolated\n";
    if (second_volume)
        y += "---\nkind: Volume\nname: vmr-e2e-ap-data.qcow2\nhost: local\n"
             "pool: vmr-e2e-ap-pool\ncapacity: 8MiB\nformat: qcow2\n";
    return y;
}

std::string vm_yaml(const VmShape& s) {
    std::string y = "kind: VirtualMachine\nname: " + kVm +
                    "\nhost: local\ndomain_type: qemu\nmachine: pc\n"
                    "memory: " +
                    s.memory + "\nvcpus: 2\nvcpus_current: " + std::to_string(s.vcpus_current) +
                    "\nacpi: true\nstate: " + s.state +
                    "\nforce_stop: true\nshutdown_timeout: 2\nrestart_policy: allowed\n"
                    "disks:\n"
                    "  - pool: vmr-e2e-ap-pool\n    volume: vmr-e2e-ap-root.qcow2\n"
                    "    target: vda\n";
    if (s.second_disk)
        y += "  - pool: vmr-e2e-ap-pool\n    volume: vmr-e2e-ap-data.qcow2\n    target: vdb\n";
    y += "interfaces:\n  - network: vmr-e2e-ap-net\n    mac: 52:54:00:a7:00:01\n";
    if (s.second_nic) y += "  - network: vmr-e2e-ap-net\n    mac: 52:54:00:a7:00:02\n";
    return y;
}

class ApplyLifecycle : public OwnedObjectsTest {
  protected:
    ApplyLifecycle() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    void write(const VmShape& s) {
        dir_.write("specs/infra.yaml", infra_yaml(s.second_disk));
        if (s.present)
            dir_.write("specs/vm.yaml", vm_yaml(s));
        else
            dir_.remove("specs/vm.yaml");
    }
    Result apply(const std::string& extra = "") {
        return vm(db_, "apply --auto-approve " + extra + " " + quote(dir_.file("specs")));
    }
    // The law: right after an apply, plan has nothing to do.
    void expect_no_changes(const std::string& when) {
        Result p = vm(db_, "plan --detailed-exitcode");
        EXPECT_EQ(p.code, 0) << "plan after " << when << " is not empty:\n" << p.out;
    }
    std::string domid() { return sh("virsh -c qemu:///system domid " + kVm).out; }
};

TEST_F(ApplyLifecycle, CreateHotplugResizeRestartStopPrune) {
    VmShape s;
    write(s);
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "0 failed")) << r.out;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "running"));
    EXPECT_TRUE(contains(virsh("pool-info vmr-e2e-ap-pool"), "running"));
    EXPECT_TRUE(contains(virsh("net-info vmr-e2e-ap-net"), "Active:         yes"));
    expect_no_changes("creating everything");

    // A second disk (a new volume) and a second NIC: hot-plugged, no restart.
    std::string id_before = domid();
    s.second_disk = s.second_nic = true;
    write(s);
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "vm.attach_device")) << r.out;
    std::string live = virsh("dumpxml " + kVm);
    EXPECT_TRUE(contains(live, "vmr-e2e-ap-data.qcow2")) << live;
    EXPECT_TRUE(contains(live, "52:54:00:a7:00:02")) << live;
    EXPECT_EQ(domid(), id_before) << "the VM was restarted for a hot-plug";
    expect_no_changes("hot-plugging a disk and a NIC");

    // vCPUs 1 -> 2 live.
    s.vcpus_current = 2;
    write(s);
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "vm.set_vcpus")) << r.out;
    EXPECT_TRUE(contains(virsh("vcpucount --live --active " + kVm), "2"))
        << virsh("vcpucount " + kVm);
    EXPECT_EQ(domid(), id_before) << "the VM was restarted for a live vCPU change";
    expect_no_changes("adding a vCPU");

    // Memory is a restart change; restart_policy: allowed restarts the VM (force_stop after
    // 2 s: the guest has no OS to honour ACPI).
    s.memory = "80MiB";
    write(s);
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "vm.shutdown")) << r.out;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "running"));
    EXPECT_NE(domid(), id_before) << "the VM was not restarted";
    EXPECT_TRUE(contains(virsh("dominfo " + kVm), "81920 KiB")) << virsh("dominfo " + kVm);
    expect_no_changes("a restart-requiring change");

    // Stopped.
    s.state = "shutoff";
    write(s);
    r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "shut off"));
    expect_no_changes("stopping the VM");

    // Removed from the specs: --prune undefines it.
    s.present = false;
    write(s);
    r = apply("--prune");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_FALSE(contains(virsh("list --all --name"), kVm));
    expect_no_changes("pruning the VM");

    // Tasks: every one finished; audit: one entry per executed change.
    EXPECT_EQ(sql(db_, "SELECT count(*) FROM tasks WHERE status != 'COMPLETED'"), "0\n");
    std::string actions = sql(db_, "SELECT DISTINCT action FROM audit_log ORDER BY action");
    for (const char* a : {"pool.define", "volume.create", "network.define", "vm.define", "vm.start",
                          "vm.attach_device", "vm.set_vcpus", "vm.shutdown", "vm.undefine"})
        EXPECT_TRUE(contains(actions, std::string(a) + "\n")) << a << " missing in\n" << actions;
    EXPECT_EQ(sql(db_, "SELECT count(*) FROM tasks"), sql(db_, "SELECT count(*) FROM audit_log"));
    std::string vcpu_audit =
        sql(db_, "SELECT target_type, target_id, details FROM audit_log WHERE action = "
                 "'vm.set_vcpus'");
    EXPECT_TRUE(contains(vcpu_audit, "vm|" + kVm + "|")) << vcpu_audit;
    EXPECT_TRUE(contains(vcpu_audit, "\"field\":\"vcpus_current\"")) << vcpu_audit;
    EXPECT_TRUE(contains(vcpu_audit, "\"before\":\"1\"")) << vcpu_audit;
    EXPECT_TRUE(contains(vcpu_audit, "\"after\":\"2\"")) << vcpu_audit;
}

} // namespace
