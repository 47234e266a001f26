// import_observed_domain: an observed domain -> VM spec, plus the pools, volumes and networks
// it uses, each once; the result loads back through the spec loader without errors.
#include <gtest/gtest.h>

#include "virtumancer/import_xml.hpp"
#include "virtumancer/spec.hpp"

using namespace virtumancer;

namespace {

ObservedHost host() {
    ObservedHost h;
    h.host = "lab";
    ObservedPool p;
    p.name = "images";
    p.active = true;
    p.autostart = false;
    p.xml = "<pool type='dir'><name>images</name><uuid>5f0a3c86-3c2c-4b0e-9d0c-2b8f4a1e7f11</uuid>"
            "<source></source><target><path>/img</path><permissions><mode>0711</mode>"
            "<owner>0</owner><group>0</group></permissions></target></pool>";
    ObservedVolume base{"images", "base.qcow2",
                        "<volume type='file'><name>base.qcow2</name><capacity "
                        "unit='bytes'>1073741824</capacity><target><path>/img/base.qcow2</path>"
                        "<format type='qcow2'/></target></volume>",
                        "/img/base.qcow2"};
    ObservedVolume over{"images", "over.qcow2",
                        "<volume type='file'><name>over.qcow2</name><capacity "
                        "unit='bytes'>2147483648</capacity><target><path>/img/over.qcow2</path>"
                        "<format type='qcow2'/></target><backingStore><path>/img/base.qcow2"
                        "</path><format type='qcow2'/></backingStore></volume>",
                        "/img/over.qcow2"};
    ObservedVolume raw{"images", "data.raw",
                       "<volume type='file'><name>data.raw</name><capacity "
                       "unit='bytes'>1048576</capacity><target><path>/img/data.raw</path>"
                       "<format type='raw'/></target></volume>",
                       "/img/data.raw"};
    p.volumes = {base, raw, over};
    h.pools.push_back(p);
    ObservedNetwork n;
    n.name = "lan";
    n.active = true;
    n.autostart = true;
    n.xml = "<network><name>lan</name><uuid>0c1f6a8e-1d7e-4f39-9a57-3e0f7e2b9d21</uuid>"
            "<bridge name='vlan0' stp='on' delay='0'/><mac address='52:54:00:aa:bb:cc'/>"
            "<ip address='10.9.0.1' netmask='255.255.255.0'/></network>";
    h.networks.push_back(n);
    return h;
}

std::string domain(const std::string& name, const std::string& tag, const std::string& extra = {}) {
    return "<domain type='qemu'><name>" + name +
           "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type arch='x86_64' "
           "machine='pc'>hvm</type></os><devices>"
           "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
           "<source file='/img/over.qcow2'/><target dev='vda' bus='virtio'/></disk>"
           "<disk type='file' device='disk'><source file='/elsewhere/x.img'/>"
           "<target dev='vdb' bus='virtio'/></disk>"
           "<interface type='network'><mac address='52:54:00:00:" +
           tag +
           ":01'/>"
           "<source network='lan'/></interface>"
           "<interface type='network'><mac address='52:54:00:00:" +
           tag +
           ":02'/>"
           "<source network='gone'/></interface>"
           "<graphics type='vnc' autoport='yes' passwd='hunter2'/>" +
           extra + "</devices></domain>";
}

ObservedDomain observed(const std::string& name, const std::string& state, bool autostart) {
    ObservedDomain d;
    d.name = name;
    d.state = state;
    d.autostart = autostart;
    return d;
}

} // namespace

