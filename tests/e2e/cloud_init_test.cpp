// cloud-init seeds on the real libvirtd: a VM with cloud_init gets the volume <vm>-cidata.iso
// (its bytes, downloaded with virsh vol-download, are an ISO 9660 image labelled cidata with
// the files by name) attached as a read-only cdrom; a content change is one next-boot change,
// applied, then gone from plan; the user-data given by variable never reaches the database
// or plan output; removing cloud_init detaches the cdrom and --prune deletes the seed.
#include "apply_e2e_util.hpp"
#include "iso_reader.hpp"

#include <nlohmann/json.hpp>

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-ci-";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-ci-pool";
const std::string kSecret = "vmr-e2e-ci-secret-5d1b93";

std::string specs(const std::string& cloud_init, const std::string& machine) {
    return "kind: Host\nname: local\nuri: qemu:///system\n"
           "---\nkind: StoragePool\nname: vmr-e2e-ci-pool\nhost: local\ntype: dir\npath: " +
           kPoolDir +
           "\n---\nkind: Volume\nname: vmr-e2e-ci-root\nhost: local\npool: vmr-e2e-ci-pool\n"
           "capacity: 16MiB\nformat: qcow2\n"
           "---\nkind: VirtualMachine\nname: vmr-e2e-ci-vm\nhost: local\ndomain_type: qemu\n"
           "machine: " +
           machine +
           "\nmemory: 64MiB\nvcpus: 1\nstate: shutoff\n"
           "disks:\n  - volume: vmr-e2e-ci-root\n" +
           cloud_init;
}

