// `import --from-xml` into a specs directory that already defines the Host (or the VM): the
// existing spec is kept, not written a second time, and the directory still loads. The live
// import shares the same decision (existing_specs / need_host_spec).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

using virtumancer::testing_util::CliRun;
using virtumancer::testing_util::run_cli;

namespace fs = std::filesystem;

namespace {

class ImportExisting : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = tmp_.path();
        specs_ = dir_ / "specs";
        fs::create_directories(specs_);
        // The Host is defined in a file not named host-h1.yaml.
        std::ofstream(specs_ / "hosts.yaml") << "kind: Host\nname: h1\nuri: qemu:///system\n";
        xml_ = (dir_ / "vmr-hvcap-dom.xml").string();
        std::ofstream(xml_) << "<domain type='qemu'><name>vmr-hvcap-dom</name>"
                               "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                               "<os><type arch='x86_64'>hvm</type></os></domain>\n";
    }
    int yaml_files() {
        int n = 0;
        for (const auto& e : fs::directory_iterator(specs_)) n += e.path().extension() == ".yaml";
        return n;
    }
    virtumancer::testing_util::TempDir tmp_{"vm-import-existing-"};
    fs::path dir_, specs_;
    std::string xml_;
};

TEST_F(ImportExisting, KeepsTheHostTheDirectoryDefinesAndStillLoads) {
    CliRun r = run_cli("import --from-xml " + xml_ + " --out " + specs_.string() + " --host h1");
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_FALSE(fs::exists(specs_ / "host-h1.yaml")) << r.out;
    EXPECT_TRUE(fs::exists(specs_ / "vmr-hvcap-dom.yaml")) << r.out;
    EXPECT_NE(r.out.find("Host h1 is already defined (" + (specs_ / "hosts.yaml").string()),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("kept it"), std::string::npos) << r.out;
    EXPECT_EQ(yaml_files(), 2);
    CliRun v = run_cli("validate " + specs_.string());
    EXPECT_EQ(v.rc, 0) << v.out;
    CliRun l = run_cli("--db " + (dir_ / "v.db").string() + " load " + specs_.string());
    EXPECT_EQ(l.rc, 0) << l.out;

    // The same URI given explicitly: kept as well.
    CliRun again = run_cli("import --from-xml " + xml_ + " --out " + specs_.string() +
                           " --host h1 --uri qemu:///system --force");
    EXPECT_EQ(again.rc, 0) << again.out;
    EXPECT_FALSE(fs::exists(specs_ / "host-h1.yaml"));
    EXPECT_EQ(yaml_files(), 2);
}

TEST_F(ImportExisting, AnotherUriForTheExistingHostIsRefusedBeforeWriting) {
    CliRun r = run_cli("import --from-xml " + xml_ + " --out " + specs_.string() +
                       " --host h1 --uri qemu+ssh://elsewhere/system");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("Host `h1` is already defined"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("with URI qemu:///system, not qemu+ssh://elsewhere/system"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(yaml_files(), 1) << "nothing may be written";
    EXPECT_EQ(virtumancer::testing_util::slurp(specs_ / "hosts.yaml"),
              "kind: Host\nname: h1\nuri: qemu:///system\n");
}

TEST_F(ImportExisting, AVmTheDirectoryDefinesElsewhereIsNotWrittenTwice) {
    ASSERT_EQ(run_cli("import --from-xml " + xml_ + " --out " + specs_.string() + " --host h1").rc,
              0);
    fs::rename(specs_ / "vmr-hvcap-dom.yaml", specs_ / "vms.yaml");
    CliRun r = run_cli("import --from-xml " + xml_ + " --out " + specs_.string() + " --host h1");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("VM `vmr-hvcap-dom` of host h1 already has a spec (" +
                         (specs_ / "vms.yaml").string()),
              std::string::npos)
        << r.out;
    EXPECT_FALSE(fs::exists(specs_ / "vmr-hvcap-dom.yaml"));
    // Without a Host of that name in the directory, one is written as before.
    fs::path other = dir_ / "other";
    CliRun fresh = run_cli("import --from-xml " + xml_ + " --out " + other.string() + " --host h2");
    EXPECT_EQ(fresh.rc, 0) << fresh.out;
    EXPECT_TRUE(fs::exists(other / "host-h2.yaml"));
}

} // namespace
