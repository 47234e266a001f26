// wait_for_ip: the spec key (parse, errors at their place, emit, store round trip) and the wait
// of apply with a fake hypervisor (match by MAC, link-local ignored, fail fast, timeout).
#include <gtest/gtest.h>

#include <chrono>

#include "fake_hypervisor.hpp"
#include "test_support.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"

using namespace virtumancer;
using virtumancer::testing::FakeConnector;
using virtumancer::testing::FakeHypervisor;
using virtumancer::testing_util::TempDir;

namespace {

const char* kHost = "kind: Host\nname: h\nuri: test:///default\n---\n";

std::string vm_doc(const std::string& wait) {
    return std::string(kHost) +
           "kind: VirtualMachine\nname: web\nhost: h\nmemory: 64MiB\nvcpus: 1\n" + wait;
}

std::string first_error(const SpecLoadResult& r) {
    for (const auto& d : r.diags.items())
        if (d.severity == Severity::Error) return d.to_string();
    return "";
}

// A fake whose running domains have a live XML and answer address queries.
class AddrHypervisor : public FakeHypervisor {
  public:
    std::map<std::string, std::string> live;      // domain -> live XML
    std::map<std::string, AddressAnswer> answers; // source -> answer
    int queries = 0;
    // From this many queries on, the lease source answers `late_lease` (a guest booting).
    int lease_after = 0;
    AddressAnswer late_lease;

    ObservedDomain observe_domain(const std::string& name) override {
        ObservedDomain d = FakeHypervisor::observe_domain(name);
        d.live_xml = live[name];
        return d;
    }
    AddressAnswer interface_addresses(const std::string&, const std::string& source) override {
        ++queries;
        if (source == "lease" && lease_after && queries >= lease_after) return late_lease;
        return answers[source];
    }
};

std::string domain_xml(const std::string& nics, bool agent = false) {
    return "<domain type='qemu'><name>web</name><devices>" + nics +
           (agent ? "<channel type='unix'><target type='virtio' "
                    "name='org.qemu.guest_agent.0'/></channel>"
                  : "") +
           "</devices></domain>";
}

const std::string kNetNic = "<interface type='network'><mac address='52:54:00:aa:00:01'/>"
                            "<source network='n1'/></interface>";
const std::string kBridgeNic = "<interface type='bridge'><mac address='52:54:00:aa:00:02'/>"
                               "<source bridge='br0'/></interface>";

InterfaceAddress addr(const std::string& mac, const std::string& family, const std::string& a,
                      int prefix) {
    InterfaceAddress x;
    x.mac = mac;
    x.name = "vnet0";
    x.family = family;
    x.address = a;
    x.prefix = prefix;
    return x;
}

struct Fixture {
    TempDir dir;
    std::unique_ptr<Database> db = Database::open(dir.file("t.db"));
    Store store{*db};
    AddrHypervisor hv;
    FakeConnector hosts{hv};
    DesiredState desired;
    std::vector<std::string> lines;

    explicit Fixture(const std::string& wait) {
        auto r = load_spec_text("t.yaml", vm_doc(wait));
        EXPECT_FALSE(r.diags.has_errors()) << first_error(r);
        desired = r.state;
        hv.state["web"] = "running";
    }
    std::vector<WaitIpResult> run(const std::map<std::string, bool>& nets = {{"h/n1", true}}) {
        ApplyOptions o;
        o.actor = "test";
        return wait_for_ips(desired, {"h/web"}, nets, hosts, store, o,
                            [&](const std::string& l) { lines.push_back(l); });
    }
};

} // namespace

TEST(WaitForIpSpec, MappingIsLoadedWithDefaultsAndDurations) {
    auto r = load_spec_text("t.yaml", vm_doc("wait_for_ip:\n  timeout: 5m\n  source: lease\n"));
    ASSERT_FALSE(r.diags.has_errors()) << first_error(r);
    const WaitForIp& w = r.state.vms.at(0).vm.wait_for_ip;
    EXPECT_TRUE(w.enabled);
    EXPECT_EQ(w.timeout, 300);
    EXPECT_EQ(w.source, "lease");
    EXPECT_TRUE(w.ipv4);
    EXPECT_FALSE(w.ipv6);

    auto t = load_spec_text("t.yaml", vm_doc("wait_for_ip: true\n"));
    ASSERT_FALSE(t.diags.has_errors());
    EXPECT_TRUE(t.state.vms.at(0).vm.wait_for_ip.enabled);
    EXPECT_EQ(t.state.vms.at(0).vm.wait_for_ip.timeout, 120);
    EXPECT_EQ(t.state.vms.at(0).vm.wait_for_ip.source, "any");

    auto none = load_spec_text("t.yaml", vm_doc(""));
    EXPECT_FALSE(none.state.vms.at(0).vm.wait_for_ip.enabled);
}

