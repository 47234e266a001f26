// How many statements the store sends, counted at the connection interface
// (sql::Connection::statements()): reading the desired state and the tasks, and writing new
// specs, take a number of statements that does not grow with the number of VMs (no query or
// round trip per object), on both backends.
#include <cstdio>

#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

// A VM with the device kinds of every table family: disks and interfaces (own tables),
// attached devices (serial, console, channel, controller, video, graphics) and one kept as
// residue XML (vendor_options).
std::string vm_xml(int i) {
    char mac[32];
    std::snprintf(mac, sizeof mac, "52:54:02:%02x:%02x:%02x", (i >> 16) & 255, (i >> 8) & 255,
                  i & 255);
    return "<domain type='kvm'><name>vm" + std::to_string(i) +
           "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>"
           "<cputune><shares>1024</shares></cputune><devices>"
           "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
           "<source file='/var/lib/vms/vm" +
           std::to_string(i) +
           ".qcow2'/><target dev='vda' bus='virtio'/></disk>"
           "<interface type='network'><mac address='" +
           mac +
           "'/><source network='lan'/><model type='virtio'/></interface>"
           "<serial type='pty'><target port='0'/></serial>"
           "<console type='pty'><target type='serial' port='0'/></console>"
           "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
           "<controller type='usb' index='0' model='qemu-xhci'/>"
           "<video><model type='vga' vram='16384' heads='1'/></video>"
           "<graphics type='vnc' port='-1' autoport='yes'/>"
           "<mystery foo='bar'/></devices></domain>";
}

SpecLoadResult fleet(int n) {
    SpecLoadResult l;
    l.state.hosts.push_back(host("kvm1"));
    l.state.networks.push_back(spec_from_xml(
        "kvm1", "<network><name>lan</name><bridge name='virbr7'/></network>", network_kind()));
    for (int i = 0; i < n; ++i) {
        Spec s = vm_from_xml("kvm1", vm_xml(i));
        s.vm.state = "shutoff";
        s.src.file = "specs/vm" + std::to_string(i) + ".yaml";
        l.state.vms.push_back(std::move(s));
        SnapshotSpec snap;
        snap.host = "kvm1";
        snap.vm = "vm" + std::to_string(i);
        snap.name = "base";
        l.state.snapshots.push_back(snap);
        l.files.push_back({"specs/vm" + std::to_string(i) + ".yaml", "h" + std::to_string(i), 1});
    }
    return l;
}

// Statements run by fn on db's connection.
template <class Fn> int64_t statements(Database& db, Fn&& fn) {
    int64_t before = db.db().statements();
    fn();
    return db.db().statements() - before;
}

} // namespace

class StoreQueries : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(StoreQueries);

TEST_P(StoreQueries, DesiredStateAndSyncStatusTakeABoundedNumberOfStatements) {
    std::map<int, int64_t> save, read, sync;
    // n = 1 first: the column layout is read from the schema once per process and kept.
    for (int n : {1, 10, 100}) {
        auto db = Database::open(target("n" + std::to_string(n)));
        Store store(*db);
        save[n] = statements(*db, [&] { store.save_desired(fleet(n), "r", "t", {"specs"}); });
        DesiredState st;
        read[n] = statements(*db, [&] { st = store.load_desired(); });
        // What was read is the whole fleet, devices and residue included.
        ASSERT_EQ(st.vms.size(), static_cast<size_t>(n));
        EXPECT_EQ(st.snapshots.size(), static_cast<size_t>(n));
        for (const Spec& vm : st.vms) {
            ASSERT_EQ(vm.obj.children.size(), 9u) << vm.obj.name();
            EXPECT_EQ(vm.obj.children[8].kind->kind, "other");
        }
        EXPECT_EQ(st.vms[n - 1].obj.name(), "vm" + std::to_string(n - 1));
        EXPECT_TRUE(db->check().empty());
        // drift records every VM's sync status.
        std::vector<Store::SyncStatus> ss;
        for (const Spec& vm : st.vms) ss.push_back({"kvm1", vm.obj.name(), VmSyncStatus::InSync});
        ss.push_back({"kvm1", "no-such-vm", VmSyncStatus::Drifted});
        sync[n] = statements(*db, [&] { store.record_sync_status(ss); });
        EXPECT_EQ(store.sync_status("kvm1", "vm0"), VmSyncStatus::InSync);
        EXPECT_EQ(store.sync_status("kvm1", "vm" + std::to_string(n - 1)), VmSyncStatus::InSync);
        EXPECT_EQ(count(*db, "virtual_machines", "sync_status = 'in_sync'"), n);
        // The counter counts per call: a per-VM read costs one statement per VM.
        EXPECT_EQ(statements(*db,
                             [&] {
                                 for (const Spec& vm : st.vms)
                                     store.sync_status("kvm1", vm.obj.name());
                             }),
                  n);
    }
    EXPECT_GT(read[10], 0);
    EXPECT_EQ(read[10], read[100]) << "reading the desired state issues a query per object";
    EXPECT_GT(save[10], 0);
    // (100 VMs are some 3,500 rows: one chunk of the bulk writes, store_save.cpp's Batch.)
    EXPECT_EQ(save[10], save[100]) << "saving new specs issues a statement per object";
    EXPECT_EQ(sync[10], sync[100]) << "recording sync status issues a statement per VM";
}

TEST_P(StoreQueries, TasksAreReadInABoundedNumberOfStatements) {
    std::map<int, int64_t> read;
    for (int n : {1, 10, 100}) {
        auto db = Database::open(target("t" + std::to_string(n)));
        Store store(*db);
        for (int i = 0; i < n; ++i)
            store.task_finish(store.task_begin("run", "t", "vm.define", "vm",
                                               "kvm1/vm" + std::to_string(i), "{}"),
                              true, "{}");
        std::vector<TaskRow> rows;
        read[n] = statements(*db, [&] { rows = store.tasks(0, ""); });
        ASSERT_EQ(rows.size(), static_cast<size_t>(n));
        EXPECT_EQ(rows.back().target_name, "kvm1/vm" + std::to_string(n - 1));
        EXPECT_EQ(rows.back().status, "COMPLETED");
    }
    EXPECT_GT(read[10], 0);
    EXPECT_EQ(read[10], read[100]);
}
