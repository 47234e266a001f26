// drift on the real libvirtd: a spec set (VM, pool, volume, network) applied is clean; an
// unmanaged domain is listed for information (drift only with --fail-on-unmanaged); changes
// made behind virtumancer's back with virsh show up with exactly the field, expected and
// actual value, in --json, --junit and --prometheus.
//
// Other domains on the shared libvirtd (other tests' managed VMs without a spec in this
// database) are reported too; the assertions about exit codes and counts take them into
// account instead of assuming the host is empty.
#include <fstream>
#include <set>
#include <sstream>

#include "mx_util.hpp"

namespace {

using namespace mx_e2e;
using nlohmann::json;

const std::string kVm = "vmr-e2e-mx-dvm";
const std::string kPool = "vmr-e2e-mx-dpool";
const std::string kPoolPath = "/var/lib/libvirt/images/vmr-e2e-mx-dpool";
const std::string kVol = "vmr-e2e-mx-d.qcow2";
const std::string kNet = "vmr-e2e-mx-dnet";
const std::string kUnmanaged = "vmr-e2e-mx-unmanaged";

std::string specs_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n"
           "---\nkind: StoragePool\nname: " +
           kPool + "\nhost: local\ntype: dir\npath: " + kPoolPath +
           "\n---\nkind: Volume\nname: " + kVol + "\nhost: local\npool: " + kPool +
           "\ncapacity: 8MiB\nformat: qcow2\n"
           "---\nkind: Network\nname: " +
           kNet +
           "\nhost: local\nmode: isolated\n"
           "---\nkind: VirtualMachine\nname: " +
           kVm +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nacpi: true\nmemory: 64MiB\nvcpus: 1\n"
           "state: running\nforce_stop: true\nshutdown_timeout: 1\n"
           "disks:\n  - pool: " +
           kPool + "\n    volume: " + kVol +
           "\n    target: vda\n    cache: writeback\n"
           "interfaces:\n  - network: " +
           kNet + "\n    mac: \"52:54:00:6d:0d:01\"\n";
}

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const json* object(const json& report, const std::string& kind, const std::string& name) {
    for (const auto& o : report["objects"])
        if (o.value("kind", "") == kind && o.value("name", "") == name) return &o;
    return nullptr;
}

std::set<std::string> fields(const json& obj) {
    std::set<std::string> out;
    for (const auto& d : obj["diffs"]) out.insert(d.value("field", ""));
    return out;
}

const json* diff(const json& obj, const std::string& field) {
    for (const auto& d : obj["diffs"])
        if (d.value("field", "") == field) return &d;
    return nullptr;
}

bool mine(const json& o) {
    return o.value("name", "").rfind(kPrefix, 0) == 0;
}

// Objects of other tests on the shared host that count as drift in this database.
int foreign_drift(const json& report, const std::string& kind = "") {
    int n = 0;
    for (const auto& o : report["objects"])
        if (!mine(o) && o.value("drift", false) && (kind.empty() || o.value("kind", "") == kind))
            ++n;
    return n;
}

class Drift : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        clean();
        db_ = dir_.file("v.db");
        dir_.write("specs/all.yaml", specs_yaml());
    }
    void TearDown() override { clean(); }
    void clean() {
        apply_e2e::cleanup(kPrefix + "d");
        apply_e2e::cleanup(kUnmanaged);
        sh("rm -rf " + kPoolPath);
    }
    // drift --json; fails the test when the output is not JSON.
    json drift(const std::string& extra, int* code) {
        CliRun r = vm(db_, "drift --json " + extra);
        *code = r.code;
        json j = parse_json(r.out);
        EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
        return j.is_discarded() ? json::object({{"objects", json::array()}}) : j;
    }

    apply_e2e::TempDir dir_;
    std::string db_;
};

