// Nothing is lost: the usage graph of a host, deletions checked against every user after the
// plan's own steps, changes no step can make safely as plan errors, one Host spec per libvirt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <unistd.h>

#include "../../src/cli/plan_output.hpp"

#include "fake_hypervisor.hpp"
#include "test_support.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/usage.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

const char* kMarker = "<metadata><virtumancer:owner "
                      "xmlns:virtumancer='https://virtumancer.dev/xmlns/owner/1' "
                      "spec='local/vm/%s' hash='h' revision='r'/></metadata>";

std::string domain_xml(const std::string& name, const std::string& devices, bool managed = true) {
    std::string marker;
    if (managed) {
        char buf[512];
        snprintf(buf, sizeof buf, kMarker, name.c_str());
        marker = buf;
    }
    return "<domain type='qemu'><name>" + name + "</name><memory unit='KiB'>65536</memory>" +
           marker + "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>" + devices +
           "</devices></domain>";
}

std::string file_disk(const std::string& path, const std::string& target,
                      const std::string& bus = "virtio") {
    return "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" +
           path + "'/><target dev='" + target + "' bus='" + bus + "'/></disk>";
}

std::string nic(const std::string& net, const std::string& mac) {
    return "<interface type='network'><mac address='" + mac + "'/><source network='" + net +
           "'/><model type='virtio'/></interface>";
}

ObservedVolume volume(const std::string& name, const std::string& backing = "",
                      const std::string& format = "qcow2", const std::string& cap = "1048576") {
    ObservedVolume v;
    v.pool = "p";
    v.name = name;
    v.path = "/var/lib/vmr/p/" + name;
    v.xml = "<volume type='file'><name>" + name + "</name><capacity unit='bytes'>" + cap +
            "</capacity><target><path>" + v.path + "</path><format type='" + format +
            "'/></target>" +
            (backing.empty() ? ""
                             : "<backingStore><path>/var/lib/vmr/p/" + backing +
                                   "</path><format type='qcow2'/></backingStore>") +
            "</volume>";
    return v;
}

ObservedHost host() {
    ObservedHost h;
    h.host = "local";
    h.uri = "qemu:///system";
    h.reachable = true;
    ObservedPool p;
    p.name = "p";
    p.active = true;
    p.autostart = true;
    p.xml = "<pool type='dir'><name>p</name><target><path>/var/lib/vmr/p</path></target></pool>";
    h.pools.push_back(p);
    ObservedNetwork n;
    n.name = "n";
    n.active = true;
    n.autostart = true;
    n.xml = "<network><name>n</name><bridge name='virbr77'/></network>";
    h.networks.push_back(n);
    return h;
}

ObservedDomain dom(const std::string& name, const std::string& devices,
                   const std::string& state = "shutoff", bool managed = true) {
    ObservedDomain d;
    d.name = name;
    d.state = state;
    d.inactive_xml = domain_xml(name, devices, managed);
    if (state == "running") d.live_xml = d.inactive_xml;
    return d;
}

DesiredState desired() {
    DesiredState d;
    d.hosts.push_back({"local", "qemu:///system", "", {"specs/host.yaml", 1, 1}});
    return d;
}

// A VM spec equal to an observed domain's config.
Spec vm_spec(const ObservedDomain& od, const std::string& state) {
    Spec s;
    s.host = "local";
    s.obj = parse_xml(od.inactive_xml, domain_kind());
    s.vm.state = state;
    s.content_hash = "h";
    return s;
}

PlanOptions prune(std::vector<std::string> pending) {
    PlanOptions o;
    o.prune = true;
    o.pending_delete = std::move(pending);
    return o;
}

std::vector<std::string> ops(const Plan& p) {
    std::vector<std::string> v;
    for (const auto& s : p.steps) v.push_back(std::string(op_name(s.op())) + " " + s.name);
    return v;
}

const Step* step(const Plan& p, const std::string& op_name) {
    for (const auto& s : p.steps)
        if (std::string(virtumancer::op_name(s.op())) + " " + s.name == op_name) return &s;
    return nullptr;
}

bool has_error(const Plan& p, const std::string& text) {
    for (const auto& e : p.errors)
        if (e.severity == Severity::Error && e.message.find(text) != std::string::npos) return true;
    return false;
}

