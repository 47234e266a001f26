// Table-driven tests of the pure planner: desired state + observed hosts -> plan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "test_support.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(fs::path(VIRTUMANCER_SOURCE_DIR) / "tests/data/planner" / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The desired VM as a user would write it (no addresses, no libvirt defaults).
Spec web_spec() {
    Spec s;
    s.host = "local";
    s.obj = parse_xml(fixture("web-desired.xml"), domain_kind());
    s.vm.state = "running";
    s.content_hash = "abc";
    return s;
}

DesiredState base_desired() {
    DesiredState d;
    d.hosts.push_back({"local", "qemu:///system", "", {}});
    d.vms.push_back(web_spec());
    return d;
}

// What libvirt holds after defining web-desired.xml (real libvirt 9.0 output).
ObservedHost observed_running() {
    ObservedHost h;
    h.host = "local";
    h.uri = "qemu:///system";
    h.reachable = true;
    ObservedDomain d;
    d.name = "vmr-fixture-web";
    d.inactive_xml = fixture("web-libvirt-inactive.xml");
    d.state = "running";
    h.domains.push_back(d);
    return h;
}

Object& device(Spec& s, const std::string& kind) {
    for (auto& c : s.obj.children)
        if (c.kind->kind == kind) return c;
    throw std::runtime_error("no " + kind);
}

PlanOptions prune_opts() {
    PlanOptions o;
    o.prune = true;
    return o;
}

PlanOptions target_opts(const std::string& t) {
    PlanOptions o;
    o.targets = {t};
    return o;
}

std::vector<std::string> ops(const Plan& p) {
    std::vector<std::string> v;
    for (const auto& s : p.steps) v.push_back(op_name(s.op()));
    return v;
}

const FieldDiff* find_diff(const Plan& p, const std::string& field) {
    for (const auto& c : p.changes)
        for (const auto& d : c.diffs)
            if (d.field == field) return &d;
    return nullptr;
}

} // namespace

TEST(Planner, NoFalseChangesOnLibvirtNormalizedXml) {
    // libvirt added uuid, addresses, controllers, inputs, audio, memballoon, cpu, clock,
    // expanded pc -> pc-i440fx-7.2, filled currentMemory and video vram: none is a change.
    Plan p = make_plan(base_desired(), {observed_running()}, {});
    for (const auto& c : p.changes)
        for (const auto& d : c.diffs)
            ADD_FAILURE() << c.address() << " " << d.field << ": " << d.before << " -> " << d.after;
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.steps.empty());
}

struct ChangeCase {
    std::string name;
    std::function<void(Spec&)> edit;
    std::string field; // expected diff field
    ChangeClass cls;   // expected classification on a running VM
    std::vector<std::string> expected_ops;
};

class PlannerChange : public ::testing::TestWithParam<ChangeCase> {};

