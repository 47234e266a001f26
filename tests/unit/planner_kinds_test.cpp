// Pools, volumes, networks and snapshots: one comparison per kind serves plan and drift, so
// each case checks that the plan's change and the drift report name exactly the same fields,
// and that the plan's steps are the ones that make the change (table-driven, no I/O).
#include <gtest/gtest.h>

#include <set>

#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

const std::string kNetXml =
    "<network><name>lab</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
    "<forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>"
    "<bridge name='virbr-lab' stp='on' delay='0'/><mac address='52:54:00:aa:bb:cc'/>"
    "<ip address='192.168.150.1' prefix='24'><dhcp>"
    "<range start='192.168.150.100' end='192.168.150.199'/>"
    "<host mac='52:54:00:00:15:02' name='db' ip='192.168.150.2'/>"
    "</dhcp></ip></network>";

// The spec as a user writes it: no UUID, no bridge MAC, no NAT port range.
const std::string kNetSpecXml =
    "<network><name>lab</name><forward mode='nat'/><bridge name='virbr-lab'/>"
    "<ip address='192.168.150.1' prefix='24'><dhcp>"
    "<range start='192.168.150.100' end='192.168.150.199'/>"
    "<host mac='52:54:00:00:15:02' name='db' ip='192.168.150.2'/>"
    "</dhcp></ip></network>";

DesiredState desired_host() {
    DesiredState d;
    d.hosts.push_back({"local", "qemu:///system", "", {}});
    return d;
}

ObservedHost observed_host() {
    ObservedHost h;
    h.host = "local";
    h.uri = "qemu:///system";
    h.reachable = true;
    return h;
}

Spec spec_of(const std::string& xml, const KindDesc& k) {
    Spec s;
    s.host = "local";
    s.obj = parse_xml(xml, k);
    return s;
}

DesiredState with_network(const std::string& xml) {
    DesiredState d = desired_host();
    d.networks.push_back(spec_of(xml, network_kind()));
    return d;
}

ObservedHost with_observed_network(const std::string& xml, bool active = true,
                                   bool autostart = true) {
    ObservedHost h = observed_host();
    h.networks.push_back({"lab", xml, active, autostart});
    return h;
}

std::vector<std::string> ops(const Plan& p) {
    std::vector<std::string> v;
    for (const auto& s : p.steps) v.push_back(op_name(s.op()));
    return v;
}

const NetworkUpdate& update(const Plan& p, size_t i) {
    return std::get<NetworkUpdate>(p.steps.at(i).payload);
}

// The fields a plan changes or refuses (blocked: a plan error, docs/safety.md).
std::set<std::string> plan_fields(const Plan& p) {
    std::set<std::string> out;
    for (const auto& c : p.changes)
        for (const auto& d : c.diffs) out.insert(d.field);
    for (const auto& bl : p.blocked)
        for (const auto& d : bl.diffs) out.insert(d.field);
    return out;
}

std::set<std::string> drift_fields(const std::vector<DriftItem>& items, const std::string& kind) {
    std::set<std::string> out;
    for (const auto& it : items)
        if (it.kind == kind)
            for (const auto& d : it.diffs) out.insert(d.field);
    return out;
}

const FieldDiff* find_diff(const Plan& p, const std::string& field) {
    for (const auto& c : p.changes)
        for (const auto& d : c.diffs)
            if (d.field == field) return &d;
    for (const auto& bl : p.blocked)
        for (const auto& d : bl.diffs)
            if (d.field == field) return &d;
    return nullptr;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    if (pos == std::string::npos) throw std::runtime_error("no '" + from + "' in fixture");
    return s.replace(pos, from.size(), to);
}

// Plan and drift of one desired/observed pair: the same fields, or both empty.
void expect_same_fields(const DesiredState& d, const ObservedHost& h, const std::string& kind,
                        const std::set<std::string>& want) {
    Plan p = make_plan(d, {h}, {});
    auto drift = detect_drift(d, {h});
    EXPECT_EQ(plan_fields(p), want);
    EXPECT_EQ(drift_fields(drift, kind), want);
    for (const auto& it : drift) {
        if (it.kind == kind) {
            EXPECT_STREQ(drift_status_name(it.status), it.diffs.empty() ? "in_sync" : "drifted")
                << it.name;
        }
    }
}

} // namespace

