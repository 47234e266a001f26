// wait_for_ip and `virtumancer status` with a real guest on the real libvirtd: Debian's kernel
// with a busybox initramfs (tests/support/make_guest.sh) booted under TCG on a libvirt NAT
// network of its own; its udhcpc gets a lease from libvirt's dnsmasq, which apply waits for
// (matched by MAC) and status shows. Objects: vmr-e2e-ip-*.
#include <nlohmann/json.hpp>

#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-ip-";
const std::string kNet = "vmr-e2e-ip-net";
const std::string kMac = "52:54:00:e2:1b:01";
// 10.213.77.0/24: far from libvirt's default 192.168.122.0/24 and the usual private ranges
// of a CI machine; SetUp checks that no other network of the host uses it.
const std::string kSubnet = "10.213.77.";

// The pool of the seed test (a directory pool of its own).
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-ip-pool";

// The guest, built once per run (cached across runs by the script).
struct Guest {
    std::string kernel, initrd, error;
};

const Guest& guest() {
    static const Guest g = [] {
        Guest out;
        const char* env = std::getenv("VIRTUMANCER_GUEST_DIR");
        std::string dir = env && *env ? env : "/var/tmp/virtumancer-guest/guest";
        Result r = sh(quote(std::string(VIRTUMANCER_SOURCE_DIR) + "/tests/support/make_guest.sh") +
                      " " + quote(dir));
        if (r.code != 0) {
            out.error = r.out;
            return out;
        }
        out.kernel = dir + "/vmlinuz";
        out.initrd = dir + "/initrd.img";
        return out;
    }();
    return g;
}

std::string host_and_net() {
    return "kind: Host\nname: local\nuri: qemu:///system\n---\n"
           "kind: Network\nname: " +
           kNet + "\nhost: local\nmode: nat\nbridge: vmr-e2e-ip0\nips:\n  - address: " + kSubnet +
           "1\n    prefix: 24\n    dhcp_ranges:\n      - start: " + kSubnet +
           "100\n        end: " + kSubnet + "199\n";
}

