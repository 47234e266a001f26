// cloud_init: on a VM: the spec (sources, defaults, diagnostics), the database (no value of
// user_data_file / user_data_env is stored) and the plan (seed volume, read-only cdrom on the
// machine's bus, a content change as one next-boot change, removal, --prune).
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "iso_reader.hpp"
#include "test_support.hpp"
#include "virtumancer/cloud_init.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;
using namespace virtumancer::testing_util;

namespace {

const char* kBase = R"(kind: Host
name: local
uri: qemu:///system
---
kind: StoragePool
name: imgs
host: local
type: dir
path: /var/lib/vmr-imgs
---
kind: Volume
name: web-root
host: local
pool: imgs
capacity: 64MiB
---
)";

std::string vm_yaml(const std::string& cloud_init, const std::string& extra = "") {
    return std::string(kBase) +
           "kind: VirtualMachine\nname: web\nhost: local\n"
           "domain_type: qemu\nmemory: 64MiB\nvcpus: 1\nstate: shutoff\n" +
           extra + "disks:\n  - volume: web-root\n" + cloud_init;
}

std::string all(const SpecLoadResult& r) {
    std::string s;
    for (const auto& d : r.diags.items()) s += d.to_string() + "\n";
    return s;
}

const Spec& vm_of(const SpecLoadResult& r) {
    return r.state.vms.at(0);
}

ObservedHost empty_host() {
    ObservedHost h;
    h.host = "local";
    h.uri = "qemu:///system";
    h.reachable = true;
    ObservedPool p;
    p.name = "imgs";
    p.active = true;
    p.xml = "<pool type='dir'><name>imgs</name><target><path>/var/lib/vmr-imgs</path></target>"
            "</pool>";
    p.volumes.push_back({"imgs", "web-root", "<volume><name>web-root</name></volume>",
                         "/var/lib/vmr-imgs/web-root"});
    h.pools.push_back(p);
    return h;
}

// The plan's changes and steps of the VM (the pool and volume of empty_host() are not what the
// specs say; they are not what these tests are about).
std::vector<const ResourceChange*> vm_changes(const Plan& p) {
    std::vector<const ResourceChange*> out;
    for (const auto& c : p.changes)
        if (c.address() == "local/vm/web" || c.address() == "local/volume/imgs/web-cidata.iso")
            out.push_back(&c);
    return out;
}
std::vector<std::string> vm_ops(const Plan& p) {
    std::vector<std::string> out;
    for (const auto& s : p.steps)
        if (s.change == "local/vm/web" || s.change == "local/volume/imgs/web-cidata.iso")
            out.push_back(op_name(s.op()));
    return out;
}

const Step* step_of(const Plan& p, Op op) {
    for (const auto& s : p.steps)
        if (s.op() == op) return &s;
    return nullptr;
}

// The host after applying `p` to `h` as libvirt would hold it (define -> inactive XML as sent;
// seed -> the volume exists).
ObservedHost after(const Plan& p, ObservedHost h) {
    for (const auto& s : p.steps) {
        if (s.op() == Op::VmDefine) {
            std::string name = parse_xml(s.xml(), domain_kind()).name();
            h.domains.erase(std::remove_if(h.domains.begin(), h.domains.end(),
                                           [&](const ObservedDomain& d) { return d.name == name; }),
                            h.domains.end());
            ObservedDomain d;
            d.name = name;
            d.inactive_xml = s.xml();
            d.state = "shutoff";
            h.domains.push_back(d);
        }
        if (s.op() == Op::VolumeCloudInitSeed) {
            const auto& seed = std::get<VolumeCloudInitSeed>(s.payload);
            bool have = false;
            for (auto& v : h.pools[0].volumes) have |= v.name == seed.volume;
            if (!have) h.pools[0].volumes.push_back({"imgs", seed.volume, "", ""});
        }
        if (s.op() == Op::VolumeDelete) {
            auto& vs = h.pools[0].volumes;
            std::string vol = std::get<VolumeDelete>(s.payload).volume;
            vs.erase(std::remove_if(vs.begin(), vs.end(),
                                    [&](const ObservedVolume& v) { return v.name == vol; }),
                     vs.end());
        }
    }
    return h;
}

} // namespace