TEST_F(Drift, OutOfBandVirshChangesAreReportedWithTheirFields) {
    CliRun r = vm(db_, "apply --auto-approve " + quote(dir_.file("specs")));
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    // The apply's verification records the VM as in sync; drift records what it finds.
    auto sync_status = [&] {
        return apply_e2e::sql(db_,
                              "SELECT sync_status FROM virtual_machines WHERE name='" + kVm + "'");
    };
    EXPECT_EQ(sync_status(), "in_sync\n");

    // Clean right after apply.
    int code = -1;
    json rep = drift("", &code);
    for (auto [kind, name] : std::vector<std::pair<std::string, std::string>>{
             {"vm", kVm}, {"pool", kPool}, {"volume", kPool + "/" + kVol}, {"network", kNet}}) {
        const json* o = object(rep, kind, name);
        ASSERT_NE(o, nullptr) << kind << " " << name << " missing in\n" << rep.dump(2);
        EXPECT_EQ(o->value("status", ""), "in_sync") << o->dump(2);
    }
    EXPECT_EQ(code, foreign_drift(rep) ? 2 : 0) << rep.dump(2);

    // An unmanaged domain: listed, not drift, unless --fail-on-unmanaged.
    std::string xml = "<domain type='qemu'><name>" + kUnmanaged +
                      "</name><memory unit='KiB'>65536</memory><os><type arch='x86_64' "
                      "machine='pc'>hvm</type></os></domain>";
    apply_e2e::TempDir tmp;
    tmp.write("u.xml", xml);
    ASSERT_TRUE(apply_e2e::contains(virsh("define " + tmp.file("u.xml")), "defined"));
    rep = drift("", &code);
    const json* u = object(rep, "vm", kUnmanaged);
    ASSERT_NE(u, nullptr) << rep.dump(2);
    EXPECT_EQ(u->value("status", ""), "unmanaged");
    EXPECT_FALSE(u->value("drift", true));
    EXPECT_EQ(code, foreign_drift(rep) ? 2 : 0) << "an unmanaged domain counted as drift";
    rep = drift("--fail-on-unmanaged", &code);
    u = object(rep, "vm", kUnmanaged);
    ASSERT_NE(u, nullptr);
    EXPECT_TRUE(u->value("drift", false));
    EXPECT_EQ(code, 2) << "--fail-on-unmanaged did not fail on " << kUnmanaged;

    // Config changes behind virtumancer's back, VM still running.
    virsh("setmaxmem " + kVm + " 80M --config");
    std::string inactive = inactive_xml(kVm);
    auto pos = inactive.find("cache='writeback'");
    ASSERT_NE(pos, std::string::npos) << inactive;
    inactive.replace(pos, 17, "cache='none'");
    tmp.write("vm.xml", inactive);
    ASSERT_TRUE(apply_e2e::contains(virsh("define " + tmp.file("vm.xml")), "defined"));
    rep = drift("", &code);
    EXPECT_EQ(code, 2);
    const json* o = object(rep, "vm", kVm);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->value("status", ""), "drifted");
    EXPECT_EQ(sync_status(), "drifted\n");
    EXPECT_EQ(fields(*o), (std::set<std::string>{"memory", "disk[vda].cache"})) << o->dump(2);
    if (const json* d = diff(*o, "memory")) {
        EXPECT_EQ(d->value("expected", ""), "67108864") << d->dump();
        EXPECT_EQ(d->value("actual", ""), "83886080") << d->dump();
    }
    if (const json* d = diff(*o, "disk[vda].cache")) {
        EXPECT_EQ(d->value("expected", ""), "writeback");
        EXPECT_EQ(d->value("actual", ""), "none");
    }

    // Power state, an inactive network, a grown volume.
    virsh("destroy " + kVm);
    virsh("net-destroy " + kNet);
    virsh("vol-resize --pool " + kPool + " " + kVol + " 16M");
    std::string junit = dir_.file("drift.xml"), prom = dir_.file("drift.prom");
    rep = drift("--junit " + quote(junit) + " --prometheus " + quote(prom), &code);
    EXPECT_EQ(code, 2);
    o = object(rep, "vm", kVm);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(fields(*o), (std::set<std::string>{"memory", "disk[vda].cache", "state"}))
        << o->dump(2);
    if (const json* d = diff(*o, "state")) {
        EXPECT_EQ(d->value("expected", ""), "running");
        EXPECT_EQ(d->value("actual", ""), "shutoff");
    }
    o = object(rep, "network", kNet);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(fields(*o), std::set<std::string>{"active"}) << o->dump(2);
    o = object(rep, "volume", kPool + "/" + kVol);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(fields(*o), std::set<std::string>{"capacity"}) << o->dump(2);
    if (const json* d = diff(*o, "capacity")) {
        EXPECT_EQ(d->value("expected", ""), "8388608");
        EXPECT_EQ(d->value("actual", ""), "16777216");
    }
    o = object(rep, "pool", kPool);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->value("status", ""), "in_sync") << o->dump(2);

    // JUnit: one test case per object, a failure only for drifted ones.
    pugi::xml_document jd;
    ASSERT_TRUE(jd.load_string(read(junit).c_str())) << read(junit);
    size_t cases = 0, failures = 0;
    std::set<std::string> failed;
    for (auto tc : jd.select_nodes("//testcase")) {
        ++cases;
        if (tc.node().child("failure")) {
            ++failures;
            failed.insert(tc.node().attribute("name").value());
        }
    }
    size_t drifted = 0;
    for (const auto& obj : rep["objects"]) drifted += obj.value("drift", false);
    EXPECT_EQ(cases, rep["objects"].size()) << read(junit);
    EXPECT_EQ(failures, drifted) << read(junit);
    for (const std::string& n : {kVm, kNet, kPool + "/" + kVol})
        EXPECT_TRUE(failed.count(n)) << n << " has no failure in\n" << read(junit);
    EXPECT_FALSE(failed.count(kPool)) << "the pool did not drift";
    EXPECT_FALSE(failed.count(kUnmanaged)) << "unmanaged is not a failure by default";
    std::string vm_case =
        jd.select_node(("//testcase[@name='" + kVm + "']/failure").c_str()).node().text().get();
    EXPECT_TRUE(apply_e2e::contains(vm_case, "disk[vda].cache: expected 'writeback', actual "
                                             "'none'"))
        << vm_case;

    // Prometheus textfile: drifted objects per host and kind.
    std::string metrics = read(prom);
    auto line = [](const std::string& kind, int n) {
        return "virtumancer_drift_objects{host=\"local\",kind=\"" + kind + "\"} " +
               std::to_string(n) + "\n";
    };
    EXPECT_TRUE(apply_e2e::contains(metrics, line("vm", 1 + foreign_drift(rep, "vm")))) << metrics;
    EXPECT_TRUE(apply_e2e::contains(metrics, line("network", 1))) << metrics;
    EXPECT_TRUE(apply_e2e::contains(metrics, line("volume", 1))) << metrics;
    EXPECT_TRUE(apply_e2e::contains(metrics, line("pool", 0))) << metrics;
    EXPECT_TRUE(apply_e2e::contains(metrics, "virtumancer_drift_last_run_timestamp_seconds "))
        << metrics;
    EXPECT_TRUE(apply_e2e::contains(metrics, "virtumancer_drift_last_run_duration_seconds "))
        << metrics;
}

} // namespace
