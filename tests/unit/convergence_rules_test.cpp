// Regression cases of the convergence property test (tests/e2e/convergence_test.cpp): each
// class of difference libvirt 9.0 made between a spec and what it stored, with libvirt's own
// output, compared as the planner and drift compare it (no change), and the limits of each
// rule (a real difference is still one). Inputs libvirt cannot keep are refused by validation.
#include <gtest/gtest.h>

#include "../../src/planner/compare.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

// The VM of `yaml` (its devices after `vm:`'s keys) as loaded, defaults applied.
Object desired(const std::string& devices, std::string* errors = nullptr) {
    auto r = load_spec_text("t.yaml", "kind: Host\nname: local\nuri: qemu:///system\n---\n"
                                      "kind: VirtualMachine\nname: c\nhost: local\n"
                                      "domain_type: qemu\nmemory: 64MiB\nvcpus: 1\n" +
                                          devices);
    std::string all;
    for (const auto& d : r.diags.items()) all += d.to_string() + "\n";
    if (errors)
        *errors = all;
    else
        EXPECT_FALSE(r.diags.has_errors()) << all;
    if (r.state.vms.empty()) return Object{&domain_kind(), {}, {}, {}};
    return r.state.vms[0].obj;
}

// libvirt's domain XML around `devices`.
Object observed(const std::string& devices) {
    return parse_xml("<domain type='qemu'><name>c</name><memory unit='KiB'>65536</memory>"
                     "<vcpu placement='static'>1</vcpu><os><type arch='x86_64' "
                     "machine='pc-i440fx-7.2'>hvm</type></os><features><acpi/><apic/></features>"
                     "<devices>" +
                         devices + "</devices></domain>",
                     domain_kind());
}

std::string diffs(const Object& want, const Object& have) {
    std::string s;
    for (const auto& d : planner::diff_domain(want, have))
        s += d.field + ": " + d.before + " -> " + d.after + "\n";
    return s;
}

} // namespace

// Class 1: a value equal to libvirt's default is not written back.
TEST(ConvergenceRules, DefaultsLibvirtLeavesOutAreNoChange) {
    Object want = desired("disks:\n  - type: file\n    device: cdrom\n    bus: ide\n"
                          "    target: hda\n    tray: closed\n"
                          "  - type: file\n    file: /x.raw\n    format: raw\n    bus: virtio\n"
                          "    target: vda\n    cache: default\n"
                          "interfaces:\n  - type: bridge\n    bridge: br0\n"
                          "    mac: \"52:54:00:00:00:01\"\n    model: virtio\n    queues: 1\n"
                          "channels:\n  - type: unix\n    source_mode: bind\n"
                          "    target_type: virtio\n    target_name: org.qemu.guest_agent.0\n");
    Object have = observed(
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<target dev='hda' bus='ide'/><readonly/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/x.raw'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/>"
        "<model type='virtio'/></interface>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>");
    EXPECT_EQ(diffs(want, have), "");

    // Not the default: still a change.
    Object other = desired("disks:\n  - type: file\n    device: cdrom\n    bus: ide\n"
                           "    target: hda\n    tray: open\n"
                           "  - type: file\n    file: /x.raw\n    format: raw\n    bus: virtio\n"
                           "    target: vda\n    cache: none\n"
                           "interfaces:\n  - type: bridge\n    bridge: br0\n"
                           "    mac: \"52:54:00:00:00:01\"\n    model: virtio\n    queues: 2\n"
                           "channels:\n  - type: unix\n    source_mode: connect\n"
                           "    target_type: virtio\n    target_name: org.qemu.guest_agent.0\n");
    std::string d = diffs(other, have);
    for (const char* f : {"disk[hda].tray", "disk[vda].cache", "queues",
                          "channel[org.qemu.guest_agent.0].source_mode"})
        EXPECT_NE(d.find(f), std::string::npos) << f << " in\n" << d;
}

// Class 2: an empty drive has no format in a running domain's XML.
TEST(ConvergenceRules, EmptyCdromWithoutFormatInTheLiveXmlIsNoChange) {
    Object want = desired("disks:\n  - type: file\n    device: cdrom\n    bus: ide\n"
                          "    target: hdc\n    format: raw\n");
    Object live = observed("<disk type='file' device='cdrom'><driver name='qemu'/>"
                           "<target dev='hdc' bus='ide'/><readonly/></disk>");
    EXPECT_EQ(diffs(want, live), "");
    Object with_media = observed("<disk type='file' device='cdrom'><driver name='qemu'/>"
                                 "<source file='/x.iso'/><target dev='hdc' bus='ide'/></disk>");
    EXPECT_NE(diffs(want, with_media).find("disk[hdc].format"), std::string::npos);
}