TEST(CloudInitSpec, InlineUserDataWithDefaults) {
    auto r = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: |\n    #cloud-config\n"
                                              "    packages: [nginx]\n  meta_data:\n"
                                              "    public-keys: [ssh-ed25519 AAAA k]\n"));
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const CloudInitSpec& ci = vm_of(r).vm.cloud_init;
    EXPECT_TRUE(ci.enabled);
    EXPECT_EQ(ci.user_data, "#cloud-config\npackages: [nginx]\n");
    EXPECT_EQ(ci.meta_data.rfind("instance-id: iid-", 0), 0u) << ci.meta_data;
    EXPECT_NE(ci.meta_data.find("\nlocal-hostname: web\npublic-keys:\n  - ssh-ed25519 AAAA k\n"),
              std::string::npos)
        << ci.meta_data;
    EXPECT_FALSE(ci.has_network_config);
    EXPECT_EQ(ci.hash, cloud_init_hash({ci.user_data, ci.meta_data, "", false}));
    // A change of the user-data gives another instance-id and hash.
    auto r2 = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\n\"\n"));
    ASSERT_FALSE(r2.diags.has_errors()) << all(r2);
    EXPECT_NE(vm_of(r2).vm.cloud_init.hash, ci.hash);
    EXPECT_NE(vm_of(r2).vm.cloud_init.meta_data.substr(0, 33), ci.meta_data.substr(0, 33));
    EXPECT_NE(vm_of(r2).content_hash, vm_of(r).content_hash);
}

TEST(CloudInitSpec, NetworkConfigAsMappingOrTextAndMetaDataOverrides) {
    auto r = load_spec_text("t.yaml",
                            vm_yaml("cloud_init:\n  meta_data:\n    instance-id: mine\n"
                                    "    local-hostname: h1\n  network_config:\n    version: 2\n"
                                    "    ethernets:\n      eth0:\n        dhcp4: true\n"
                                    "        addresses: [\"10.0.0.5/24\"]\n"));
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const CloudInitSpec& ci = vm_of(r).vm.cloud_init;
    EXPECT_EQ(ci.meta_data, "instance-id: mine\nlocal-hostname: h1\n");
    EXPECT_TRUE(ci.has_network_config);
    EXPECT_EQ(ci.network_config, "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
                                 "    addresses:\n      - \"10.0.0.5/24\"\n");
    auto t =
        load_spec_text("t.yaml", vm_yaml("cloud_init:\n  network_config: |\n    version: 1\n"));
    ASSERT_FALSE(t.diags.has_errors()) << all(t);
    EXPECT_EQ(vm_of(t).vm.cloud_init.network_config, "version: 1\n");
}

TEST(CloudInitSpec, FileAndVariableAreReadForTheHashOnly) {
    TempDir dir("vmr-ci-");
    dir.write("seed/user-data.yaml", "#cloud-config\npassword: from-file\n");
    std::string spec = dir.write(
        "specs/web.yaml", vm_yaml("cloud_init:\n  user_data_file: ../seed/user-data.yaml\n"));
    auto r = load_spec_files({spec});
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const CloudInitSpec& ci = vm_of(r).vm.cloud_init;
    EXPECT_EQ(ci.user_data, "");
    EXPECT_EQ(ci.user_data_file, (dir.path() / "seed/user-data.yaml").string());
    EXPECT_EQ(ci.hash,
              cloud_init_hash({"#cloud-config\npassword: from-file\n", ci.meta_data, "", false}));

    ::setenv("VMR_CI_TEST_UD", "#cloud-config\npassword: from-env\n", 1);
    auto e = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data_env: VMR_CI_TEST_UD\n"));
    ::unsetenv("VMR_CI_TEST_UD");
    ASSERT_FALSE(e.diags.has_errors()) << all(e);
    EXPECT_EQ(vm_of(e).vm.cloud_init.user_data, "");
    EXPECT_EQ(vm_of(e).vm.cloud_init.user_data_env, "VMR_CI_TEST_UD");
    EXPECT_EQ(vm_of(e).vm.cloud_init.hash,
              cloud_init_hash({"#cloud-config\npassword: from-env\n",
                               vm_of(e).vm.cloud_init.meta_data, "", false}));
}