TEST_P(PlannerChange, ClassifiesAndOrders) {
    const ChangeCase& tc = GetParam();
    DesiredState d = base_desired();
    tc.edit(d.vms[0]);
    Plan p = make_plan(d, {observed_running()}, {});
    ASSERT_EQ(p.changes.size(), 1u) << tc.name;
    const FieldDiff* df = find_diff(p, tc.field);
    ASSERT_NE(df, nullptr) << tc.name << ": no diff on " << tc.field;
    EXPECT_EQ(change_class_name(df->cls), std::string(change_class_name(tc.cls))) << tc.name;
    EXPECT_EQ(ops(p), tc.expected_ops) << tc.name;
    // every Update/Replace change has a step or is blocked (an error)
    EXPECT_EQ(changes_without_steps(p), std::vector<std::string>{}) << tc.name;
    // every dependency points backwards (topological order)
    for (const auto& s : p.steps)
        for (int dep : s.deps) EXPECT_LT(dep, s.id);
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, PlannerChange,
    ::testing::Values(
        ChangeCase{"memory_up",
                   [](Spec& s) { s.obj.fields["memory"] = "268435456"; },
                   "memory",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"memory_up_restart_allowed",
                   [](Spec& s) {
                       s.obj.fields["memory"] = "268435456";
                       s.vm.restart_policy = "allowed";
                   },
                   "memory",
                   ChangeClass::Restart,
                   {"vm.define", "vm.shutdown", "vm.start"}},
        ChangeCase{"balloon_down",
                   [](Spec& s) { s.obj.fields["current_memory"] = "65536"; },
                   "current_memory",
                   ChangeClass::Live,
                   {"vm.define", "vm.set_memory"}},
        ChangeCase{"vcpus_up_live",
                   [](Spec& s) { s.obj.fields["vcpus_current"] = "2"; },
                   "vcpus_current",
                   ChangeClass::Live,
                   {"vm.define", "vm.set_vcpus"}},
        ChangeCase{"vcpus_max_up",
                   [](Spec& s) { s.obj.fields["vcpus"] = "4"; },
                   "vcpus",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"add_virtio_disk",
                   [](Spec& s) {
                       Object disk = device(s, "disk");
                       disk.fields["target"] = "vdb";
                       disk.fields["file"] = "/var/lib/libvirt/images/b.qcow2";
                       s.obj.children.push_back(disk);
                   },
                   "disk[vdb]",
                   ChangeClass::Live,
                   {"vm.define", "vm.attach_device"}},
        ChangeCase{"add_sata_cdrom",
                   [](Spec& s) {
                       Object disk = device(s, "disk");
                       disk.fields = {{"type", "file"},
                                      {"device", "cdrom"},
                                      {"target", "sda"},
                                      {"bus", "sata"}};
                       s.obj.children.push_back(disk);
                   },
                   "disk[sda]",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"remove_disk",
                   [](Spec& s) {
                       auto& c = s.obj.children;
                       c.erase(
                           std::remove_if(c.begin(), c.end(),
                                          [](const Object& o) { return o.kind->kind == "disk"; }),
                           c.end());
                   },
                   "disk[vda]",
                   ChangeClass::Live,
                   {"vm.define", "vm.detach_device"}},
        ChangeCase{"disk_cache",
                   [](Spec& s) { device(s, "disk").fields["cache"] = "writeback"; },
                   "disk[vda].cache",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"disk_iotune",
                   [](Spec& s) { device(s, "disk").fields["iotune_total_iops_sec"] = "500"; },
                   "disk[vda].iotune_total_iops_sec",
                   ChangeClass::Live,
                   {"vm.define", "vm.update_device"}},
        ChangeCase{"add_nic",
                   [](Spec& s) {
                       Object nic = device(s, "interface");
                       nic.fields["mac"] = "52:54:00:00:00:02";
                       s.obj.children.push_back(nic);
                   },
                   "interface[52:54:00:00:00:02]",
                   ChangeClass::Live,
                   {"vm.define", "vm.attach_device"}},
        ChangeCase{"remove_nic",
                   [](Spec& s) {
                       auto& c = s.obj.children;
                       c.erase(std::remove_if(
                                   c.begin(), c.end(),
                                   [](const Object& o) { return o.kind->kind == "interface"; }),
                               c.end());
                   },
                   "interface[52:54:00:12:34:56]",
                   ChangeClass::Live,
                   {"vm.define", "vm.detach_device"}},
        ChangeCase{"nic_model",
                   [](Spec& s) { device(s, "interface").fields["model"] = "e1000"; },
                   "interface[52:54:00:12:34:56].model",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"nic_link_down",
                   [](Spec& s) { device(s, "interface").fields["link_state"] = "down"; },
                   "interface[52:54:00:12:34:56].link_state",
                   ChangeClass::Live,
                   {"vm.define", "vm.update_device"}},
        ChangeCase{"video_model",
                   [](Spec& s) { device(s, "video").fields["model"] = "virtio"; },
                   "video[0].model",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"add_tpm",
                   [](Spec& s) {
                       Object t;
                       t.kind = kind_by_name("tpm");
                       t.fields = {{"model", "tpm-crb"}, {"backend", "emulator"}};
                       s.obj.children.push_back(t);
                   },
                   "tpm[0]",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"watchdog_action",
                   [](Spec& s) { device(s, "watchdog").fields["action"] = "poweroff"; },
                   "watchdog[0].action",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"description_next_boot", // a define leaves the live <description> as is
                   [](Spec& s) { s.obj.fields["description"] = "new text"; },
                   "description",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"balloon_above_max_restart",
                   [](Spec& s) {
                       s.obj.fields["memory"] = "268435456";
                       s.obj.fields["current_memory"] = "268435456";
                   },
                   "current_memory",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"vcpus_above_max_restart",
                   [](Spec& s) {
                       s.obj.fields["vcpus"] = "4";
                       s.obj.fields["vcpus_current"] = "3";
                   },
                   "vcpus_current",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"vcpus_above_max_restart_allowed_no_live_call",
                   [](Spec& s) {
                       s.obj.fields["vcpus"] = "4";
                       s.obj.fields["vcpus_current"] = "3";
                       s.vm.restart_policy = "allowed";
                   },
                   "vcpus_current",
                   ChangeClass::Restart,
                   {"vm.define", "vm.shutdown", "vm.start"}},
        ChangeCase{"boot_order",
                   [](Spec& s) { s.obj.fields["boot"] = "cdrom,hd"; },
                   "boot",
                   ChangeClass::NextBoot,
                   {"vm.define"}},
        ChangeCase{"cpu_model",
                   [](Spec& s) {
                       s.obj.fields["cpu_mode"] = "custom";
                       s.obj.fields["cpu_model"] = "Nehalem";
                   },
                   "cpu_model",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"machine_type",
                   [](Spec& s) { s.obj.fields["machine"] = "q35"; },
                   "machine",
                   ChangeClass::Restart,
                   {"vm.define"}},
        ChangeCase{"domain_type_replace",
                   [](Spec& s) { s.obj.fields["domain_type"] = "kvm"; },
                   "domain_type",
                   ChangeClass::Replace,
                   {"vm.define"}},
        ChangeCase{"stop",
                   [](Spec& s) { s.vm.state = "shutoff"; },
                   "state",
                   ChangeClass::Live,
                   {"vm.shutdown"}},
        ChangeCase{"pause",
                   [](Spec& s) { s.vm.state = "paused"; },
                   "state",
                   ChangeClass::Live,
                   {"vm.suspend"}},
        ChangeCase{"autostart",
                   [](Spec& s) { s.vm.autostart = true; },
                   "autostart",
                   ChangeClass::Live,
                   {"vm.autostart"}}),
    [](const ::testing::TestParamInfo<ChangeCase>& i) { return i.param.name; });

// On the real libvirtd (TCG, no guest OS) QEMU refuses a vCPU unplug: fewer vCPUs is next-boot.
TEST(Planner, FewerVcpusIsNextBoot) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    std::string& x = h.domains[0].inactive_xml;
    auto pos = x.find("current='1'>2<");
    ASSERT_NE(pos, std::string::npos);
    x.replace(pos, 14, "current='2'>2<");
    Plan p = make_plan(d, {h}, {});
    const FieldDiff* df = find_diff(p, "vcpus_current");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
    EXPECT_NE(p.changes[0].note.find("pending"), std::string::npos) << p.changes[0].note;
}

