// The adapter tells the truth about device detaches and power actions on the real libvirtd
// (TCG, no guest OS): a live detach of a PCI device (virtio NIC, virtio disk) is never
// acknowledged by a guest without an OS, so it must FAIL naming the device still attached; a
// USB device is released by QEMU itself and is confirmed gone. Actions aimed at the state the
// domain is already in succeed. Every object is named vmr-e2e-hostio-*.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>

#include "e2e_util.hpp"

using namespace virtumancer;

namespace {

const std::string kPrefix = "vmr-e2e-hostio-";
const std::string kDom = "vmr-e2e-hostio-dom";
const std::string kImg = "/var/lib/libvirt/images/vmr-e2e-hostio-data.img";

std::string domain_xml() {
    return "<domain type='qemu'><name>" + kDom + R"(</name>
  <memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='none'/></devices>
</domain>)";
}

const std::string kNic = "<interface type='user'><mac address='52:54:00:e2:4e:01'/>"
                         "<model type='virtio'/></interface>";
std::string disk_xml(const std::string& target) {
    return "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + kImg +
           "'/><target dev='" + target + "' bus='virtio'/></disk>";
}
const std::string kTablet = "<input type='tablet' bus='usb'/>";

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

int count_of(const std::string& xml, const char* path) {
    pugi::xml_document doc;
    doc.load_string(xml.c_str());
    return static_cast<int>(doc.select_nodes(path).size());
}

class DetachConfirmE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        VMR_E2E_CONNECT_OR_SKIP(hv);
        cleanup();
        std::ofstream(kImg, std::ios::binary | std::ios::trunc) << std::string(1 << 20, '\0');
        HostTimeouts t;
        t.detach_seconds = 1; // libvirt itself waits up to 5 s inside the call
        fast = connect_libvirt(e2e::kUri, t);
    }
    void TearDown() override {
        if (hv) cleanup();
    }
    void cleanup() {
        for (auto& d : hv->observe(2).domains) {
            if (d.name.rfind(kPrefix, 0) != 0) continue;
            try {
                if (d.state != "shutoff") hv->destroy_domain(d.name);
                hv->undefine_domain(d.name, false, false);
            } catch (const Error&) {
            }
        }
        std::error_code ec;
        std::filesystem::remove(kImg, ec);
    }
    void define_and_start() {
        hv->define_domain(domain_xml());
        hv->start_domain(kDom);
        ASSERT_EQ(hv->domain_state(kDom), "running");
    }
    // Asserts that a live detach fails with the guest-did-not-release error naming `names`.
    void expect_unreleased(const std::string& xml, const std::string& names) {
        auto t0 = std::chrono::steady_clock::now();
        try {
            fast->detach_device(kDom, xml, true, false);
            FAIL() << "a live detach without a guest OS was reported done";
        } catch (const Error& e) {
            std::string m = e.what();
            EXPECT_TRUE(has(m, "the guest did not release")) << m;
            EXPECT_TRUE(has(m, names)) << m;
            EXPECT_TRUE(has(m, "domain '" + kDom + "'")) << m;
            EXPECT_TRUE(has(m, "still attached to the running VM")) << m;
            EXPECT_TRUE(has(e.remedy(), "hot-unplug")) << e.remedy();
            EXPECT_TRUE(has(e.remedy(), "restart")) << e.remedy();
        }
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_LT(took, 12.0);
    }

    std::unique_ptr<Hypervisor> hv, fast;
};

TEST_F(DetachConfirmE2E, LivePciDetachWithoutGuestFailsAndTheDeviceStays) {
    define_and_start();
    fast->attach_device(kDom, kNic, true, false);
    fast->attach_device(kDom, disk_xml("vdb"), true, false);
    std::string live = hv->observe_domain(kDom).live_xml;
    ASSERT_TRUE(has(live, "52:54:00:e2:4e:01"));
    ASSERT_TRUE(has(live, kImg));

    expect_unreleased(kNic, "interface (MAC 52:54:00:e2:4e:01, model virtio, alias net0)");
    expect_unreleased(disk_xml("vdb"), "disk (target vdb, source " + kImg);
    live = hv->observe_domain(kDom).live_xml;
    EXPECT_TRUE(has(live, "52:54:00:e2:4e:01")) << "the NIC is still attached";
    EXPECT_TRUE(has(live, kImg)) << "the disk is still attached";
}