// Each mistake at its file:line:col with what to do.
TEST(CloudInitSpec, DiagnosticsHaveAPlaceAndARemedy) {
    // kBase is 16 lines; the VM's `cloud_init:` is line 26, its first key line 27.
    struct Case {
        std::string cloud_init, extra;
        int line, col;
        std::string text;
    };
    ::unsetenv("VMR_CI_UNSET");
    std::vector<Case> cases = {
        {"cloud_init:\n  user_dat: x\n", "", 27, 3,
         "unknown key `user_dat` in cloud_init (did you "
         "mean `user_data`?)"},
        {"cloud_init:\n  user_data: x\n  user_data_env: X\n", "", 28, 3,
         "give only one of user_data, user_data_file, user_data_env"},
        {"cloud_init:\n  user_data_env: VMR_CI_UNSET\n", "", 27, 18,
         "VMR_CI_UNSET (user_data_env) is not set"},
        {"cloud_init:\n  user_data_file: nowhere.yaml\n", "", 27, 19,
         "user_data_file `nowhere.yaml` cannot be read"},
        {"cloud_init:\n  user_data:\n    a: 1\n", "", 28, 5, "`user_data` must be text"},
        {"cloud_init:\n  meta_data: [a]\n", "", 27, 14, "`meta_data` must be a mapping"},
        {"cloud_init:\n  network_config: [a]\n", "", 27, 19, "`network_config` must be a mapping"},
        {"cloud_init:\n  user_data_env: 1BAD\n", "", 27, 18, "must name an environment variable"},
        {"cloud_init: yes\n", "", 26, 13, "`cloud_init` must be a mapping"},
    };
    for (const auto& c : cases) {
        auto r = load_spec_text("t.yaml", vm_yaml(c.cloud_init, c.extra));
        bool found = false;
        for (const auto& d : r.diags.items())
            if (d.line == c.line && d.column == c.col && !d.remedy.empty() &&
                (d.message + "\n" + d.remedy).find(c.text) != std::string::npos)
                found = true;
        EXPECT_TRUE(found) << c.cloud_init << "expected " << c.line << ":" << c.col << " " << c.text
                           << "\ngot:\n"
                           << all(r);
    }
    // A VM whose first disk is not a volume has no pool for its seed.
    std::string text = std::string(kBase) +
                       "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64MiB\nvcpus: 1\n"
                       "disks:\n  - file: /var/lib/x.img\ncloud_init:\n  user_data: x\n";
    auto r = load_spec_text("t.yaml", text);
    EXPECT_NE(all(r).find("t.yaml:25:3: error: cloud_init puts its seed volume in the pool of the "
                          "VM's first disk"),
              std::string::npos)
        << all(r);
}

// The database keeps the reference and the hash, never the value of the file or variable.
TEST(CloudInitStore, SecretsAreNotStored) {
    TempDir dir("vmr-ci-");
    const std::string marker = "ci-secret-marker-7f3a";
    ::setenv("VMR_CI_TEST_SECRET", ("#cloud-config\npassword: " + marker + "\n").c_str(), 1);
    dir.write("ud.yaml", "#cloud-config\nfile: " + marker + "\n");
    std::string specs = dir.write(
        "web.yaml", vm_yaml("cloud_init:\n  user_data_env: VMR_CI_TEST_SECRET\n") +
                        "---\nkind: VirtualMachine\nname: db\nhost: local\nmemory: 64MiB\n"
                        "vcpus: 1\ndisks:\n  - volume: web-root\n    target: vdb\n"
                        "cloud_init:\n  user_data_file: ud.yaml\n");
    auto load = load_spec_files({specs});
    ::unsetenv("VMR_CI_TEST_SECRET");
    ASSERT_FALSE(load.diags.has_errors()) << all(load);
    std::string path = dir.file("t.db");
    DesiredState back;
    {
        auto db = Database::open(path);
        Store store(*db);
        store.save_desired(load, "r1", "test", {specs});
        back = store.load_desired();
    }
    ASSERT_EQ(back.vms.size(), 2u);
    for (const auto& vm : back.vms) {
        const Spec* orig = nullptr;
        for (const auto& v : load.state.vms)
            if (v.obj.name() == vm.obj.name()) orig = &v;
        ASSERT_TRUE(orig);
        EXPECT_EQ(vm.vm.cloud_init, orig->vm.cloud_init) << vm.obj.name();
    }
    int st = 0;
    std::string dump = run_shell("cat " + path + "* | strings", &st);
    EXPECT_EQ(dump.find(marker), std::string::npos) << "the secret is in the database file";
    EXPECT_NE(dump.find("VMR_CI_TEST_SECRET"), std::string::npos) << "its reference is kept";
    std::string sql = run_shell("sqlite3 " + path + " .dump", &st);
    EXPECT_EQ(sql.find(marker), std::string::npos);
    EXPECT_NE(sql.find("ud.yaml"), std::string::npos);
}