// The running VM counts, not its config: a config with 1 vCPU online while the VM runs 3
// (a pending change) and a spec asking 2 is an unplug, hence next-boot.
TEST(Planner, VcpuClassFollowsTheRunningVm) {
    DesiredState d = base_desired();
    d.vms[0].obj.fields["vcpus"] = "4";
    d.vms[0].obj.fields["vcpus_current"] = "2";
    ObservedHost h = observed_running();
    std::string& x = h.domains[0].inactive_xml;
    auto pos = x.find("current='1'>2<");
    ASSERT_NE(pos, std::string::npos);
    x.replace(pos, 14, "current='1'>4<");
    h.domains[0].live_xml = x;
    pos = h.domains[0].live_xml.find("current='1'>4<");
    h.domains[0].live_xml.replace(pos, 14, "current='3'>4<");
    Plan p = make_plan(d, {h}, {});
    const FieldDiff* df = find_diff(p, "vcpus_current");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
    h.domains[0].live_xml.clear(); // without the live XML: the config's count (1 -> 2, live)
    p = make_plan(d, {h}, {});
    EXPECT_EQ(find_diff(p, "vcpus_current")->cls, ChangeClass::Live);
}

// A device is detached as the running VM holds it: libvirt picks live and config addresses
// separately for a hot-plugged device, and matches a watchdog by address.
TEST(Planner, DetachUsesTheLiveAddress) {
    DesiredState d = base_desired();
    auto& c = d.vms[0].obj.children;
    c.erase(std::remove_if(c.begin(), c.end(),
                           [](const Object& o) { return o.kind->kind == "watchdog"; }),
            c.end());
    ObservedHost h = observed_running();
    std::string live = h.domains[0].inactive_xml;
    auto pos = live.find("slot='0x08'");
    ASSERT_NE(pos, std::string::npos);
    live.replace(pos, 11, "slot='0x0a'");
    h.domains[0].live_xml = live;
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(ops(p), (std::vector<std::string>{"vm.define", "vm.detach_device"}));
    EXPECT_NE(p.steps[1].xml().find("0x0a"), std::string::npos) << p.steps[1].xml();
}

// libvirt 9.0 hot-plugs the PCI watchdog (i6300esb), not the ISA one (ib700).
TEST(Planner, AddingAWatchdogIsLiveOnlyForThePciModel) {
    ObservedHost h = observed_running();
    std::string& x = h.domains[0].inactive_xml;
    auto a = x.find("<watchdog"), e = x.find("</watchdog>");
    ASSERT_NE(a, std::string::npos);
    x.erase(a, e + 11 - a);
    DesiredState d = base_desired();
    Plan p = make_plan(d, {h}, {});
    const FieldDiff* df = find_diff(p, "watchdog[0]");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::Live);
    EXPECT_EQ(ops(p), (std::vector<std::string>{"vm.define", "vm.attach_device"}));
    device(d.vms[0], "watchdog").fields["model"] = "ib700";
    p = make_plan(d, {h}, {});
    df = find_diff(p, "watchdog[0]");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
}

TEST(Planner, ChangesToAStoppedVmTakeEffectAtNextBoot) {
    DesiredState d = base_desired();
    d.vms[0].vm.state = "shutoff";
    d.vms[0].obj.fields["memory"] = "268435456";
    ObservedHost h = observed_running();
    h.domains[0].state = "shutoff";
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(p.changes.size(), 1u);
    EXPECT_EQ(find_diff(p, "memory")->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
}

TEST(Planner, ShutdownCarriesTimeoutAndForcePolicy) {
    DesiredState d = base_desired();
    d.vms[0].vm.state = "shutoff";
    d.vms[0].vm.shutdown_timeout = 7;
    d.vms[0].vm.force_stop = true;
    Plan p = make_plan(d, {observed_running()}, {});
    ASSERT_EQ(p.steps.size(), 1u);
    EXPECT_EQ(std::get<VmShutdown>(p.steps[0].payload).timeout, 7);
    EXPECT_EQ(std::get<VmShutdown>(p.steps[0].payload).force, true);
}

// A domain seen paused while libvirt is still starting it (reason starting_up, e.g. a re-run
// right after a killed apply) is running for planning: resuming it would race the start and
// fail with "domain is already running". Paused by someone else, it is resumed.
TEST(Planner, DomainPausedWhileStartingUpIsNotResumed) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    h.domains[0].state = "paused";
    h.domains[0].state_reason = "starting_up";
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.steps.empty()) << ops(p).size() << " steps, first " << ops(p)[0];
    EXPECT_EQ(find_diff(p, "state"), nullptr);
    EXPECT_STREQ(drift_status_name(detect_drift(d, {h}).at(0).status), "in_sync")
        << "drift agrees: still starting";

    h.domains[0].state_reason = "user";
    p = make_plan(d, {h}, {});
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.resume"});
    EXPECT_STREQ(drift_status_name(detect_drift(d, {h}).at(0).status), "drifted");
    ASSERT_NE(find_diff(p, "state"), nullptr);
    EXPECT_EQ(find_diff(p, "state")->before, "paused");

    // Wanted paused: a domain still starting is suspended once it runs, like a running one.
    d.vms[0].vm.state = "paused";
    h.domains[0].state_reason = "starting_up";
    p = make_plan(d, {h}, {});
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.suspend"});
}

