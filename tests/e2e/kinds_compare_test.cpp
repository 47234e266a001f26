// Networks, pools and snapshots on the real libvirtd: what `plan` changes and what `drift`
// reports come from one comparison per kind. A DHCP range changed in the spec is applied to
// the running network in place (virNetworkUpdate) and the next plan is empty; a setting that
// needs a redefine keeps the network's UUID (libvirt refuses a redefine without it); DHCP
// entries and pool autostart changed with virsh behind virtumancer's back are drift on the
// exact field; a snapshot's description is redefined.
#include <nlohmann/json.hpp>

#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;
using nlohmann::json;

const std::string kPrefix = "vmr-e2e-kc-";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-kc-pool";
const std::string kNet = "vmr-e2e-kc-net";
const std::string kPool = "vmr-e2e-kc-pool";
const std::string kVm = "vmr-e2e-kc-vm";

std::string network_spec(const std::string& range_end, const std::string& domain = "") {
    return "kind: Network\nname: " + kNet + "\nhost: local\nmode: isolated\nbridge: vmr-kc-br0\n" +
           (domain.empty() ? "" : "domain: " + domain + "\n") +
           "ips:\n  - family: ipv4\n    address: 10.213.57.1\n    prefix: 24\n"
           "    dhcp_ranges:\n      - start: 10.213.57.100\n        end: " +
           range_end +
           "\n    hosts:\n      - mac: \"52:54:00:6b:63:02\"\n        host_name: kc\n"
           "        ip: 10.213.57.2\n";
}

const std::string kHost = "kind: Host\nname: local\nuri: qemu:///system\n---\n";

std::string pool_spec() {
    return "kind: StoragePool\nname: " + kPool + "\nhost: local\ntype: dir\npath: " + kPoolDir +
           "\n";
}

std::string snapshot_specs(const std::string& description) {
    return pool_spec() + "---\nkind: Volume\nname: kc.qcow2\nhost: local\npool: " + kPool +
           "\ncapacity: 8MiB\nformat: qcow2\n---\nkind: VirtualMachine\nname: " + kVm +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: 1\n"
           "state: shutoff\ndisks:\n  - pool: " +
           kPool +
           "\n    volume: kc.qcow2\n    target: vda\n"
           "---\nkind: Snapshot\nname: kc-snap\nhost: local\nvm: " +
           kVm + "\nmemory: false\ndescription: " + description + "\n";
}

class KindsCompare : public OwnedObjectsTest {
  protected:
    KindsCompare() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    void write(const std::string& yaml) { dir_.write("specs/all.yaml", kHost + yaml); }
    Result run(const std::string& args) { return vm(db_, args + " " + quote(dir_.file("specs"))); }
    // `drift --json`: the object's diffs as field -> {expected, actual}; status in *status.
    std::map<std::string, std::pair<std::string, std::string>>
    drift_of(const std::string& kind, const std::string& name, std::string* status) {
        Result r = run("drift --json");
        auto a = r.out.find('{'), b = r.out.rfind('}');
        json j =
            json::parse(a == std::string::npos ? std::string("{}") : r.out.substr(a, b - a + 1),
                        nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.out;
        std::map<std::string, std::pair<std::string, std::string>> out;
        *status = "(not reported)";
        if (j.is_discarded()) return out;
        for (const auto& o : j["objects"]) {
            if (o.value("kind", "") != kind || o.value("name", "") != name) continue;
            *status = o.value("status", "");
            for (const auto& d : o["diffs"])
                out[d.value("field", "")] = {d.value("expected", ""), d.value("actual", "")};
        }
        return out;
    }
    void expect_plan_empty_and_drift_clean(const std::string& kind, const std::string& name) {
        Result p = run("plan --detailed-exitcode");
        EXPECT_EQ(p.code, 0) << p.out;
        std::string status;
        auto diffs = drift_of(kind, name, &status);
        EXPECT_EQ(status, "in_sync");
        for (const auto& [f, v] : diffs)
            ADD_FAILURE() << f << ": expected '" << v.first << "', actual '" << v.second << "'";
    }
};

TEST_F(KindsCompare, NetworkDhcpRangeChangeIsAppliedToTheRunningNetwork) {
    write(network_spec("10.213.57.199"));
    Result r = run("apply --auto-approve");
    ASSERT_EQ(r.code, 0) << r.out;
    expect_plan_empty_and_drift_clean("network", kNet);

    write(network_spec("10.213.57.150"));
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, "ip[10.213.57.1].dhcp_range[10.213.57.100].end")) << p.out;
    EXPECT_TRUE(contains(p.out, "10.213.57.199")) << p.out;
    EXPECT_TRUE(contains(p.out, "10.213.57.150")) << p.out;
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    // In the running network (live XML) and in its config, without a restart.
    EXPECT_TRUE(contains(virsh("net-dumpxml " + kNet), "end='10.213.57.150'"))
        << virsh("net-dumpxml " + kNet);
    EXPECT_TRUE(contains(virsh("net-dumpxml --inactive " + kNet), "end='10.213.57.150'"));
    EXPECT_FALSE(contains(virsh("net-dumpxml " + kNet), "10.213.57.199"));
    EXPECT_TRUE(contains(virsh("net-info " + kNet), "Active:         yes"));
    expect_plan_empty_and_drift_clean("network", kNet);
}

