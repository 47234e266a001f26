// The change-kind matrix on the real libvirtd (issue 5): for each row, a running VM with the
// base spec gets one edit; `plan --json` must classify the field as expected, `apply` must do
// what the class promises, checked on libvirt itself:
//   live       -> same domain id, new value in the live XML and in the inactive XML;
//   next-boot, restart -> (restart_policy: allowed) a new domain id, new value live and
//                 inactive (the VM is restarted so that nothing stays pending);
//                 (restart_policy: never) same id, inactive new, live unchanged, note "pending",
//                 and the plan after the apply has nothing to apply but exactly the row's
//                 fields pending (--detailed-exitcode 2, docs/pending.md).
// After every apply `plan --detailed-exitcode` exits 0 (the law) unless something is pending
// by design. One VM serves all rows; the base spec is re-applied between rows (which clears
// what was pending without a restart: the running VM still has the base values). TCG, no guest OS:
// ACPI shutdown is ignored (force_stop after 1 s), PCI hot-unplug never completes (so removals use
// USB devices, and taking a hot-plugged PCI device out again fails, the device still attached,
// until the VM is restarted), the balloon takes a target but the guest never gives memory back (the
// row says so).
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "mx_util.hpp"
#include "virtumancer/planner.hpp"

namespace {

using namespace mx_e2e;

const std::string kVm = "vmr-e2e-mx-vm";
const std::string kPool = "vmr-e2e-mx-pool";
const std::string kNet = "vmr-e2e-mx-net";

struct Disk {
    std::string target, volume, bus, cache;
};
struct Nic {
    std::string mac, model, link;
};

struct VmSpec {
    std::string memory = "64MiB", current_memory = "64MiB";
    int vcpus = 3, vcpus_current = 2;
    std::string description = "base", machine = "pc", cpu_model = "qemu64", boot = "[hd]";
    std::string restart_policy = "allowed", video = "vga", watchdog;
    bool tpm = false;
    std::vector<Disk> disks = {{"vda", "vmr-e2e-mx-root.qcow2", "virtio", "writeback"},
                               {"sda", "vmr-e2e-mx-usb1.qcow2", "usb", ""}};
    std::vector<Nic> nics = {{"52:54:00:6d:00:01", "virtio", ""},
                             {"52:54:00:6d:00:02", "usb-net", ""}};
};

std::string infra_yaml() {
    std::string y =
        "kind: Host\nname: local\nuri: qemu:///system\n---\nkind: StoragePool\nname: " + kPool +
        "\nhost: local\ntype: dir\npath: " + kPoolDir + "\n";
    for (const char* v : {"root", "usb1", "usb2", "vdb"})
        y += "---\nkind: Volume\nname: vmr-e2e-mx-" + std::string(v) +
             ".qcow2\nhost: local\npool: " + kPool + "\ncapacity: 8MiB\nformat: qcow2\n";
    y += "---\nkind: Network\nname: " + kNet + "\nhost: local\nmode: isolated\n";
    return y;
}

std::string vm_yaml(const VmSpec& s) {
    std::string y = "kind: VirtualMachine\nname: " + kVm +
                    "\nhost: local\ndomain_type: qemu\nacpi: true\nmachine: " + s.machine +
                    "\nmemory: " + s.memory + "\n";
    if (!s.current_memory.empty()) y += "current_memory: " + s.current_memory + "\n";
    y += "vcpus: " + std::to_string(s.vcpus) +
         "\nvcpus_current: " + std::to_string(s.vcpus_current) + "\ndescription: " + s.description +
         "\ncpu_mode: custom\ncpu_model: " + s.cpu_model + "\nboot: " + s.boot +
         "\nstate: running\nforce_stop: true\nshutdown_timeout: 1\nrestart_policy: " +
         s.restart_policy + "\ndisks:\n";
    for (const auto& d : s.disks) {
        y += "  - pool: " + kPool + "\n    volume: " + d.volume + "\n    target: " + d.target +
             "\n    bus: " + d.bus + "\n";
        if (!d.cache.empty()) y += "    cache: " + d.cache + "\n";
    }
    y += "interfaces:\n";
    for (const auto& n : s.nics) {
        y += "  - network: " + kNet + "\n    mac: \"" + n.mac + "\"\n    model: " + n.model + "\n";
        if (!n.link.empty()) y += "    link_state: " + n.link + "\n";
        // libvirt 9.0 cannot place a usb-net NIC by itself in a persistent definition
        // ("Cannot automatically add a new PCI bus"): give it its USB port.
        if (n.model == "usb-net")
            y += "    address_type: usb\n    address_bus: \"0\"\n    address_port: \"4\"\n";
    }
    y += "videos:\n  - model: " + s.video + "\n";
    // USB disks and a usb-net NIC at once: more ports than piix3-uhci's two.
    y += "controllers:\n  - type: usb\n    index: 0\n    model: qemu-xhci\n    ports: 8\n";
    if (s.tpm) y += "tpms:\n  - model: tpm-tis\n    backend: emulator\n    version: \"2.0\"\n";
    if (!s.watchdog.empty()) y += "watchdogs:\n  - model: " + s.watchdog + "\n    action: reset\n";
    return y;
}

using Probe = std::function<std::string(const std::string& xml)>;

Probe xp(const std::string& path) {
    return [path](const std::string& xml) { return xpath(xml, path); };
}

// <vcpu current='N'>M</vcpu>: libvirt drops `current` when it equals the maximum.
std::string vcpus_online(const std::string& xml) {
    std::string cur = xpath(xml, "/domain/vcpu/@current");
    return cur.empty() ? xpath(xml, "/domain/vcpu") : cur;
}

std::string disk_path(const std::string& target, const std::string& rest) {
    return "/domain/devices/disk[target/@dev='" + target + "']" + rest;
}
std::string nic_path(const std::string& mac, const std::string& rest) {
    return "/domain/devices/interface[mac/@address='" + mac + "']" + rest;
}

struct Row {
    std::string name;
    std::function<void(VmSpec&)> edit;
    std::string field; // the plan diff to look at
    std::string cls;   // live | next-boot | restart
    Probe probe;
    std::string want;
    bool balloon = false; // live, but the live XML cannot show it without a guest driver
    // restart_policy never: the fields `plan` lists as pending after the apply; then, when
    // restart_pending, `apply --restart-pending` must restart the VM and leave the plan empty.
    std::vector<std::string> pending = {};
    bool restart_pending = false;
};

void no_restart(VmSpec& s) {
    s.restart_policy = "never";
}

std::vector<Row> rows() {
    const std::string m1 = "52:54:00:6d:00:01", m2 = "52:54:00:6d:00:02", m3 = "52:54:00:6d:00:03";
    return {
        {"description",
         [](VmSpec& s) {
             s.description = "edited";
             no_restart(s);
         },
         "description",
         "next-boot",
         xp("/domain/description"),
         "edited",
         false,
         {"description"}},
        {"current_memory_balloon", [](VmSpec& s) { s.current_memory = "48MiB"; }, "current_memory",
         "live", xp("/domain/currentMemory"), "49152", true},
        {"vcpus_current_up", [](VmSpec& s) { s.vcpus_current = 3; }, "vcpus_current", "live",
         vcpus_online, "3"},
        {"vcpus_current_down",
         [](VmSpec& s) {
             s.vcpus_current = 1;
             no_restart(s);
         },
         "vcpus_current",
         "next-boot",
         vcpus_online,
         "1",
         false,
         {"vcpus_current"}},
        {"vcpus_current_down_allowed", [](VmSpec& s) { s.vcpus_current = 1; }, "vcpus_current",
         "next-boot", vcpus_online, "1"},
        {"vcpus_max_up", [](VmSpec& s) { s.vcpus = 4; }, "vcpus", "restart", xp("/domain/vcpu"),
         "4"},
        {"add_disk_virtio",
         [](VmSpec& s) {
             s.disks.push_back({"vdb", "vmr-e2e-mx-vdb.qcow2", "virtio", ""});
         },
         "disk[vdb]", "live", xp(disk_path("vdb", "/target/@dev")), "vdb"},
        {"add_disk_usb",
         [](VmSpec& s) {
             s.disks.push_back({"sdb", "vmr-e2e-mx-usb2.qcow2", "usb", ""});
         },
         "disk[sdb]", "live", xp(disk_path("sdb", "/target/@dev")), "sdb"},
        {"remove_disk_usb", [](VmSpec& s) { s.disks.pop_back(); }, "disk[sda]", "live",
         xp(disk_path("sda", "/target/@dev")), ""},
        {"disk_cache",
         [](VmSpec& s) {
             s.disks[0].cache = "none";
             no_restart(s);
         },
         "disk[vda].cache",
         "next-boot",
         xp(disk_path("vda", "/driver/@cache")),
         "none",
         false,
         {"disk[vda].cache"}},
        {"add_nic_virtio",
         [m3](VmSpec& s) {
             s.nics.push_back({m3, "virtio", ""});
         },
         "interface[" + m3 + "]", "live", xp(nic_path(m3, "/mac/@address")), m3},
        {"remove_nic_usb_net", [](VmSpec& s) { s.nics.pop_back(); }, "interface[" + m2 + "]",
         "live", xp(nic_path(m2, "/mac/@address")), ""},
        {"nic_model", [](VmSpec& s) { s.nics[0].model = "e1000"; }, "interface[" + m1 + "].model",
         "next-boot", xp(nic_path(m1, "/model/@type")), "e1000"},
        {"nic_link_down", [](VmSpec& s) { s.nics[0].link = "down"; },
         "interface[" + m1 + "].link_state", "live", xp(nic_path(m1, "/link/@state")), "down"},
        {"video_model", [](VmSpec& s) { s.video = "cirrus"; }, "video[0].model", "next-boot",
         xp("/domain/devices/video/model/@type"), "cirrus"},
        {"add_tpm", [](VmSpec& s) { s.tpm = true; }, "tpm[0]", "next-boot",
         xp("/domain/devices/tpm/@model"), "tpm-tis"},
        {"add_watchdog_i6300esb", [](VmSpec& s) { s.watchdog = "i6300esb"; }, "watchdog[0]", "live",
         xp("/domain/devices/watchdog/@model"), "i6300esb"},
        {"boot_order", [](VmSpec& s) { s.boot = "[cdrom, hd]"; }, "boot", "next-boot",
         xp("/domain/os/boot[1]/@dev"), "cdrom"},
        {"memory_up",
         [](VmSpec& s) {
             s.memory = "80MiB";
             s.current_memory = "80MiB";
         },
         "memory", "restart", xp("/domain/memory"), "81920"},
        {"memory_down",
         [](VmSpec& s) {
             s.memory = "48MiB";
             s.current_memory = "48MiB";
         },
         "memory", "restart", xp("/domain/memory"), "49152"},
        // The case: 64 -> 96 MiB, never restarted: pending until the maintenance
        // window's `apply --restart-pending`.
        {"memory_up_restart_never",
         [](VmSpec& s) {
             s.memory = "96MiB";
             s.current_memory = "96MiB";
             no_restart(s);
         },
         "memory",
         "restart",
         xp("/domain/memory"),
         "98304",
         false,
         {"memory"},
         true},
        {"cpu_model", [](VmSpec& s) { s.cpu_model = "core2duo"; }, "cpu_model", "restart",
         xp("/domain/cpu/model"), "core2duo"},
        // Last: the VM stays q35 (no revert to pc; its devices then sit on PCIe root ports).
        {"machine_q35", [](VmSpec& s) { s.machine = "q35"; }, "machine", "restart",
         [](const std::string& xml) { return xpath(xml, "/domain/os/type/@machine").substr(0, 6); },
         "pc-q35"},
    };
}

// The fields of the VM's entry in a plan JSON's `pending` ("diffs" or "after_apply").
std::vector<std::string> pending_fields(const nlohmann::json& plan, const std::string& part) {
    std::vector<std::string> out;
    for (const auto& c : plan.value("pending", nlohmann::json::array())) {
        if (c.value("name", "") != kVm) continue;
        for (const auto& d : c.value(part, nlohmann::json::array()))
            out.push_back(d.value("field", ""));
    }
    return out;
}

class PlanMatrix : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        cleanup_all();
        db_ = dir_.file("v.db");
        dir_.write("specs/infra.yaml", infra_yaml());
    }
    void TearDown() override { cleanup_all(); }

    CliRun apply(const VmSpec& s) {
        dir_.write("specs/vm.yaml", vm_yaml(s));
        return vm(db_, "apply --auto-approve " + quote(dir_.file("specs")));
    }
    void expect_law(const std::string& when) {
        CliRun p = vm(db_, "plan --detailed-exitcode");
        EXPECT_EQ(p.code, 0) << "plan after " << when << " is not empty:\n" << p.out << p.err;
    }
    // Nothing to apply, exactly `fields` pending on the VM: plan (text, --json,
    // --detailed-exitcode) and drift (--json, status pending) say so.
    void expect_pending(const std::vector<std::string>& fields, const std::string& when) {
        CliRun t = vm(db_, "plan --detailed-exitcode");
        EXPECT_EQ(t.code, 2) << "plan after " << when << ":\n" << t.out << t.err;
        EXPECT_FALSE(apply_e2e::contains(t.out, "The hosts match the specs")) << t.out;
        EXPECT_TRUE(apply_e2e::contains(t.out, "1 running VM with pending changes")) << t.out;
        for (const auto& f : fields)
            EXPECT_TRUE(apply_e2e::contains(t.out, "~ " + f + ": ")) << f << "\n" << t.out;
        CliRun j = vm(db_, "plan --json");
        auto plan = parse_json(j.out);
        ASSERT_FALSE(plan.is_discarded()) << j.out;
        EXPECT_TRUE(plan.value("changes", nlohmann::json::array()).empty()) << j.out;
        std::vector<std::string> want = fields, got = pending_fields(plan, "diffs");
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        EXPECT_EQ(got, want) << j.out;
        CliRun d = vm(db_, "drift --json");
        EXPECT_EQ(d.code, 2) << d.out << d.err;
        auto drift = parse_json(d.out);
        ASSERT_FALSE(drift.is_discarded()) << d.out;
        bool found = false;
        for (const auto& o : drift.value("objects", nlohmann::json::array())) {
            if (o.value("kind", "") != "vm" || o.value("name", "") != kVm) continue;
            found = true;
            EXPECT_EQ(o.value("status", ""), "pending") << o.dump(2);
            std::vector<std::string> got;
            for (const auto& df : o.value("pending", nlohmann::json::array()))
                got.push_back(df.value("field", ""));
            std::sort(got.begin(), got.end());
            EXPECT_EQ(got, want) << o.dump(2);
        }
        EXPECT_TRUE(found) << d.out;
        std::string st =
            apply_e2e::sh("sqlite3 " + quote(db_) +
                          " \"SELECT sync_status FROM virtual_machines WHERE name='" + kVm + "'\"")
                .out;
        EXPECT_TRUE(apply_e2e::contains(st, "pending_restart")) << st;
    }

    apply_e2e::TempDir dir_;
    std::string db_;
};