void expect_sound(const Plan& p) {
    EXPECT_TRUE(changes_without_steps(p).empty())
        << "a change without a step or an error: " << changes_without_steps(p).at(0);
    for (const auto& s : p.steps)
        for (int dep : s.deps) EXPECT_LT(dep, s.id) << op_name(s.op());
}

} // namespace

TEST(Usage, DomainsVolumesBackingNetworksAndPools) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("base.qcow2"), volume("over.qcow2", "base.qcow2"),
                          volume("free.qcow2")};
    h.domains.push_back(dom("web",
                            file_disk("/var/lib/vmr/p/over.qcow2", "vda") +
                                "<disk type='volume' device='disk'><source pool='p' "
                                "volume='free.qcow2'/><target dev='vdb' bus='virtio'/></disk>" +
                                nic("n", "52:54:00:00:00:01"),
                            "shutoff", false));
    // Running with a disk only its running config has (hot-plugged, or removed from config).
    ObservedDomain db = dom("db", "", "running");
    db.live_xml = domain_xml("db", file_disk("/var/lib/vmr//p/base.qcow2", "vdc") +
                                       "<interface type='bridge'><mac address='52:54:00:00:00:02'/>"
                                       "<source bridge='virbr77'/></interface>");
    h.domains.push_back(db);
    Usage u(h);
    auto texts = [](const std::vector<Use>& us) {
        std::vector<std::string> v;
        for (const auto& x : us) v.push_back(x.text());
        return v;
    };
    EXPECT_EQ(texts(u.volume_users("p", "base.qcow2")),
              (std::vector<std::string>{"domain db (disk vdc of the running VM)",
                                        "volume p/over.qcow2 (backing file)"}));
    EXPECT_EQ(texts(u.volume_users("p", "over.qcow2")),
              std::vector<std::string>{"domain web (disk vda)"});
    EXPECT_EQ(texts(u.volume_users("p", "free.qcow2")),
              std::vector<std::string>{"domain web (disk vdb)"});
    EXPECT_EQ(texts(u.network_users("n")),
              (std::vector<std::string>{"domain db (interface 52:54:00:00:00:02 of the running VM)",
                                        "domain web (interface 52:54:00:00:00:01)"}));
    auto pool = texts(u.pool_users("p"));
    EXPECT_EQ(pool.size(), 6u); // three volumes, three disks of domains
    EXPECT_EQ(pool[0], "volume p/base.qcow2 (a volume in the pool)");

    // Projection: the plan undefines web and stops db.
    u.remove_domain("web");
    u.stop_domain("db");
    u.remove_volume("p", "over.qcow2");
    EXPECT_TRUE(u.volume_users("p", "base.qcow2").empty());
    EXPECT_TRUE(u.network_users("n").empty());
    EXPECT_EQ(users_text({{"domain", "web", "disk vdb"}, {"volume", "p/o", "backing file"}}),
              "by domain web (disk vdb), by volume p/o (backing file)");
}

TEST(Usage, DeviceXmlAndMalformedXml) {
    DomainRefs r = domain_refs(file_disk("/x/y.img", "vdz"));
    ASSERT_EQ(r.disks.size(), 1u);
    EXPECT_EQ(r.disks[0].target, "vdz");
    EXPECT_EQ(r.disks[0].file, "/x/y.img");
    EXPECT_TRUE(domain_refs("<domain><devices>").disks.empty());
    EXPECT_TRUE(domain_refs("").nics.empty());
}

// The volume of a VM that stays is never deleted: blocked, naming each user; apply refuses.
TEST(Safety, PruneOfAVolumeInUseIsBlockedNamingEveryUser) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("base.qcow2"), volume("over.qcow2", "base.qcow2"),
                          volume("data.qcow2")};
    ObservedDomain web = dom("web",
                             file_disk("/var/lib/vmr/p/over.qcow2", "vda") +
                                 file_disk("/var/lib/vmr/p/data.qcow2", "vdb"),
                             "running");
    h.domains.push_back(web);
    DesiredState d = desired();
    d.vms.push_back(vm_spec(web, "running"));
    Plan p = make_plan(d, {h}, prune({"local/volume/p/base.qcow2", "local/volume/p/data.qcow2"}));
    EXPECT_TRUE(p.steps.empty()) << ops(p).size();
    ASSERT_EQ(p.blocked.size(), 2u);
    const Blocked& data = p.blocked[1];
    EXPECT_EQ(data.address(), "local/volume/p/data.qcow2");
    EXPECT_EQ(data.op, "volume.delete");
    EXPECT_EQ(data.users, std::vector<std::string>{"domain web (disk vdb)"});
    EXPECT_EQ(p.blocked[0].users, std::vector<std::string>{"volume p/over.qcow2 (backing file)"});
    EXPECT_TRUE(has_error(p, "volume p/data.qcow2 on host local is still in use"));
    EXPECT_TRUE(has_error(p, "used by domain web (disk vdb)"));
    expect_sound(p);

    // A saved plan keeps what is blocked (apply --plan refuses it too).
    Plan q = plan_from_json(plan_to_json(p));
    ASSERT_EQ(q.blocked.size(), 2u);
    EXPECT_EQ(q.blocked[1].users, data.users);
    EXPECT_EQ(q.errors.size(), p.errors.size());
}

