// `virtumancer import --uri` against the real libvirtd: a running domain (qcow2 disk from a dir
// pool, a NIC on an isolated network, VNC with a password, a guest agent channel) becomes
// specs that validate, render to the XML libvirt holds, plan as an adoption only, and after
// apply plan no changes. Objects are named vmr-e2e-im-*, removed before and after the test.
#include <pugixml.hpp>

#include <fstream>
#include <sstream>

#include "apply_e2e_util.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/xml_codec.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-im-";
const std::string kVm = "vmr-e2e-im-vm";
const std::string kPool = "vmr-e2e-im-pool";
const std::string kNet = "vmr-e2e-im-net";
const std::string kVol = "vmr-e2e-im-root.qcow2";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-im-pool";
const std::string kPwEnv = "VIRTUMANCER_VMR_E2E_IM_VM_VNC_PASSWORD";

std::string domain_xml() {
    return "<domain type='qemu'><name>" + kVm + R"(</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file=')" +
           kPoolDir + "/" + kVol + R"('/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:e1:00:01'/>
      <source network=')" +
           kNet + R"('/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='secret'/>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices>
</domain>)";
}

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Removes virtumancer's ownership marker (and <metadata> when it held nothing else) and
// what a spec never holds (below).
std::string without_marker(const std::string& xml) {
    pugi::xml_document doc;
    doc.load_string(xml.c_str());
    auto md = doc.document_element().child("metadata");
    for (auto c = md.first_child(); c;) {
        auto next = c.next_sibling();
        for (auto a : c.attributes())
            if (std::string(a.value()) == virtumancer::kMetadataNs) {
                md.remove_child(c);
                break;
            }
        c = next;
    }
    if (md && !md.first_child()) doc.document_element().remove_child(md);
    // passwd: never in a spec (password_env). port='-1' with autoport='yes': libvirt's
    // spelling of "no fixed port", which observation strips as run-time data (live_strip.cpp).
    for (auto g : doc.document_element().child("devices").children("graphics")) {
        g.remove_attribute("passwd");
        if (std::string(g.attribute("autoport").value()) == "yes" &&
            std::string(g.attribute("port").value()) == "-1")
            g.remove_attribute("port");
    }
    std::ostringstream os;
    doc.print(os);
    return os.str();
}

class ImportLive : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        clean();
        db_ = dir_.file("v.db");
        out_ = dir_.file("imported");
    }
    void TearDown() override { clean(); }
    void clean() {
        cleanup(kPrefix);
        sh("rm -rf " + kPoolDir);
    }
    // Runs the binary with the VNC password in the environment.
    Result run(const std::string& args) {
        return sh(kPwEnv + "=secret " + std::string(VIRTUMANCER_BINARY) + " --db " + quote(db_) +
                  " " + args + " </dev/null");
    }
    std::string db_, out_;
    TempDir dir_;
};