TEST(PlannerKinds, NetworkAsLibvirtNormalizesItIsNoChange) {
    expect_same_fields(with_network(kNetSpecXml), with_observed_network(kNetXml), "network", {});
    EXPECT_TRUE(make_plan(with_network(kNetSpecXml), {with_observed_network(kNetXml)}, {}).empty());
}

TEST(PlannerKinds, NetworkDhcpRangeChangeIsALiveUpdateNotARedefine) {
    DesiredState d =
        with_network(replace(kNetSpecXml, "end='192.168.150.199'", "end='192.168.150.150'"));
    ObservedHost h = with_observed_network(kNetXml);
    expect_same_fields(d, h, "network", {"ip[192.168.150.1].dhcp_range[192.168.150.100].end"});
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(ops(p), (std::vector<std::string>{"network.update", "network.update"}));
    EXPECT_EQ(update(p, 0).command, "delete");
    EXPECT_EQ(update(p, 0).section, "ip-dhcp-range");
    EXPECT_NE(p.steps[0].xml().find("192.168.150.199"), std::string::npos) << p.steps[0].xml();
    EXPECT_EQ(update(p, 1).command, "add-last");
    EXPECT_NE(p.steps[1].xml().find("end=\"192.168.150.150\""), std::string::npos)
        << p.steps[1].xml();
    EXPECT_EQ(update(p, 1).parent_index, 0);
    EXPECT_EQ(update(p, 1).live, true); // the network is running
    EXPECT_EQ(update(p, 1).config, true);
    EXPECT_EQ(p.steps[1].deps, std::vector<int>{p.steps[0].id});
    EXPECT_EQ(p.changes.at(0).cls, ChangeClass::Live);
    const FieldDiff* df = find_diff(p, "ip[192.168.150.1].dhcp_range[192.168.150.100].end");
    ASSERT_TRUE(df);
    EXPECT_EQ(df->before, "192.168.150.199");
    EXPECT_EQ(df->after, "192.168.150.150");
}

TEST(PlannerKinds, NetworkDhcpItemsAddedOutOfBandAreDriftAndPlannedAway) {
    // virsh net-update lab add ip-dhcp-range / ip-dhcp-host behind virtumancer's back.
    std::string observed =
        replace(kNetXml, "</dhcp>",
                "<range start='192.168.150.20' end='192.168.150.30'/>"
                "<host mac='52:54:00:00:15:09' name='x' ip='192.168.150.9'/></dhcp>");
    DesiredState d = with_network(kNetSpecXml);
    ObservedHost h = with_observed_network(observed, /*active=*/false);
    expect_same_fields(d, h, "network",
                       {"ip[192.168.150.1].dhcp_range[192.168.150.20]",
                        "ip[192.168.150.1].dhcp_host[52:54:00:00:15:09]", "active"});
    auto drift = detect_drift(d, {h});
    for (const auto& df : drift.at(0).diffs)
        if (df.field == "ip[192.168.150.1].dhcp_range[192.168.150.20]") {
            EXPECT_EQ(df.before, "start=192.168.150.20 end=192.168.150.30");
            EXPECT_EQ(df.after, "");
        }
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(ops(p),
              (std::vector<std::string>{"network.update", "network.update", "network.start"}));
    EXPECT_EQ(update(p, 0).command, "delete");
    EXPECT_EQ(update(p, 0).live, false); // inactive: the config only
    EXPECT_EQ(update(p, 1).section, "ip-dhcp-host");
}

TEST(PlannerKinds, NetworkDhcpHostChangeIsModifiedInPlace) {
    DesiredState d = with_network(replace(kNetSpecXml, "ip='192.168.150.2'", "ip='192.168.150.3'"));
    Plan p = make_plan(d, {with_observed_network(kNetXml)}, {});
    ASSERT_EQ(ops(p), std::vector<std::string>{"network.update"});
    EXPECT_EQ(update(p, 0).command, "modify");
    EXPECT_EQ(update(p, 0).section, "ip-dhcp-host");
    EXPECT_NE(find_diff(p, "ip[192.168.150.1].dhcp_host[52:54:00:00:15:02].ip"), nullptr);
}