// The disk is detached (config and live) in this plan: the delete waits for those steps.
TEST(Safety, VolumeDeleteDependsOnTheDetachOfItsDisk) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("root.qcow2"), volume("data.qcow2")};
    ObservedDomain web = dom("web",
                             file_disk("/var/lib/vmr/p/root.qcow2", "vda") +
                                 file_disk("/var/lib/vmr/p/data.qcow2", "vdb"),
                             "running");
    h.domains.push_back(web);
    DesiredState d = desired();
    ObservedDomain without = dom("web", file_disk("/var/lib/vmr/p/root.qcow2", "vda"), "running");
    d.vms.push_back(vm_spec(without, "running"));
    Plan p = make_plan(d, {h}, prune({"local/volume/p/data.qcow2"}));
    EXPECT_TRUE(p.blocked.empty()) << p.blocked.at(0).reason;
    const Step* del = step(p, "volume.delete p/data.qcow2");
    const Step* detach = step(p, "vm.detach_device web");
    const Step* define = step(p, "vm.define web");
    ASSERT_TRUE(del && detach && define) << ::testing::PrintToString(ops(p));
    EXPECT_NE(std::find(del->deps.begin(), del->deps.end(), detach->id), del->deps.end());
    EXPECT_NE(std::find(del->deps.begin(), del->deps.end(), define->id), del->deps.end());
    expect_sound(p);
}

// A disk on a bus without hot-unplug stays in the running VM until it restarts: blocked.
TEST(Safety, VolumeStillInTheRunningVmIsBlocked) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("data.qcow2")};
    ObservedDomain web =
        dom("web", file_disk("/var/lib/vmr/p/data.qcow2", "sda", "sata"), "running");
    h.domains.push_back(web);
    DesiredState d = desired();
    d.vms.push_back(vm_spec(dom("web", "", "running"), "running"));
    Plan p = make_plan(d, {h}, prune({"local/volume/p/data.qcow2"}));
    ASSERT_EQ(p.blocked.size(), 1u) << ::testing::PrintToString(ops(p));
    EXPECT_EQ(p.blocked[0].users,
              std::vector<std::string>{"domain web (disk sda of the running VM)"});
    EXPECT_EQ(step(p, "volume.delete p/data.qcow2"), nullptr);
}

// The VM, its overlay and the overlay's backing volume all go: VM, overlay, backing, pool,
// network, in that order, each depending on what used it.
TEST(Safety, PruneDeletesInReverseDependencyOrder) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("base.qcow2"), volume("over.qcow2", "base.qcow2")};
    ObservedDomain web =
        dom("web", file_disk("/var/lib/vmr/p/over.qcow2", "vda") + nic("n", "52:54:00:00:00:01"),
            "running");
    web.snapshots = {"s1"};
    h.domains.push_back(web);
    DesiredState d = desired();
    Plan p = make_plan(d, {h},
                       prune({"local/snapshot/web/s1", "local/vm/web", "local/volume/p/base.qcow2",
                              "local/volume/p/over.qcow2", "local/pool/p", "local/network/n"}));
    EXPECT_TRUE(p.blocked.empty()) << p.blocked.at(0).reason;
    EXPECT_EQ(ops(p), (std::vector<std::string>{"snapshot.delete web/s1", "vm.destroy web",
                                                "vm.undefine web", "volume.delete p/over.qcow2",
                                                "volume.delete p/base.qcow2", "pool.undefine p",
                                                "network.undefine n"}));
    auto deps = [&](const std::string& s) { return step(p, s)->deps; };
    EXPECT_EQ(deps("vm.destroy web"), std::vector<int>{1});
    EXPECT_EQ(deps("volume.delete p/over.qcow2"), (std::vector<int>{2, 3}));
    EXPECT_EQ(deps("volume.delete p/base.qcow2"), (std::vector<int>{3, 4}));
    EXPECT_EQ(deps("pool.undefine p"), (std::vector<int>{2, 3, 4, 5}));
    EXPECT_EQ(deps("network.undefine n"), (std::vector<int>{2, 3}));
    EXPECT_EQ(p.changes.size(), 6u);
    expect_sound(p);

    // Without --prune: nothing deleted, each named as a warning.
    PlanOptions keep;
    keep.pending_delete = {"local/pool/p", "local/network/n", "local/snapshot/web/s1"};
    Plan k = make_plan(d, {h}, keep);
    EXPECT_TRUE(k.steps.empty());
    int warnings = 0;
    for (const auto& e : k.errors)
        warnings +=
            e.severity == Severity::Warning && e.message.find("--prune") != std::string::npos;
    EXPECT_EQ(warnings, 4); // pool, network, snapshot and the VM
}