// A VM booting the test guest (TCG: /dev/kvm may exist without working) with a NIC on the
// test network and its console in `console`.
std::string vm_spec(const std::string& name, const std::string& mac, const std::string& console,
                    const std::string& wait, const std::string& cmdline_extra = "") {
    const Guest& g = guest();
    return "---\nkind: VirtualMachine\nname: " + name +
           "\nhost: local\ndomain_type: qemu\nmemory: 160MiB\nvcpus: 1\nkernel: " + g.kernel +
           "\ninitrd: " + g.initrd + "\ncmdline: \"console=ttyS0 quiet " + cmdline_extra +
           "\"\ninterfaces:\n  - type: network\n    network: " + kNet +
           "\n    model: virtio\n    mac: \"" + mac + "\"\nserials:\n  - type: file\n" +
           "    source_path: " + console + "\n" + wait;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class WaitForIp : public OwnedObjectsTest {
  protected:
    WaitForIp() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    void SetUp() override {
        OwnedObjectsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        if (!guest().error.empty()) {
            if (virtumancer::e2e::libvirtd_required())
                FAIL() << "cannot build the test guest (scripts/testenv.sh start prepares it):\n"
                       << guest().error;
            GTEST_SKIP() << "no test guest: " << guest().error;
        }
        // Our subnet must be free: another network (not ours) on it would break DHCP.
        std::istringstream is(virsh("net-list --all --name"));
        std::string n;
        while (std::getline(is, n)) {
            if (n.empty() || n.rfind(kPrefix, 0) == 0) continue;
            ASSERT_FALSE(contains(virsh("net-dumpxml " + n), "'" + kSubnet + "1'"))
                << "network " << n << " already uses " << kSubnet << "0/24";
        }
    }
    Result run(const std::string& args) { return vm(db_, args); }
    std::string specs_dir() { return dir_.file("specs"); }
};

// apply waits for the DHCP lease of the guest's NIC and prints it; status shows it (with its
// source); a second apply has nothing to change and finds the address at once; changing only
// wait_for_ip is no plan change.
TEST_F(WaitForIp, LeaseAddressIsWaitedForPrintedAndShownByStatus) {
    std::string console = dir_.file("console.log");
    std::string name = kPrefix + "lease";
    dir_.write("specs/all.yaml", host_and_net() + vm_spec(name, kMac, console,
                                                          "wait_for_ip:\n  timeout: 120s\n"
                                                          "  source: lease\n"));
    auto t0 = std::chrono::steady_clock::now();
    Result a = run("apply --auto-approve " + quote(specs_dir()));
    double apply_secs = seconds_since(t0);
    std::cerr << "apply with wait_for_ip took " << apply_secs << " s\n";
    ASSERT_EQ(a.code, 0) << a.out << "\nconsole:\n" << virtumancer::testing_util::slurp(console);

    // the address libvirt's dnsmasq leased to our MAC
    std::string leases = virsh("net-dhcp-leases " + kNet);
    ASSERT_TRUE(contains(leases, kMac)) << leases;
    std::string leased = leases.substr(leases.find(kSubnet, leases.find(kMac)));
    leased = leased.substr(0, leased.find('/'));
    EXPECT_TRUE(contains(a.out, "vm " + name + ": addresses after")) << a.out;
    EXPECT_TRUE(contains(a.out, kMac + " " + leased + "/24 (lease)")) << a.out;
    // the guest really booted and ran udhcpc
    std::string log = virtumancer::testing_util::slurp(console);
    EXPECT_TRUE(contains(log, "vmr-guest: bound " + leased + " on eth0")) << log;

    Result st = run("status --json " + name);
    ASSERT_EQ(st.code, 0) << st.out;
    auto j = nlohmann::json::parse(st.out.substr(st.out.find('[')));
    ASSERT_EQ(j.size(), 1u) << st.out;
    EXPECT_EQ(j[0]["state"], "running");
    EXPECT_TRUE(j[0]["changes"].empty()) << st.out;
    ASSERT_EQ(j[0]["nics"].size(), 1u) << st.out;
    EXPECT_EQ(j[0]["nics"][0]["mac"], kMac);
    bool found = false;
    for (const auto& x : j[0]["nics"][0]["addresses"])
        found = found || (x["address"] == leased && x["source"] == "lease");
    EXPECT_TRUE(found) << st.out;
    EXPECT_EQ(j[0]["last_apply"]["status"], "COMPLETED") << st.out;
    EXPECT_EQ(j[0]["last_apply"]["tasks"].back()["type"], "vm.wait_ip") << st.out;
    bool interface_both = false;
    for (const auto& d : j[0]["devices"])
        interface_both = interface_both || (d["device"] == "interface[" + kMac + "]" &&
                                            d["desired"] == true && d["live"] == true);
    EXPECT_TRUE(interface_both) << st.out;
    Result text = run("status " + name);
    EXPECT_TRUE(contains(text.out, leased + "/24 (lease)")) << text.out;

    // nothing to change; the running VM's address is found again at once
    auto t1 = std::chrono::steady_clock::now();
    Result again = run("apply --auto-approve " + quote(specs_dir()));
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(contains(again.out, "No changes.")) << again.out;
    EXPECT_TRUE(contains(again.out, kMac + " " + leased + "/24 (lease)")) << again.out;
    EXPECT_LT(seconds_since(t1), 20.0);

    // wait_for_ip is apply behaviour: changing it alone plans nothing
    dir_.write("specs/all.yaml", host_and_net() + vm_spec(name, kMac, console,
                                                          "wait_for_ip:\n  timeout: 30s\n"
                                                          "  source: any\n"));
    Result p = run("plan --detailed-exitcode " + quote(specs_dir()));
    EXPECT_EQ(p.code, 0) << p.out;
}

// A cloud_init seed reaches a real guest: its /init finds the device labelled `cidata` (the
// seed virtumancer wrote and attached as a cdrom), mounts it and prints the user-data to the
// serial console, then takes its DHCP lease, which apply waits for.
TEST_F(WaitForIp, TheGuestReadsTheSeedByItsLabel) {
    std::string console = dir_.file("console.log");
    std::string name = kPrefix + "seed";
    const std::string marker = "vmr-e2e-ip-marker-7c41";
    std::string pool = "---\nkind: StoragePool\nname: vmr-e2e-ip-pool\nhost: local\ntype: dir\n"
                       "path: " +
                       kPoolDir +
                       "\n---\nkind: Volume\nname: vmr-e2e-ip-root\nhost: local\n"
                       "pool: vmr-e2e-ip-pool\ncapacity: 16MiB\nformat: qcow2\n";
    dir_.write("specs/all.yaml",
               host_and_net() + pool +
                   vm_spec(name, "52:54:00:e2:1b:04", console,
                           "disks:\n  - volume: vmr-e2e-ip-root\n"
                           "cloud_init:\n  user_data: |\n    #cloud-config\n    # " +
                               marker + "\nwait_for_ip:\n  timeout: 120s\n  source: lease\n"));
    Result a = run("apply --auto-approve " + quote(specs_dir()));
    std::string log = virtumancer::testing_util::slurp(console);
    ASSERT_EQ(a.code, 0) << a.out << "\nconsole:\n" << log;
    EXPECT_TRUE(contains(a.out, "volume.cloud_init_seed")) << a.out;
    EXPECT_TRUE(contains(log, "vmr-guest: cidata on /dev/")) << log;
    // the user-data printed between the guest's own markers is ours
    auto from = log.find("----- user-data -----");
    auto to = log.find("----- end user-data -----");
    ASSERT_NE(from, std::string::npos) << log;
    ASSERT_NE(to, std::string::npos) << log;
    std::string printed = log.substr(from, to - from);
    EXPECT_TRUE(contains(printed, "#cloud-config")) << printed;
    EXPECT_TRUE(contains(printed, marker)) << printed;
    EXPECT_TRUE(contains(a.out, "(lease)")) << a.out;
}

// source agent on a domain without a guest-agent channel fails at once, long before the timeout,
// saying why; a guest that never asks for DHCP fails at its (short) timeout naming the VM and NIC.
TEST_F(WaitForIp, AgentWithoutChannelFailsFastAndNoDhcpTimesOut) {
    std::string agent = kPrefix + "agent", silent = kPrefix + "silent";
    dir_.write("specs/all.yaml",
               host_and_net() + vm_spec(agent, "52:54:00:e2:1b:02", dir_.file("agent.log"),
                                        "wait_for_ip:\n  timeout: 300s\n  source: agent\n",
                                        "vmr.nodhcp"));
    auto t0 = std::chrono::steady_clock::now();
    Result a = run("apply --auto-approve " + quote(specs_dir()));
    double secs = seconds_since(t0);
    std::cerr << "apply of a VM failing wait_for_ip fast took " << secs << " s\n";
    EXPECT_EQ(a.code, 1) << a.out;
    EXPECT_TRUE(contains(a.out, "VM " + agent +
                                    " on host local has no guest-agent channel, so "
                                    "wait_for_ip source agent cannot work"))
        << a.out;
    EXPECT_LT(secs, 60.0) << "the failure must not wait for the 300 s timeout";
    EXPECT_TRUE(contains(sql(db_, "SELECT status FROM tasks WHERE type='vm.wait_ip'"), "FAILED"));
    cleanup(kPrefix);

    dir_.write("specs/all.yaml",
               host_and_net() + vm_spec(silent, "52:54:00:e2:1b:03", dir_.file("silent.log"),
                                        "wait_for_ip:\n  timeout: 12s\n  source: lease\n",
                                        "vmr.nodhcp"));
    auto t1 = std::chrono::steady_clock::now();
    Result b = run("apply --auto-approve " + quote(specs_dir()));
    double secs2 = seconds_since(t1);
    std::cerr << "apply of a VM timing out in wait_for_ip took " << secs2 << " s\n";
    EXPECT_EQ(b.code, 1) << b.out;
    EXPECT_TRUE(contains(b.out, "VM " + silent +
                                    " on host local: no IPv4 address for NIC "
                                    "52:54:00:e2:1b:03 (network " +
                                    kNet + ") within the wait_for_ip timeout of 12s"))
        << b.out;
    EXPECT_GE(secs2, 12.0);
}

} // namespace