TEST(Planner, CreatesEverythingInDependencyOrder) {
    DesiredState d = base_desired();
    Spec pool;
    pool.host = "local";
    pool.obj.kind = &pool_kind();
    pool.obj.fields = {{"name", "p"}, {"type", "dir"}, {"path", "/var/lib/libvirt/images/p"}};
    d.pools.push_back(pool);
    Spec vol;
    vol.host = "local";
    vol.obj.kind = &volume_kind();
    vol.obj.fields = {
        {"name", "web.qcow2"}, {"pool", "p"}, {"capacity", "1048576"}, {"format", "qcow2"}};
    d.volumes.push_back(vol);
    Spec net;
    net.host = "local";
    net.obj.kind = &network_kind();
    net.obj.fields = {{"name", "default"}, {"bridge", "virbr9"}};
    d.networks.push_back(net);
    Object& disk = device(d.vms[0], "disk");
    disk.fields = {{"type", "volume"},
                   {"pool", "p"},
                   {"volume", "web.qcow2"},
                   {"target", "vda"},
                   {"bus", "virtio"}};
    ObservedHost empty;
    empty.host = "local";
    empty.reachable = true;
    Plan p = make_plan(d, {empty}, {});
    EXPECT_EQ(ops(p), (std::vector<std::string>{"pool.define", "volume.create", "network.define",
                                                "vm.define", "vm.start"}));
    const Step& define = p.steps[3];
    EXPECT_EQ(define.deps, (std::vector<int>{1, 2, 3})); // its pool, volume and network
    EXPECT_EQ(p.steps[1].deps, (std::vector<int>{1}));
    EXPECT_NE(define.xml().find("virtumancer:owner"), std::string::npos);
    EXPECT_EQ(p.changes.size(), 4u);
}

TEST(Planner, TemplatesAreDefinedButNeverStarted) {
    DesiredState d = base_desired();
    d.vms[0].vm.is_template = true;
    ObservedHost empty;
    empty.host = "local";
    empty.reachable = true;
    Plan p = make_plan(d, {empty}, {});
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
}

TEST(Planner, UnmanagedDomainsAreListedNeverTouched) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    ObservedDomain other;
    other.name = "hand-made";
    other.inactive_xml = "<domain type='qemu'><name>hand-made</name><memory>1024</memory></domain>";
    other.state = "running";
    h.domains.push_back(other);
    Plan p = make_plan(d, {h}, prune_opts());
    EXPECT_TRUE(p.steps.empty());
    EXPECT_EQ(p.unmanaged, std::vector<std::string>{"local/vm/hand-made"});
}

TEST(Planner, ManagedDomainWithoutSpecIsDeletedOnlyWithPrune) {
    DesiredState d = base_desired();
    d.vms.clear();
    Plan keep = make_plan(d, {observed_running()}, {});
    EXPECT_TRUE(keep.steps.empty());
    ASSERT_EQ(keep.errors.size(), 1u);
    EXPECT_NE(keep.errors[0].message.find("--prune"), std::string::npos);
    Plan prune = make_plan(d, {observed_running()}, prune_opts());
    EXPECT_EQ(ops(prune), (std::vector<std::string>{"vm.destroy", "vm.undefine"}));
    EXPECT_EQ(std::get<VmUndefine>(prune.steps[1].payload).keep_nvram, true);
    EXPECT_EQ(prune.changes.at(0).action, Action::Delete);
}

TEST(Planner, UnreachableHostIsAnErrorForItsObjectsOnly) {
    DesiredState d = base_desired();
    d.hosts.push_back({"far", "qemu+ssh://far/system", "", {}});
    Spec far_vm = web_spec();
    far_vm.host = "far";
    d.vms.push_back(far_vm);
    ObservedHost dead;
    dead.host = "far";
    dead.uri = "qemu+ssh://far/system";
    dead.reachable = false;
    dead.error = "Cannot recv data";
    ObservedHost local = observed_running();
    local.domains[0].state = "shutoff";
    Plan p = make_plan(d, {local, dead}, {});
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].message.find("far"), std::string::npos);
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.start"}); // local still planned
}

TEST(Planner, TargetRestrictsThePlan) {
    DesiredState d = base_desired();
    Spec second = web_spec();
    second.obj.fields["name"] = "other";
    d.vms.push_back(second);
    ObservedHost h = observed_running();
    h.domains[0].state = "shutoff";
    Plan all = make_plan(d, {h}, {});
    EXPECT_EQ(all.changes.size(), 2u);
    Plan one = make_plan(d, {h}, target_opts("vm/other"));
    ASSERT_EQ(one.changes.size(), 1u);
    EXPECT_EQ(one.changes[0].name, "other");
}

TEST(Planner, PlanJsonRoundTrips) {
    DesiredState d = base_desired();
    d.vms[0].obj.fields["memory"] = "268435456";
    Plan p = make_plan(d, {observed_running()}, {});
    p.revision_id = 42;
    Plan q = plan_from_json(plan_to_json(p));
    EXPECT_EQ(plan_to_json(q), plan_to_json(p));
    EXPECT_EQ(q.revision_id, 42);
    EXPECT_EQ(q.fingerprints, p.fingerprints);
    EXPECT_THROW(plan_from_json("{\"format_version\": 9}"), Error);
}

TEST(Drift, OutOfBandChangeIsReportedWithField) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    std::string x = h.domains[0].inactive_xml;
    x.replace(x.find("cache='none'"), 12, "cache='writeback'");
    h.domains[0].inactive_xml = x;
    auto items = detect_drift(d, {h});
    ASSERT_EQ(items.size(), 1u);
    EXPECT_STREQ(drift_status_name(items[0].status), "drifted");
    ASSERT_EQ(items[0].diffs.size(), 1u);
    EXPECT_EQ(items[0].diffs[0].field, "disk[vda].cache");
    EXPECT_EQ(items[0].diffs[0].before, "writeback");
    EXPECT_EQ(items[0].diffs[0].after, "none");
    auto clean = detect_drift(d, {observed_running()});
    EXPECT_STREQ(drift_status_name(clean[0].status), "in_sync");
}

