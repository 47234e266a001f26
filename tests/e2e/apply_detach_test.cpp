// apply on the real libvirtd (TCG, no guest OS): removing a NIC from a running VM's spec is a
// live detach that the guest never acknowledges. The step must FAIL (it was once reported
// "done after 5.0s" while `virsh domiflist` still listed the NIC), the task says FAILED, the
// exit code is 1, and the NIC is still attached to the running VM.
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-hostio-ap-";
const std::string kVm = "vmr-e2e-hostio-ap-vm";

std::string specs(bool second_nic) {
    std::string y = "kind: Host\nname: local\nuri: qemu:///system\n"
                    "---\nkind: Network\nname: vmr-e2e-hostio-ap-net\nhost: local\n"
                    "mode: isolated\n"
                    "---\nkind: VirtualMachine\nname: " +
                    kVm +
                    "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
                    "acpi: true\nstate: running\nforce_stop: true\nshutdown_timeout: 2\n"
                    "interfaces:\n  - network: vmr-e2e-hostio-ap-net\n    mac: 52:54:00:e2:4f:01\n";
    if (second_nic) y += "  - network: vmr-e2e-hostio-ap-net\n    mac: 52:54:00:e2:4f:02\n";
    return y;
}

class ApplyDetach : public OwnedObjectsTest {
  protected:
    ApplyDetach() : OwnedObjectsTest(kPrefix, "/var/lib/libvirt/images/vmr-e2e-hostio-ap-none") {}
};

TEST_F(ApplyDetach, UnacknowledgedLiveNicRemovalFailsAndTheNicStays) {
    dir_.write("specs/all.yaml", specs(true));
    Result r = vm(db_, "apply --auto-approve " + quote(dir_.file("specs")));
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(contains(virsh("domiflist " + kVm), "52:54:00:e2:4f:02"));

    dir_.write("specs/all.yaml", specs(false));
    r = vm(db_, "apply --auto-approve --detach-timeout 1 " + quote(dir_.file("specs")));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "vm.detach_device")) << r.out;
    EXPECT_TRUE(contains(r.out, "the guest did not release interface (MAC 52:54:00:e2:4f:02"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "still attached to the running VM")) << r.out;
    EXPECT_EQ(sql(db_, "SELECT status FROM tasks WHERE type = 'vm.detach_device'"), "FAILED\n");
    std::string ifaces = virsh("domiflist " + kVm);
    EXPECT_TRUE(contains(ifaces, "52:54:00:e2:4f:02")) << "the NIC is still attached:\n" << ifaces;
    EXPECT_TRUE(contains(ifaces, "52:54:00:e2:4f:01")) << ifaces;
    EXPECT_TRUE(contains(virsh("domstate " + kVm), "running"));
}

} // namespace