TEST(WaitForIpSpec, BadValuesAreErrorsAtTheirPlace) {
    // the VM document starts at line 5: wait_for_ip is line 10, its members lines 11-
    auto r = load_spec_text("t.yaml", vm_doc("wait_for_ip:\n  timeout: soon\n  source: dhcp\n"
                                             "  ipv5: true\n"));
    ASSERT_TRUE(r.diags.has_errors());
    std::string all;
    for (const auto& d : r.diags.items()) all += d.to_string() + "\n";
    EXPECT_NE(all.find("t.yaml:11:12: error: `wait_for_ip.timeout` must be a duration"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("t.yaml:12:11: error: `source` must be one of any, lease, agent, arp"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("t.yaml:13:3: error: unknown key `ipv5` in wait_for_ip"), std::string::npos)
        << all;

    auto off = load_spec_text("t.yaml", vm_doc("wait_for_ip:\n  ipv4: false\n"));
    EXPECT_NE(first_error(off).find("waits for no address"), std::string::npos) << first_error(off);
}

TEST(WaitForIpSpec, EmitLoadsBackTheSameSettingsAndChangesTheContentHash) {
    auto r = load_spec_text("t.yaml", vm_doc("wait_for_ip:\n  timeout: 90s\n  source: agent\n"
                                             "  ipv6: true\n"));
    ASSERT_FALSE(r.diags.has_errors()) << first_error(r);
    std::string yaml = emit_spec_yaml("VirtualMachine", r.state.vms.at(0));
    EXPECT_NE(yaml.find("wait_for_ip:\n  timeout: 90s\n  source: agent\n  ipv6: true\n"),
              std::string::npos)
        << yaml;
    auto back = load_spec_text("t.yaml", std::string(kHost) + yaml + "\n");
    ASSERT_FALSE(back.diags.has_errors()) << first_error(back) << yaml;
    EXPECT_EQ(back.state.vms.at(0).vm.wait_for_ip, r.state.vms.at(0).vm.wait_for_ip);

    auto plain = load_spec_text("t.yaml", vm_doc(""));
    EXPECT_NE(plain.state.vms.at(0).content_hash, r.state.vms.at(0).content_hash)
        << "a change of wait_for_ip alone must reach the database at the next load";
}

TEST(WaitForIpSpec, StoreKeepsItAcrossSaveAndLoad) {
    TempDir dir;
    auto db = Database::open(dir.file("t.db"));
    Store store(*db);
    auto r = load_spec_text("t.yaml", vm_doc("wait_for_ip:\n  timeout: 7\n  source: arp\n"));
    ASSERT_FALSE(r.diags.has_errors()) << first_error(r);
    store.save_desired(r, "rev1", "test", {"t.yaml"});
    DesiredState d = store.load_desired();
    ASSERT_EQ(d.vms.size(), 1u);
    const WaitForIp& w = d.vms[0].vm.wait_for_ip;
    EXPECT_TRUE(w.enabled);
    EXPECT_EQ(w.timeout, 7);
    EXPECT_EQ(w.source, "arp");

    auto plain = load_spec_text("t.yaml", vm_doc(""));
    store.save_desired(plain, "rev2", "test", {"t.yaml"});
    EXPECT_FALSE(store.load_desired().vms.at(0).vm.wait_for_ip.enabled);
}

TEST(WaitForIp, LeaseAddressMatchedByMacLinkLocalIgnored) {
    Fixture f("wait_for_ip:\n  timeout: 10\n  source: lease\n");
    f.hv.live["web"] = domain_xml(kNetNic);
    AddressAnswer a;
    a.addresses = {addr("52:54:00:99:99:99", "ipv4", "10.0.0.9", 24), // another NIC's MAC
                   addr("52:54:00:AA:00:01", "ipv4", "169.254.3.4", 16)};
    f.hv.answers["lease"] = a;
    f.hv.lease_after = 3; // the guest gets its lease at the third query
    f.hv.late_lease.addresses = {addr("52:54:00:AA:00:01", "ipv4", "10.0.0.5", 24)};
    auto res = f.run();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_TRUE(res[0].ok) << res[0].error;
    ASSERT_EQ(res[0].nics.size(), 1u);
    ASSERT_EQ(res[0].nics[0].addresses.size(), 1u);
    EXPECT_EQ(res[0].nics[0].addresses[0].address, "10.0.0.5");
    EXPECT_EQ(res[0].nics[0].addresses[0].from, "lease");
    EXPECT_GE(f.hv.queries, 3);
    ASSERT_FALSE(f.lines.empty());
    EXPECT_NE(f.lines.back().find("52:54:00:aa:00:01 10.0.0.5/24 (lease)"), std::string::npos)
        << f.lines.back();
    auto tasks = f.store.tasks(0, "");
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].type, "vm.wait_ip");
    EXPECT_EQ(tasks[0].status, "COMPLETED");
    EXPECT_NE(tasks[0].details.find("10.0.0.5"), std::string::npos) << tasks[0].details;
}