TEST_F(KindsCompare, NetworkRedefineKeepsItsUuidAndWaitsForARestart) {
    write(network_spec("10.213.57.199"));
    ASSERT_EQ(run("apply --auto-approve").code, 0);
    std::string uuid = virsh("net-uuid " + kNet);
    ASSERT_FALSE(uuid.empty());

    write(network_spec("10.213.57.199", "kc.example"));
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, "domain")) << p.out;
    EXPECT_TRUE(contains(p.out, "restarted")) << p.out;
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out; // was: "already exists with uuid ..."
    EXPECT_EQ(virsh("net-uuid " + kNet), uuid);
    EXPECT_TRUE(contains(virsh("net-dumpxml --inactive " + kNet), "kc.example"));
    // Not restarted: the running network still has the old settings, so the change is
    // pending (never "No changes"): plan exits 2 listing it, drift says pending.
    EXPECT_TRUE(contains(virsh("net-info " + kNet), "Active:         yes"));
    EXPECT_FALSE(contains(virsh("net-dumpxml " + kNet), "kc.example"));
    Result after = run("plan --detailed-exitcode");
    EXPECT_EQ(after.code, 2) << after.out;
    EXPECT_TRUE(contains(after.out, "local/network/" + kNet + " is pending")) << after.out;
    EXPECT_TRUE(contains(after.out, "kc.example")) << after.out;
    EXPECT_TRUE(contains(after.out, "1 active network with pending changes")) << after.out;
    EXPECT_FALSE(contains(after.out, "The hosts match the specs")) << after.out;
    Result pj = run("plan --json");
    json plan =
        json::parse(pj.out.substr(std::min(pj.out.find('{'), pj.out.size())), nullptr, false);
    ASSERT_FALSE(plan.is_discarded()) << pj.out;
    EXPECT_TRUE(plan["steps"].empty()) << pj.out; // nothing to apply
    ASSERT_EQ(plan["pending"].size(), 1u) << pj.out;
    EXPECT_EQ(plan["pending"][0].value("kind", ""), "network");
    std::string status;
    auto diffs = drift_of("network", kNet, &status);
    EXPECT_EQ(status, "pending");
    EXPECT_TRUE(diffs.empty()) << "the config matches";
    // The restart the note asks for: then nothing is pending.
    virsh("net-destroy " + kNet);
    virsh("net-start " + kNet);
    EXPECT_TRUE(contains(virsh("net-dumpxml " + kNet), "kc.example"));
    expect_plan_empty_and_drift_clean("network", kNet);
}

TEST_F(KindsCompare, OutOfBandNetUpdateIsDriftWithItsFieldAndPlannedAway) {
    write(network_spec("10.213.57.199"));
    ASSERT_EQ(run("apply --auto-approve").code, 0);
    std::string out =
        virsh("net-update " + kNet +
              " add ip-dhcp-range \"<range start='10.213.57.20' end='10.213.57.30'/>\" "
              "--live --config");
    ASSERT_TRUE(contains(out, "Updated")) << out;
    out = virsh("net-update " + kNet +
                " add ip-dhcp-host \"<host mac='52:54:00:6b:63:09' ip='10.213.57.9'/>\" "
                "--live --config");
    ASSERT_TRUE(contains(out, "Updated")) << out;

    std::string status;
    auto diffs = drift_of("network", kNet, &status);
    EXPECT_EQ(status, "drifted");
    const std::string range = "ip[10.213.57.1].dhcp_range[10.213.57.20]";
    const std::string host = "ip[10.213.57.1].dhcp_host[52:54:00:6b:63:09]";
    ASSERT_EQ(diffs.count(range), 1u);
    EXPECT_EQ(diffs[range].second, "start=10.213.57.20 end=10.213.57.30");
    EXPECT_EQ(diffs[range].first, "");
    ASSERT_EQ(diffs.count(host), 1u);
    EXPECT_EQ(diffs.size(), 2u);

    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, range)) << p.out;
    EXPECT_TRUE(contains(p.out, host)) << p.out;
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    EXPECT_FALSE(contains(virsh("net-dumpxml " + kNet), "10.213.57.20'"));
    EXPECT_FALSE(contains(virsh("net-dumpxml --inactive " + kNet), "52:54:00:6b:63:09"));
    // The spec's own entries are still there.
    EXPECT_TRUE(contains(virsh("net-dumpxml " + kNet), "end='10.213.57.199'"));
    EXPECT_TRUE(contains(virsh("net-dumpxml " + kNet), "52:54:00:6b:63:02"));
    expect_plan_empty_and_drift_clean("network", kNet);
}

