// A pull request's plan must not change the shared desired state (issue 14): runner A loads and
// applies specs on one PostgreSQL database against the real libvirtd; runner B, in another
// directory, makes speculative plans of changed specs (a changed and an added VM, then the VM
// removed with --prune), which show those changes. Afterwards A's drift and plan (no spec
// paths) show no changes, A's apply without a plan changes nothing, the database holds the
// same rows and the libvirt domain is the one A defined.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../unit/store_test_util.hpp"
#include "e2e_util.hpp"

namespace {

namespace fs = std::filesystem;
using virtumancer::testing_util::run_cli;
using virtumancer::testing_util::run_shell;

const std::string kVm = "vmr-e2e-spec-vm";
const std::string kNew = "vmr-e2e-spec-new";

std::string host_yaml() {
    return "kind: Host\nname: local\nuri: qemu:///system\n";
}

std::string vm_yaml(const std::string& name, int vcpus) {
    return "kind: VirtualMachine\nname: " + name +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nmemory: 64MiB\nvcpus: " +
           std::to_string(vcpus) + "\nstate: shutoff\n";
}

void cleanup() {
    for (const auto& vm : {kVm, kNew})
        std::system(("virsh -c qemu:///system destroy " + vm +
                     " >/dev/null 2>&1; virsh -c qemu:///system undefine " + vm +
                     " --nvram >/dev/null 2>&1")
                        .c_str());
}

std::string dumpxml(const std::string& vm) {
    int st = -1;
    std::string out = run_shell("virsh -c qemu:///system dumpxml " + vm + " 2>&1", &st);
    return st == 0 ? out : "(failed) " + out;
}

void write_specs(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& f) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [name, text] : f) std::ofstream(dir / name) << text;
}

} // namespace

TEST(PgSpeculative, ARunnersSpeculativePlanLeavesTheSharedStateAlone) {
    std::unique_ptr<virtumancer::Hypervisor> hv;
    VMR_E2E_CONNECT_OR_SKIP(hv);
    std::string admin = store_test::pg_test_uri();
    std::unique_ptr<virtumancer::sql::Connection> pg;
    VMR_PG_CONNECT_OR_SKIP(pg, admin);
    const std::string schema = "vmr_e2e_spec";
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    pg->exec("CREATE SCHEMA " + schema);
    const std::string uri = store_test::pg_schema_uri(admin, schema);
    const std::string db = "'" + uri + "'";
    cleanup();
    store_test::TempDir a, b;
    auto in = [](store_test::TempDir& d, const std::string& args) {
        return run_cli("--db " + args, "cd " + d.path().string() + " && ");
    };

    // Runner A, the merge job: plan its specs into a file, apply exactly that plan.
    write_specs(a.path() / "specs", {{"host.yaml", host_yaml()}, {"vm.yaml", vm_yaml(kVm, 1)}});
    auto pa = in(a, db + " plan specs --out plan.json");
    ASSERT_EQ(pa.rc, 0) << pa.out;
    auto ap = in(a, db + " apply --plan plan.json --auto-approve --lock-timeout 30");
    ASSERT_EQ(ap.rc, 0) << ap.out;
    const std::string xml_before = dumpxml(kVm);
    ASSERT_EQ(xml_before.rfind("(failed)", 0), std::string::npos) << xml_before;
    auto counts_before = virtumancer::Database::open(uri)->table_counts();
    ASSERT_EQ(counts_before.at("load_revisions"), 1);
    ASSERT_GT(counts_before.at("audit_log"), 0);

    // Runner B, a pull request in another checkout: vm changed to 2 vCPUs, a new VM added.
    write_specs(
        b.path() / "specs",
        {{"host.yaml", host_yaml()}, {"vm.yaml", vm_yaml(kVm, 2)}, {"new.yaml", vm_yaml(kNew, 1)}});
    auto sb = in(b, db + " plan --speculative specs --detailed-exitcode");
    EXPECT_EQ(sb.rc, 2) << "the changes show: " << sb.out;
    EXPECT_NE(sb.out.find(kNew), std::string::npos) << sb.out;
    EXPECT_NE(sb.out.find("vcpu"), std::string::npos) << sb.out;
    EXPECT_NE(sb.out.find("speculative load of revision"), std::string::npos) << sb.out;
    EXPECT_NE(sb.out.find("Speculative plan:"), std::string::npos) << sb.out;
    // Its JSON, kept as a file, is refused by apply --plan.
    int st = -1;
    std::string jb =
        run_shell("cd " + b.path().string() + " && " + virtumancer::testing_util::binary() +
                      " --db " + db + " plan --speculative specs --json > spec.json 2>/dev/null",
                  &st);
    ASSERT_EQ(virtumancer::testing_util::exit_code(st), 0) << jb;
    auto rb = in(b, db + " apply --plan spec.json --auto-approve");
    EXPECT_EQ(rb.rc, 1) << rb.out;
    EXPECT_NE(rb.out.find("is a speculative plan"), std::string::npos) << rb.out;
    // --out is refused.
    auto ob = in(b, db + " plan --speculative specs --out plan.json");
    EXPECT_EQ(ob.rc, 1) << ob.out;
    EXPECT_FALSE(fs::exists(b.path() / "plan.json"));

    // Another pull request removes the VM: with --prune its deletion shows (pending delete).
    write_specs(b.path() / "specs", {{"host.yaml", host_yaml()}});
    auto db2 = in(b, db + " plan --speculative specs --prune --json");
    EXPECT_EQ(db2.rc, 0) << db2.out;
    auto start = db2.out.find("{\n");
    ASSERT_NE(start, std::string::npos) << db2.out;
    auto j = nlohmann::json::parse(db2.out.substr(start));
    EXPECT_TRUE(j.value("speculative", false));
    bool undefine = false;
    for (const auto& s : j.at("steps"))
        undefine |= s.at("op") == "vm.undefine" && s.at("name") == kVm;
    EXPECT_TRUE(undefine) << db2.out;

    // The shared state is A's: same rows, no new revision.
    EXPECT_EQ(virtumancer::Database::open(uri)->table_counts(), counts_before);
    // A's drift and plan (the database's specs) show no changes.
    auto da = in(a, db + " drift");
    EXPECT_EQ(da.rc, 0) << da.out;
    EXPECT_NE(da.out.find("0 drifted"), std::string::npos) << da.out;
    auto pn = in(a, db + " plan --detailed-exitcode");
    EXPECT_EQ(pn.rc, 0) << pn.out;
    EXPECT_NE(pn.out.find("No changes."), std::string::npos) << pn.out;
    // apply without a plan (anyone's, later) applies A's specs: nothing to do.
    auto an = in(a, db + " apply --auto-approve --lock-timeout 30");
    EXPECT_EQ(an.rc, 0) << an.out;
    EXPECT_NE(an.out.find("No changes."), std::string::npos) << an.out;
    // The domain is the one A defined; the pull request's VM was never defined.
    EXPECT_EQ(dumpxml(kVm), xml_before);
    EXPECT_EQ(dumpxml(kNew).rfind("(failed)", 0), 0u) << "never defined";

    cleanup();
    pg->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}
