// The libvirt adapter against a real libvirtd with the QEMU driver (TCG): lifecycle, observation,
// hotplug, vCPU/memory changes, storage and networks. Every object is named vmr-e2e-hv-* and
// removed before and after each test, also after a failure.
#include <chrono>
#include <filesystem>
#include <pugixml.hpp>
#include <thread>

#include "e2e_util.hpp"

using namespace virtumancer;

namespace {

const std::string kPrefix = "vmr-e2e-hv-";
const std::string kDom = "vmr-e2e-hv-dom";
const std::string kPool = "vmr-e2e-hv-pool";
const std::string kNet = "vmr-e2e-hv-net";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-hv-pool";

// 64 MiB, no disk, no OS: SeaBIOS finds nothing to boot and the guest idles.
std::string domain_xml(const std::string& name) {
    return "<domain type='qemu'><name>" + name + R"(</name>
  <memory unit='MiB'>64</memory>
  <currentMemory unit='MiB'>64</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'><alias name='ua-e2e-serial'/></serial>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='virtio'/>
  </devices>
</domain>)";
}

const std::string kPoolXml = "<pool type='dir'><name>" + kPool + "</name><target><path>" +
                             kPoolDir + "</path></target></pool>";

std::string volume_xml(const std::string& name, int mib) {
    return "<volume><name>" + name + "</name><capacity unit='MiB'>" + std::to_string(mib) +
           "</capacity><target><format type='qcow2'/></target></volume>";
}

const std::string kNetXml = "<network><name>" + kNet +
                            "</name><bridge name='vmre2ehv0'/>"
                            "<ip address='10.239.77.1' netmask='255.255.255.0'/></network>";

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

// Text or attribute of the first element at an XPath in a domain XML.
std::string xpath(const std::string& xml, const char* path) {
    pugi::xml_document doc;
    doc.load_string(xml.c_str());
    auto r = doc.select_node(path);
    if (r.attribute()) return r.attribute().value();
    return r.node().child_value();
}

// Running vCPUs: <vcpu current='N'>, or the maximum when current is omitted.
int vcpus_current(const std::string& xml) {
    std::string c = xpath(xml, "/domain/vcpu/@current");
    return std::stoi(c.empty() ? xpath(xml, "/domain/vcpu") : c);
}

class HypervisorE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        VMR_E2E_CONNECT_OR_SKIP(hv);
        cleanup(); // leftovers of an earlier, interrupted run
    }
    void TearDown() override {
        if (hv) cleanup();
    }

    // Removes every vmr-e2e-hv-* object; errors are ignored (the object may be half-made).
    void cleanup() {
        ObservedHost host = hv->observe(2);
        auto quietly = [](auto&& f) {
            try {
                f();
            } catch (const Error&) {
            }
        };
        for (auto& d : host.domains) {
            if (d.name.rfind(kPrefix, 0) != 0) continue;
            if (d.state != "shutoff") quietly([&] { hv->destroy_domain(d.name); });
            if (d.persistent) quietly([&] { hv->undefine_domain(d.name, false, false); });
        }
        for (auto& n : host.networks)
            if (n.name.rfind(kPrefix, 0) == 0) quietly([&] { hv->undefine_network(n.name); });
        for (auto& p : host.pools) {
            if (p.name.rfind(kPrefix, 0) != 0) continue;
            for (auto& v : p.volumes) quietly([&] { hv->delete_volume(p.name, v.name); });
            quietly([&] { hv->undefine_pool(p.name); });
        }
        std::error_code ec;
        std::filesystem::remove_all(kPoolDir, ec);
    }

    void define_and_start() {
        hv->define_domain(domain_xml(kDom));
        hv->start_domain(kDom);
        ASSERT_EQ(hv->domain_state(kDom), "running");
    }

    std::unique_ptr<Hypervisor> hv;
};

// Issue 2's acceptance test: define, start, destroy, undefine a 64 MiB guest.
TEST_F(HypervisorE2E, DefineStartDestroyUndefine) {
    hv->define_domain(domain_xml(kDom));
    EXPECT_EQ(hv->domain_state(kDom), "shutoff");
    hv->start_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "running");
    hv->suspend_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "paused");
    hv->resume_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "running");
    hv->destroy_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "shutoff");
    hv->undefine_domain(kDom, false, false);
    EXPECT_THROW(hv->domain_state(kDom), Error);
    EXPECT_EQ(hv->observe(2).domain(kDom), nullptr);
}