TEST_F(KindsCompare, PoolAutostartChangedOutOfBandIsDrift) {
    write(pool_spec());
    ASSERT_EQ(run("apply --auto-approve").code, 0);
    expect_plan_empty_and_drift_clean("pool", kPool);
    virsh("pool-autostart --disable " + kPool);
    std::string status;
    auto diffs = drift_of("pool", kPool, &status);
    EXPECT_EQ(status, "drifted");
    ASSERT_EQ(diffs.count("autostart"), 1u);
    EXPECT_EQ(diffs["autostart"], (std::pair<std::string, std::string>{"yes", "no"}));
    EXPECT_EQ(diffs.size(), 1u);
    ASSERT_EQ(run("apply --auto-approve").code, 0);
    expect_plan_empty_and_drift_clean("pool", kPool);
}

TEST_F(KindsCompare, SnapshotDescriptionChangeIsPlannedAndRedefined) {
    write(snapshot_specs("first"));
    Result r = run("apply --auto-approve");
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(contains(virsh("snapshot-dumpxml " + kVm + " kc-snap"),
                         "<description>first</description>"));
    expect_plan_empty_and_drift_clean("snapshot", kVm + "/kc-snap");

    write(snapshot_specs("second"));
    std::string status;
    auto diffs = drift_of("snapshot", kVm + "/kc-snap", &status);
    EXPECT_EQ(status, "drifted");
    EXPECT_EQ(diffs["description"], (std::pair<std::string, std::string>{"second", "first"}));
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, "description")) << p.out;
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    std::string xml = virsh("snapshot-dumpxml " + kVm + " kc-snap");
    EXPECT_TRUE(contains(xml, "<description>second</description>")) << xml;
    // Still the same snapshot (its disk state is kept: it can be reverted to).
    EXPECT_TRUE(contains(virsh("snapshot-list --name " + kVm), "kc-snap"));
    EXPECT_TRUE(contains(virsh("snapshot-current --name " + kVm), "kc-snap"));
    expect_plan_empty_and_drift_clean("snapshot", kVm + "/kc-snap");
}

// A VM renamed in its spec (same uuid) while shut off: renamed in place, same UUID, its
// interface's derived MAC unchanged; the next plan is empty. Never a create and a delete.
TEST_F(KindsCompare, ShutOffVmRenamedInItsSpecIsRenamedInPlace) {
    auto vm_spec = [](const std::string& name) {
        return network_spec("10.213.57.199") + "---\nkind: VirtualMachine\nname: " + name +
               "\nhost: local\nuuid: 6b630000-0000-4000-8000-00000000c0de\ndomain_type: qemu\n"
               "machine: pc\nmemory: 64MiB\nvcpus: 1\nstate: shutoff\n"
               "interfaces:\n  - network: " +
               kNet + "\n";
    };
    const std::string renamed = kVm + "-renamed";
    write(vm_spec(kVm));
    Result r = run("apply --auto-approve");
    ASSERT_EQ(r.code, 0) << r.out;
    std::string mac = virsh("domiflist " + kVm);
    ASSERT_TRUE(contains(mac, "52:54:00:")) << mac;
    mac = mac.substr(mac.find("52:54:00:"), 17);

    write(vm_spec(renamed));
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, "name: " + kVm + " -> " + renamed)) << p.out;
    EXPECT_TRUE(contains(p.out, "Plan: 0 to create")) << p.out; // never a create
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    EXPECT_TRUE(contains(virsh("domuuid " + renamed), "6b630000-0000-4000-8000-00000000c0de"));
    EXPECT_TRUE(contains(virsh("domiflist " + renamed), mac)) << virsh("domiflist " + renamed);
    EXPECT_FALSE(contains(virsh("list --all --name"), kVm + "\n"));
    Result again = run("plan --detailed-exitcode");
    EXPECT_EQ(again.code, 0) << again.out;
}

} // namespace