TEST(PlannerKinds, NetworkRedefineKeepsLibvirtsUuidMacAndSaysWhenItTakesEffect) {
    DesiredState d = with_network(
        replace(kNetSpecXml, "<forward mode='nat'/>", "<forward mode='route' dev='eth0'/>"));
    ObservedHost h = with_observed_network(kNetXml);
    expect_same_fields(d, h, "network", {"mode", "forward_dev"});
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(ops(p), std::vector<std::string>{"network.define"});
    const std::string& xml = p.steps[0].xml();
    EXPECT_NE(xml.find("11111111-2222-3333-4444-555555555555"), std::string::npos) << xml;
    EXPECT_NE(xml.find("52:54:00:aa:bb:cc"), std::string::npos) << xml;
    EXPECT_EQ(std::get<NetworkDefine>(p.steps[0].payload).start,
              false); // never restarted implicitly
    EXPECT_EQ(p.changes.at(0).cls, ChangeClass::NextBoot);
    EXPECT_NE(p.changes.at(0).note.find("restarted"), std::string::npos) << p.changes.at(0).note;
}

TEST(PlannerKinds, NetworkIpAndDnsDifferencesAreFound) {
    std::string observed = replace(kNetXml, "</network>",
                                   "<dns><host ip='192.168.150.5'><hostname>x</hostname></host>"
                                   "</dns></network>");
    DesiredState d = with_network(replace(kNetSpecXml, "prefix='24'", "prefix='23'"));
    ObservedHost h = with_observed_network(observed);
    expect_same_fields(d, h, "network", {"dns", "ip[192.168.150.1].prefix"});
    // A DNS section the spec has (xml:) and libvirt has too: no change.
    DesiredState same = with_network(
        replace(kNetSpecXml, "</network>",
                "<dns><host ip='192.168.150.5'><hostname>x</hostname></host></dns></network>"));
    expect_same_fields(same, h, "network", {});
}

TEST(PlannerKinds, NetworkAutostartIsInDriftAsInPlan) {
    ObservedHost h = with_observed_network(kNetXml, true, /*autostart=*/false);
    expect_same_fields(with_network(kNetSpecXml), h, "network", {"autostart"});
    EXPECT_EQ(ops(make_plan(with_network(kNetSpecXml), {h}, {})),
              std::vector<std::string>{"network.autostart"});
}

namespace {

const std::string kPoolXml = "<pool type='dir'><name>p</name><uuid>9d7f...</uuid>"
                             "<target><path>/var/lib/libvirt/images/p</path></target></pool>";

DesiredState with_pool() {
    DesiredState d = desired_host();
    d.pools.push_back(
        spec_of("<pool type='dir'><name>p</name><target><path>/var/lib/libvirt/images/p</path>"
                "</target></pool>",
                pool_kind()));
    return d;
}

ObservedHost with_observed_pool(const std::string& xml, bool active, bool autostart) {
    ObservedHost h = observed_host();
    h.pools.push_back({"p", xml, active, autostart, {}});
    return h;
}

} // namespace

TEST(PlannerKinds, PoolAutostartActiveAndPathAreInDriftAsInPlan) {
    expect_same_fields(with_pool(), with_observed_pool(kPoolXml, true, true), "pool", {});
    expect_same_fields(with_pool(), with_observed_pool(kPoolXml, true, false), "pool",
                       {"autostart"});
    expect_same_fields(with_pool(), with_observed_pool(kPoolXml, false, true), "pool", {"active"});
    ObservedHost moved =
        with_observed_pool(replace(kPoolXml, "images/p<", "images/q<"), true, true);
    expect_same_fields(with_pool(), moved, "pool", {"path"});
    Plan p = make_plan(with_pool(), {moved}, {});
    const FieldDiff* df = find_diff(p, "path");
    ASSERT_TRUE(df);
    EXPECT_EQ(df->before, "/var/lib/libvirt/images/q");
    // Never recreated: a plan error (blocked) naming the field, no step.
    ASSERT_EQ(p.blocked.size(), 1u);
    EXPECT_EQ(p.blocked[0].kind, "pool");
    EXPECT_TRUE(p.changes.empty());
    EXPECT_TRUE(p.steps.empty());
}

namespace {

Spec volume_spec(const std::string& name, const std::string& capacity,
                 const std::string& backing = "") {
    Spec s;
    s.host = "local";
    s.obj.kind = &volume_kind();
    s.obj.fields = {{"name", name}, {"pool", "p"}, {"capacity", capacity}, {"format", "qcow2"}};
    if (!backing.empty()) s.obj.fields["backing_volume"] = backing;
    return s;
}

std::string volume_xml(const std::string& name, const std::string& capacity,
                       const std::string& format = "qcow2", const std::string& backing = "") {
    std::string x = "<volume type='file'><name>" + name + "</name><capacity unit='bytes'>" +
                    capacity + "</capacity><target><path>/var/lib/libvirt/images/p/" + name +
                    "</path><format type='" + format + "'/></target>";
    if (!backing.empty())
        x += "<backingStore><path>" + backing + "</path><format type='qcow2'/></backingStore>";
    return x + "</volume>";
}

DesiredState with_volumes(std::vector<Spec> vols) {
    DesiredState d = with_pool();
    d.volumes = std::move(vols);
    return d;
}

ObservedHost with_observed_volumes(std::vector<ObservedVolume> vols) {
    ObservedHost h = with_observed_pool(kPoolXml, true, true);
    h.pools[0].volumes = std::move(vols);
    return h;
}

} // namespace

