// The spec loader: values land in the model as documented, and every error class is reported
// at its exact file:line:col.
#include <gtest/gtest.h>

#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

const char* kHost = "kind: Host\nname: local\nuri: qemu:///system\n---\n";

SpecLoadResult load(const std::string& text) {
    return load_spec_text("t.yaml", text);
}

// The one diagnostic at file:line:col (asserted unique), or "" when none is there.
std::string diag_at(const SpecLoadResult& r, int line, int col) {
    std::string found;
    int n = 0;
    for (const auto& d : r.diags.items())
        if (d.file == "t.yaml" && d.line == line && d.column == col) {
            found = d.to_string();
            ++n;
        }
    EXPECT_LE(n, 1) << "several diagnostics at " << line << ":" << col;
    return found;
}

std::string all(const SpecLoadResult& r) {
    std::string s;
    for (const auto& d : r.diags.items()) s += d.to_string() + "\n";
    return s;
}

#define EXPECT_DIAG(r, line, col, text)                                                            \
    EXPECT_NE(diag_at(r, line, col).find(text), std::string::npos)                                 \
        << "expected at " << line << ":" << col << ": " << text << "\ngot:\n"                      \
        << all(r)

const Object* child(const Spec& s, const std::string& kind, int i = 0) {
    for (const auto& c : s.obj.children)
        if (c.kind->kind == kind && i-- == 0) return &c;
    return nullptr;
}

} // namespace

TEST(SpecLoad, ExampleValuesAndDefaults) {
    auto r = load(std::string(kHost) + R"(kind: StoragePool
name: p
host: local
path: /srv/p
---
kind: Volume
name: root
host: local
pool: p
capacity: 2GiB
---
kind: VirtualMachine
name: web
host: local
vcpus: 2
memory: 512MiB
boot: [hd, cdrom]
state: paused
restart_policy: allowed
disks:
  - volume: root
  - file: /iso/x.iso
    device: cdrom
  - dev: /dev/sdb
interfaces:
  - network: default
  - bridge: br0
    mac: "52:54:00:aa:bb:cc"
)");
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    ASSERT_EQ(r.state.vms.size(), 1u);
    const Spec& vm = r.state.vms[0];
    EXPECT_EQ(vm.obj.get("memory"), "536870912");
    EXPECT_EQ(vm.obj.get("vcpus"), "2");
    EXPECT_EQ(vm.obj.get("boot"), "hd,cdrom");
    EXPECT_EQ(vm.obj.get("acpi"), "yes");
    EXPECT_EQ(vm.obj.get("apic"), "yes");
    EXPECT_EQ(vm.obj.get("domain_type"), "kvm");
    EXPECT_EQ(vm.obj.get("arch"), "x86_64");
    EXPECT_FALSE(vm.obj.has("current_memory"));
    EXPECT_EQ(vm.vm.state, "paused");
    EXPECT_EQ(vm.vm.restart_policy, "allowed");
    const Object* d0 = child(vm, "disk", 0);
    const Object* d1 = child(vm, "disk", 1);
    const Object* d2 = child(vm, "disk", 2);
    ASSERT_TRUE(d0 && d1 && d2);
    EXPECT_EQ(d0->get("type"), "volume");
    EXPECT_EQ(d0->get("pool"), "p");
    EXPECT_EQ(d0->get("format"), "qcow2");
    EXPECT_EQ(d0->get("target"), "vda");
    EXPECT_EQ(d0->get("bus"), "virtio");
    EXPECT_EQ(d1->get("type"), "file");
    EXPECT_EQ(d1->get("bus"), "sata");
    EXPECT_EQ(d1->get("target"), "sda");
    EXPECT_EQ(d2->get("type"), "block");
    EXPECT_EQ(d2->get("target"), "vdb");
    const Object* n0 = child(vm, "interface", 0);
    const Object* n1 = child(vm, "interface", 1);
    ASSERT_TRUE(n0 && n1);
    EXPECT_EQ(n0->get("type"), "network");
    EXPECT_EQ(n0->get("model"), "virtio");
    EXPECT_EQ(n0->get("mac"), derived_mac("local", "web", 0));
    EXPECT_EQ(n1->get("type"), "bridge");
    EXPECT_EQ(n1->get("mac"), "52:54:00:aa:bb:cc");
    // the network `default` is not managed: a warning, not an error
    EXPECT_DIAG(r, 30, 14, "warning: network `default` is not defined by a Network spec");
    EXPECT_EQ(r.state.volumes[0].obj.get("capacity"), "2147483648");
    EXPECT_EQ(r.state.volumes[0].obj.get("format"), "qcow2");
    EXPECT_EQ(vm.content_hash.size(), 64u);
}