// A new VM: the seed step, then the define with a read-only cdrom on the machine's bus.
TEST(CloudInitPlan, NewVmGetsSeedVolumeAndReadOnlyCdromOnTheMachinesBus) {
    for (auto [machine, bus, target] :
         {std::tuple{"pc", "ide", "hdc"}, std::tuple{"q35", "sata", "sda"},
          std::tuple{"pc-i440fx-7.2", "ide", "hdc"}}) {
        auto r =
            load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\n\"\n",
                                             std::string("machine: ") + machine + "\n"));
        ASSERT_FALSE(r.diags.has_errors()) << all(r);
        Plan p = make_plan(r.state, {empty_host()}, {});
        for (const auto& e : p.errors) EXPECT_NE(e.severity, Severity::Error) << e.message;
        const Step* seed = step_of(p, Op::VolumeCloudInitSeed);
        const Step* def = step_of(p, Op::VmDefine);
        ASSERT_TRUE(seed && def);
        EXPECT_EQ(seed->name, "imgs/web-cidata.iso");
        EXPECT_EQ(seed->change, "local/vm/web");
        EXPECT_NE(std::find(def->deps.begin(), def->deps.end(), seed->id), def->deps.end());
        const auto& sp = std::get<VolumeCloudInitSeed>(seed->payload);
        EXPECT_EQ(sp.user_data, "#cloud-config\n");
        EXPECT_EQ(sp.hash, vm_of(r).vm.cloud_init.hash);
        Object dom = parse_xml(def->xml(), domain_kind());
        const Object* cd = nullptr;
        for (const auto& ch : dom.children)
            if (ch.kind->kind == "disk" && ch.get("device") == "cdrom") cd = &ch;
        ASSERT_TRUE(cd) << def->xml();
        EXPECT_EQ(cd->get("pool"), "imgs");
        EXPECT_EQ(cd->get("volume"), "web-cidata.iso");
        EXPECT_EQ(cd->get("readonly"), "yes");
        EXPECT_EQ(cd->get("bus"), bus) << machine;
        EXPECT_EQ(cd->get("target"), target) << machine;
        EXPECT_NE(def->xml().find("cloud-init=\"" + vm_of(r).vm.cloud_init.hash + "\""),
                  std::string::npos);
        // `render` shows the same cdrom.
        std::string rendered = desired_domain_xml(vm_of(r), "r1");
        EXPECT_NE(rendered.find("volume=\"web-cidata.iso\""), std::string::npos) << rendered;
        EXPECT_NE(rendered.find("<readonly"), std::string::npos) << rendered;
        // Applied: nothing left to do.
        Plan again = make_plan(r.state, {after(p, empty_host())}, {});
        EXPECT_TRUE(vm_changes(again).empty()) << plan_to_json(again);
        EXPECT_TRUE(vm_ops(again).empty()) << plan_to_json(again);
    }
}