TEST(WaitForIp, AgentWithoutChannelFailsAtOnce) {
    Fixture f("wait_for_ip:\n  timeout: 60\n  source: agent\n");
    f.hv.live["web"] = domain_xml(kNetNic, false);
    auto t0 = std::chrono::steady_clock::now();
    auto res = f.run();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_FALSE(res[0].ok);
    EXPECT_LT(secs, 2.0);
    EXPECT_NE(res[0].error.find("VM web on host h has no guest-agent channel"), std::string::npos)
        << res[0].error;
    EXPECT_EQ(f.hv.queries, 0);
    EXPECT_EQ(f.store.tasks(0, "").at(0).status, "FAILED");
}

TEST(WaitForIp, LeaseOnABridgeOrANetworkWithoutDhcpFailsAtOnce) {
    Fixture f("wait_for_ip:\n  timeout: 60\n  source: lease\n");
    f.hv.live["web"] = domain_xml(kBridgeNic);
    auto res = f.run();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_FALSE(res[0].ok);
    EXPECT_NE(res[0].error.find("NIC 52:54:00:aa:00:02 is a bridge interface (br0), not on a "
                                "libvirt network"),
              std::string::npos)
        << res[0].error;

    Fixture g("wait_for_ip:\n  timeout: 60\n  source: lease\n");
    g.hv.live["web"] = domain_xml(kNetNic);
    auto r2 = g.run({{"h/n1", false}});
    ASSERT_EQ(r2.size(), 1u);
    EXPECT_NE(r2[0].error.find("network n1, which serves no DHCP"), std::string::npos)
        << r2[0].error;
    EXPECT_EQ(g.hv.queries, 0);
}

TEST(WaitForIp, TimeoutNamesTheVmAndTheNic) {
    Fixture f("wait_for_ip:\n  timeout: 1\n  source: any\n");
    f.hv.live["web"] = domain_xml(kNetNic);
    auto t0 = std::chrono::steady_clock::now();
    auto res = f.run();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_FALSE(res[0].ok);
    EXPECT_GE(secs, 1.0);
    EXPECT_LT(secs, 3.0);
    EXPECT_NE(res[0].error.find("VM web on host h: no IPv4 address for NIC 52:54:00:aa:00:01 "
                                "(network n1) within the wait_for_ip timeout of 1s"),
              std::string::npos)
        << res[0].error;
}

TEST(WaitForIp, InterruptStopsTheWaitAndMarksTheTask) {
    Fixture f("wait_for_ip:\n  timeout: 60\n  source: lease\n");
    f.hv.live["web"] = domain_xml(kNetNic);
    ApplyOptions o;
    o.actor = "test";
    auto t0 = std::chrono::steady_clock::now();
    o.interrupted = [&] {
        return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(700) ? 2 : 0;
    };
    auto res = wait_for_ips(f.desired, {"h/web"}, {{"h/n1", true}}, f.hosts, f.store, o, {});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_TRUE(res[0].interrupted);
    EXPECT_LT(secs, 3.0);
    EXPECT_EQ(f.store.tasks(0, "").at(0).status, "INTERRUPTED");
}

TEST(WaitForIp, VmsWithoutTheSettingOrNotSelectedAreNotWaitedFor) {
    Fixture f("");
    f.hv.live["web"] = domain_xml(kNetNic);
    EXPECT_TRUE(f.run().empty());
    EXPECT_TRUE(f.store.tasks(0, "").empty());
}

TEST(WaitForIp, AgentNotConnectedFailsAtTheTimeoutWithTheAgentsError) {
    Fixture f("wait_for_ip:\n  timeout: 1\n  source: agent\n");
    f.hv.live["web"] = domain_xml(kNetNic, true);
    AddressAnswer gone;
    gone.agent_unavailable = true;
    gone.error = "Guest agent is not responding: QEMU guest agent is not connected";
    f.hv.answers["agent"] = gone;
    auto res = f.run();
    ASSERT_EQ(res.size(), 1u);
    EXPECT_FALSE(res[0].ok);
    EXPECT_GT(f.hv.queries, 0) << "a domain with the channel is asked";
    EXPECT_NE(res[0].error.find("within the wait_for_ip timeout of 1s (source agent); the guest "
                                "agent did not connect: Guest agent is not responding"),
              std::string::npos)
        << res[0].error;
}