TEST(PlannerKinds, VolumeCapacityFormatAndBackingChainAreInDriftAsInPlan) {
    auto base = ObservedVolume{"p", "base.qcow2", volume_xml("base.qcow2", "1048576"), ""};
    DesiredState d = with_volumes(
        {volume_spec("base.qcow2", "1048576"), volume_spec("o.qcow2", "1048576", "base.qcow2")});
    // In sync: the overlay's backing file is the base volume's path in the pool.
    ObservedHost ok = with_observed_volumes(
        {base,
         {"p", "o.qcow2",
          volume_xml("o.qcow2", "1048576", "qcow2", "/var/lib/libvirt/images/p/base.qcow2"), ""}});
    expect_same_fields(d, ok, "volume", {});

    // Grown in the spec: a live resize; the same field in drift.
    DesiredState grown = d;
    grown.volumes[0].obj.fields["capacity"] = "2097152";
    expect_same_fields(grown, ok, "volume", {"capacity"});
    Plan p = make_plan(grown, {ok}, {});
    ASSERT_EQ(ops(p), std::vector<std::string>{"volume.resize"});
    EXPECT_EQ(std::get<VolumeResize>(p.steps[0].payload).bytes, 2097152u);

    // Another backing file, another format: refused as plan errors (never recreated by a plan).
    ObservedHost other = with_observed_volumes(
        {{"p", "base.qcow2", volume_xml("base.qcow2", "1048576", "raw"), ""},
         {"p", "o.qcow2", volume_xml("o.qcow2", "1048576", "qcow2", "/elsewhere/b.qcow2"), ""}});
    expect_same_fields(d, other, "volume", {"format", "backing_path"});
    Plan q = make_plan(d, {other}, {});
    EXPECT_TRUE(q.steps.empty());
    ASSERT_EQ(q.blocked.size(), 2u); // base.qcow2's format, o.qcow2's backing file
    EXPECT_NE(q.blocked[0].reason.find("format cannot change in place"), std::string::npos);
    EXPECT_NE(q.blocked[1].reason.find("cannot change in place"), std::string::npos);

    // An overlay where the spec wants a plain volume.
    DesiredState plain =
        with_volumes({volume_spec("base.qcow2", "1048576"), volume_spec("o.qcow2", "1048576")});
    expect_same_fields(plain, ok, "volume", {"backing_path", "backing_format"});
}

TEST(PlannerKinds, VolumeShrinkIsDriftAndAPlanErrorNotAStep) {
    DesiredState d = with_volumes({volume_spec("base.qcow2", "1048576")});
    ObservedHost h =
        with_observed_volumes({{"p", "base.qcow2", volume_xml("base.qcow2", "2097152"), ""}});
    auto drift = detect_drift(d, {h});
    EXPECT_EQ(drift_fields(drift, "volume"), std::set<std::string>{"capacity"});
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.steps.empty());
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0].severity, Severity::Error);
    EXPECT_NE(p.errors[0].message.find("shrinking"), std::string::npos);
}

namespace {

DesiredState with_snapshot(const std::string& description) {
    DesiredState d = desired_host();
    d.snapshots.push_back({"s1", "vm1", "local", description, false, {}});
    return d;
}

ObservedHost with_observed_snapshot(const std::string& description) {
    ObservedHost h = observed_host();
    ObservedDomain dom;
    dom.name = "vm1";
    dom.state = "shutoff";
    dom.snapshots = {"s1"};
    dom.snapshot_descriptions = {{"s1", description}};
    h.domains.push_back(dom);
    return h;
}

} // namespace