// A pool with a volume left in it, a network a VM stays on: blocked.
TEST(Safety, PoolWithVolumesAndNetworkInUseAreBlocked) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("iso.img")};
    ObservedDomain web = dom("web", nic("n", "52:54:00:00:00:01"));
    h.domains.push_back(web);
    DesiredState d = desired();
    d.vms.push_back(vm_spec(web, "shutoff"));
    Plan p = make_plan(d, {h}, prune({"local/pool/p", "local/network/n"}));
    EXPECT_TRUE(p.steps.empty());
    ASSERT_EQ(p.blocked.size(), 2u);
    EXPECT_EQ(p.blocked[0].users,
              std::vector<std::string>{"volume p/iso.img (a volume in the pool)"});
    EXPECT_EQ(p.blocked[1].users,
              std::vector<std::string>{"domain web (interface 52:54:00:00:00:01)"});
}

TEST(Safety, VolumeShrinkAndFormatChangeArePlanErrorsAtTheSpec) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("v.qcow2", "", "qcow2", "8388608")};
    DesiredState d = desired();
    Spec v;
    v.host = "local";
    v.obj.kind = &volume_kind();
    v.obj.fields = {{"name", "v.qcow2"}, {"pool", "p"}, {"capacity", "4194304"}, {"format", "raw"}};
    v.src = {"specs/storage.yaml", 12, 1};
    d.volumes.push_back(v);
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.steps.empty());
    EXPECT_TRUE(p.changes.empty());
    ASSERT_EQ(p.blocked.size(), 2u);
    int at_spec = 0;
    for (const auto& e : p.errors)
        at_spec += e.severity == Severity::Error && e.file == "specs/storage.yaml" && e.line == 12;
    EXPECT_EQ(at_spec, 2);
    EXPECT_TRUE(has_error(p, "never shrinks or reformats a volume in place"));
    EXPECT_TRUE(has_error(p, "shrinking a volume loses data"));
    EXPECT_TRUE(has_error(p, "is qcow2, the spec says raw"));
}

TEST(Safety, PoolPathChangeIsAPlanErrorNotAChangeWithoutStep) {
    ObservedHost h = host();
    DesiredState d = desired();
    Spec ps;
    ps.host = "local";
    ps.obj.kind = &pool_kind();
    ps.obj.fields = {{"name", "p"}, {"type", "dir"}, {"path", "/var/lib/vmr/elsewhere"}};
    ps.src = {"specs/storage.yaml", 3, 1};
    d.pools.push_back(ps);
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(p.blocked.size(), 1u);
    EXPECT_EQ(p.blocked[0].file, "specs/storage.yaml");
    EXPECT_EQ(p.blocked[0].line, 3);
    EXPECT_TRUE(has_error(p, "changes path"));
    expect_sound(p);
}

