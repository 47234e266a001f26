// The repository's example specs through the real spec loader and the database: what
// load_desired returns is exactly what load_spec_files produced (fields, residue, devices,
// VM settings), and the `load` command reports and refuses as documented.
#include <sys/wait.h>

#include "store_test_util.hpp"
#include "test_support.hpp"

using virtumancer::testing_util::CliRun;
using virtumancer::testing_util::run_cli;
#include "virtumancer/spec.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

std::string specs_dir() {
    return std::string(VIRTUMANCER_SOURCE_DIR) + "/specs";
}

void expect_same(const Object& a, const Object& b, const std::string& where) {
    ASSERT_EQ(a.kind, b.kind) << where;
    EXPECT_EQ(a.fields, b.fields) << where;
    EXPECT_EQ(a.extra_xml, b.extra_xml) << where;
    ASSERT_EQ(a.children.size(), b.children.size()) << where;
    for (size_t i = 0; i < a.children.size(); ++i)
        expect_same(a.children[i], b.children[i], where + "/" + std::to_string(i));
}

void expect_same_specs(const std::vector<Spec>& a, const std::vector<Spec>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (const auto& x : a) {
        const Spec* y = nullptr;
        for (const auto& s : b)
            if (s.host == x.host && s.obj.name() == x.obj.name() &&
                s.obj.get("pool") == x.obj.get("pool"))
                y = &s;
        ASSERT_NE(y, nullptr) << x.host << "/" << x.obj.name();
        std::string where = x.host + "/" + x.obj.kind->kind + "/" + x.obj.name();
        expect_same(x.obj, y->obj, where);
        EXPECT_EQ(x.content_hash, y->content_hash) << where;
        EXPECT_EQ(x.src.file, y->src.file) << where;
        EXPECT_EQ(x.src.line, y->src.line) << where;
        EXPECT_EQ(x.vm.state, y->vm.state) << where;
        EXPECT_EQ(x.vm.autostart, y->vm.autostart) << where;
        EXPECT_EQ(x.vm.is_template, y->vm.is_template) << where;
        EXPECT_EQ(x.vm.clone_of, y->vm.clone_of) << where;
        EXPECT_EQ(x.vm.restart_policy, y->vm.restart_policy) << where;
        EXPECT_EQ(x.vm.shutdown_timeout, y->vm.shutdown_timeout) << where;
        EXPECT_EQ(x.vm.force_stop, y->vm.force_stop) << where;
    }
}

} // namespace

class StoreSpecs : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(StoreSpecs);

TEST_P(StoreSpecs, ExampleSpecsComeBackExactly) {
    SpecLoadResult in = load_spec_files({specs_dir()});
    ASSERT_FALSE(in.diags.has_errors()) << in.diags.json();
    ASSERT_FALSE(in.state.vms.empty());
    TempDir t;
    auto db = Database::open(target("s.db"));
    Store store(*db);
    auto sum = store.save_desired(in, "r1", "test", {specs_dir()});
    EXPECT_EQ(sum.inserted, static_cast<int>(in.state.hosts.size() + in.state.pools.size() +
                                             in.state.volumes.size() + in.state.networks.size() +
                                             in.state.vms.size() + in.state.snapshots.size()));
    DesiredState out = store.load_desired();
    ASSERT_EQ(out.hosts.size(), in.state.hosts.size());
    for (size_t i = 0; i < out.hosts.size(); ++i) {
        EXPECT_EQ(out.hosts[i].name, in.state.hosts[i].name);
        EXPECT_EQ(out.hosts[i].uri, in.state.hosts[i].uri);
        EXPECT_EQ(out.hosts[i].description, in.state.hosts[i].description);
    }
    expect_same_specs(in.state.pools, out.pools);
    expect_same_specs(in.state.volumes, out.volumes);
    expect_same_specs(in.state.networks, out.networks);
    expect_same_specs(in.state.vms, out.vms);
    ASSERT_EQ(out.snapshots.size(), in.state.snapshots.size());
    for (size_t i = 0; i < out.snapshots.size(); ++i) {
        EXPECT_EQ(out.snapshots[i].name, in.state.snapshots[i].name);
        EXPECT_EQ(out.snapshots[i].vm, in.state.snapshots[i].vm);
        EXPECT_EQ(out.snapshots[i].memory, in.state.snapshots[i].memory);
        EXPECT_EQ(out.snapshots[i].description, in.state.snapshots[i].description);
    }
    EXPECT_TRUE(store.save_desired(in, "r1", "test", {specs_dir()}).nothing_changed());
}

TEST_P(StoreSpecs, LoadCommandLoadsOnceAndRefusesBrokenSpecs) {
    TempDir t;
    std::string db = "'" + target("cli.db") + "'";
    CliRun first = run_cli("--db " + db + " load " + specs_dir());
    EXPECT_EQ(first.rc, 0) << first.out;
    EXPECT_NE(first.out.find("loaded revision "), std::string::npos) << first.out;
    EXPECT_NE(first.out.find(" 0 updated, 0 unchanged, 0 marked for deletion"), std::string::npos)
        << first.out;
    CliRun second = run_cli("--db " + db + " load " + specs_dir());
    EXPECT_EQ(second.rc, 0) << second.out;
    EXPECT_NE(second.out.find(": 0 inserted, 0 updated, "), std::string::npos) << second.out;

    // A directory with one broken spec: diagnostics, exit 1, the database unchanged.
    fs::create_directories(t.path() / "bad");
    fs::copy(specs_dir(), t.path() / "bad", fs::copy_options::recursive);
    {
        std::ofstream f(t.path() / "bad" / "zz-broken.yaml");
        f << "kind: VirtualMachine\nname: broken\nhost: nowhere\nmemory: lots\n";
    }
    long long revisions;
    {
        auto d = Database::open(target("cli.db"));
        revisions = count(*d, "load_revisions");
    }
    CliRun bad = run_cli("--db " + db + " load " + (t.path() / "bad").string());
    EXPECT_EQ(bad.rc, 1) << bad.out;
    EXPECT_NE(bad.out.find("zz-broken.yaml:"), std::string::npos) << bad.out;
    EXPECT_NE(bad.out.find("nothing was loaded"), std::string::npos) << bad.out;
    auto d = Database::open(target("cli.db"));
    EXPECT_EQ(count(*d, "load_revisions"), revisions);
    EXPECT_EQ(count(*d, "virtual_machines", "name='broken'"), 0);

    // A spec removed from the directory is marked for deletion by the next load.
    fs::remove(t.path() / "bad" / "zz-broken.yaml");
    CliRun ok = run_cli("--db " + db + " load " + (t.path() / "bad").string());
    EXPECT_EQ(ok.rc, 0) << ok.out;
    EXPECT_NE(ok.out.find("0 marked for deletion"), std::string::npos) << ok.out;
    fs::remove(t.path() / "bad" / "web.yaml");
    CliRun removed = run_cli("--db " + db + " load " + (t.path() / "bad").string());
    EXPECT_EQ(removed.rc, 0) << removed.out;
    EXPECT_EQ(removed.out.find(" 0 marked for deletion"), std::string::npos) << removed.out;
}
