// The generated VM specs of the convergence property test (convergence_test.cpp): every device
// kind of the spec format, each with a spread of the values the JSON Schema allows.
//
// Deterministic: an axis (one key and its candidate values) gives VM i the value
// values[(i + offset) % n], the offset drawn once per axis from a seeded std::mt19937 (whose
// sequence the standard fixes), so with at least as many VMs as the longest axis every value is
// used at least once, and the combinations differ between runs of different seeds only.
// Values libvirt 9.0 / QEMU 7.2 (x86_64, TCG) cannot define are left out where the axis is
// declared, with the reason.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace convergence {

struct Axis {
    std::string key;
    std::vector<std::string> values; // YAML scalars; "" = key left out
};

class Picker {
  public:
    explicit Picker(uint32_t seed) : rng_(seed) {}
    // The next value of `axis` of `kind`: its values in turn from an offset drawn on first use.
    std::string pick(const std::string& kind, const Axis& a) {
        const std::string id = kind + "." + a.key;
        auto [it, fresh] = state_.try_emplace(id, State{});
        if (fresh) {
            it->second.next = rng_() % a.values.size();
            for (const auto& v : a.values) declared_[id + "=" + v] += 0;
        }
        std::string v = a.values[it->second.next++ % a.values.size()];
        ++declared_[id + "=" + v];
        return v;
    }
    // Every value of every axis used so far ("kind.key=value") and how often it was picked.
    const std::map<std::string, int>& counts() const { return declared_; }
    uint32_t next_random() { return rng_(); }

  private:
    struct State {
        size_t next = 0;
    };
    std::mt19937 rng_;
    std::map<std::string, State> state_;
    std::map<std::string, int> declared_;
};

// One YAML list item: "  - k: v\n    k2: v2\n".
class Item {
  public:
    Item& set(const std::string& k, const std::string& v) {
        if (!v.empty()) kv_.emplace_back(k, v);
        return *this;
    }
    std::string yaml() const {
        std::string s;
        for (size_t j = 0; j < kv_.size(); ++j)
            s += (j == 0 ? "  - " : "    ") + kv_[j].first + ": " + kv_[j].second + "\n";
        return s;
    }
    bool empty() const { return kv_.empty(); }
    // This item's values of `keys` (those set) into `to`.
    void copy_to(Item& to, const std::vector<std::string>& keys) const {
        for (const auto& [k, v] : kv_)
            for (const auto& want : keys)
                if (k == want) to.set(k, v);
    }

  private:
    std::vector<std::pair<std::string, std::string>> kv_;
};

inline const std::vector<std::string> kBool = {"true", "false"};
inline const std::vector<std::string> kBoolOrUnset = {"true", "false", ""};

struct Generated {
    std::string name;
    std::string yaml;
};