// A content change: one next-boot change with a new seed and the define; then nothing.
// Removing cloud_init detaches the cdrom; the seed volume goes only with --prune.
TEST(CloudInitPlan, ContentChangeIsOneNextBootChangeAndRemovalPrunesTheSeed) {
    auto r1 = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\n\"\n"));
    ASSERT_FALSE(r1.diags.has_errors()) << all(r1);
    ObservedHost h = after(make_plan(r1.state, {empty_host()}, {}), empty_host());

    auto r2 = load_spec_text("t.yaml",
                             vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\nx: 1\\n\"\n"));
    ASSERT_FALSE(r2.diags.has_errors()) << all(r2);
    Plan p = make_plan(r2.state, {h}, {});
    ASSERT_EQ(vm_changes(p).size(), 1u) << plan_to_json(p);
    const ResourceChange& c = *vm_changes(p)[0];
    EXPECT_EQ(c.address(), "local/vm/web");
    EXPECT_EQ(c.cls, ChangeClass::NextBoot);
    ASSERT_EQ(c.diffs.size(), 1u) << plan_to_json(p);
    EXPECT_EQ(c.diffs[0].field, "cloud_init");
    EXPECT_EQ(c.diffs[0].cls, ChangeClass::NextBoot);
    EXPECT_EQ(vm_ops(p), (std::vector<std::string>{"volume.cloud_init_seed", "vm.define"}));
    const Step* seed = step_of(p, Op::VolumeCloudInitSeed);
    ASSERT_TRUE(seed);
    EXPECT_TRUE(std::get<VolumeCloudInitSeed>(seed->payload).exists);
    EXPECT_EQ(seed->fields, std::vector<std::string>{"cloud_init"});
    // drift says the same as plan: the seed is out of date, then in sync.
    auto drift_of = [](const DesiredState& d, const ObservedHost& oh) {
        for (const auto& it : detect_drift(d, {oh}))
            if (it.kind == "vm") return it;
        return DriftItem{};
    };
    DriftItem before = drift_of(r2.state, h);
    EXPECT_EQ(before.status, DriftStatus::Drifted);
    ASSERT_EQ(before.diffs.size(), 1u);
    EXPECT_EQ(before.diffs[0].field, "cloud_init");
    h = after(p, h);
    EXPECT_TRUE(vm_changes(make_plan(r2.state, {h}, {})).empty());
    EXPECT_EQ(drift_of(r2.state, h).status, DriftStatus::InSync);
    EXPECT_TRUE(drift_of(r2.state, h).diffs.empty());

    // The seed volume deleted behind our back: a new seed.
    ObservedHost gone = h;
    gone.pools[0].volumes.pop_back();
    Plan p3 = make_plan(r2.state, {gone}, {});
    ASSERT_TRUE(step_of(p3, Op::VolumeCloudInitSeed)) << plan_to_json(p3);
    EXPECT_FALSE(
        std::get<VolumeCloudInitSeed>(step_of(p3, Op::VolumeCloudInitSeed)->payload).exists);

    // cloud_init removed: the cdrom goes (next boot), the volume stays without --prune.
    auto r4 = load_spec_text("t.yaml", vm_yaml(""));
    ASSERT_FALSE(r4.diags.has_errors()) << all(r4);
    Plan p4 = make_plan(r4.state, {h}, {});
    ASSERT_TRUE(step_of(p4, Op::VmDefine)) << plan_to_json(p4);
    EXPECT_EQ(step_of(p4, Op::VmDefine)->xml().find("cdrom"), std::string::npos);
    EXPECT_FALSE(step_of(p4, Op::VolumeDelete));
    bool warned = false;
    for (const auto& e : p4.errors)
        warned |= e.file == "local/volume/imgs/web-cidata.iso" &&
                  e.message.find("--prune") != std::string::npos;
    EXPECT_TRUE(warned) << plan_to_json(p4);
    // Applied without --prune: the marker still names the seed, so a later --prune finds it.
    ObservedHost h4 = after(p4, h);
    EXPECT_NE(h4.domains[0].inactive_xml.find("cloud-init=\"sha256:"), std::string::npos);
    EXPECT_TRUE(vm_changes(make_plan(r4.state, {h4}, {})).empty());
    PlanOptions prune;
    prune.prune = true;
    Plan p5 = make_plan(r4.state, {h4}, prune);
    const Step* del = step_of(p5, Op::VolumeDelete);
    ASSERT_TRUE(del) << plan_to_json(p5);
    EXPECT_EQ(del->name, "imgs/web-cidata.iso");
    EXPECT_FALSE(step_of(p5, Op::VmDefine)) << "the cdrom is already gone";
    // Removing cloud_init and pruning in one apply: deleted after the define without the cdrom.
    Plan p6 = make_plan(r4.state, {h}, prune);
    const Step* del6 = step_of(p6, Op::VolumeDelete);
    const Step* def6 = step_of(p6, Op::VmDefine);
    ASSERT_TRUE(del6 && def6) << plan_to_json(p6);
    EXPECT_NE(std::find(del6->deps.begin(), del6->deps.end(), def6->id), del6->deps.end());
    ObservedHost h5 = after(p5, h4);
    EXPECT_TRUE(vm_changes(make_plan(r4.state, {h5}, prune)).empty());
    // The web-root volume (with a spec) survived.
    EXPECT_EQ(h5.pools[0].volumes.size(), 1u);
    EXPECT_EQ(h5.pools[0].volumes[0].name, "web-root");
}