TEST_F(HypervisorE2E, ObserveReturnsInactiveAndStrippedLiveXml) {
    define_and_start();
    hv->set_domain_autostart(kDom, true);
    ObservedHost host = hv->observe(4);
    EXPECT_TRUE(host.reachable);
    EXPECT_EQ(host.uri, "qemu:///system");
    const ObservedDomain* d = host.domain(kDom);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->state, "running");
    EXPECT_TRUE(d->persistent);
    EXPECT_TRUE(d->autostart);
    EXPECT_EQ(d->uuid.size(), 36u);
    ASSERT_FALSE(d->inactive_xml.empty());
    ASSERT_FALSE(d->live_xml.empty());
    // The live document really is the running one: QEMU expanded the CPU at start.
    EXPECT_EQ(xpath(d->live_xml, "/domain/cpu/@check"), "full");
    EXPECT_EQ(xpath(d->inactive_xml, "/domain/cpu/@check"), "none");
    for (const std::string* xml : {&d->live_xml, &d->inactive_xml}) {
        EXPECT_EQ(xpath(*xml, "/domain/@id"), "") << *xml;
        EXPECT_TRUE(has(*xml, "ua-e2e-serial")) << "user alias kept";
        pugi::xml_document doc;
        doc.load_string(xml->c_str());
        for (auto a : doc.select_nodes("//alias"))
            EXPECT_EQ(std::string(a.node().attribute("name").value()).rfind("ua-", 0), 0u)
                << "auto alias left: " << a.node().attribute("name").value();
        EXPECT_EQ(xpath(*xml, "/domain/devices/graphics/@port"), "") << "autoport port stripped";
        EXPECT_FALSE(has(*xml, "<seclabel"));
        EXPECT_FALSE(has(*xml, "/dev/pts/"));
    }
    // Sequential and parallel observation see the same objects.
    ObservedHost seq = hv->observe(1);
    ASSERT_NE(seq.domain(kDom), nullptr);
    EXPECT_EQ(seq.domain(kDom)->live_xml, d->live_xml);
    EXPECT_EQ(hv->observe_domain(kDom).inactive_xml, d->inactive_xml);
}

TEST_F(HypervisorE2E, HotplugDiskAndInterface) {
    hv->define_pool(kPoolXml, true, true, false);
    hv->create_volume(kPool, volume_xml("data.qcow2", 16));
    hv->define_network(kNetXml, true, false);
    define_and_start();

    const ObservedPool* pool = nullptr;
    ObservedHost host = hv->observe(2);
    pool = host.pool(kPool);
    ASSERT_NE(pool, nullptr);
    ASSERT_EQ(pool->volumes.size(), 1u);
    const std::string path = pool->volumes[0].path;
    EXPECT_EQ(path, kPoolDir + "/data.qcow2");

    // USB devices: QEMU unplugs them at once. (A virtio/PCI device needs the guest OS to
    // acknowledge the ACPI eject, which a guest without an OS never does.)
    const std::string disk = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                             "<source file='" +
                             path + "'/><target dev='sda' bus='usb'/></disk>";
    hv->attach_device(kDom, disk, true, true);
    ObservedDomain d = hv->observe_domain(kDom);
    EXPECT_TRUE(has(d.live_xml, path)) << d.live_xml;
    EXPECT_TRUE(has(d.inactive_xml, path));
    EXPECT_EQ(xpath(d.live_xml, "//disk/source/@index"), "") << "live-only disk index stripped";
    hv->detach_device(kDom, disk, true, true);
    d = hv->observe_domain(kDom);
    EXPECT_FALSE(has(d.live_xml, path));
    EXPECT_FALSE(has(d.inactive_xml, path));

    // A NIC: live only as USB (libvirt cannot give a usb-net model a config address: "Cannot
    // automatically add a new PCI bus"), and a virtio NIC in the persistent config only.
    const std::string usb_nic = "<interface type='network'><mac address='52:54:00:e2:e0:01'/>"
                                "<source network='" +
                                kNet + "'/><model type='usb-net'/></interface>";
    hv->attach_device(kDom, usb_nic, true, false);
    d = hv->observe_domain(kDom);
    EXPECT_TRUE(has(d.live_xml, "52:54:00:e2:e0:01"));
    EXPECT_FALSE(has(d.inactive_xml, "52:54:00:e2:e0:01")) << "live only";
    EXPECT_FALSE(has(d.live_xml, "vnet")) << "tap name stripped";
    EXPECT_FALSE(has(d.live_xml, "portid=")) << "network port id stripped";
    EXPECT_EQ(xpath(d.live_xml, "//interface/source/@network"), kNet);
    EXPECT_EQ(xpath(d.live_xml, "//interface/source/@bridge"), "") << "resolved bridge stripped";
    const ObservedNetwork* net = nullptr;
    host = hv->observe(2);
    net = host.network(kNet);
    ASSERT_NE(net, nullptr);
    EXPECT_TRUE(net->active);
    EXPECT_FALSE(has(net->xml, "connections=")) << net->xml;
    hv->detach_device(kDom, usb_nic, true, false);
    d = hv->observe_domain(kDom);
    EXPECT_FALSE(has(d.live_xml, "52:54:00:e2:e0:01"));

    const std::string nic = "<interface type='network'><mac address='52:54:00:e2:e0:02'/>"
                            "<source network='" +
                            kNet + "'/><model type='virtio'/></interface>";
    hv->attach_device(kDom, nic, false, true);
    d = hv->observe_domain(kDom);
    EXPECT_TRUE(has(d.inactive_xml, "52:54:00:e2:e0:02"));
    EXPECT_FALSE(has(d.live_xml, "52:54:00:e2:e0:02")) << "config only";
    hv->detach_device(kDom, nic, false, true);
    EXPECT_FALSE(has(hv->observe_domain(kDom).inactive_xml, "52:54:00:e2:e0:02"));
}