// Over the whole corpus: a spec holding exactly what a canonical file says, minus the
// device addresses libvirt assigns, compared with that file: never a change.
TEST(Planner, NoFalseChangesOverTheCorpus) {
    VMR_REQUIRE_CORPUS();
    int files = 0, noisy = 0;
    for (const auto& path : testing_util::corpus_files()) {
        std::stringstream ss(testing_util::slurp(path));
        DesiredState d;
        d.hosts.push_back({"h", "test:///default", "", {}});
        Spec s;
        s.host = "h";
        s.obj = parse_xml(ss.str(), domain_kind());
        for (auto& c : s.obj.children)
            for (auto it = c.fields.begin(); it != c.fields.end();)
                it = it->first.rfind("address_", 0) == 0 ? c.fields.erase(it) : std::next(it);
        s.vm.state = "shutoff";
        d.vms.push_back(s);
        ObservedHost h;
        h.host = "h";
        h.reachable = true;
        ObservedDomain od;
        od.name = s.obj.name();
        od.inactive_xml = ss.str();
        od.state = "shutoff";
        h.domains.push_back(od);
        ++files;
        auto items = detect_drift(d, {h});
        if (items.empty() || items[0].status != DriftStatus::InSync) {
            ++noisy;
            if (noisy < 10)
                ADD_FAILURE() << path.filename() << ": "
                              << (items.empty() || items[0].diffs.empty()
                                      ? "?"
                                      : items[0].diffs[0].field);
        }
    }
    EXPECT_EQ(files, 1145) << "corpus not found in " << testing_util::corpus_dir();
    EXPECT_EQ(noisy, 0);
}

// A domain whose marker names another virtumancer database is not ours: never changed,
// never pruned, not our drift.
TEST(Planner, DomainsOfAnotherDatabaseAreNeverTouched) {
    DesiredState d = base_desired();
    d.owner_id = "aaaa";
    ObservedHost h = observed_running();
    std::string& x = h.domains[0].inactive_xml;
    x.replace(x.find("revision=\"r1\""), 13, "revision=\"r1\" db=\"bbbb\"");
    // A spec with the same name: an error for that VM, no steps.
    d.vms[0].obj.fields["memory"] = "268435456";
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.steps.empty());
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].message.find("another virtumancer database"), std::string::npos);
    auto drift = detect_drift(d, {h});
    EXPECT_STREQ(drift_status_name(drift.at(0).status), "conflict");
    // No spec: listed as unmanaged even with --prune.
    d.vms.clear();
    Plan prune = make_plan(d, {h}, prune_opts());
    EXPECT_TRUE(prune.steps.empty());
    EXPECT_EQ(prune.unmanaged, std::vector<std::string>{"local/vm/vmr-fixture-web"});
    EXPECT_STREQ(drift_status_name(detect_drift(d, {h}).at(0).status), "unmanaged");
    // Our own database id (or an older marker without one) is ours: pruned.
    d.owner_id = "bbbb";
    EXPECT_EQ(ops(make_plan(d, {h}, prune_opts())),
              (std::vector<std::string>{"vm.destroy", "vm.undefine"}));
}

// A running VM whose live XML does not parse: an error for that domain (place and remedy),
// never silently planned as if the running VM matched its config.
TEST(Planner, UnparsableLiveXmlIsAnErrorOfItsDomain) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    h.domains[0].live_xml = "<domain><name>vmr-fixture-web</name><devices>"; // cut short
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0].severity, Severity::Error);
    EXPECT_EQ(p.errors[0].file, "local/vm/vmr-fixture-web");
    EXPECT_NE(p.errors[0].message.find("running (live) XML cannot be parsed"), std::string::npos)
        << p.errors[0].message;
    EXPECT_NE(p.errors[0].message.find("Remedy:"), std::string::npos);
    // The config is still compared as before (the fixture matches its spec: nothing to do).
    EXPECT_TRUE(p.steps.empty()) << ops(p).size();
    // With a parsable live XML there is no error.
    h.domains[0].live_xml = h.domains[0].inactive_xml;
    EXPECT_TRUE(make_plan(d, {h}, {}).errors.empty());
}

// A domain without a spec whose XML does not parse is neither "unmanaged" nor pruned: an
// error for that domain, in the plan and in drift.
TEST(Planner, UnparsableDomainWithoutSpecIsAnErrorNotUnmanaged) {
    DesiredState d = base_desired();
    d.vms.clear();
    ObservedHost h = observed_running();
    h.domains[0].inactive_xml = "<domain><name>vmr-fixture-web</name"; // not XML
    for (const PlanOptions& o : {PlanOptions{}, prune_opts()}) {
        Plan p = make_plan(d, {h}, o);
        EXPECT_TRUE(p.steps.empty()) << "never deleted";
        EXPECT_TRUE(p.unmanaged.empty()) << "not reclassified as unmanaged";
        ASSERT_EQ(p.errors.size(), 1u);
        EXPECT_EQ(p.errors[0].severity, Severity::Error);
        EXPECT_EQ(p.errors[0].file, "local/vm/vmr-fixture-web");
        EXPECT_NE(p.errors[0].message.find("persistent XML cannot be parsed"), std::string::npos)
            << p.errors[0].message;
        EXPECT_NE(p.errors[0].message.find("virsh dumpxml vmr-fixture-web"), std::string::npos);
    }
    auto drift = detect_drift(d, {h});
    ASSERT_EQ(drift.size(), 1u);
    EXPECT_EQ(drift[0].status, DriftStatus::Error);
    EXPECT_STREQ(drift_status_name(drift[0].status), "error");
    EXPECT_NE(drift[0].error.find("local"), std::string::npos);
    EXPECT_NE(drift[0].error.find("Remedy:"), std::string::npos);
    // Parsable again: unmanaged (no marker) as before.
    h = observed_running();
    std::string& x = h.domains[0].inactive_xml;
    auto m = x.find("<metadata>");
    ASSERT_NE(m, std::string::npos);
    x.erase(m, x.find("</metadata>") + 11 - m);
    EXPECT_EQ(make_plan(d, {h}, {}).unmanaged,
              std::vector<std::string>{"local/vm/vmr-fixture-web"});
}