// The VM specs for `count` VMs named `prefix`NN on host `host`.
inline std::vector<Generated> generate(const std::string& prefix, const std::string& host,
                                       size_t count, Picker& p) {
    std::vector<Generated> out;
    for (size_t i = 0; i < count; ++i) {
        char num[24];
        std::snprintf(num, sizeof num, "%02zu", i);
        const std::string name = prefix + num;
        const bool q35 = i % 2 == 1;
        auto pick = [&](const std::string& kind, const Axis& a) { return p.pick(kind, a); };
        std::string y = "kind: VirtualMachine\nname: " + name + "\nhost: " + host +
                        "\ndomain_type: qemu\nstate: shutoff\nmemory: 64MiB\nvcpus: " +
                        (i % 3 == 0 ? "2" : "1") + "\nmachine: " + (q35 ? "q35" : "pc") + "\n";
        // Domain keys.
        for (const Axis& a : std::vector<Axis>{
                 {"clock_offset",
                  {"utc", "localtime"}}, // timezone/variable/absolute need more keys
                 {"on_poweroff", {"destroy", "restart"}}, // QEMU refuses preserve, rename-restart
                 {"on_reboot", {"destroy", "restart"}},
                 {"on_crash", // QEMU refuses rename-restart
                  {"destroy", "restart", "preserve", "coredump-destroy", "coredump-restart"}},
                 {"cpu_mode", {"host-passthrough", "maximum", ""}},
                 {"bootmenu", kBoolOrUnset},
                 {"pm_suspend_to_mem", kBoolOrUnset},
                 {"pm_suspend_to_disk", kBoolOrUnset},
                 {"apic", kBoolOrUnset},
                 {"pae", kBoolOrUnset},
             }) {
            std::string v = pick("vm", a);
            // QEMU refuses on_poweroff restart with on_reboot destroy.
            if (a.key == "on_reboot" && v == "destroy" &&
                y.find("on_poweroff: restart") != std::string::npos)
                v = "restart";
            if (!v.empty()) y += a.key + ": " + v + "\n";
        }

        // disks: (device, bus) pairs QEMU has here. Left out: bus xen (Xen only), sd (ARM),
        // nvme (libvirt 9.0 has no nvme disk bus for QEMU), device lun (needs a SCSI block
        // device of the host); ide and fdc exist on pc only.
        {
            const std::string pair =
                q35 ? pick("disk", {"device_bus_q35",
                                    {"disk/virtio", "disk/scsi", "disk/sata", "disk/usb",
                                     "cdrom/sata", "cdrom/scsi", "cdrom/usb"}})
                    : pick("disk", {"device_bus_pc",
                                    {"disk/ide", "cdrom/ide", "floppy/fdc", "disk/sata",
                                     "cdrom/usb", "disk/scsi"}});
            const std::pair<std::string, std::string> db{pair.substr(0, pair.find('/')),
                                                         pair.substr(pair.find('/') + 1)};
            std::string disks;
            std::map<std::string, int> letters;
            auto target = [&](const std::string& bus) {
                std::string pre = bus == "virtio" ? "vd"
                                  : bus == "ide"  ? "hd"
                                  : bus == "fdc"  ? "fd"
                                                  : "sd";
                char l = static_cast<char>('a' + letters[pre]++);
                return pre + l;
            };
            // A plain virtio disk with the driver axes, then the (device, bus) one.
            std::string cache = pick(
                "disk", {"cache",
                         {"default", "none", "writethrough", "writeback", "directsync", "unsafe"}});
            std::string io = pick("disk", {"io", {"threads", "native", "io_uring", ""}});
            if (io == "native" && cache != "none" && cache != "directsync")
                cache = "none"; // QEMU: native needs O_DIRECT
            std::string discard = pick("disk", {"discard", {"unmap", "ignore", ""}});
            std::string dz = pick("disk", {"detect_zeroes", {"off", "on", "unmap", ""}});
            if (dz == "unmap" && discard != "unmap")
                discard = "unmap"; // libvirt: unmap needs discard=unmap
            // libvirt allows a shareable disk only in raw format.
            std::string shareable = pick("disk", {"shareable", kBoolOrUnset});
            std::string fmt =
                shareable == "true" ? "raw" : pick("disk", {"format", {"qcow2", "raw"}});
            Item d;
            d.set("type", "file")
                .set("file", "/var/lib/libvirt/images/" + name + "-a." + fmt)
                .set("format", fmt)
                .set("target", target("virtio"))
                .set("bus", "virtio")
                .set("cache", cache)
                .set("io", io)
                .set("discard", discard)
                .set("detect_zeroes", dz)
                .set("readonly", pick("disk", {"readonly", kBoolOrUnset}))
                .set("shareable", shareable)
                .set("copy_on_read", pick("disk", {"copy_on_read", kBoolOrUnset}))
                .set("queues", pick("disk", {"queues", {"1", "2", "4", ""}}))
                .set("serial",
                     pick("disk", {"serial", kBool}) == "true" ? "SN" + std::string(num) : "")
                .set("boot_order", pick("disk", {"boot_order", {"1", ""}}));
            disks += d.yaml();
            Item e;
            e.set("type", "file")
                .set("device", db.first)
                .set("file", db.first == "disk" ? "/var/lib/libvirt/images/" + name + "-b.raw" : "")
                .set("format", "raw")
                .set("target", target(db.second))
                .set("bus", db.second);
            if (db.first == "cdrom") e.set("tray", pick("disk", {"tray", {"open", "closed", ""}}));
            if (db.second == "usb") e.set("removable", pick("disk", {"removable", kBoolOrUnset}));
            if (db.first == "disk" && db.second == "scsi")
                e.set("rotation_rate", pick("disk", {"rotation_rate", {"1", "7200", ""}}));
            disks += e.yaml();
            y += "disks:\n" + disks;
        }

        // interfaces. Left out: network (needs a Network spec; one is not worth a bridge here),
        // hostdev/vdpa (host hardware), vhostuser (a vhost-user backend), null/internal (not
        // QEMU types).
        {
            std::string type = pick("interface", {"type",
                                                  {"user", "bridge", "ethernet", "direct", "mcast",
                                                   "server", "client", "udp"}});
            std::string model =
                pick("interface", {"model", {"virtio", "e1000", "rtl8139", "e1000e"}});
            Item n;
            char mac[48];
            std::snprintf(mac, sizeof mac, "\"52:54:00:c0:%02zx:01\"", i);
            n.set("type", type).set("mac", mac).set("model", model);
            if (type == "bridge") n.set("bridge", "vmrconvbr0");
            if (type == "direct")
                n.set("source_dev", "lo")
                    .set("source_mode",
                         pick("interface",
                              {"source_mode", {"vepa", "bridge", "private", "passthrough"}}));
            if (type == "mcast" || type == "udp")
                n.set("source_address", "230.0.0.1").set("source_port", "5558");
            if (type == "server") n.set("source_address", "127.0.0.1").set("source_port", "5559");
            if (type == "client") n.set("source_address", "127.0.0.1").set("source_port", "5560");
            if (type == "udp")
                n.set("source_local_address", "127.0.0.1").set("source_local_port", "5561");
            n.set("link_state", pick("interface", {"link_state", {"up", "down", ""}}));
            if (model == "virtio" && (type == "bridge" || type == "ethernet" || type == "direct"))
                n.set("queues", pick("interface", {"queues", {"1", "2", ""}}));
            if (model == "virtio" && (type == "bridge" || type == "ethernet"))
                n.set("mtu", pick("interface", {"mtu", {"1500", "9000", ""}}));
            y += "interfaces:\n" + n.yaml();
        }

        // controllers. Left out: xenbus (Xen), isa (not an x86 QEMU controller), nvme
        // (libvirt 9.0 has none for QEMU); ide and fdc are the machine's own.
        {
            std::string t = pick("controller",
                                 {"type", {"usb", "scsi", "virtio-serial", "sata", "ccid", "pci"}});
            Item c;
            c.set("type", t);
            if (t == "usb")
                c.set("index", "0")
                    .set("model", pick("controller",
                                       {"usb_model",
                                        {"qemu-xhci", "piix3-uhci", "nec-xhci", "ich9-ehci1"}}));
            if (t == "scsi")
                c.set("index", "0")
                    .set("model", pick("controller", {"scsi_model", {"virtio-scsi", "lsilogic"}}));
            if (t == "virtio-serial")
                c.set("index", "0").set("ports", pick("controller", {"ports", {"16", "31", ""}}));
            if (t == "sata") c.set("index", q35 ? "1" : "0");
            if (t == "ccid") c.set("index", "0");
            if (t == "pci") c.set("index", "1").set("model", q35 ? "pcie-root-port" : "pci-bridge");
            y += "controllers:\n" + c.yaml();
        }

        // inputs. Left out: passthrough/evdev (need a host input device), bus xen (Xen),
        // bus none.
        {
            std::string t = pick("input", {"type", {"mouse", "tablet", "keyboard"}});
            std::vector<std::string> buses = t == "tablet"
                                                 ? std::vector<std::string>{"usb", "virtio"}
                                                 : std::vector<std::string>{"usb", "virtio", "ps2"};
            std::string bus = pick("input", {t == "tablet" ? "tablet_bus" : "bus", buses});
            Item in;
            in.set("type", t).set("bus", bus);
            y += "inputs:\n" + in.yaml();
        }

        // graphics. Left out: rdp (libvirt 9.0 has no QEMU rdp), desktop (VirtualBox), sdl
        // (needs a display to define with), egl-headless alone (needs a render node).
        {
            std::string t = pick("graphics", {"type", {"vnc", "spice", "dbus"}});
            Item g;
            g.set("type", t);
            if (t == "vnc" || t == "spice") {
                std::string lt =
                    pick("graphics", {"listen_type", {"address", "none", "socket", ""}});
                if (lt == "socket" && t == "spice") lt = "address";
                g.set("listen_type", lt);
                if (lt == "address" || lt.empty()) {
                    std::string autoport = pick("graphics", {"autoport", {"true", ""}});
                    std::string listen = pick("graphics", {"listen", {"127.0.0.1", "0.0.0.0", ""}});
                    // spice keeps a listen address only with a port (validation refuses it).
                    if (t == "spice" && (!listen.empty() || lt == "address")) autoport = "true";
                    g.set("autoport", autoport).set("listen", listen);
                }
                if (lt == "socket") g.set("listen_socket", "/run/libvirt/qemu/" + name + ".vnc");
                if (t == "vnc") {
                    g.set("keymap", pick("graphics", {"keymap", {"en-us", "de", ""}}));
                    g.set("share_policy",
                          pick("graphics", {"share_policy",
                                            {"allow-exclusive", "force-shared", "ignore", ""}}));
                }
                if (t == "spice") {
                    g.set("image_compression",
                          pick("graphics", {"image_compression", {"auto_glz", "off", "quic", ""}}));
                    g.set("playback_compression",
                          pick("graphics", {"playback_compression", kBoolOrUnset}));
                    g.set("clipboard_copypaste",
                          pick("graphics", {"clipboard_copypaste", kBoolOrUnset}));
                }
            }
            y += "graphics:\n" + g.yaml();
        }

        // videos. Left out: xen, vbox, gop (other hypervisors or firmware only).
        {
            std::string m = pick(
                "video",
                {"model", {"vga", "cirrus", "vmvga", "qxl", "virtio", "bochs", "ramfb", "none"}});
            Item v;
            v.set("model", m);
            if (m == "qxl")
                v.set("vram", "65536").set("ram", "65536").set("vgamem", "16384").set("heads", "1");
            if (m == "virtio") v.set("heads", pick("video", {"heads", {"1", "2"}}));
            if (m == "vga") v.set("vram", "16384");
            y += "videos:\n" + v.yaml();
        }

        // sounds. Left out: ics2000 (no QEMU device), virtio (libvirt 9.0 has no virtio sound).
        {
            std::string m =
                pick("sound",
                     {"model", {"sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb"}});
            if (m == "ich7" && q35) m = "ich9"; // ich7 is a conventional PCI device: no slot on q35
            y += "sounds:\n" + Item().set("model", m).yaml();
        }

        // audios: backends QEMU 7.2 here has. Left out: coreaudio (macOS), pipewire
        // (libvirt 9.0 has none), dbus (needs graphics dbus).
        {
            std::string t = pick(
                "audio",
                {"type", {"none", "file", "spice", "pulseaudio", "alsa", "sdl", "oss", "jack"}});
            Item a;
            a.set("id", "1").set("type", t);
            if (t == "file") a.set("path", "/tmp/" + name + ".wav");
            y += "audios:\n" + a.yaml();
        }

        // tpms: the emulator (swtpm). Left out: tpm-spapr/spapr-tpm-proxy (ppc64), passthrough
        // (a host TPM), external (an swtpm socket). tpm-crb exists only for 2.0.
        if (i % 3 == 0) {
            std::string m = pick("tpm", {"model", {"tpm-tis", "tpm-crb"}});
            std::string ver = m == "tpm-crb" ? "2.0" : pick("tpm", {"version", {"1.2", "2.0"}});
            y += "tpms:\n" +
                 Item().set("model", m).set("backend", "emulator").set("version", ver).yaml();
        }

        // watchdogs. Left out: diag288 (s390), itco (libvirt 9.0 lacks it).
        {
            std::string m = pick("watchdog", {"model", {"i6300esb", "ib700"}});
            std::string a =
                pick("watchdog",
                     {"action",
                      {"reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"}});
            y += "watchdogs:\n" + Item().set("model", m).set("action", a).yaml();
        }

        // serials, consoles, parallels, channels: the character device backends.
        // Left out: nmdm (FreeBSD), stdio (QEMU's own stdio; libvirt refuses it for system
        // guests), dev (a host tty), spicevmc on a serial/parallel (channels only).
        {
            std::string t = pick("serial", {"type",
                                            {"pty", "file", "null", "unix", "tcp", "udp", "pipe",
                                             "vc", "spiceport", "dbus", "qemu-vdagent"}});
            if (t == "qemu-vdagent" || t == "dbus") t = "pty"; // channel-only backends (below)
            Item s;
            s.set("type", t);
            if (t == "file")
                s.set("source_path", "/tmp/" + name + ".serial")
                    .set("source_append", pick("serial", {"source_append", kBoolOrUnset}));
            if (t == "unix")
                s.set("source_mode", "bind").set("source_path", "/tmp/" + name + ".sock");
            if (t == "pipe") s.set("source_path", "/tmp/" + name + ".pipe");
            if (t == "tcp")
                s.set("source_mode", "bind")
                    .set("source_host", "127.0.0.1")
                    .set("source_service", "4" + std::string(num) + "1")
                    .set("protocol", pick("serial", {"protocol", {"raw", "telnet", ""}}));
            if (t == "udp")
                s.set("source_host", "127.0.0.1")
                    .set("source_service", "4" + std::string(num) + "2");
            if (t == "spiceport") s.set("source_channel", "org.qemu.console.serial.0");
            std::string tt =
                pick("serial", {"target_type", {"isa-serial", "usb-serial", "pci-serial", ""}});
            s.set("target_type", tt);
            if (pick("serial", {"log_file", kBool}) == "true")
                s.set("log_file", "/tmp/" + name + ".log");
            y += "serials:\n" + s.yaml();

            // One console of a spread of targets: serial (the serial port above), virtio.
            // A serial console is libvirt's view of the first serial port: it has that port's
            // type and source (anything else is refused by validation).
            std::string ct = pick("console", {"target_type", {"serial", "virtio", ""}});
            Item con;
            if (ct == "virtio")
                con.set("type", pick("console", {"type", {"pty", "file", "unix", "null"}}));
            else
                s.copy_to(con, {"type", "source_path", "source_mode", "source_host",
                                "source_service", "source_channel"});
            if (con.yaml().find("type: file") != std::string::npos && ct == "virtio")
                con.set("source_path", "/tmp/" + name + ".console");
            if (con.yaml().find("type: unix") != std::string::npos && ct == "virtio")
                con.set("source_mode", "bind").set("source_path", "/tmp/" + name + ".console.sock");
            con.set("target_type", ct);
            // A second console (virtio) after the serial one (libvirt refuses a serial console
            // that is not the first; validation says so).
            std::string second;
            if (ct != "virtio" && i % 3 == 2)
                second = Item().set("type", "pty").set("target_type", "virtio").yaml();
            y += "consoles:\n" + con.yaml() + second;
        }
        if (!q35) {
            std::string t = pick("parallel", {"type", {"pty", "file", "null", "unix"}});
            Item pa;
            pa.set("type", t);
            if (t == "file") pa.set("source_path", "/tmp/" + name + ".lpt");
            if (t == "unix")
                pa.set("source_mode", "bind").set("source_path", "/tmp/" + name + ".lpt.sock");
            y += "parallels:\n" + pa.yaml();
        }
        {
            std::string t =
                pick("channel", {"type", {"unix", "pty", "spicevmc", "qemu-vdagent", "dbus"}});
            Item ch;
            ch.set("type", t).set("target_type", "virtio");
            if (t == "unix")
                ch.set("source_mode", "bind").set("target_name", "org.qemu.guest_agent.0");
            if (t == "pty") ch.set("target_name", "org.example.pty.0");
            if (t == "spicevmc") ch.set("target_name", "com.redhat.spice.0");
            if (t == "qemu-vdagent")
                ch.set("target_name", "com.redhat.spice.0")
                    .set("source_clipboard_copypaste",
                         pick("channel", {"source_clipboard_copypaste", kBoolOrUnset}));
            if (t == "dbus")
                ch.set("source_channel", "org.qemu.test").set("target_name", "org.qemu.test");
            y += "channels:\n" + ch.yaml();
        }

        // filesystems: 9p with every access mode; virtiofs needs shared memory (not generated).
        {
            std::string am =
                pick("filesystem", {"accessmode", {"passthrough", "mapped", "squash"}});
            y += "filesystems:\n" +
                 Item()
                     .set("type", "mount")
                     .set("accessmode", am)
                     .set("driver", pick("filesystem", {"driver", {"path", ""}}))
                     .set("source_dir", "/tmp")
                     .set("target_dir", "tag" + std::string(num))
                     .set("readonly", pick("filesystem", {"readonly", kBoolOrUnset}))
                     .yaml();
        }

        // smartcards: passthrough over spicevmc. Left out: host, host-certificates (need the
        // host's NSS database).
        if (i % 4 == 1)
            y += "smartcards:\n" + Item().set("mode", "passthrough").set("type", "spicevmc").yaml();

        // redirdevs: USB redirection over spicevmc or tcp.
        if (i % 4 == 2) {
            std::string t = pick("redirdev", {"type", {"spicevmc", "tcp"}});
            Item r;
            r.set("bus", "usb").set("type", t);
            if (t == "tcp")
                r.set("source_mode", "connect")
                    .set("source_host", "127.0.0.1")
                    .set("source_service", "4" + std::string(num) + "3");
            y += "redirdevs:\n" + r.yaml();
        }

        // rngs: every model and backend.
        {
            std::string m = pick(
                "rng", {"model", {"virtio", "virtio-transitional", "virtio-non-transitional"}});
            std::string b = pick("rng", {"backend_model", {"random", "builtin", "egd"}});
            Item r;
            r.set("model", m).set("backend_model", b);
            if (b == "random") r.set("backend", "/dev/urandom");
            if (b == "egd")
                r.set("backend_type", "tcp")
                    .set("backend_source_mode", "connect")
                    .set("backend_source_host", "127.0.0.1")
                    .set("backend_source_service", "708");
            r.set("rate_bytes", pick("rng", {"rate_bytes", {"1024", ""}}));
            y += "rngs:\n" + r.yaml();
        }

        // panics. Left out: pseries (ppc64), s390, hyperv (needs Hyper-V enlightenments),
        // pvpanic (libvirt 9.0 has only the ISA one for x86).
        if (!q35 || i % 4 == 1) y += "panics:\n" + Item().set("model", "isa").yaml();

        // vsocks.
        if (i % 5 == 0) y += "vsocks:\n" + Item().set("cid_auto", "true").yaml();

        // memballoons: every model, autodeflate both ways.
        {
            std::string m = pick(
                "memballoon",
                {"model", {"virtio", "virtio-transitional", "virtio-non-transitional", "none"}});
            Item mb;
            mb.set("model", m);
            if (m != "none")
                mb.set("autodeflate", pick("memballoon", {"autodeflate", kBoolOrUnset}))
                    .set("stats_period", pick("memballoon", {"stats_period", {"10", ""}}));
            y += "memballoons:\n" + mb.yaml();
        }

        // shmems: ivshmem-plain.
        if (i % 4 == 3)
            y += "shmems:\n" +
                 Item().set("name", name + "-shm").set("model", "ivshmem-plain").yaml();

        // iommus: intel on q35 (smmuv3 is ARM), virtio on both.
        if (i % 4 == 3) {
            std::string m = pick("iommu", {"model", {"intel", "virtio"}});
            y += "iommus:\n" + Item().set("model", m).yaml();
        }

        // memories: DIMMs (they need a NUMA cell and max_memory: the <memory> of such a VM is
        // the cell plus the DIMM). Left out: nvdimm/virtio-pmem (a backing file), virtio-mem
        // (memory backends beyond this test), sgx-epc (SGX hardware).
        if (i % 6 == 5) {
            const size_t at = y.find("memory: 64MiB\n");
            y.replace(at, 14,
                      "memory: 192MiB\nmax_memory: 1GiB\nmax_memory_slots: 4\n"
                      "xml: \"<domain><cpu><numa><cell id='0' cpus='0' memory='65536' "
                      "unit='KiB'/></numa></cpu></domain>\"\n");
            if (y.find("vcpus: 2") != std::string::npos)
                y.replace(y.find("vcpus: 2"), 8, "vcpus: 1");
            y += "memories:\n" +
                 Item()
                     .set("model", "dimm")
                     .set("target_size", "128MiB")
                     .set("target_node", "0")
                     .set("access", pick("memory", {"access", {"shared", "private", ""}}))
                     .set("discard", pick("memory", {"discard", kBoolOrUnset}))
                     .yaml();
        }
        // hostdevs: not generated; every type needs a device of the host (PCI, USB, SCSI,
        // mdev), which this test machine does not have to give.
        // spicevmc/spiceport devices and the spice audio backend need spice graphics.
        bool spice_graphics = y.find("graphics:\n  - type: spice") != std::string::npos;
        if (!spice_graphics && (y.find("type: spicevmc") != std::string::npos ||
                                y.find("type: spiceport") != std::string::npos ||
                                y.find("    type: spice\n") != std::string::npos)) {
            size_t at = y.find("videos:\n");
            y.insert(at, "  - type: spice\n    autoport: true\n");
        }
        out.push_back({name, y});
    }
    return out;
}

} // namespace convergence
