// Which device of a domain a device XML names: what the adapter checks after an attach or a
// detach (the live detach is confirmed only when that device is gone from the running domain).
#include <gtest/gtest.h>

#include "../../src/hypervisor/device_match.hpp"

using namespace virtumancer::devmatch;

namespace {

// A running domain as libvirt 9.0 writes it (aliases, addresses).
const char* kLive = R"(<domain type='qemu' id='7'><name>web</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='/var/lib/libvirt/images/a.qcow2' index='2'/><target dev='vda' bus='virtio'/>
    <alias name='virtio-disk0'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='/var/lib/libvirt/images/b.qcow2' index='1'/><target dev='vdb' bus='virtio'/>
    <alias name='virtio-disk1'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
  <interface type='network'><mac address='52:54:00:aa:00:01'/>
    <source network='lab' portid='1b0c' bridge='virbr1'/><target dev='vnet3'/>
    <model type='virtio'/><alias name='net0'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
  <interface type='network'><mac address='52:54:00:aa:00:02'/>
    <source network='lab' portid='2c1d' bridge='virbr1'/><target dev='vnet4'/>
    <model type='virtio'/><alias name='net1'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></interface>
  <input type='mouse' bus='ps2'><alias name='input0'/></input>
  <input type='tablet' bus='usb'><alias name='input2'/><address type='usb' bus='0' port='1'/></input>
  <watchdog model='i6300esb' action='reset'><alias name='watchdog0'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x08' function='0x0'/></watchdog>
</devices></domain>)";

TEST(DeviceMatch, InterfaceByMacDiskByTarget) {
    // What the planner sends: the device as observed, auto aliases stripped.
    auto nic = find_device(kLive, "<interface type='network'><mac address='52:54:00:AA:00:02'/>"
                                  "<source network='lab'/><model type='virtio'/></interface>");
    ASSERT_TRUE(nic);
    EXPECT_EQ(nic->alias, "net1");
    EXPECT_EQ(nic->description, "interface (MAC 52:54:00:aa:00:02, model virtio, alias net1)");
    auto disk = find_device(kLive, "<disk type='file' device='disk'><source "
                                   "file='/elsewhere.qcow2'/><target dev='vdb'/></disk>");
    ASSERT_TRUE(disk);
    EXPECT_EQ(disk->alias, "virtio-disk1") << "libvirt matches a disk by its target alone";
    EXPECT_NE(disk->description.find("target vdb"), std::string::npos) << disk->description;
    EXPECT_FALSE(find_device(kLive, "<interface type='network'><mac address='52:54:00:aa:00:09'/>"
                                    "</interface>"));
    EXPECT_FALSE(find_device(kLive, "<disk type='file' device='disk'><target dev='vdc'/></disk>"));
}

TEST(DeviceMatch, OthersByAliasAddressOrContent) {
    auto tablet = find_device(kLive, "<input type='tablet' bus='usb'/>");
    ASSERT_TRUE(tablet);
    EXPECT_EQ(tablet->alias, "input2");
    // By address; 0x8 and 0x08 are the same slot.
    auto wd =
        find_device(kLive, "<watchdog model='i6300esb' action='reset'><address type='pci' "
                           "domain='0x0000' bus='0x00' slot='0x8' function='0x0'/></watchdog>");
    ASSERT_TRUE(wd);
    EXPECT_EQ(wd->alias, "watchdog0");
    EXPECT_FALSE(find_device(kLive,
                             "<watchdog model='i6300esb'><address type='pci' domain='0x0000' "
                             "bus='0x00' slot='0x09' function='0x0'/></watchdog>"));
    // A user alias names exactly one device.
    EXPECT_FALSE(find_device(kLive, "<input type='tablet' bus='usb'><alias name='ua-x'/></input>"));
    EXPECT_FALSE(find_device(kLive, "<input type='keyboard' bus='usb'/>"));
    EXPECT_FALSE(find_device("not xml", "<input type='tablet' bus='usb'/>"));
}

TEST(DeviceMatch, SameDeviceNeedsEverythingTheAttachStated) {
    const std::string nic = "<interface type='network'><mac address='52:54:00:aa:00:02'/>"
                            "<source network='lab'/><model type='virtio'/></interface>";
    EXPECT_TRUE(has_same_device(kLive, nic));
    // Same MAC, another network: not the device the attach asked for.
    std::string other = nic;
    other.replace(other.find("'lab'"), 5, "'dmz'");
    EXPECT_FALSE(has_same_device(kLive, other));
    EXPECT_TRUE(find_device(kLive, other)) << "but it is the device a detach would take";
    EXPECT_FALSE(has_same_device(kLive, "<disk type='file' device='disk'><source "
                                        "file='/elsewhere.qcow2'/><target dev='vdb'/></disk>"));
}

TEST(DeviceMatch, AliasesAndElements) {
    EXPECT_EQ(device_aliases(kLive, "interface"), (std::vector<std::string>{"net0", "net1"}));
    EXPECT_EQ(device_aliases(kLive).size(), 7u);
    EXPECT_EQ(element_of("<disk/>"), "disk");
    EXPECT_EQ(
        describe_device("<interface type='user'><mac address='52:54:00:aa:00:03'/></interface>"),
        "interface (MAC 52:54:00:aa:00:03)");
}

} // namespace