TEST(PlannerKinds, SnapshotDescriptionIsInDriftAsInPlan) {
    expect_same_fields(with_snapshot("before"), with_observed_snapshot("before"), "snapshot", {});
    DesiredState d = with_snapshot("after the upgrade");
    ObservedHost h = with_observed_snapshot("before");
    expect_same_fields(d, h, "snapshot", {"description"});
    Plan p = make_plan(d, {h}, {});
    ASSERT_EQ(ops(p), std::vector<std::string>{"snapshot.set_description"});
    const auto& sd = std::get<SnapshotSetDescription>(p.steps[0].payload);
    EXPECT_EQ(sd.domain, "vm1");
    EXPECT_EQ(sd.snapshot, "s1");
    EXPECT_EQ(sd.description, "after the upgrade");
    EXPECT_EQ(p.changes.at(0).action, Action::Update);
    // A missing snapshot is created, and reported missing by drift.
    ObservedHost none = with_observed_snapshot("before");
    none.domains[0].snapshots.clear();
    none.domains[0].snapshot_descriptions.clear();
    EXPECT_EQ(ops(make_plan(d, {none}, {})), std::vector<std::string>{"snapshot.create"});
    bool reported = false;
    for (const auto& it : detect_drift(d, {none}))
        if (it.kind == "snapshot") {
            EXPECT_EQ(it.name, "vm1/s1");
            EXPECT_STREQ(drift_status_name(it.status), "missing");
            reported = true;
        }
    EXPECT_TRUE(reported);
}

TEST(PlannerKinds, SnapshotDescriptionIsPartOfTheFingerprints) {
    // A saved plan is refused when a snapshot's description changed after planning.
    auto before = fingerprints({with_observed_snapshot("before")});
    ASSERT_EQ(before.count("local/snapshot/vm1/s1"), 1u);
    EXPECT_NE(before, fingerprints({with_observed_snapshot("edited with virsh")}));
}

namespace {

// A spec keeping the domain's UUID under a new name; libvirt has it as "old-name", managed by
// this database (owner marker), in `state`.
struct RenameCase {
    DesiredState d;
    ObservedHost h;
};

RenameCase rename_case(const std::string& state) {
    RenameCase c;
    c.d = desired_host();
    c.d.owner_id = "db1";
    Spec vm = spec_of("<domain type='qemu'><name>new-name</name>"
                      "<uuid>0a0b0c0d-0000-4000-8000-000000000001</uuid>"
                      "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                      "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
                      domain_kind());
    vm.vm.state = "shutoff";
    c.d.vms.push_back(vm);
    c.d.snapshots.push_back({"s1", "new-name", "local", "", false, {}});
    c.h = observed_host();
    ObservedDomain od;
    od.name = "old-name";
    od.uuid = "0A0B0C0D-0000-4000-8000-000000000001";
    od.state = state;
    od.snapshots = {"s1"};
    od.snapshot_descriptions = {{"s1", ""}};
    od.inactive_xml =
        "<domain type='qemu'><name>old-name</name><uuid>0a0b0c0d-0000-4000-8000-000000000001"
        "</uuid><metadata><virtumancer:owner xmlns:virtumancer='https://virtumancer.dev/xmlns/"
        "owner/1' spec='local/vm/old-name' hash='x' revision='r' db='db1'/></metadata>"
        "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
    c.h.domains.push_back(od);
    return c;
}

PlanOptions pruning() {
    PlanOptions o;
    o.prune = true;
    return o;
}

} // namespace

TEST(PlannerKinds, RenamedShutOffVmIsRenamedInPlaceNeverCreatedAndDeleted) {
    RenameCase c = rename_case("shutoff");
    for (const PlanOptions& opts : {PlanOptions{}, pruning()}) {
        Plan p = make_plan(c.d, {c.h}, opts);
        ASSERT_EQ(ops(p), std::vector<std::string>{"vm.rename"}) << p.changes.size();
        EXPECT_EQ(p.steps[0].name, "old-name");
        EXPECT_EQ(std::get<VmRename>(p.steps[0].payload).new_name, "new-name");
        EXPECT_TRUE(p.errors.empty());
        ASSERT_EQ(p.changes.size(), 1u); // its snapshot was found under the new name
        EXPECT_EQ(p.changes[0].address(), "local/vm/new-name");
        EXPECT_EQ(p.changes[0].action, Action::Update);
        const FieldDiff* df = find_diff(p, "name");
        ASSERT_TRUE(df);
        EXPECT_EQ(df->before, "old-name");
        EXPECT_EQ(df->after, "new-name");
    }
    // A change besides the name: its steps follow the rename.
    c.d.vms[0].obj.fields["memory"] = std::to_string(128 * 1024 * 1024);
    Plan p = make_plan(c.d, {c.h}, {});
    ASSERT_EQ(ops(p), (std::vector<std::string>{"vm.rename", "vm.define"}));
    EXPECT_EQ(p.steps[1].deps, std::vector<int>{p.steps[0].id});
    EXPECT_NE(p.steps[1].xml().find("<name>new-name</name>"), std::string::npos);
}

