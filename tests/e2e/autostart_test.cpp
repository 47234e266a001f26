// Autostart of pools and networks on the real libvirtd: on at create (the default), turned off
// by the spec, on again, each time `plan` shows exactly the autostart change, `apply` makes it
// and the next `plan` is empty.
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-as-";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-as-pool";

std::string specs(bool autostart) {
    std::string a = autostart ? "true" : "false";
    return "kind: Host\nname: local\nuri: qemu:///system\n"
           "---\nkind: StoragePool\nname: vmr-e2e-as-pool\nhost: local\ntype: dir\npath: " +
           kPoolDir + "\nautostart: " + a +
           "\n---\nkind: Network\nname: vmr-e2e-as-net\nhost: local\nmode: isolated\n"
           "autostart: " +
           a + "\n";
}

bool autostart_of(const std::string& info) {
    std::istringstream is(info);
    std::string line;
    while (std::getline(is, line))
        if (line.rfind("Autostart:", 0) == 0) return contains(line, "yes");
    ADD_FAILURE() << "no Autostart line in:\n" << info;
    return false;
}

class Autostart : public OwnedObjectsTest {
  protected:
    Autostart() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    Result run(const std::string& args) { return vm(db_, args + " " + quote(dir_.file("specs"))); }
};

TEST_F(Autostart, PoolAndNetworkAutostartTurnOffAndOnAgain) {
    dir_.write("specs/all.yaml", specs(true));
    Result r = run("apply --auto-approve");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(autostart_of(virsh("pool-info vmr-e2e-as-pool")));
    EXPECT_TRUE(autostart_of(virsh("net-info vmr-e2e-as-net")));

    for (bool want : {false, true}) {
        SCOPED_TRACE(want ? "turning autostart on" : "turning autostart off");
        dir_.write("specs/all.yaml", specs(want));
        Result p = run("plan --detailed-exitcode");
        EXPECT_EQ(p.code, 2) << p.out;
        std::string change = want ? "autostart: no -> yes" : "autostart: yes -> no";
        EXPECT_TRUE(contains(p.out, change)) << p.out;
        Result a = run("apply --auto-approve");
        ASSERT_EQ(a.code, 0) << a.out;
        EXPECT_EQ(autostart_of(virsh("pool-info vmr-e2e-as-pool")), want);
        EXPECT_EQ(autostart_of(virsh("net-info vmr-e2e-as-net")), want);
        // Both stay active: autostart is only about the next host boot.
        EXPECT_TRUE(contains(virsh("pool-info vmr-e2e-as-pool"), "running"));
        EXPECT_TRUE(contains(virsh("net-info vmr-e2e-as-net"), "Active:         yes"));
        Result again = run("plan --detailed-exitcode");
        EXPECT_EQ(again.code, 0) << again.out;
    }
}

} // namespace

namespace {

// A pool and a network stopped behind virtumancer's back are started again by apply (each on
// its own: the rest of the host is not read again for it).
TEST_F(Autostart, StoppedPoolAndNetworkAreStartedAgain) {
    dir_.write("specs/all.yaml", specs(true));
    ASSERT_EQ(run("apply --auto-approve").code, 0);
    virsh("pool-destroy vmr-e2e-as-pool");
    virsh("net-destroy vmr-e2e-as-net");
    ASSERT_FALSE(contains(virsh("net-info vmr-e2e-as-net"), "Active:         yes"));
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    EXPECT_TRUE(contains(virsh("pool-info vmr-e2e-as-pool"), "running"));
    EXPECT_TRUE(contains(virsh("net-info vmr-e2e-as-net"), "Active:         yes"));
    EXPECT_TRUE(autostart_of(virsh("net-info vmr-e2e-as-net"))) << "starting kept autostart";
    Result again = run("plan --detailed-exitcode");
    EXPECT_EQ(again.code, 0) << again.out;
}

} // namespace