TEST(SpecLoad, DerivedMacIsStableAndDistinct) {
    EXPECT_EQ(derived_mac("h", "vm", 0), derived_mac("h", "vm", 0));
    EXPECT_NE(derived_mac("h", "vm", 0), derived_mac("h", "vm", 1));
    EXPECT_NE(derived_mac("h", "vm", 0), derived_mac("h2", "vm", 0));
    EXPECT_EQ(derived_mac("h", "vm", 0).rfind("52:54:00:", 0), 0u);
    EXPECT_EQ(derived_mac("h", "vm", 0).size(), 17u);
}

TEST(SpecLoad, ContentHashChangesWithContentOnly) {
    std::string a = std::string(kHost) +
                    "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 64MiB\n";
    std::string b =
        std::string(kHost) +
        "# a comment\nkind: VirtualMachine\nname: v\nhost: local\nmemory: 64MiB\nvcpus: 1\n";
    std::string c = std::string(kHost) +
                    "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 2\nmemory: 64MiB\n";
    auto ra = load(a), rb = load(b), rc = load(c);
    ASSERT_FALSE(ra.diags.has_errors() || rb.diags.has_errors() || rc.diags.has_errors());
    EXPECT_EQ(ra.state.vms[0].content_hash, rb.state.vms[0].content_hash);
    EXPECT_NE(ra.state.vms[0].content_hash, rc.state.vms[0].content_hash);
    EXPECT_NE(ra.files[0].content_hash, rb.files[0].content_hash);
}

TEST(SpecLoad, SyntaxError) {
    auto r = load("kind: Host\nname: [unclosed\n");
    EXPECT_DIAG(r, 3, 1, "error: YAML syntax error");
}

TEST(SpecLoad, DuplicateKey) {
    auto r =
        load(std::string(kHost) +
             "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 64MiB\nvcpus: 2\n");
    EXPECT_DIAG(r, 10, 1, "error: duplicate key `vcpus` (first given at line 8, column 1)");
}

TEST(SpecLoad, UnknownKeyWithSuggestion) {
    auto r = load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpu: 1\n"
                                       "memory: 64MiB\ndisks:\n  - file: /x\n    bsu: virtio\n");
    EXPECT_DIAG(r, 8, 1, "error: unknown key `vcpu` in a VirtualMachine (did you mean `vcpus`?)");
    EXPECT_DIAG(r, 12, 5, "unknown key `bsu` in an item of `disks` (did you mean `bus`?)");
    auto r2 =
        load(std::string(kHost) + "kind: Volume\nname: v\nhost: local\npool: p\nsize: 1GiB\n");
    EXPECT_DIAG(r2, 9, 1, "unknown key `size` in a Volume (did you mean `capacity`?)");
}

TEST(SpecLoad, WrongTypes) {
    auto r =
        load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpus: two\n"
                                  "memory: [1]\nacpi: maybe\nboot: hd\nvcpus_current: \"1\"\n");
    EXPECT_DIAG(r, 8, 8, "`vcpus` must be an integer, got `two`");
    EXPECT_DIAG(r, 9, 9, "`memory` must be a size");
    EXPECT_DIAG(r, 10, 7, "`acpi` must be true or false, got `maybe`");
    EXPECT_DIAG(r, 11, 7, "`boot` must be a list of strings");
    EXPECT_DIAG(r, 12, 16, "`vcpus_current` must be an integer");
}