TEST_F(PlanMatrix, EveryChangeKindDoesWhatItsClassSays) {
    auto t0 = std::chrono::steady_clock::now();
    const VmSpec base;
    CliRun r = apply(base);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    ASSERT_TRUE(apply_e2e::contains(virsh("domstate " + kVm), "running"));
    expect_law("creating the base VM");
    std::vector<std::string> report;
    // Rows that hot-plug a PCI device, and how its failed removal names it.
    const std::map<std::string, std::string> pci_added = {
        {"add_disk_virtio", "disk (target vdb"},
        {"add_nic_virtio", "interface (MAC 52:54:00:6d:00:03"},
        {"add_watchdog_i6300esb", "watchdog (model i6300esb"}};
    auto all = rows();
    ASSERT_GE(all.size(), 15u);
    for (size_t i = 0; i < all.size(); ++i) {
        const Row& row = all[i];
        SCOPED_TRACE("row " + row.name);
        VmSpec s = base;
        row.edit(s);
        std::string id0 = domid(kVm), live0 = row.probe(live_xml(kVm));
        ASSERT_NE(id0, "-\n") << "the VM is not running before the row";
        ASSERT_NE(row.probe(inactive_xml(kVm)), row.want) << "the row changes nothing";

        // 1. The plan classifies the field as expected.
        dir_.write("specs/vm.yaml", vm_yaml(s));
        CliRun p = vm(db_, "plan --json " + quote(dir_.file("specs")));
        ASSERT_EQ(p.code, 0) << p.out << p.err;
        auto plan = parse_json(p.out);
        ASSERT_FALSE(plan.is_discarded()) << p.out;
        // The planner's invariant: every update/replace change has a step or is an error.
        EXPECT_EQ(virtumancer::changes_without_steps(virtumancer::plan_from_json(p.out)),
                  std::vector<std::string>{});
        auto change = plan_change(plan, "vm", kVm);
        ASSERT_FALSE(change.is_null()) << p.out;
        auto diff = diff_of(change, row.field);
        ASSERT_FALSE(diff.is_null()) << "no diff on " << row.field << ":\n" << change.dump(2);
        std::string planned = diff.value("class", "");
        EXPECT_EQ(planned, row.cls) << change.dump(2);
        std::string note = change.value("note", "");
        bool never = s.restart_policy == "never";

        // 2. Apply, then check on libvirt that the class told the truth.
        r = apply(s);
        ASSERT_EQ(r.code, 0) << r.out << r.err;
        std::string id1 = domid(kVm), live = live_xml(kVm), inactive = inactive_xml(kVm);
        EXPECT_EQ(row.probe(inactive), row.want) << "inactive XML:\n" << inactive;
        std::string outcome;
        if (row.cls == "live") {
            EXPECT_EQ(id1, id0) << "restarted for a live change";
            if (row.balloon) {
                // Accepted live (virDomainSetMemoryFlags succeeded) but without a balloon
                // driver in the guest QEMU's actual size, hence the live <currentMemory>, stays.
                EXPECT_TRUE(apply_e2e::contains(r.out, "vm.set_memory")) << r.out;
                EXPECT_EQ(row.probe(live), live0) << live;
                outcome = "live: balloon target set, id kept; live currentMemory stays " + live0 +
                          " (no guest driver)";
            } else {
                EXPECT_EQ(row.probe(live), row.want) << "live XML:\n" << live;
                outcome = "live: id kept, live+inactive = '" + row.probe(live) + "'";
            }
        } else if (never) {
            EXPECT_EQ(id1, id0) << "restarted for a " << row.cls << " change";
            EXPECT_EQ(row.probe(live), live0) << "live XML changed:\n" << live;
            EXPECT_NE(row.probe(live), row.want);
            EXPECT_TRUE(apply_e2e::contains(note, "pending")) << note;
            // The plan had announced it pending after the apply.
            EXPECT_EQ(pending_fields(plan, "after_apply"), row.pending) << p.out;
            outcome = row.cls + ": id kept, inactive '" + row.probe(inactive) + "', live '" +
                      row.probe(live) + "' (pending)";
        } else {
            EXPECT_NE(id1, id0) << "not restarted";
            EXPECT_TRUE(apply_e2e::contains(virsh("domstate " + kVm), "running"));
            EXPECT_EQ(row.probe(live), row.want) << "live XML:\n" << live;
            outcome = row.cls + " (restart_policy allowed): new id, live+inactive = '" +
                      row.probe(live) + "'";
        }
        if (row.pending.empty()) {
            EXPECT_TRUE(row.cls == "live" || !never) << "a never row must list its pending fields";
            expect_law("row " + row.name);
        } else {
            expect_pending(row.pending, "row " + row.name);
            if (row.restart_pending) {
                // The maintenance window: plan --restart-pending shows the restart apply runs.
                CliRun rp = vm(db_, "plan --json --restart-pending");
                ASSERT_EQ(rp.code, 0) << rp.out << rp.err;
                auto rplan = parse_json(rp.out);
                std::vector<std::string> steps;
                for (const auto& st : rplan.value("steps", nlohmann::json::array()))
                    steps.push_back(st.value("op", ""));
                EXPECT_EQ(steps, (std::vector<std::string>{"vm.shutdown", "vm.start"})) << rp.out;
                r = vm(db_, "apply --auto-approve --restart-pending --target vm/" + kVm);
                ASSERT_EQ(r.code, 0) << r.out << r.err;
                std::string id2 = domid(kVm), live2 = live_xml(kVm);
                EXPECT_NE(id2, id1) << "not restarted by apply --restart-pending";
                EXPECT_EQ(row.probe(live2), row.want) << "live XML:\n" << live2;
                expect_law("apply --restart-pending after row " + row.name);
                outcome += "; apply --restart-pending: new id, live '" + row.probe(live2) + "'";
            }
        }
        report.push_back(row.name + ": field " + row.field + " planned " + planned +
                         (never ? " (restart_policy never)" : "") + " -> " + outcome);

        // 3. Back to the base spec for the next row (the last row keeps q35). What was
        // pending is cleared without a restart: the running VM still has the base values.
        if (i + 1 < all.size()) {
            std::string id_before = domid(kVm);
            if (pci_added.count(row.name)) {
                // Removing the PCI device again is a live detach no guest acknowledges: the
                // step fails and the device stays attached to the running VM (the config loses
                // it). The running VM then differs from its config (pending); under
                // restart_policy allowed the next apply restarts it into its config.
                dir_.write("specs/vm.yaml", vm_yaml(base));
                r = vm(db_, "apply --auto-approve --detach-timeout 1 " + quote(dir_.file("specs")));
                EXPECT_EQ(r.code, 1) << r.out << r.err;
                EXPECT_TRUE(apply_e2e::contains(r.out, "the guest did not release " +
                                                           pci_added.at(row.name)))
                    << r.out;
                EXPECT_EQ(row.probe(live_xml(kVm)), row.want) << "the device is still attached";
                EXPECT_NE(row.probe(inactive_xml(kVm)), row.want) << "and gone from the config";
                CliRun again = vm(db_, "plan --json");
                auto plan2 = parse_json(again.out);
                std::vector<std::string> steps;
                for (const auto& st : plan2.value("steps", nlohmann::json::array()))
                    steps.push_back(st.value("op", ""));
                EXPECT_EQ(steps, (std::vector<std::string>{"vm.shutdown", "vm.start"}))
                    << again.out;
                r = apply(base);
                EXPECT_NE(domid(kVm), id_before) << "not restarted";
                EXPECT_NE(row.probe(live_xml(kVm)), row.want) << "gone after the restart";
            } else {
                r = apply(base);
            }
            ASSERT_EQ(r.code, 0) << "re-applying the base after " << row.name << ":\n"
                                 << r.out << r.err;
            expect_law("re-applying the base after " + row.name);
            if (!row.pending.empty() && !row.restart_pending) {
                EXPECT_EQ(domid(kVm), id_before) << "restarted to revert a pending change";
            }
        }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "change-kind matrix (" << all.size() << " rows, " << secs << " s):\n";
    for (const auto& line : report) std::cout << "  " << line << "\n";
}

// Live-only differences (issue 11): a disk hot-plugged with `virsh attach-disk --live` and one
// detached with `virsh detach-disk --live` are pending with their device labels (the config
// still matches the spec); `apply --restart-pending` restarts the VM into its config.
TEST_F(PlanMatrix, LiveOnlyDeviceChangesArePending) {
    VmSpec base;
    base.restart_policy = "never";
    CliRun r = apply(base);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    expect_law("creating the base VM");
    const std::string img = "/var/lib/libvirt/images/vmr-e2e-mx-hot.img";
    apply_e2e::sh("truncate -s 1M " + img);
    std::string out =
        virsh("attach-disk " + kVm + " " + img + " sdc --targetbus usb --subdriver raw --live") +
        virsh("detach-disk " + kVm + " sda --live");
    std::string live = live_xml(kVm), inactive = inactive_xml(kVm);
    ASSERT_EQ(xpath(live, disk_path("sdc", "/target/@dev")), "sdc") << out << live;
    ASSERT_EQ(xpath(live, disk_path("sda", "/target/@dev")), "") << out << live;
    ASSERT_EQ(xpath(inactive, disk_path("sdc", "/target/@dev")), "") << inactive;
    ASSERT_EQ(xpath(inactive, disk_path("sda", "/target/@dev")), "sda") << inactive;
    expect_pending({"disk[sda]", "disk[sdc]"}, "virsh attach-disk/detach-disk --live");
    CliRun t = vm(db_, "plan");
    EXPECT_TRUE(apply_e2e::contains(t.out, "disk[sdc]: (present in the running VM) -> (removed)"))
        << t.out;
    EXPECT_TRUE(apply_e2e::contains(t.out, "disk[sda]: (absent in the running VM) -> (added)"))
        << t.out;
    // drift in its other formats: text, JUnit (a failure naming the field), Prometheus.
    const std::string junit = dir_.file("drift.xml"), prom = dir_.file("drift.prom");
    CliRun dr = vm(db_, "drift --junit " + quote(junit) + " --prometheus " + quote(prom));
    EXPECT_EQ(dr.code, 2) << dr.out << dr.err;
    EXPECT_TRUE(apply_e2e::contains(dr.out, "local/vm/" + kVm + ": pending")) << dr.out;
    EXPECT_TRUE(apply_e2e::contains(dr.out, "disk[sdc]: expected (absent), running (present)"))
        << dr.out;
    std::string jx = apply_e2e::sh("cat " + quote(junit)).out;
    EXPECT_TRUE(apply_e2e::contains(jx, "<failure message=\"pending\">")) << jx;
    EXPECT_TRUE(
        apply_e2e::contains(jx, "disk[sdc]: expected &apos;&apos;, running &apos;(present)&apos;"))
        << jx;
    std::string px = apply_e2e::sh("cat " + quote(prom)).out;
    EXPECT_TRUE(
        apply_e2e::contains(px, "virtumancer_drift_pending_objects{host=\"local\",kind=\"vm\"} 1"))
        << px;
    std::string id0 = domid(kVm);
    r = vm(db_, "apply --auto-approve --restart-pending");
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(domid(kVm), id0) << "not restarted";
    live = live_xml(kVm);
    EXPECT_EQ(xpath(live, disk_path("sdc", "/target/@dev")), "") << live;
    EXPECT_EQ(xpath(live, disk_path("sda", "/target/@dev")), "sda") << live;
    expect_law("apply --restart-pending");
    apply_e2e::sh("rm -f " + img);
}

} // namespace