TEST_F(HypervisorE2E, VcpusAndMemory) {
    define_and_start();
    hv->set_vcpus(kDom, 2, true, false); // hot-add one vCPU, running VM only
    ObservedDomain d = hv->observe_domain(kDom);
    EXPECT_EQ(vcpus_current(d.live_xml), 2);
    EXPECT_EQ(vcpus_current(d.inactive_xml), 1);

    // Balloon down, live. QEMU accepts the new target, but without a guest OS no balloon
    // driver gives memory back: the running VM keeps its 64 MiB.
    hv->set_memory(kDom, 32 * 1024, true, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    d = hv->observe_domain(kDom);
    EXPECT_EQ(xpath(d.live_xml, "/domain/currentMemory"), "65536");
    // The persistent config takes the change at once.
    hv->set_memory(kDom, 32 * 1024, false, true);
    hv->set_max_memory(kDom, 96 * 1024);
    hv->set_max_vcpus(kDom, 3);
    d = hv->observe_domain(kDom);
    EXPECT_EQ(xpath(d.inactive_xml, "/domain/currentMemory"), "32768");
    EXPECT_EQ(xpath(d.inactive_xml, "/domain/memory"), "98304");
    EXPECT_EQ(xpath(d.inactive_xml, "/domain/vcpu"), "3");
    EXPECT_EQ(xpath(d.live_xml, "/domain/memory"), "65536") << "max memory is config only";
    // More vCPUs than the running maximum is refused with libvirt's reason.
    try {
        hv->set_vcpus(kDom, 3, true, false);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_TRUE(has(e.what(), "domain '" + kDom + "'")) << e.what();
    }
}

// ACPI shutdown needs a guest OS; this guest has none, so the request is ignored.
TEST_F(HypervisorE2E, ShutdownWithoutGuestOsIsIgnoredThenDestroyWorks) {
    define_and_start();
    hv->shutdown_domain(kDom); // returns at once
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(hv->domain_state(kDom), "running");
    hv->destroy_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "shutoff");
}

TEST_F(HypervisorE2E, VolumePoolNetworkRound) {
    hv->define_pool(kPoolXml, true, true, false);
    EXPECT_TRUE(std::filesystem::is_directory(kPoolDir)) << "pool built";
    hv->create_volume(kPool, volume_xml("v.qcow2", 16));
    ObservedHost host = hv->observe(2);
    ASSERT_NE(host.pool(kPool), nullptr);
    EXPECT_TRUE(host.pool(kPool)->active);
    ASSERT_EQ(host.pool(kPool)->volumes.size(), 1u);
    const ObservedVolume& v = host.pool(kPool)->volumes[0];
    EXPECT_EQ(xpath(v.xml, "/volume/capacity"), "16777216");
    EXPECT_FALSE(has(v.xml, "<allocation")) << v.xml;

    hv->resize_volume(kPool, "v.qcow2", 32ull << 20);
    host = hv->observe(2);
    EXPECT_EQ(xpath(host.pool(kPool)->volumes.at(0).xml, "/volume/capacity"), "33554432");
    EXPECT_THROW(hv->resize_volume(kPool, "v.qcow2", 8ull << 20), Error) << "no silent shrink";
    hv->delete_volume(kPool, "v.qcow2");
    EXPECT_TRUE(hv->observe(2).pool(kPool)->volumes.empty());
    try {
        hv->delete_volume(kPool, "v.qcow2");
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_TRUE(has(e.what(), "volume 'v.qcow2'")) << e.what();
    }
    hv->undefine_pool(kPool);
    EXPECT_EQ(hv->observe(2).pool(kPool), nullptr);

    hv->define_network(kNetXml, true, true);
    const ObservedNetwork* n = nullptr;
    host = hv->observe(2);
    n = host.network(kNet);
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(n->active);
    EXPECT_TRUE(n->autostart);
    EXPECT_TRUE(has(n->xml, "vmre2ehv0"));
    hv->undefine_network(kNet);
    EXPECT_EQ(hv->observe(2).network(kNet), nullptr);
}

} // namespace