TEST(Safety, DiskOnlySnapshotOfARunningVmIsAPlanError) {
    ObservedHost h = host();
    ObservedDomain web = dom("web", "", "running");
    h.domains.push_back(web);
    DesiredState d = desired();
    d.vms.push_back(vm_spec(web, "running"));
    SnapshotSpec s;
    s.name = "s1";
    s.vm = "web";
    s.host = "local";
    s.src = {"specs/snapshot.yaml", 2, 1};
    d.snapshots.push_back(s);
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.steps.empty());
    ASSERT_EQ(p.blocked.size(), 1u);
    EXPECT_TRUE(has_error(p, "memory: true"));
    d.snapshots[0].memory = true;
    Plan ok = make_plan(d, {h}, {});
    EXPECT_TRUE(ok.blocked.empty());
    ASSERT_EQ(ok.steps.size(), 1u);
    EXPECT_EQ(ok.steps[0].op(), Op::SnapshotCreate);
    // A VM that is shut off takes a disk-only snapshot.
    d.snapshots[0].memory = false;
    d.vms[0].vm.state = "shutoff";
    Plan off = make_plan(d, {h}, {});
    EXPECT_TRUE(off.blocked.empty());
}

TEST(Safety, TwoHostSpecsOnOneHypervisorPlanNothingOnEither) {
    ObservedHost a = host();
    a.host_uuid = "11111111-2222-3333-4444-555555555555";
    a.domains.push_back(dom("web", "", "running"));
    ObservedHost b = a;
    b.host = "other";
    b.uri = "qemu+ssh://localhost/system";
    DesiredState d = desired();
    d.hosts.push_back({"other", "qemu+ssh://localhost/system", "", {"specs/other.yaml", 4, 1}});
    Spec vm = vm_spec(a.domains[0], "running");
    vm.host = "other";
    d.vms.push_back(vm);
    Plan p = make_plan(d, {a, b}, prune({}));
    EXPECT_TRUE(p.steps.empty()) << "the VM of host local would be pruned";
    ASSERT_EQ(p.blocked.size(), 1u);
    EXPECT_TRUE(has_error(p, "specs/host.yaml:1"));
    EXPECT_TRUE(has_error(p, "specs/other.yaml:4"));
    EXPECT_TRUE(has_error(p, "11111111-2222-3333-4444-555555555555"));
}

// Right before a deletion the applier looks again: a user that appeared since the plan fails
// the step (naming it) and nothing is deleted.
TEST(Safety, ApplierRefusesADeleteWhenAUserAppeared) {
    virtumancer::testing::FakeHypervisor hv;
    hv.observed = host();
    hv.observed.pools[0].volumes = {volume("data.qcow2")};
    hv.observed.domains.push_back(dom("late", file_disk("/var/lib/vmr/p/data.qcow2", "vdb")));
    Plan p;
    Step s;
    s.id = 1;
    s.payload = VolumeDelete{"p", "data.qcow2"};
    s.host = "local";
    s.kind = "volume";
    s.name = "p/data.qcow2";
    s.change = "local/volume/p/data.qcow2";
    p.steps.push_back(s);
    Step n = s;
    n.id = 2;
    n.payload = NetworkUndefine{};
    n.kind = "network";
    n.name = "n";
    n.change = "local/network/n";
    p.steps.push_back(n);
    virtumancer::testing::FakeConnector conn(hv);
    testing_util::TempDir tmp("vm-safety-");
    auto db = Database::open(tmp.file("t.db"));
    Store store(*db);
    virtumancer::testing::EventLog log;
    ApplyOptions opts;
    ApplyResult r = apply_plan(p, conn, store, opts, log);
    EXPECT_EQ(r.failed, 1);
    EXPECT_FALSE(hv.called("delete_volume p/data.qcow2"));
    EXPECT_TRUE(hv.called("undefine_network n")); // nothing uses it
    EXPECT_NE(r.steps[0].error.find("domain late (disk vdb)"), std::string::npos)
        << r.steps[0].error;

    // A plan with a blocked change runs nothing at all.
    p.blocked.push_back({"local", "volume", "p/x", "volume.delete", "in use", {}, {}, "", 0});
    EXPECT_THROW(apply_plan(p, conn, store, opts, log), Error);
    EXPECT_EQ(hv.names().size(), 1u) << "the blocked plan ran a step";
}

TEST(Safety, TwoHostSpecsWithOneUriAreAValidationErrorNamingBoth) {
    SpecLoadResult r =
        load_spec_text("hosts.yaml", "kind: Host\nname: a\nuri: qemu:///system\n---\n"
                                     "kind: Host\nname: b\nuri: qemu:///system\n");
    ASSERT_EQ(r.diags.error_count(), 1u) << r.diags.json();
    const Diagnostic& e = r.diags.items().at(0);
    EXPECT_EQ(e.file, "hosts.yaml");
    EXPECT_EQ(e.line, 7); // the second Host's uri
    EXPECT_NE(e.message.find("as Host `a` (defined at hosts.yaml:2:7)"), std::string::npos)
        << e.message;
    SpecLoadResult ok = load_spec_text("hosts.yaml", "kind: Host\nname: a\nuri: qemu:///system\n"
                                                     "---\nkind: Host\nname: b\nuri: "
                                                     "qemu+ssh://b/system\n");
    EXPECT_FALSE(ok.diags.has_errors()) << ok.diags.json();
}