TEST(SpecLoad, OutOfRangeAndSizes) {
    auto r =
        load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 0\n"
                                  "memory: 512\ninterfaces:\n  - network: n\n    vlan: 5000\n");
    EXPECT_DIAG(r, 8, 8, "`vcpus` is out of range: 0 is not between 1 and 4096");
    EXPECT_DIAG(r, 9, 9, "did you forget the unit");
    EXPECT_DIAG(r, 12, 11, "`vlan` is out of range");
    auto g = load(std::string(kHost) +
                  "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 2G\n");
    EXPECT_DIAG(g, 9, 9, "ambiguous size unit `G`: write `2GiB` (powers of 1024) or `2GB`");
    auto gb = load(std::string(kHost) +
                   "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 2GB\n");
    ASSERT_FALSE(gb.diags.has_errors()) << all(gb);
    EXPECT_EQ(gb.state.vms[0].obj.get("memory"), "2000000000");
}

TEST(SpecLoad, NotInAllowedSet) {
    auto r = load(std::string(kHost) +
                  "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 64MiB\n"
                  "state: runing\ndisks:\n  - file: /x\n    cache: fast\n");
    EXPECT_DIAG(r, 10, 8,
                "`state` must be one of running, shutoff, paused; got `runing` (did "
                "you mean `running`?)");
    EXPECT_DIAG(r, 13, 12, "`cache` must be one of default, none");
    auto k = load("kind: VirtualMachin\nname: x\n");
    EXPECT_DIAG(k, 1, 7, "(did you mean `VirtualMachine`?)");
}

TEST(SpecLoad, MissingRequiredKeys) {
    auto r = load("kind: Host\nname: h\n---\nkind: Volume\nname: v\nhost: h\n---\nkind: "
                  "VirtualMachine\nname: x\n---\nname: y\n");
    EXPECT_DIAG(r, 1, 1, "missing required key `uri`");
    EXPECT_NE(all(r).find("t.yaml:4:1: error: missing required key `pool`"), std::string::npos)
        << all(r);
    EXPECT_NE(all(r).find("t.yaml:4:1: error: missing required key `capacity`"), std::string::npos);
    EXPECT_DIAG(r, 8, 1, "missing required key `host`");
    EXPECT_DIAG(r, 11, 1, "missing required key `kind`");
}

TEST(SpecLoad, DuplicateNames) {
    auto r = load(std::string(kHost) + "kind: Network\nname: n\nhost: local\n---\nkind: "
                                       "Network\nname: n\nhost: local\n");
    EXPECT_DIAG(r, 10, 7, "duplicate Network `n` on host `local` (first defined at t.yaml:6:7)");
}

TEST(SpecLoad, UnknownReferences) {
    auto r = load(std::string(kHost) +
                  "kind: VirtualMachine\nname: v\nhost: lokal\nvcpus: 1\nmemory: 64MiB\n---\n"
                  "kind: VirtualMachine\nname: w\nhost: local\nvcpus: 1\nmemory: 64MiB\n"
                  "clone_of: v\ndisks:\n  - volume: nope\n  - volume: x\n    pool: nopool\n"
                  "interfaces:\n  - network: nonet\n---\nkind: Snapshot\nname: s\nhost: local\n"
                  "vm: ghost\n");
    EXPECT_DIAG(r, 7, 7, "error: unknown host `lokal` (did you mean `local`?)");
    EXPECT_DIAG(r, 16, 11, "unknown template VM `v` on host `local`");
    EXPECT_DIAG(r, 18, 13, "error: unknown volume `nope` on host `local`");
    EXPECT_DIAG(r, 20, 11, "error: unknown pool `nopool` on host `local`");
    EXPECT_DIAG(r, 22, 14, "warning: network `nonet` is not defined");
    EXPECT_DIAG(r, 27, 5, "error: unknown VM `ghost` on host `local`");
}

TEST(SpecLoad, Conflicts) {
    auto r = load(std::string(kHost) +
                  "kind: VirtualMachine\nname: a\nhost: local\nvcpus: 1\nmemory: 64MiB\n"
                  "disks:\n  - file: /a\n    target: vdb\n  - file: /b\n    target: vdb\n"
                  "interfaces:\n  - network: n\n    mac: \"52:54:00:00:00:01\"\n---\n"
                  "kind: VirtualMachine\nname: b\nhost: local\nvcpus: 1\nmemory: 64MiB\n"
                  "interfaces:\n  - network: n\n    mac: \"52:54:00:00:00:01\"\n");
    EXPECT_DIAG(r, 14, 13, "two disks use target `vdb` (the other at t.yaml:12:13)");
    EXPECT_DIAG(r, 26, 10,
                "MAC address 52:54:00:00:00:01 is used twice on host `local`: also by "
                "VM `a` at t.yaml:17:10");
}