// A running VM still reading the seed: its deletion is blocked by the prune safety rules.
TEST(CloudInitPlan, PruneOfASeedARunningVmStillReadsIsBlocked) {
    auto r1 = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\n\"\n"));
    ASSERT_FALSE(r1.diags.has_errors());
    ObservedHost h = after(make_plan(r1.state, {empty_host()}, {}), empty_host());
    h.domains[0].state = "running";
    h.domains[0].live_xml = h.domains[0].inactive_xml;
    std::string text = vm_yaml("");
    text.replace(text.find("state: shutoff"), 14, "state: running");
    auto r4 = load_spec_text("t.yaml", text);
    ASSERT_FALSE(r4.diags.has_errors()) << all(r4);
    PlanOptions prune;
    prune.prune = true;
    Plan p = make_plan(r4.state, {h}, prune);
    EXPECT_FALSE(step_of(p, Op::VolumeDelete)) << plan_to_json(p);
    bool blocked = false;
    for (const auto& b : p.blocked) blocked |= b.address() == "local/volume/imgs/web-cidata.iso";
    EXPECT_TRUE(blocked) << plan_to_json(p);
}

// A seeded VM whose spec is removed: --prune undefines it and then deletes its seed; the
// volume with a spec stays.
TEST(CloudInitPlan, PrunedVmTakesItsSeedAlong) {
    auto r1 = load_spec_text("t.yaml", vm_yaml("cloud_init:\n  user_data: \"#cloud-config\\n\"\n"));
    ASSERT_FALSE(r1.diags.has_errors()) << all(r1);
    ObservedHost h = after(make_plan(r1.state, {empty_host()}, {}), empty_host());
    std::string text = kBase;
    auto r2 = load_spec_text("t.yaml", text.substr(0, text.rfind("---")));
    ASSERT_FALSE(r2.diags.has_errors()) << all(r2);
    Plan kept = make_plan(r2.state, {h}, {});
    EXPECT_FALSE(step_of(kept, Op::VolumeDelete)) << plan_to_json(kept);
    PlanOptions prune;
    prune.prune = true;
    Plan p = make_plan(r2.state, {h}, prune);
    const Step* undef = step_of(p, Op::VmUndefine);
    const Step* del = step_of(p, Op::VolumeDelete);
    ASSERT_TRUE(undef && del) << plan_to_json(p);
    EXPECT_EQ(del->name, "imgs/web-cidata.iso");
    EXPECT_NE(std::find(del->deps.begin(), del->deps.end(), undef->id), del->deps.end());
    int deletes = 0;
    for (const auto& s : p.steps) deletes += s.op() == Op::VolumeDelete;
    EXPECT_EQ(deletes, 1) << "web-root has a spec and stays";
}

// Spec files naming a user_data_file or user_data_env are always parsed again: the content
// they reference lives outside them and may have changed since the last load.
TEST(CloudInitSpec, FilesWithOutsideContentAreNeverSkipped) {
    TempDir dir("vmr-ci-");
    dir.write("ud.yaml", "#cloud-config\n");
    std::string with =
        dir.write("a/web.yaml", vm_yaml("cloud_init:\n  user_data_file: ../ud.yaml\n"));
    std::string without = dir.write("b/web.yaml", vm_yaml("cloud_init:\n  user_data: x\n"));
    auto always = [](const std::vector<SpecFile>&) { return true; };
    EXPECT_TRUE(load_spec_files({without}, always).skipped);
    auto r = load_spec_files({with}, always);
    EXPECT_FALSE(r.skipped);
    EXPECT_FALSE(r.diags.has_errors()) << all(r);
}