// What people read: a replace-class VM change is a redefine in place (nothing is destroyed),
// and a blocked deletion is listed with each user.
TEST(Safety, PlanOutputSaysRedefineAndListsBlockedUsers) {
    Plan p;
    ResourceChange c;
    c.host = "local";
    c.kind = "vm";
    c.name = "web";
    c.action = Action::Replace;
    c.cls = ChangeClass::Replace;
    c.diffs.push_back({"domain_type", "qemu", "kvm", ChangeClass::Replace});
    p.changes.push_back(c);
    Blocked bl{"local",
               "volume",
               "p/x.qcow2",
               "volume.delete",
               "volume p/x.qcow2 is in use",
               {"domain web (disk vdb)", "volume p/o.qcow2 (backing file)"},
               {},
               "",
               0};
    p.errors.push_back({Severity::Error, bl.address(), 0, 0, bl.reason + "; used by ..."});
    p.blocked.push_back(bl);
    std::ostringstream os;
    cli::print_plan(os, p, false);
    std::string out = os.str();
    EXPECT_NE(out.find("will be redefined in place (nothing is destroyed)"), std::string::npos);
    EXPECT_EQ(out.find("-/+"), std::string::npos) << out;
    EXPECT_NE(out.find("~! vm \"web\""), std::string::npos) << out;
    EXPECT_NE(out.find("# local/volume/p/x.qcow2 BLOCKED (volume.delete)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("used by domain web (disk vdb)\n      used by volume p/o.qcow2 (backing "
                       "file)"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("error: local/volume"), std::string::npos) << "printed twice:\n" << out;
    EXPECT_NE(out.find("0 to create, 0 to update, 1 to redefine, 0 to delete, 1 BLOCKED"),
              std::string::npos)
        << out;
}

// A VM renamed in its spec without its uuid is a new VM on the old domain's disks: blocked,
// naming the domain that uses them and the uuid remedy, never a second domain on one image.
// Read-only and CD-ROM disks may be shared.
TEST(Safety, NewVmOnADiskAnotherDomainUsesIsBlocked) {
    ObservedHost h = host();
    h.pools[0].volumes = {volume("root.qcow2"), volume("iso.img", "", "raw")};
    ObservedDomain old = dom("old",
                             "<disk type='volume' device='disk'><source pool='p' "
                             "volume='root.qcow2'/><target dev='vda' bus='virtio'/></disk>" +
                                 file_disk("/var/lib/vmr/p/iso.img", "hdc", "ide"),
                             "running");
    h.domains.push_back(old);
    DesiredState d = desired();
    Spec renamed = vm_spec(old, "running");
    renamed.obj.fields["name"] = "new";
    d.vms.push_back(renamed);
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(p.blocked.size(), 2u) << "the root volume and the file disk";
    EXPECT_EQ(p.blocked[0].name, "new");
    EXPECT_EQ(p.blocked[0].users, std::vector<std::string>{"domain old (disk vda)"});
    EXPECT_TRUE(has_error(p, "put that domain's uuid in the spec"));
    EXPECT_TRUE(has_error(p, "disk hdc (file /var/lib/vmr/p/iso.img)"));
    expect_sound(p);

    // The same VM with its disks read-only / a CD-ROM: nothing is refused.
    for (auto& dev : d.vms[0].obj.children)
        if (dev.kind->kind == "disk") {
            if (dev.get("target") == "vda")
                dev.fields["readonly"] = "yes";
            else
                dev.fields["device"] = "cdrom";
        }
    Plan q = make_plan(d, {h}, {});
    EXPECT_TRUE(q.blocked.empty()) << (q.blocked.empty() ? "" : q.blocked[0].reason);
    // And a VM on its own volume is planned as before.
    h.domains.clear();
    Plan r = make_plan(d, {h}, {});
    EXPECT_TRUE(r.blocked.empty());
    EXPECT_FALSE(r.steps.empty());
}
