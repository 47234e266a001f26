// The audio and memory device kinds on the real libvirtd: a VM with an audio backend and a
// DIMM is defined from its spec, libvirt's XML holds both as written, the next plan is empty;
// a bigger DIMM is a change that apply makes, and the plan after it is empty again.
#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-dk-";
const std::string kVm = "vmr-e2e-dk-vm";

// One NUMA cell of 128 MiB plus the DIMM: libvirt counts <memory> as their sum.
std::string specs(int dimm_mib) {
    return "kind: Host\nname: local\nuri: qemu:///system\n---\n"
           "kind: VirtualMachine\nname: " +
           kVm +
           "\nhost: local\ndomain_type: qemu\nmachine: pc\nvcpus: 1\nstate: shutoff\n"
           "memory: " +
           std::to_string(128 + dimm_mib) +
           "MiB\nmax_memory: 1GiB\nmax_memory_slots: 4\n"
           "xml: \"<domain><cpu><numa><cell id='0' cpus='0' memory='131072' "
           "unit='KiB'/></numa></cpu></domain>\"\n"
           "audios:\n  - id: 1\n    type: file\n    path: /tmp/vmr-e2e-dk.wav\n"
           "memories:\n  - model: dimm\n    target_size: " +
           std::to_string(dimm_mib) + "MiB\n    target_node: 0\n";
}

class DeviceKinds : public OwnedObjectsTest {
  protected:
    DeviceKinds() : OwnedObjectsTest(kPrefix, "/nonexistent/vmr-e2e-dk") {}
    Result run(const std::string& args) { return vm(db_, args + " " + quote(dir_.file("specs"))); }
};

TEST_F(DeviceKinds, AudioAndDimmAreDefinedAsWrittenAndPlanStaysEmpty) {
    dir_.write("specs/all.yaml", specs(128));
    Result a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    std::string xml = virsh("dumpxml --inactive " + kVm);
    EXPECT_TRUE(contains(xml, "<audio id='1' type='file' path='/tmp/vmr-e2e-dk.wav'/>")) << xml;
    EXPECT_TRUE(contains(xml, "<memory model='dimm'>")) << xml;
    EXPECT_TRUE(contains(xml, "<size unit='KiB'>131072</size>")) << xml;
    Result p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 0) << p.out;

    dir_.write("specs/all.yaml", specs(256));
    p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 2) << p.out;
    EXPECT_TRUE(contains(p.out, "target_size")) << p.out;
    a = run("apply --auto-approve");
    ASSERT_EQ(a.code, 0) << a.out;
    xml = virsh("dumpxml --inactive " + kVm);
    EXPECT_TRUE(contains(xml, "<size unit='KiB'>262144</size>")) << xml;
    p = run("plan --detailed-exitcode");
    EXPECT_EQ(p.code, 0) << p.out;
}

} // namespace