TEST(ImportHost, DomainWithItsStorageAndNetworks) {
    ObservedHost h = host();
    HostImport imp;
    import_observed_domain(imp, h, observed("web", "paused", true), domain("web", "0a"), "lab");

    ASSERT_EQ(imp.vms.size(), 1u);
    const Spec& vm = imp.vms[0].spec;
    EXPECT_EQ(vm.host, "lab");
    EXPECT_EQ(vm.vm.state, "paused");
    EXPECT_TRUE(vm.vm.autostart);
    // Disks keep their form: type file, source file.
    ASSERT_GE(vm.obj.children.size(), 1u);
    EXPECT_EQ(vm.obj.children[0].get("type"), "file");
    EXPECT_EQ(vm.obj.children[0].get("file"), "/img/over.qcow2");
    EXPECT_FALSE(vm.obj.children[0].has("volume"));

    ASSERT_EQ(imp.pools.size(), 1u);
    EXPECT_EQ(imp.pools[0].obj.name(), "images");
    EXPECT_FALSE(imp.pools[0].obj.has("uuid"));
    EXPECT_EQ(imp.pools[0].obj.get("autostart"), "no");
    EXPECT_EQ(imp.pools[0].obj.get("path"), "/img");
    EXPECT_EQ(imp.pools[0].obj.extra_xml.find("<source"), std::string::npos)
        << imp.pools[0].obj.extra_xml;

    // over.qcow2 and its backing volume; data.raw (unused) and /elsewhere (no pool) are not.
    ASSERT_EQ(imp.volumes.size(), 2u);
    EXPECT_EQ(imp.volumes[0].obj.name(), "over.qcow2");
    EXPECT_EQ(imp.volumes[0].obj.get("backing_volume"), "base.qcow2");
    EXPECT_FALSE(imp.volumes[0].obj.has("backing_path"));
    EXPECT_EQ(imp.volumes[0].obj.get("capacity"), "2147483648");
    EXPECT_EQ(imp.volumes[1].obj.name(), "base.qcow2");
    EXPECT_EQ(imp.volumes[1].obj.get("pool"), "images");

    ASSERT_EQ(imp.networks.size(), 1u);
    EXPECT_EQ(imp.networks[0].obj.name(), "lan");
    EXPECT_FALSE(imp.networks[0].obj.has("uuid"));
    EXPECT_EQ(imp.networks[0].obj.get("bridge"), "vlan0");
    ASSERT_EQ(imp.notes.size(), 1u);
    EXPECT_NE(imp.notes[0].find("network gone"), std::string::npos) << imp.notes[0];
}

TEST(ImportHost, SharedObjectsOnceAndSpecsLoadBack) {
    ObservedHost h = host();
    HostImport imp;
    import_observed_domain(imp, h, observed("web", "running", false), domain("web", "0a"), "lab");
    import_observed_domain(imp, h, observed("db", "shutoff", false),
                           domain("db", "0b",
                                  "<disk type='volume' device='disk'><source pool='images' "
                                  "volume='data.raw'/><target dev='vdc' bus='virtio'/></disk>"),
                           "lab");
    EXPECT_EQ(imp.vms.size(), 2u);
    EXPECT_EQ(imp.pools.size(), 1u);
    EXPECT_EQ(imp.volumes.size(), 3u); // over, base, data.raw (type volume)
    EXPECT_EQ(imp.networks.size(), 1u);

    std::string text = emit_host_yaml({"lab", "qemu:///system", "", {}});
    for (const auto& d : imp.vms) text += "---\n" + emit_spec_yaml("VirtualMachine", d.spec);
    for (const auto& s : imp.pools) text += "---\n" + emit_spec_yaml("StoragePool", s);
    for (const auto& s : imp.volumes) text += "---\n" + emit_spec_yaml("Volume", s);
    for (const auto& s : imp.networks) text += "---\n" + emit_spec_yaml("Network", s);
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;

    SpecLoadResult r = load_spec_text("imported.yaml", text);
    std::string diags;
    for (const auto& d : r.diags.items()) diags += d.to_string() + "\n";
    ASSERT_FALSE(r.diags.has_errors()) << diags << text;
    ASSERT_EQ(r.state.vms.size(), 2u);
    for (const auto& v : r.state.vms) {
        if (v.obj.name() == "db") {
            EXPECT_EQ(v.vm.state, "shutoff");
        } else {
            EXPECT_EQ(v.vm.state, "running");
        }
    }
    ASSERT_EQ(r.state.pools.size(), 1u);
    EXPECT_EQ(r.state.pools[0].obj.get("autostart"), "no");
    EXPECT_EQ(r.state.volumes.size(), 3u);
    ASSERT_EQ(r.state.networks.size(), 1u);
    EXPECT_EQ(r.state.networks[0].obj.get("bridge"), "vlan0");
}