// The domain a VM spec's uuid points to (a rename) whose XML does not parse: an error for
// that domain; neither name is planned.
TEST(Planner, UnparsableRenameSourceIsAnErrorOfItsDomain) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    h.domains[0].name = "old-web";
    h.domains[0].uuid = "11111111-2222-3333-4444-555555555555";
    h.domains[0].state = "shutoff";
    h.domains[0].inactive_xml = "<domain";
    d.vms[0].obj.fields["uuid"] = "11111111-2222-3333-4444-555555555555";
    Plan p = make_plan(d, {h}, prune_opts());
    EXPECT_TRUE(p.steps.empty()) << ops(p).size();
    bool found = false;
    for (const auto& e : p.errors)
        found |=
            e.file == "local/vm/old-web" && e.message.find("cannot be parsed") != std::string::npos;
    EXPECT_TRUE(found);
    EXPECT_TRUE(p.unmanaged.empty());
}

TEST(Planner, DefinesCarryTheDatabaseOwnerId) {
    DesiredState d = base_desired();
    d.owner_id = "cafe0123";
    ObservedHost empty;
    empty.host = "local";
    empty.reachable = true;
    Plan p = make_plan(d, {empty}, {});
    ASSERT_FALSE(p.steps.empty());
    OwnerMarker m;
    parse_xml(p.steps[0].xml(), domain_kind(), &m);
    EXPECT_EQ(m.db, "cafe0123");
    EXPECT_EQ(m.spec, "local/vm/vmr-fixture-web");
}

// Many VMs: domains are parsed and diffed a run at a time on several threads; the plan and
// the drift report must be exactly what planning them one by one gives, in spec order.
TEST(Planner, ManyVmsPlanAsIfOneByOne) {
    const int n = 600; // several runs of 256, several threads
    DesiredState d;
    d.hosts.push_back({"local", "qemu:///system", "", {}});
    d.owner_id = "aaaa";
    ObservedHost h = observed_running();
    const std::string xml = h.domains[0].inactive_xml;
    h.domains.clear();
    auto name_of = [](int i) { return "vm-" + std::to_string(1000 + i); };
    for (int i = 0; i < n; ++i) {
        Spec s = web_spec();
        s.obj.fields["name"] = name_of(i);
        if (i == 10) // not defined yet: created (on a disk of its own: a disk another domain
                     // uses would be refused)
            for (auto& dev : s.obj.children)
                if (dev.kind->kind == "disk")
                    dev.fields["file"] = "/var/lib/libvirt/images/" + name_of(i) + ".qcow2";
        d.vms.push_back(s);
        if (i == 10) continue;
        ObservedDomain od;
        od.name = name_of(i);
        od.state = "running";
        od.inactive_xml = xml;
        od.inactive_xml.replace(od.inactive_xml.find("vmr-fixture-web</name>"), 15, od.name);
        if (i == 300) // changed behind our back
            od.inactive_xml.replace(od.inactive_xml.find("cache='none'"), 12, "cache='writeback'");
        if (i == 599) // another database's domain of the same name
            od.inactive_xml.replace(od.inactive_xml.find("revision=\"r1\""), 13,
                                    "revision=\"r1\" db=\"bbbb\"");
        h.domains.push_back(od);
    }
    std::reverse(h.domains.begin(), h.domains.end()); // not sorted: look-ups still find all

    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(p.changes.size(), 2u);
    EXPECT_EQ(p.changes[0].name, name_of(10));
    EXPECT_EQ(p.changes[0].action, Action::Create);
    EXPECT_EQ(p.changes[1].name, name_of(300));
    EXPECT_EQ(p.changes[1].action, Action::Update);
    ASSERT_EQ(p.changes[1].diffs.size(), 1u);
    EXPECT_EQ(p.changes[1].diffs[0].field, "disk[vda].cache");
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0].file, "local/vm/" + name_of(599));

    auto items = detect_drift(d, {h});
    ASSERT_EQ(items.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(items[i].name, name_of(i));
        std::string want = i == 10    ? "missing"
                           : i == 300 ? "drifted"
                           : i == 599 ? "conflict"
                                      : "in_sync";
        EXPECT_EQ(drift_status_name(items[i].status), want) << name_of(i);
    }
}

// A virtio-mem device's requested size is the one memory-device change applied live
// (update-device); anything else about memory and audio devices waits for the next boot.
TEST(Planner, VirtioMemRequestedIsLiveAudioIsNextBoot) {
    const std::string mem = "<memory model='virtio-mem'><target><size unit='KiB'>1048576</size>"
                            "<node>0</node><block unit='KiB'>2048</block>"
                            "<requested unit='KiB'>524288</requested></target></memory>";
    auto with_mem = [&](std::string xml) {
        auto at = xml.rfind("</devices>");
        return xml.insert(at, mem);
    };
    ObservedHost h = observed_running();
    h.domains[0].inactive_xml = with_mem(h.domains[0].inactive_xml);
    DesiredState d = base_desired();
    d.vms[0].obj = parse_xml(with_mem(fixture("web-desired.xml")), domain_kind());
    EXPECT_TRUE(make_plan(d, {h}, {}).empty()) << "the same memory device is no change";

    device(d.vms[0], "memory").fields["target_requested"] = "1073741824";
    Plan p = make_plan(d, {h}, {});
    const FieldDiff* df = find_diff(p, "memory[0].target_requested");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::Live);
    EXPECT_EQ(ops(p), (std::vector<std::string>{"vm.define", "vm.update_device"}));

    d = base_desired();
    d.vms[0].obj = parse_xml(with_mem(fixture("web-desired.xml")), domain_kind());
    device(d.vms[0], "memory").fields["target_size"] = "2147483648";
    p = make_plan(d, {h}, {});
    df = find_diff(p, "memory[0].target_size");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), (std::vector<std::string>{"vm.define"}));

    // libvirt's own <audio id='1' type='none'/> (in the fixture) is no removal; a spec asking
    // for another backend type is a next-boot change of that device.
    d = base_desired();
    Object a;
    a.kind = kind_by_name("audio");
    a.fields = {{"id", "1"}, {"type", "spice"}};
    d.vms[0].obj.children.push_back(a);
    p = make_plan(d, {observed_running()}, {});
    df = find_diff(p, "audio[1].type");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->before, "none");
    EXPECT_EQ(df->cls, ChangeClass::NextBoot);
    EXPECT_EQ(ops(p), (std::vector<std::string>{"vm.define"}));
}