class CloudInit : public OwnedObjectsTest {
  protected:
    CloudInit() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    void SetUp() override {
        OwnedObjectsTest::SetUp();
        ::setenv("VMR_E2E_CI_USER_DATA", ("#cloud-config\npassword: " + kSecret + "\n").c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("VMR_E2E_CI_USER_DATA");
        OwnedObjectsTest::TearDown();
    }
    Result run(const std::string& args) { return vm(db_, args + " " + quote(dir_.file("specs"))); }

    // The seed volume's bytes as libvirt has them.
    virtumancer::testing_util::IsoContents seed() {
        std::string out = dir_.file("seed.iso");
        sh("rm -f " + quote(out));
        Result r = sh("virsh -c qemu:///system vol-download --pool vmr-e2e-ci-pool "
                      "vmr-e2e-ci-vm-cidata.iso " +
                      quote(out));
        EXPECT_EQ(r.code, 0) << r.out;
        return virtumancer::testing_util::read_iso(virtumancer::testing_util::slurp(out));
    }
};

TEST_F(CloudInit, SeedIsUploadedAttachedAndChangedAsOneNextBootChange) {
    for (std::string machine : {"q35", "pc"}) {
        SCOPED_TRACE(machine);
        std::string bus = machine == "q35" ? "sata" : "ide";
        cleanup(kPrefix);
        sh("rm -rf " + quote(kPoolDir) + " " + quote(db_) + "*");
        ::setenv("VMR_E2E_CI_USER_DATA", ("#cloud-config\npassword: " + kSecret + "\n").c_str(), 1);
        dir_.write("specs/all.yaml",
                   specs("cloud_init:\n  user_data_env: VMR_E2E_CI_USER_DATA\n"
                         "  meta_data:\n    local-hostname: ci-host\n"
                         "  network_config:\n    version: 2\n    ethernets:\n      eth0:\n"
                         "        dhcp4: true\n",
                         machine));
        Result plan = run("plan --json");
        ASSERT_EQ(plan.code, 0) << plan.out;
        EXPECT_FALSE(contains(plan.out, kSecret)) << "plan --json shows the secret";
        EXPECT_TRUE(contains(plan.out, "volume.cloud_init_seed")) << plan.out;
        Result a = run("apply --auto-approve");
        ASSERT_EQ(a.code, 0) << a.out;
        EXPECT_FALSE(contains(a.out, kSecret));

        // The volume's bytes: the right files by name.
        auto c = seed();
        ASSERT_EQ(c.error, "");
        EXPECT_EQ(c.label, "cidata");
        EXPECT_TRUE(c.rock_ridge);
        EXPECT_EQ(c.rr_files.at("user-data"), "#cloud-config\npassword: " + kSecret + "\n");
        EXPECT_TRUE(contains(c.rr_files.at("meta-data"), "local-hostname: ci-host\n"));
        EXPECT_TRUE(contains(c.rr_files.at("meta-data"), "instance-id: iid-"));
        EXPECT_EQ(c.rr_files.at("network-config"),
                  "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n");
        EXPECT_EQ(c.joliet_files, c.rr_files);

        // The domain: a read-only cdrom with that source, on the machine's bus.
        std::string xml = virsh("dumpxml --inactive vmr-e2e-ci-vm");
        EXPECT_TRUE(contains(xml, "device='cdrom'")) << xml;
        EXPECT_TRUE(
            contains(xml, "<source pool='vmr-e2e-ci-pool' volume='vmr-e2e-ci-vm-cidata.iso'/>"))
            << xml;
        EXPECT_TRUE(contains(xml, "bus='" + bus + "'")) << xml;
        EXPECT_TRUE(contains(xml, "<readonly/>")) << xml;
        EXPECT_TRUE(contains(xml, "cloud-init=\"sha256:")) << xml;
        Result again = run("plan --detailed-exitcode");
        EXPECT_EQ(again.code, 0) << again.out;

        // A content change (the variable's value): one next-boot change, applied, then nothing.
        ::setenv("VMR_E2E_CI_USER_DATA", ("#cloud-config\npassword: " + kSecret + "-2\n").c_str(),
                 1);
        Result p2 = run("plan --detailed-exitcode");
        EXPECT_EQ(p2.code, 2) << p2.out;
        EXPECT_TRUE(contains(p2.out, "cloud_init")) << p2.out;
        Result j2 = run("plan --json");
        auto doc = nlohmann::json::parse(j2.out.substr(j2.out.find('{')), nullptr, false);
        ASSERT_TRUE(doc.is_object()) << j2.out;
        ASSERT_EQ(doc["changes"].size(), 1u) << j2.out;
        EXPECT_EQ(doc["changes"][0]["class"], "next-boot") << j2.out;
        EXPECT_FALSE(contains(j2.out, kSecret));
        Result a2 = run("apply --auto-approve");
        ASSERT_EQ(a2.code, 0) << a2.out;
        EXPECT_EQ(seed().rr_files["user-data"], "#cloud-config\npassword: " + kSecret + "-2\n");
        Result p3 = run("plan --detailed-exitcode");
        EXPECT_EQ(p3.code, 0) << p3.out;

        // The database file never held the secret; the variable's name it does.
        std::string db = sh("cat " + quote(db_) + "* | strings").out;
        EXPECT_FALSE(contains(db, kSecret)) << "the secret is in the database";
        EXPECT_TRUE(contains(db, "VMR_E2E_CI_USER_DATA"));
        Result audit = vm(db_, "audit --json");
        EXPECT_FALSE(contains(audit.out, kSecret));
    }

    // cloud_init removed: the cdrom goes; the seed stays until --prune.
    dir_.write("specs/all.yaml", specs("", "pc"));
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    EXPECT_FALSE(contains(virsh("dumpxml --inactive vmr-e2e-ci-vm"), "cidata")) << "cdrom removed";
    EXPECT_TRUE(contains(virsh("vol-list vmr-e2e-ci-pool"), "vmr-e2e-ci-vm-cidata.iso"));
    Result pr = run("apply --auto-approve --prune");
    ASSERT_EQ(pr.code, 0) << pr.out;
    std::string vols = virsh("vol-list vmr-e2e-ci-pool");
    EXPECT_FALSE(contains(vols, "vmr-e2e-ci-vm-cidata.iso")) << vols;
    EXPECT_TRUE(contains(vols, "vmr-e2e-ci-root")) << "the VM's disk survived: " << vols;
    EXPECT_EQ(run("plan --detailed-exitcode --prune").code, 0);
}

} // namespace