TEST(SpecLoad, UnsafeNames) {
    for (const char* bad : {"a<b", "a&b", "a/b", "a..b", "..", "a\"b", "a'b", "-a", "a b"}) {
        std::string why;
        EXPECT_FALSE(is_safe_name(bad, &why)) << bad;
        EXPECT_NE(why.find("A-Z a-z 0-9 . _ -"), std::string::npos) << why;
    }
    EXPECT_FALSE(is_safe_name(std::string(65, 'a')));
    EXPECT_FALSE(is_safe_name(std::string("a\x01", 2)));
    EXPECT_TRUE(is_safe_name("web-01.prod_x"));
    auto r = load("kind: Host\nname: \"a/../b\"\nuri: qemu:///system\n---\nkind: Host\nname: "
                  "\"x\\ty\"\nuri: qemu:///system\n");
    EXPECT_DIAG(r, 2, 7, "invalid name `a/../b`: the name contains a character `/`");
    EXPECT_DIAG(r, 6, 7, "control character \\x09");
}

TEST(SpecLoad, PasswordLiteralRefused) {
    auto r =
        load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\n"
                                  "memory: 64MiB\ngraphics:\n  - type: vnc\n    password: x\n");
    EXPECT_DIAG(r, 12, 5, "use `password_file: /path/to/file` or `password_env: VAR_NAME`");
}

TEST(SpecLoad, XmlEscapeHatch) {
    auto r = load(std::string(kHost) +
                  "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\nmemory: 64MiB\n"
                  "xml: <domain><features><vmcoreinfo2/></features></domain>\n"
                  "disks:\n  - file: /x\n    xml: \"<disk><iotune2/></disk>\"\n"
                  "other_devices:\n  - xml: \"<mystery foo='1'><x/></mystery>\"\n"
                  "  - xml: \"<audio id='1' type='none'/>\"\n");
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const Spec& vm = r.state.vms[0];
    EXPECT_EQ(vm.obj.extra_xml, "<domain><features><vmcoreinfo2/></features></domain>");
    EXPECT_EQ(child(vm, "disk")->extra_xml, "<disk><iotune2/></disk>");
    ASSERT_TRUE(child(vm, "other"));
    EXPECT_EQ(child(vm, "other")->extra_xml, "<mystery foo=\"1\"><x/></mystery>");
    // An element with a kind of its own is that kind, as written (no defaults added).
    EXPECT_EQ(child(vm, "other", 1), nullptr);
    const Object* audio = child(vm, "audio");
    ASSERT_TRUE(audio);
    EXPECT_EQ(audio->get("id"), "1");
    EXPECT_EQ(audio->get("type"), "none");
    EXPECT_EQ(audio->extra_xml, "");
    auto bad = load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\n"
                                         "memory: 64MiB\nother_devices:\n  - xml: \"<audio\"\n");
    EXPECT_DIAG(bad, 11, 10, "`xml` is not well-formed XML");
}