// Pending changes (docs/pending.md): the spec is compared with the running VM's live XML the
// same way as with its config. Each row: the live XML is the config with `live_edit` applied
// (a VM running an older config, or changed live behind our back), the spec gets `spec_edit`.
namespace {

std::string replaced(std::string xml, const std::string& from, const std::string& to) {
    auto pos = xml.find(from);
    if (pos == std::string::npos) throw std::runtime_error("fixture has no " + from);
    return xml.replace(pos, from.size(), to);
}

struct PendingCase {
    std::string name;
    std::function<std::string(const std::string&)> live_edit;
    std::function<void(Spec&, PlanOptions&)> spec_edit;
    std::string state;                             // observed state
    std::vector<std::string> pending;              // fields pending now
    std::vector<std::string> after_apply;          // fields planned now, pending after the apply
    std::vector<std::string> expected_ops;         // the plan's steps
    std::vector<std::string> pending_befores = {}; // running values of `pending` (when given)
};

std::vector<std::string> fields_of(const std::vector<FieldDiff>& ds) {
    std::vector<std::string> v;
    for (const auto& d : ds) v.push_back(d.field);
    return v;
}

class PlannerPending : public ::testing::TestWithParam<PendingCase> {};

} // namespace

TEST_P(PlannerPending, ComparesConfigAndRunningVm) {
    const PendingCase& tc = GetParam();
    DesiredState d = base_desired();
    PlanOptions opts;
    tc.spec_edit(d.vms[0], opts);
    ObservedHost h = observed_running();
    h.domains[0].state = tc.state;
    h.domains[0].live_xml = tc.live_edit(h.domains[0].inactive_xml);
    Plan p = make_plan(d, {h}, opts);
    EXPECT_EQ(ops(p), tc.expected_ops);
    std::vector<std::string> now, after, befores;
    for (const auto& pc : p.pending) {
        EXPECT_EQ(pc.address(), "local/vm/vmr-fixture-web");
        EXPECT_NE(pc.effect.find("the next restart of the VM"), std::string::npos) << pc.effect;
        EXPECT_NE(pc.effect.find("--restart-pending"), std::string::npos) << pc.effect;
        for (const auto& df : pc.diffs) {
            now.push_back(df.field);
            befores.push_back(df.before);
        }
        for (const auto& f : fields_of(pc.after_apply)) after.push_back(f);
    }
    EXPECT_EQ(now, tc.pending);
    EXPECT_EQ(after, tc.after_apply);
    if (!tc.pending_befores.empty()) {
        EXPECT_EQ(befores, tc.pending_befores);
    }
    EXPECT_EQ(p.settled(), tc.pending.empty() && tc.expected_ops.empty());
    // Pending survives the saved plan.
    Plan q = plan_from_json(plan_to_json(p));
    ASSERT_EQ(q.pending.size(), p.pending.size());
    EXPECT_EQ(plan_to_json(q), plan_to_json(p));

    // drift: the same comparison, reported as found.
    auto items = detect_drift(d, {h});
    ASSERT_EQ(items.size(), 1u);
    if (tc.expected_ops.empty() && !tc.pending.empty()) {
        EXPECT_STREQ(drift_status_name(items[0].status), "pending");
        EXPECT_EQ(fields_of(items[0].pending), tc.pending);
    }
    if (tc.state == "shutoff") {
        EXPECT_TRUE(items[0].pending.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, PlannerPending,
    ::testing::Values(
        // The case: memory raised, config redefined, the VM still runs 64 MiB.
        PendingCase{"config_matches_live_differs",
                    [](const std::string& x) {
                        return replaced(
                            replaced(x, "<memory unit='KiB'>131072", "<memory unit='KiB'>65536"),
                            "<currentMemory unit='KiB'>131072", "<currentMemory unit='KiB'>65536");
                    },
                    [](Spec&, PlanOptions&) {},
                    "running",
                    {"memory"},
                    {},
                    {},
                    {"67108864"}},
        PendingCase{"shut_off_has_nothing_pending",
                    [](const std::string& x) {
                        return replaced(x, "<memory unit='KiB'>131072", "<memory unit='KiB'>65536");
                    },
                    [](Spec&, PlanOptions&) {},
                    "shutoff",
                    {},
                    {},
                    {"vm.start"}},
        PendingCase{"to_be_stopped_has_nothing_pending",
                    [](const std::string& x) {
                        return replaced(x, "<memory unit='KiB'>131072", "<memory unit='KiB'>65536");
                    },
                    [](Spec& s, PlanOptions&) { s.vm.state = "shutoff"; },
                    "running",
                    {},
                    {},
                    {"vm.shutdown"}},
        PendingCase{"restart_policy_allowed_restarts",
                    [](const std::string& x) {
                        return replaced(x, "<memory unit='KiB'>131072", "<memory unit='KiB'>65536");
                    },
                    [](Spec& s, PlanOptions&) { s.vm.restart_policy = "allowed"; },
                    "running",
                    {},
                    {},
                    {"vm.shutdown", "vm.start"}},
        PendingCase{
            "restart_pending_flag_restarts",
            [](const std::string& x) { return replaced(x, "cache='none'", "cache='writeback'"); },
            [](Spec&, PlanOptions& o) { o.restart_pending = true; },
            "running",
            {},
            {},
            {"vm.shutdown", "vm.start"}},
        PendingCase{
            "restart_pending_flag_outside_the_targets",
            [](const std::string& x) { return replaced(x, "cache='none'", "cache='writeback'"); },
            [](Spec&, PlanOptions& o) {
                o.restart_pending = true;
                o.targets = {"vm/another"};
            },
            "running",
            {},
            {},
            {}},
        PendingCase{
            "disk_cache_pending",
            [](const std::string& x) { return replaced(x, "cache='none'", "cache='writeback'"); },
            [](Spec&, PlanOptions&) {},
            "running",
            {"disk[vda].cache"},
            {},
            {},
            {"writeback"}},
        PendingCase{
            "vcpus_current_decrease_pending",
            [](const std::string& x) { return replaced(x, "current='1'>2<", "current='2'>2<"); },
            [](Spec&, PlanOptions&) {},
            "running",
            {"vcpus_current"},
            {},
            {},
            {"2"}},
        PendingCase{"live_only_extra_device",
                    [](const std::string& x) {
                        return replaced(
                            x, "</devices>",
                            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                            "<source file='/tmp/hot.img'/><target dev='vdb' bus='virtio'/>"
                            "</disk></devices>");
                    },
                    [](Spec&, PlanOptions&) {},
                    "running",
                    {"disk[vdb]"},
                    {},
                    {},
                    {"(present)"}},
        PendingCase{"live_detached_device",
                    [](const std::string& x) {
                        auto a = x.find("<interface"), e = x.find("</interface>");
                        return std::string(x).erase(a, e + 12 - a);
                    },
                    [](Spec&, PlanOptions&) {},
                    "running",
                    {"interface[52:54:00:12:34:56]"},
                    {},
                    {},
                    {""}},
        // The balloon's actual size is the guest's business: no pending on current_memory.
        PendingCase{"balloon_size_is_not_pending",
                    [](const std::string& x) {
                        return replaced(x, "<currentMemory unit='KiB'>131072",
                                        "<currentMemory unit='KiB'>65536");
                    },
                    [](Spec&, PlanOptions&) {},
                    "running",
                    {},
                    {},
                    {}},
        // libvirt sets <cpu check='full'> in the live definition when the VM starts.
        PendingCase{
            "cpu_check_set_at_start_is_not_pending",
            [](const std::string& x) { return replaced(x, "check='none'", "check='full'"); },
            [](Spec& s, PlanOptions&) { s.obj.fields["cpu_check"] = "none"; },
            "running",
            {},
            {},
            {}},
        // A next-boot change planned now becomes pending after the apply.
        PendingCase{"planned_next_boot_change_is_pending_after_apply",
                    [](const std::string& x) { return x; },
                    [](Spec& s, PlanOptions&) { device(s, "disk").fields["cache"] = "writeback"; },
                    "running",
                    {},
                    {"disk[vda].cache"},
                    {"vm.define"}},
        PendingCase{"planned_next_boot_change_with_restart_pending",
                    [](const std::string& x) { return x; },
                    [](Spec& s, PlanOptions& o) {
                        device(s, "disk").fields["cache"] = "writeback";
                        o.restart_pending = true;
                    },
                    "running",
                    {},
                    {},
                    {"vm.define", "vm.shutdown", "vm.start"}}),
    [](const ::testing::TestParamInfo<PendingCase>& i) { return i.param.name; });

// The restart for pending changes shows what it applies and is a restart-class change.
TEST(Planner, RestartForPendingShowsTheRunningValues) {
    DesiredState d = base_desired();
    ObservedHost h = observed_running();
    h.domains[0].live_xml = replaced(h.domains[0].inactive_xml, "<memory unit='KiB'>131072",
                                     "<memory unit='KiB'>65536");
    PlanOptions o;
    o.restart_pending = true;
    Plan p = make_plan(d, {h}, o);
    ASSERT_EQ(p.changes.size(), 1u);
    EXPECT_EQ(p.changes[0].cls, ChangeClass::Restart);
    const FieldDiff* df = find_diff(p, "memory");
    ASSERT_NE(df, nullptr);
    EXPECT_EQ(df->before, "67108864"); // bytes
    EXPECT_EQ(df->after, "134217728");
    EXPECT_NE(p.changes[0].note.find("--restart-pending"), std::string::npos);
    EXPECT_TRUE(p.pending.empty());
    // Without the flag: nothing to apply, one VM pending.
    p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.empty());
    EXPECT_FALSE(p.settled());
    ASSERT_EQ(p.pending.size(), 1u);
}

// Reverting a pending change (the config holds 64 MiB, the VM still runs 128 MiB, the spec goes
// back to 128 MiB): config only, no restart even when allowed, nothing pending afterwards.
TEST(Planner, RevertingAPendingChangeNeedsNoRestart) {
    DesiredState d = base_desired();
    d.vms[0].vm.restart_policy = "allowed";
    ObservedHost h = observed_running();
    h.domains[0].live_xml = h.domains[0].inactive_xml;
    h.domains[0].inactive_xml = replaced(h.domains[0].inactive_xml, "<memory unit='KiB'>131072",
                                         "<memory unit='KiB'>65536");
    Plan p = make_plan(d, {h}, {});
    EXPECT_EQ(ops(p), std::vector<std::string>{"vm.define"});
    ASSERT_NE(find_diff(p, "memory"), nullptr);
    EXPECT_TRUE(p.pending.empty());
    EXPECT_EQ(p.changes[0].note.find("pending"), std::string::npos) << p.changes[0].note;
}