TEST(PlannerKinds, RenamedRunningVmIsRefusedNeverCreatedAndDeleted) {
    RenameCase c = rename_case("running");
    for (const PlanOptions& opts : {PlanOptions{}, pruning()}) {
        Plan p = make_plan(c.d, {c.h}, opts);
        EXPECT_TRUE(p.steps.empty()) << ops(p).size();
        EXPECT_TRUE(p.changes.empty());
        ASSERT_EQ(p.errors.size(), 1u);
        EXPECT_EQ(p.errors[0].severity, Severity::Error);
        EXPECT_NE(p.errors[0].message.find("shut-off"), std::string::npos) << p.errors[0].message;
        EXPECT_NE(p.errors[0].message.find("virsh domrename old-name new-name"), std::string::npos)
            << p.errors[0].message;
    }
}

TEST(PlannerKinds, DerivedMacsOfAVmWithAUuidSurviveARename) {
    Object a = parse_xml("<domain><name>a</name><uuid>0A0B0C0D-0000-4000-8000-000000000001</uuid>"
                         "</domain>",
                         domain_kind());
    Object b = a;
    b.fields["name"] = "b";
    EXPECT_EQ(derived_mac("h", mac_seed(a), 0), derived_mac("h", mac_seed(b), 0));
    Object c = a, d = b;
    c.fields.erase("uuid");
    d.fields.erase("uuid");
    EXPECT_EQ(mac_seed(c), "a"); // without a uuid: the name, as before
    EXPECT_NE(derived_mac("h", mac_seed(c), 0), derived_mac("h", mac_seed(d), 0));
}

// An active network runs the definition it was started with: a redefined setting its config
// has and the running network lacks is pending (plan not settled, drift "pending") until the
// network is restarted; planned now, it is pending after the apply; an inactive network has
// nothing pending.
TEST(PlannerKinds, NetworkSettingTheRunningNetworkLacksIsPending) {
    const std::string routed = replace(kNetXml, "<forward mode='nat'>", "<forward mode='route'>");
    DesiredState d =
        with_network(replace(kNetSpecXml, "<forward mode='nat'/>", "<forward mode='route'/>"));
    // Config redefined already (an earlier apply), the running network still NAT.
    ObservedHost h = with_observed_network(routed);
    h.networks[0].live_xml = kNetXml;
    Plan p = make_plan(d, {h}, {});
    EXPECT_TRUE(p.empty()) << "nothing to apply";
    EXPECT_FALSE(p.settled()) << "but the running network differs";
    ASSERT_EQ(p.pending.size(), 1u);
    EXPECT_EQ(p.pending[0].kind, "network");
    ASSERT_EQ(p.pending[0].diffs.size(), 1u);
    EXPECT_EQ(p.pending[0].diffs[0].before, "nat");
    EXPECT_EQ(p.pending[0].diffs[0].after, "route");
    EXPECT_NE(p.pending[0].effect.find("net-destroy lab"), std::string::npos);
    auto drift = detect_drift(d, {h});
    ASSERT_EQ(drift.size(), 1u);
    EXPECT_STREQ(drift_status_name(drift[0].status), "pending");
    EXPECT_EQ(drift[0].pending.size(), 1u);

    // Planned now: a redefine, and the same field pending after it.
    h.networks[0].xml = kNetXml;
    Plan q = make_plan(d, {h}, {});
    EXPECT_EQ(ops(q), std::vector<std::string>{"network.define"});
    ASSERT_EQ(q.pending.size(), 1u);
    EXPECT_TRUE(q.pending[0].diffs.empty());
    EXPECT_EQ(q.pending[0].after_apply.size(), 1u);

    // Restarted (live = config): nothing pending; inactive: nothing pending either.
    h.networks[0].xml = routed;
    h.networks[0].live_xml = routed;
    EXPECT_TRUE(make_plan(d, {h}, {}).settled());
    h.networks[0].active = false;
    h.networks[0].live_xml.clear();
    Plan r = make_plan(d, {h}, {});
    EXPECT_TRUE(r.pending.empty());
}