TEST(SpecLoad, AudioAndMemoryDevices) {
    auto r = load(std::string(kHost) + R"(kind: VirtualMachine
name: v
host: local
vcpus: 2
memory: 1GiB
audios:
  - id: 1
    type: pulseaudio
    server_name: pulse.example.org
    timer_period: 50
    input_mixing_engine: true
    output_fixed_settings: true
    output_frequency: 48000
    output_format: s16
memories:
  - model: virtio-mem
    target_size: 2GiB
    target_node: 0
    target_block: 2MiB
    target_requested: 1GiB
  - model: nvdimm
    access: shared
    source_path: /tmp/nvdimm
    source_pmem: true
    target_size: 512MiB
    target_label_size: 128KiB
)");
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const Spec& vm = r.state.vms[0];
    const Object* a = child(vm, "audio");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->get("id"), "1");
    EXPECT_EQ(a->get("type"), "pulseaudio");
    EXPECT_EQ(a->get("server_name"), "pulse.example.org");
    EXPECT_EQ(a->get("timer_period"), "50");
    EXPECT_EQ(a->get("input_mixing_engine"), "yes");
    EXPECT_EQ(a->get("output_fixed_settings"), "yes");
    EXPECT_EQ(a->get("output_frequency"), "48000");
    EXPECT_EQ(a->get("output_format"), "s16");
    const Object* m = child(vm, "memory");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->get("model"), "virtio-mem");
    EXPECT_EQ(m->get("target_size"), "2147483648"); // sizes are bytes in the model
    EXPECT_EQ(m->get("target_node"), "0");
    EXPECT_EQ(m->get("target_block"), "2097152");
    EXPECT_EQ(m->get("target_requested"), "1073741824");
    const Object* nv = child(vm, "memory", 1);
    ASSERT_TRUE(nv);
    EXPECT_EQ(nv->get("model"), "nvdimm");
    EXPECT_EQ(nv->get("access"), "shared");
    EXPECT_EQ(nv->get("source_path"), "/tmp/nvdimm");
    EXPECT_EQ(nv->get("source_pmem"), "yes");
    EXPECT_EQ(nv->get("target_label_size"), "131072");
    // Change classes as documented: only virtio-mem's requested size is live.
    EXPECT_EQ(m->kind->field("target_requested")->change, ChangeClass::Live);
    EXPECT_EQ(m->kind->field("target_size")->change, ChangeClass::NextBoot);
    EXPECT_EQ(m->kind->add_remove, ChangeClass::NextBoot);
    EXPECT_EQ(a->kind->add_remove, ChangeClass::NextBoot);
    // and the XML libvirt gets
    std::string xml = render_xml(vm.obj);
    for (const char* want :
         {"<audio id=\"1\" type=\"pulseaudio\" timerPeriod=\"50\" "
          "serverName=\"pulse.example.org\">",
          "<input mixingEngine=\"yes\"", "<settings frequency=\"48000\" format=\"s16\"",
          "<memory model=\"virtio-mem\">", "<size unit=\"KiB\">2097152</size>",
          "<requested unit=\"KiB\">1048576</requested>", "<block unit=\"KiB\">2048</block>",
          "<memory model=\"nvdimm\" access=\"shared\">", "<path>/tmp/nvdimm</path>", "<pmem />",
          "<label>", "<size unit=\"KiB\">128</size>"})
        EXPECT_NE(xml.find(want), std::string::npos) << want << "\nin\n" << xml;
    auto bad = load(std::string(kHost) + "kind: VirtualMachine\nname: v\nhost: local\nvcpus: 1\n"
                                         "memory: 64MiB\naudios:\n  - id: 1\n    type: mp3\n"
                                         "memories:\n  - model: dimm\n    target_size: lots\n");
    EXPECT_DIAG(bad, 12, 11, "`type` must be one of none, alsa");
    EXPECT_DIAG(bad, 15, 18, "`target_size`");
}

TEST(SpecLoad, NetworkIsolatedAndIps) {
    auto r = load(std::string(kHost) + R"(kind: Network
name: n
host: local
mode: isolated
ips:
  - address: 10.0.0.1
    prefix: 24
    dhcp_ranges:
      - start: 10.0.0.10
        end: 10.0.0.20
    hosts:
      - mac: "52:54:00:00:00:09"
        ip: 10.0.0.9
)");
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    const Spec& n = r.state.networks[0];
    EXPECT_FALSE(n.obj.has("mode"));
    EXPECT_EQ(n.obj.get("autostart"), "yes");
    ASSERT_EQ(n.obj.children.size(), 1u);
    const Object& ip = n.obj.children[0];
    EXPECT_EQ(ip.get("prefix"), "24");
    ASSERT_EQ(ip.children.size(), 2u);
    EXPECT_EQ(ip.children[0].kind->kind, "dhcp_range");
    EXPECT_EQ(ip.children[1].get("ip"), "10.0.0.9");
}
