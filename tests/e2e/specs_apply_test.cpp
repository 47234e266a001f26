// The law on the repository's own example specs (issue 5): `apply` of specs/ on the real
// libvirtd, then `plan` says no changes.
//
// specs/ is copied to a temporary directory and every object name gets the vmr-e2e-mx- prefix
// (so nothing clashes with other tests or a real `lab` network); the bridge, the pool path and
// the network's addresses are moved out of the way likewise, and the VMs get 64 MiB (the
// machine is shared). Everything else (NAT network with DHCP, TPM, template + overlay clone,
// VNC with a password from the environment, guest agent channel, RNG, snapshot) is as written.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "mx_util.hpp"

namespace {

using namespace mx_e2e;
namespace fs = std::filesystem;

const std::string kImages = "/var/lib/libvirt/images/vmr-e2e-mx-images";

// One spec file with its names prefixed and host resources moved (see the file comment).
std::string rewrite(const std::string& text) {
    static const std::regex name_line(
        R"(^(\s*-?\s*)(name|volume|pool|network|vm|backing_volume|clone_of): *([A-Za-z0-9][A-Za-z0-9._-]*) *$)");
    static const std::regex memory_line(R"(^memory: *[0-9]+MiB *$)");
    std::istringstream in(text);
    std::ostringstream out;
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, name_line) && m[3] != "local")
            line = m[1].str() + m[2].str() + ": " + kPrefix + m[3].str();
        else if (std::regex_match(line, memory_line))
            line = "memory: 64MiB";
        out << line << "\n";
    }
    std::string s = out.str();
    auto replace_all = [&s](const std::string& from, const std::string& to) {
        for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
            s.replace(p, from.size(), to);
    };
    replace_all("bridge: virbr-lab", "bridge: vmrmx-lab");
    replace_all("path: /var/lib/virtumancer/images", "path: " + kImages);
    replace_all("192.168.150.", "10.254.77.");
    replace_all("52:54:00:00:15:02", "52:54:00:6d:15:02");
    return s;
}

void clean() {
    // Domains with TPM state and snapshots: remove those too.
    for (const char* name : {"web", "db", "base", "worker1"}) {
        std::string d = kPrefix + name;
        if (virsh("domstate " + d).find("error") != std::string::npos) continue;
        virsh("destroy " + d);
        std::istringstream snaps(virsh("snapshot-list --name " + d));
        std::string s;
        while (std::getline(snaps, s))
            if (!s.empty()) virsh("snapshot-delete --metadata " + d + " " + s);
        virsh("undefine --nvram --tpm --snapshots-metadata " + d);
    }
    apply_e2e::cleanup(kPrefix + "vm-images");
    apply_e2e::cleanup(kPrefix + "lab");
    apply_e2e::cleanup(kPrefix + "web");
    apply_e2e::cleanup(kPrefix + "db");
    apply_e2e::cleanup(kPrefix + "base");
    apply_e2e::cleanup(kPrefix + "worker1");
    sh("rm -rf " + kImages);
}

class SpecsApply : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        clean();
        db_ = dir_.file("v.db");
    }
    void TearDown() override { clean(); }
    apply_e2e::TempDir dir_;
    std::string db_;
};

TEST_F(SpecsApply, ApplyThenPlanIsEmpty) {
    fs::path src = fs::path(VIRTUMANCER_SOURCE_DIR) / "specs";
    int files = 0;
    for (const auto& e : fs::directory_iterator(src)) {
        if (e.path().extension() != ".yaml") continue;
        // cloud.yaml fills a volume from Debian's image on the internet, which a test machine
        // need not reach; its parts are proven offline by ImageVolumes (a local HTTP server),
        // CloudInit and WaitForIp (a real guest reading its seed and taking a lease).
        if (e.path().filename() == "cloud.yaml") continue;
        std::ifstream in(e.path());
        std::stringstream ss;
        ss << in.rdbuf();
        dir_.write("specs/" + e.path().filename().string(), rewrite(ss.str()));
        ++files;
    }
    ASSERT_GE(files, 5);
    // The rewrite reached every object: no unprefixed VM or network name is left.
    CliRun v = vm(db_, "validate " + quote(dir_.file("specs")));
    ASSERT_EQ(v.code, 0) << v.out << v.err;
    setenv("WEB_VNC_PASSWORD", "e2e-pw", 1);

    CliRun r = vm(db_, "apply --auto-approve " + quote(dir_.file("specs")));
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    for (const char* dom : {"web", "db", "worker1"})
        EXPECT_TRUE(apply_e2e::contains(virsh("domstate " + kPrefix + dom), "running")) << dom;
    EXPECT_TRUE(apply_e2e::contains(virsh("domstate " + kPrefix + "base"), "shut off"))
        << "the template was started";
    EXPECT_TRUE(apply_e2e::contains(virsh("net-info " + kPrefix + "lab"), "Active:         yes"));
    EXPECT_TRUE(apply_e2e::contains(virsh("snapshot-list --name " + kPrefix + "db"),
                                    kPrefix + "db-before-upgrade"));
    EXPECT_TRUE(apply_e2e::contains(virsh("dumpxml " + kPrefix + "db"), "<tpm model='tpm-crb'>"));

    // The law.
    CliRun p = vm(db_, "plan --detailed-exitcode");
    EXPECT_EQ(p.code, 0) << "plan after applying specs/ is not empty:\n" << p.out << p.err;
    // And again with the specs given (load + plan), as a CI job would run it.
    p = vm(db_, "plan --detailed-exitcode " + quote(dir_.file("specs")));
    EXPECT_EQ(p.code, 0) << p.out << p.err;
    // A second apply has nothing to do.
    r = vm(db_, "apply --auto-approve " + quote(dir_.file("specs")));
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_FALSE(apply_e2e::contains(r.out, "vm.define")) << r.out;
}

} // namespace
