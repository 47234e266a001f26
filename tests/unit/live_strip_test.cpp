// Live-only stripping, on XML captured from a real libvirt 9.0 / QEMU 7.2 (tests/data/live/):
// a running guest's `virsh dumpxml` must strip down to its `virsh dumpxml --inactive`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

std::string fixture(const std::string& name) {
    auto p = std::filesystem::path(VIRTUMANCER_SOURCE_DIR) / "tests" / "data" / "live" / name;
    std::ifstream in(p);
    EXPECT_TRUE(in.good()) << "missing fixture " << p;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

TEST(LiveStrip, FixturesReallyDiffer) {
    // Guards the test below: the raw live and inactive XML are different documents.
    EXPECT_FALSE(xml_equal(fixture("domain-live.xml"), fixture("domain-inactive.xml")));
}

TEST(LiveStrip, RunningDomainStripsToItsInactiveConfigExceptCpu) {
    std::string live = strip_live_only_domain(fixture("domain-live.xml"));
    std::string inactive = strip_live_only_domain(fixture("domain-inactive.xml"));
    // The one remaining difference is the CPU QEMU expanded at start (check='full' plus
    // required features); that is real running state, not stripped. Compare the rest.
    auto drop_cpu = [](std::string s) {
        auto a = s.find("<cpu"), b = s.find("</cpu>");
        return s.erase(a, b + 6 - a);
    };
    std::string why;
    EXPECT_TRUE(xml_equal(drop_cpu(live), drop_cpu(inactive), &why)) << why << "\n" << live;
    EXPECT_FALSE(xml_equal(live, inactive)) << "the expanded live <cpu> should still differ";
}

TEST(LiveStrip, RemovesEachRuntimeValue) {
    std::string s = strip_live_only_domain(fixture("domain-live.xml"));
    EXPECT_FALSE(has(s, "id='4'") || has(s, "id=\"4\"")) << s;
    EXPECT_FALSE(has(s, "virtio-disk0"));
    EXPECT_FALSE(has(s, "pci.0"));
    EXPECT_FALSE(has(s, "net0"));
    EXPECT_TRUE(has(s, "ua-mydisk")) << "user aliases are config";
    EXPECT_FALSE(has(s, "index=\"1\"") || has(s, "index=\"2\"")) << "disk source index";
    EXPECT_FALSE(has(s, "<backingStore"));
    EXPECT_FALSE(has(s, "vnet1"));
    EXPECT_FALSE(has(s, "portid="));
    EXPECT_FALSE(has(s, "bridge=\"vmrhvcap0\""));
    EXPECT_TRUE(has(s, "network=\"vmr-hvcap-net\""));
    EXPECT_FALSE(has(s, "/dev/pts/0"));
    EXPECT_FALSE(has(s, "tty="));
    EXPECT_FALSE(has(s, "state=\"disconnected\""));
    EXPECT_FALSE(has(s, "/var/lib/libvirt/qemu/channel/target/"));
    EXPECT_FALSE(has(s, "port=\"5900\""));
    EXPECT_TRUE(has(s, "autoport=\"yes\""));
    EXPECT_TRUE(has(s, "<listen type=\"address\" address=\"127.0.0.1\""))
        << "the listen element is in the config too";
    EXPECT_FALSE(has(s, "<seclabel"));
    EXPECT_FALSE(has(s, "/machine"));
    EXPECT_TRUE(has(s, "current=\"1\"")) << "vcpu current is state, kept";
}

TEST(LiveStrip, KeepsUserConfiguredValues) {
    const std::string xml = R"(<domain type='kvm'>
  <name>x</name>
  <resource><partition>/tenants/a</partition></resource>
  <devices>
    <interface type='bridge'>
      <source bridge='br0'/>
      <target dev='tap-mine'/>
      <alias name='ua-nic'/>
    </interface>
    <graphics type='vnc' port='5911' autoport='no'/>
    <serial type='file'><source path='/var/log/x.log'/></serial>
    <disk type='file' device='disk'>
      <source file='/a.qcow2'/>
      <backingStore type='file'><format type='raw'/><source file='/base.raw'/></backingStore>
      <target dev='vda'/>
    </disk>
  </devices>
  <seclabel type='static' model='selinux' relabel='yes'><label>system_u:x</label></seclabel>
</domain>)";
    std::string s = strip_live_only_domain(xml);
    std::string why;
    EXPECT_TRUE(xml_equal(s, xml, &why)) << why << "\n" << s;
}

TEST(LiveStrip, PoolVolumeNetwork) {
    std::string pool = strip_live_only_pool(fixture("pool-live.xml"));
    EXPECT_FALSE(has(pool, "<capacity"));
    EXPECT_FALSE(has(pool, "<allocation"));
    EXPECT_FALSE(has(pool, "<available"));
    EXPECT_TRUE(has(pool, "<uuid>"));
    EXPECT_TRUE(has(pool, "/var/lib/libvirt/images/vmr-hvcap-pool"));

    std::string vol = strip_live_only_volume(fixture("volume.xml"));
    EXPECT_TRUE(has(vol, "<capacity unit=\"bytes\">16777216</capacity>")) << vol;
    EXPECT_FALSE(has(vol, "<key>"));
    EXPECT_FALSE(has(vol, "<allocation"));
    EXPECT_FALSE(has(vol, "<physical"));
    EXPECT_FALSE(has(vol, "<timestamps"));
    EXPECT_TRUE(has(vol, "<format type=\"qcow2\""));

    std::string live = fixture("network-live.xml");
    ASSERT_TRUE(has(live, "connections='1'"));
    std::string why;
    EXPECT_TRUE(xml_equal(strip_live_only_network(live), fixture("network-inactive.xml"), &why))
        << why;
}

TEST(LiveStrip, AutoWebsocketPortReadsAsAuto) {
    // Captured on libvirt 9.0: inactive websocket='-1', live websocket='5700'.
    std::string live = strip_live_only_domain(
        "<domain id='7'><devices><graphics type='vnc' port='5901' autoport='yes' websocket='5700' "
        "listen='127.0.0.1'/></devices></domain>");
    std::string why;
    EXPECT_TRUE(xml_equal(live,
                          "<domain><devices><graphics type='vnc' autoport='yes' websocket='-1' "
                          "listen='127.0.0.1'/></devices></domain>",
                          &why))
        << why << live;
    std::string fixed = strip_live_only_domain(
        "<domain><devices><graphics type='vnc' port='5905' autoport='no' websocket='5705'/>"
        "</devices></domain>");
    EXPECT_NE(fixed.find("5705"), std::string::npos) << "fixed ports without autoport are config";
    EXPECT_NE(fixed.find("5905"), std::string::npos);
}

TEST(LiveStrip, MalformedXmlIsAnError) {
    EXPECT_THROW(strip_live_only_domain("<domain><name>x</domain>"), Error);
}

} // namespace