TEST_F(ImportLive, RunningDomainImportsRendersAndAdopts) {
    dir_.write("pool.xml", "<pool type='dir'><name>" + kPool + "</name><target><path>" + kPoolDir +
                               "</path></target></pool>");
    ASSERT_TRUE(contains(virsh("pool-define " + dir_.file("pool.xml")), "defined"));
    virsh("pool-build " + kPool);
    ASSERT_TRUE(contains(virsh("pool-start " + kPool), "started"));
    ASSERT_TRUE(
        contains(virsh("vol-create-as " + kPool + " " + kVol + " 16M --format qcow2"), "created"));
    dir_.write("net.xml", "<network><name>" + kNet +
                              "</name><bridge name='vmre2eim0'/><ip address='10.239.78.1' "
                              "netmask='255.255.255.0'/></network>");
    ASSERT_TRUE(contains(virsh("net-define " + dir_.file("net.xml")), "defined"));
    ASSERT_TRUE(contains(virsh("net-start " + kNet), "started"));
    dir_.write("dom.xml", domain_xml());
    ASSERT_TRUE(contains(virsh("define " + dir_.file("dom.xml")), "defined"));
    Result st = sh("virsh -c " + std::string(kUri) + " start " + kVm);
    ASSERT_EQ(st.code, 0) << st.out;

    Result imp = run("import --uri qemu:///system --host-name lab --domain " + kVm + " --out " +
                     quote(out_));
    ASSERT_EQ(imp.code, 0) << imp.out;
    EXPECT_TRUE(contains(imp.out, kPwEnv)) << imp.out; // the warning names the variable

    const std::string vm_file = out_ + "/" + kVm + ".yaml";
    const std::vector<std::string> files = {vm_file, out_ + "/pool-" + kPool + ".yaml",
                                            out_ + "/volume-" + kPool + "-" + kVol + ".yaml",
                                            out_ + "/network-" + kNet + ".yaml",
                                            out_ + "/host-lab.yaml"};
    for (const auto& f : files) {
        ASSERT_TRUE(fs::exists(f)) << f << "\n" << imp.out;
        EXPECT_FALSE(contains(read(f), "secret")) << f << ":\n" << read(f);
    }
    std::string vm_yaml = read(vm_file);
    EXPECT_TRUE(contains(vm_yaml, "host: lab")) << vm_yaml;
    EXPECT_TRUE(contains(vm_yaml, "password_env: " + kPwEnv)) << vm_yaml;
    EXPECT_TRUE(contains(vm_yaml, "file: " + kPoolDir + "/" + kVol)) << vm_yaml;
    EXPECT_FALSE(contains(vm_yaml, "state:")) << vm_yaml; // running is the default
    std::string vol_yaml = read(out_ + "/volume-" + kPool + "-" + kVol + ".yaml");
    EXPECT_TRUE(contains(vol_yaml, "pool: " + kPool)) << vol_yaml;
    EXPECT_TRUE(contains(vol_yaml, "capacity: 16MiB")) << vol_yaml;
    EXPECT_TRUE(contains(read(out_ + "/host-lab.yaml"), "uri: qemu:///system"));
    EXPECT_EQ(sql(db_, "SELECT sync_status FROM virtual_machines WHERE name='" + kVm + "'"),
              "adopted\n");

    Result val = run("validate " + quote(out_));
    EXPECT_EQ(val.code, 0) << val.out;

    Result ren =
        sh(std::string(VIRTUMANCER_BINARY) + " render " + quote(out_) + " " + kVm + " 2>/dev/null");
    ASSERT_EQ(ren.code, 0) << ren.out;
    std::string held = virsh("dumpxml --inactive " + kVm);
    std::string why;
    EXPECT_TRUE(virtumancer::xml_equal(without_marker(ren.out), without_marker(held), &why))
        << why << "\nrendered:\n"
        << ren.out << "\nlibvirt:\n"
        << held;

    const std::string plan_file = dir_.file("plan.json");
    Result plan = run("plan " + quote(out_) + " --detailed-exitcode --out " + quote(plan_file));
    EXPECT_EQ(plan.code, 2) << plan.out;
    EXPECT_TRUE(contains(plan.out, "adopts an existing domain")) << plan.out;
    virtumancer::Plan p = virtumancer::plan_from_json(read(plan_file));
    ASSERT_EQ(p.changes.size(), 1u) << plan.out;
    EXPECT_EQ(p.changes[0].address(), "lab/vm/" + kVm);
    EXPECT_TRUE(p.changes[0].diffs.empty()) << plan.out;
    EXPECT_TRUE(contains(p.changes[0].note, "adopts an existing domain")) << p.changes[0].note;

    Result ap = run("apply --auto-approve " + quote(out_));
    ASSERT_EQ(ap.code, 0) << ap.out;
    EXPECT_TRUE(contains(virsh("dumpxml --inactive " + kVm), virtumancer::kMetadataNs));
    // The adoption kept the VNC password (set from the environment variable).
    EXPECT_TRUE(contains(virsh("dumpxml --inactive --security-info " + kVm), "passwd='secret'"));
    EXPECT_EQ(sh("virsh -c " + std::string(kUri) + " domstate " + kVm).out, "running\n\n");

    Result again = run("plan " + quote(out_) + " --detailed-exitcode");
    EXPECT_EQ(again.code, 0) << again.out;
}

TEST_F(ImportLive, HostMustBeInTheDatabase) {
    Result r = run("import --host nosuch --all --out " + quote(out_));
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "no Host spec named `nosuch`")) << r.out;
    EXPECT_TRUE(contains(r.out, "hint:")) << r.out;
    EXPECT_FALSE(fs::exists(out_));
}

} // namespace