TEST_F(DetachConfirmE2E, UsbDetachIsConfirmedGone) {
    define_and_start();
    fast->attach_device(kDom, kTablet, true, false);
    EXPECT_EQ(count_of(hv->observe_domain(kDom).live_xml, "//input[@type='tablet']"), 1);
    auto t0 = std::chrono::steady_clock::now();
    fast->detach_device(kDom, kTablet, true, false);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(count_of(hv->observe_domain(kDom).live_xml, "//input[@type='tablet']"), 0);
    EXPECT_LT(took, 5.0);
    // Detaching it again: it is already gone, which is what the step wants.
    fast->detach_device(kDom, kTablet, true, false);
}

TEST_F(DetachConfirmE2E, ActionsAimedAtTheCurrentStateSucceed) {
    define_and_start();
    hv->start_domain(kDom); // "domain is already running"
    hv->resume_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "running");
    hv->suspend_domain(kDom);
    hv->suspend_domain(kDom);
    ObservedDomain d = hv->observe_domain(kDom);
    EXPECT_EQ(d.state, "paused");
    EXPECT_EQ(d.state_reason, "user");
    const ObservedDomain* bulk = hv->observe(2).domain(kDom);
    ASSERT_NE(bulk, nullptr);
    EXPECT_EQ(bulk->state_reason, "user") << "read for paused domains in bulk too";
    try {
        hv->start_domain(kDom); // paused by the user is not started: libvirt's error stands
        FAIL() << "starting a paused domain was reported done";
    } catch (const Error& e) {
        EXPECT_TRUE(has(e.what(), "cannot start domain '" + kDom + "'")) << e.what();
    }
    hv->resume_domain(kDom);
    EXPECT_EQ(hv->observe_domain(kDom).state_reason, "unpaused");
    hv->destroy_domain(kDom);
    hv->destroy_domain(kDom); // "domain is not running"
    hv->shutdown_domain(kDom);
    EXPECT_EQ(hv->domain_state(kDom), "shutoff");
    EXPECT_EQ(hv->observe_domain(kDom).state_reason, "destroyed");
    EXPECT_THROW(hv->resume_domain(kDom), Error) << "a shut off domain is not running";
    EXPECT_EQ(hv->domain_state(kDom), "shutoff");

    // Config attach twice: the second finds the same disk there. Another disk on the same
    // target is refused with libvirt's message. Config detach twice: the second finds it gone.
    hv->attach_device(kDom, disk_xml("vdb"), false, true);
    hv->attach_device(kDom, disk_xml("vdb"), false, true);
    EXPECT_EQ(count_of(hv->observe_domain(kDom).inactive_xml, "//disk[target/@dev='vdb']"), 1);
    std::string other = disk_xml("vdb");
    other.replace(other.find(kImg), kImg.size(), "/var/lib/libvirt/images/vmr-e2e-hostio-x.img");
    try {
        hv->attach_device(kDom, other, false, true);
        FAIL() << "a different disk on a taken target was reported attached";
    } catch (const Error& e) {
        EXPECT_TRUE(has(e.what(), "cannot attach a device to domain '" + kDom + "'")) << e.what();
    }
    hv->detach_device(kDom, disk_xml("vdb"), false, true);
    hv->detach_device(kDom, disk_xml("vdb"), false, true);
    EXPECT_FALSE(has(hv->observe_domain(kDom).inactive_xml, kImg));
    // The data the disk pointed at is untouched by all of it.
    EXPECT_EQ(std::filesystem::file_size(kImg), 1u << 20);
}

} // namespace