// Class 3: port -1 asks libvirt to pick a port: none in a shut-off domain's config, the
// chosen one in a running domain.
TEST(ConvergenceRules, GraphicsPortMinusOneMatchesWhatLibvirtPicked) {
    Object want = desired("graphics:\n  - type: spice\n    port: -1\n    tls_port: -1\n"
                          "    autoport: true\n    listen: 127.0.0.1\n");
    EXPECT_EQ(diffs(want, observed("<graphics type='spice' autoport='yes' listen='127.0.0.1'>"
                                   "<listen type='address' address='127.0.0.1'/></graphics>")),
              "");
    EXPECT_EQ(diffs(want, observed("<graphics type='spice' port='5901' tlsPort='5902' "
                                   "autoport='yes' listen='127.0.0.1'><listen type='address' "
                                   "address='127.0.0.1'/></graphics>")),
              "");
    // A fixed port is compared as written.
    Object fixed = desired("graphics:\n  - type: vnc\n    port: 5977\n");
    EXPECT_NE(diffs(fixed, observed("<graphics type='vnc' port='-1' autoport='yes'/>"))
                  .find("graphics[vnc].port"),
              std::string::npos);
}

// Class 4: libvirt puts a serial console (a view of serial port 0) first; other consoles
// follow, with their ports renumbered.
TEST(ConvergenceRules, ConsolesPairByTargetAndTheSerialConsoleIsLibvirts) {
    const std::string libvirt =
        "<serial type='pty'><target type='isa-serial' port='0'><model name='isa-serial'/>"
        "</target></serial><console type='pty'><target type='serial' port='0'/></console>"
        "<console type='pty'><target type='virtio' port='1'/></console>";
    // virt-install: a serial port and a virtio console.
    EXPECT_EQ(diffs(desired("serials:\n  - type: pty\nconsoles:\n  - type: pty\n"
                            "    target_type: virtio\n"),
                    observed(libvirt)),
              "");
    // Both consoles in the spec, as libvirt lists them.
    EXPECT_EQ(diffs(desired("serials:\n  - type: pty\nconsoles:\n  - type: pty\n"
                            "    target_type: serial\n  - type: pty\n    target_type: virtio\n"),
                    observed(libvirt)),
              "");
    // A virtio console the spec does not have is still a change.
    std::string d = diffs(desired("serials:\n  - type: pty\n"), observed(libvirt));
    EXPECT_NE(d.find("console[1]"), std::string::npos) << d;
}

// Class 5: inputs libvirt rewrites are refused at validation, at their key.
TEST(ConvergenceRules, InputsLibvirtRewritesAreRefused) {
    std::string errors;
    desired("serials:\n  - type: unix\n    source_mode: bind\n    source_path: /tmp/s\n"
            "consoles:\n  - type: pty\n",
            &errors);
    EXPECT_NE(errors.find("t.yaml:16:"), std::string::npos) << errors;
    EXPECT_NE(errors.find("console with target_type serial has type `pty` but the first serial "
                          "port has `unix`"),
              std::string::npos)
        << errors;
    // libvirt refuses a serial console after another one.
    desired("serials:\n  - type: pty\nconsoles:\n  - type: pty\n    target_type: virtio\n"
            "  - type: pty\n    target_type: serial\n",
            &errors);
    EXPECT_NE(errors.find("t.yaml:17:"), std::string::npos) << errors;
    EXPECT_NE(errors.find("libvirt accepts a serial console only as the first console"),
              std::string::npos)
        << errors;
    desired("graphics:\n  - type: spice\n    listen: 127.0.0.1\n", &errors);
    EXPECT_NE(errors.find("t.yaml:13:"), std::string::npos) << errors;
    EXPECT_NE(errors.find("spice graphics with `listen: 127.0.0.1` but no port"), std::string::npos)
        << errors;
    desired("graphics:\n  - type: spice\n    listen_type: address\n", &errors);
    EXPECT_NE(errors.find("t.yaml:13:"), std::string::npos) << errors;
    EXPECT_NE(errors.find("`listen_type: address` but no port"), std::string::npos) << errors;
    // What libvirt keeps is accepted.
    desired("serials:\n  - type: unix\n    source_mode: bind\n    source_path: /tmp/s\n"
            "consoles:\n  - type: unix\n  - type: pty\n    target_type: virtio\n"
            "graphics:\n  - type: spice\n    autoport: true\n    listen: 127.0.0.1\n"
            "  - type: vnc\n    listen: 127.0.0.1\n  - type: spice\n    listen_type: none\n");
}
