// save_desired / load_desired: idempotence, updates, pending deletes, atomicity, links,
// and that every descriptor column exists in the migrated schema.
#include <algorithm>
#include <chrono>
#include <set>

#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

const char* kVm = R"(<domain type='kvm'>
  <name>web</name>
  <uuid>6f1c8a36-3c43-4bd8-9d1a-3a8c1b3e9f01</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>2</vcpu>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/><boot dev='cdrom'/></os>
  <cputune><shares>2048</shares></cputune>
  <features><acpi/><apic/></features>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source pool='default' volume='web-root'/>
      <target dev='vda' bus='virtio'/>
      <iotune><total_iops_sec>500</total_iops_sec></iotune>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='lan'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <controller type='usb' index='0' model='qemu-xhci'/>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <mystery foo='bar'><child/></mystery>
    <memballoon model='virtio'/>
  </devices>
</domain>)";

const char* kPool =
    R"(<pool type='dir'><name>default</name><target><path>/var/lib/vms</path></target></pool>)";
const char* kVolume =
    R"(<volume><name>web-root</name><capacity unit='bytes'>10737418240</capacity><target><format type='qcow2'/></target></volume>)";
const char* kNetwork = R"(<network>
  <name>lan</name>
  <forward mode='nat'/>
  <bridge name='virbr9' stp='on'/>
  <ip address='192.168.90.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.90.100' end='192.168.90.200'/>
      <host mac='52:54:00:aa:bb:01' name='web' ip='192.168.90.10'/>
    </dhcp>
  </ip>
</network>)";

SpecLoadResult sample() {
    SpecLoadResult l;
    l.state.hosts.push_back(host("kvm1"));
    Spec pool = spec_from_xml("kvm1", kPool, pool_kind());
    pool.obj.fields["autostart"] = "yes";
    l.state.pools.push_back(pool);
    Spec vol = spec_from_xml("kvm1", kVolume, volume_kind());
    vol.obj.fields["pool"] = "default";
    l.state.volumes.push_back(vol);
    Spec net = spec_from_xml("kvm1", kNetwork, network_kind());
    net.obj.fields["autostart"] = "no";
    l.state.networks.push_back(net);
    Spec vm = vm_from_xml("kvm1", kVm);
    vm.vm.state = "shutoff";
    vm.vm.restart_policy = "allowed";
    vm.vm.shutdown_timeout = 90;
    vm.vm.autostart = true;
    vm.src.file = "specs/web.yaml";
    vm.src.line = 3;
    l.state.vms.push_back(vm);
    SnapshotSpec snap;
    snap.host = "kvm1";
    snap.vm = "web";
    snap.name = "before-upgrade";
    snap.description = "clean install";
    l.state.snapshots.push_back(snap);
    l.files.push_back({"specs/web.yaml", "abc123", 42});
    return l;
}

// n copies of kVm on host "big" (no uuid), named vm0..vm<n-1>, each NIC's MAC `prefix`
// followed by the VM's number.
void add_numbered_vms(SpecLoadResult* in, int n, const std::string& prefix) {
    Spec base = vm_from_xml("big", kVm);
    base.obj.fields.erase("uuid");
    for (int i = 0; i < n; ++i) {
        Spec s = base;
        s.obj.fields["name"] = "vm" + std::to_string(i);
        char mac[32];
        std::snprintf(mac, sizeof mac, "%s:%02x:%02x:%02x", prefix.c_str(), (i >> 16) & 255,
                      (i >> 8) & 255, i & 255);
        s.obj.children[1].fields["mac"] = mac;
        in->state.vms.push_back(std::move(s));
    }
}

// The position column of every device row, across the tables that hold one (volume_attachments,
// ports and each *_attachments table), sorted.
std::vector<long long> positions(Database& db) {
    std::string sql;
    for (const auto& [table, n] : db.table_counts())
        if (table == "ports" || table.ends_with("_attachments"))
            sql +=
                (sql.empty() ? "" : " UNION ALL ") + std::string("SELECT position FROM ") + table;
    std::vector<long long> out;
    sql::Statement q(db.db(), sql + " ORDER BY 1");
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
}

std::vector<std::string> kinds_of(const Spec& vm) {
    std::vector<std::string> out;
    for (const auto& c : vm.obj.children)
        out.push_back(c.kind->kind + ":" + c.get("target_dev") + c.get("mac_address") +
                      c.get("target_port"));
    return out;
}

} // namespace

class StoreSchema : public BackendTest {};
class StoreSave : public BackendTest {
  protected:
    std::unique_ptr<Database> fresh(TempDir&) { return Database::open(target("v.db")); }
};
VIRTUMANCER_ON_BOTH_BACKENDS(StoreSchema);
VIRTUMANCER_ON_BOTH_BACKENDS(StoreSave);

TEST_P(StoreSchema, EveryDescriptorColumnExistsInTheMigratedSchema) {
    TempDir t;
    auto db = Database::open(target("v.db"));
    auto columns = [&](const std::string& table) {
        std::set<std::string> out;
        for (const auto& c : db->db().columns(table)) out.insert(c.name);
        return out;
    };
    std::vector<const KindDesc*> kinds = {&domain_kind(), &pool_kind(), &volume_kind(),
                                          &network_kind(), &other_device_kind()};
    for (auto* k : device_kinds()) kinds.push_back(k);
    int checked = 0;
    for (const KindDesc* k : kinds) {
        ASSERT_FALSE(columns(k->table).empty()) << k->kind << ": table " << k->table;
        EXPECT_TRUE(columns(k->table).count("props_json")) << k->table;
        if (!k->discriminator.empty()) {
            EXPECT_TRUE(columns(k->table).count("device_kind")) << k->table;
        }
        if (!k->attach_table.empty()) {
            std::string fk = k->attach_table.substr(0, k->attach_table.size() - 12) + "_id";
            auto ac = columns(k->attach_table);
            EXPECT_TRUE(ac.count("vm_id") && ac.count("position") && ac.count(fk))
                << k->attach_table << " lacks vm_id/position/" << fk;
        }
        for (const auto& f : k->fields) {
            if (f.column.empty()) continue;
            auto dot = f.column.find('.');
            std::string table = dot == std::string::npos ? k->table : f.column.substr(0, dot);
            std::string col = dot == std::string::npos ? f.column : f.column.substr(dot + 1);
            EXPECT_TRUE(columns(table).count(col))
                << k->kind << "." << f.key << " -> " << table << "." << col << " missing";
            ++checked;
        }
    }
    EXPECT_GT(checked, 100);
    EXPECT_TRUE(columns("other_device_attachments").count("other_device_id"));
}

TEST_P(StoreSave, EverythingRoundTripsAndLinks) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    auto sum = store.save_desired(in, "rev1", "alice", {"specs"});
    EXPECT_EQ(sum.inserted, 6); // host, pool, volume, network, vm, snapshot
    EXPECT_GT(sum.revision_id, 0);
    EXPECT_EQ(store.latest_revision_id(), sum.revision_id);
    EXPECT_EQ(store.loaded_file_hash("specs/web.yaml"), "abc123");

    DesiredState out = store.load_desired();
    EXPECT_EQ(out.revision, "rev1");
    ASSERT_EQ(out.hosts.size(), 1u);
    EXPECT_EQ(out.hosts[0].uri, "test:///default");
    ASSERT_EQ(out.vms.size(), 1u);
    const Spec& vm = out.vms[0];
    EXPECT_TRUE(xml_equal(kVm, render_xml(vm.obj)));
    EXPECT_EQ(vm.obj.get("firmware"), "efi");
    EXPECT_EQ(vm.obj.get("boot"), "hd,cdrom");
    EXPECT_EQ(vm.obj.get("memory"), "1073741824");
    EXPECT_EQ(vm.vm.state, "shutoff");
    EXPECT_EQ(vm.vm.restart_policy, "allowed");
    EXPECT_EQ(vm.vm.shutdown_timeout, 90);
    EXPECT_TRUE(vm.vm.autostart);
    EXPECT_EQ(vm.src.file, "specs/web.yaml");
    EXPECT_EQ(vm.src.line, 3);
    ASSERT_EQ(vm.obj.children.size(), 8u);
    EXPECT_EQ(vm.obj.children[0].kind->kind, "disk");
    EXPECT_EQ(vm.obj.children[6].kind->kind, "other");
    ASSERT_EQ(out.pools.size(), 1u);
    EXPECT_EQ(out.pools[0].obj.get("autostart"), "yes");
    EXPECT_TRUE(xml_equal(kPool, render_xml(out.pools[0].obj)));
    ASSERT_EQ(out.volumes.size(), 1u);
    EXPECT_EQ(out.volumes[0].obj.get("pool"), "default");
    EXPECT_TRUE(xml_equal(kVolume, render_xml(out.volumes[0].obj)));
    ASSERT_EQ(out.networks.size(), 1u);
    EXPECT_EQ(out.networks[0].obj.get("autostart"), "no");
    EXPECT_TRUE(xml_equal(kNetwork, render_xml(out.networks[0].obj)));
    ASSERT_EQ(out.snapshots.size(), 1u);
    EXPECT_EQ(out.snapshots[0].vm, "web");
    EXPECT_EQ(out.snapshots[0].description, "clean install");

    // Typed columns really hold the values (not only props_json).
    EXPECT_EQ(db->db().execAndGet("SELECT memory_bytes FROM virtual_machines").getInt64(),
              1073741824LL);
    EXPECT_EQ(db->db().execAndGet("SELECT firmware FROM boot_configs").getString(), "efi");
    EXPECT_EQ(db->db().execAndGet("SELECT shares FROM cpu_tunings").getInt(), 2048);
    EXPECT_EQ(db->db().execAndGet("SELECT driver_cache FROM volume_attachments").getString(),
              "none");
    EXPECT_EQ(count(*db, "serial_devices", "device_kind='console'"), 1);
    EXPECT_EQ(count(*db, "other_devices", "element='mystery'"), 1);
    EXPECT_EQ(count(*db, "other_device_attachments"), 1);
    // Each device's place in the document: positions 0..7 across the device tables.
    EXPECT_EQ(positions(*db), (std::vector<long long>{0, 1, 2, 3, 4, 5, 6, 7}));
    std::vector<std::string> want, got;
    for (const auto& c : in.state.vms[0].obj.children) want.push_back(c.kind->kind);
    for (const auto& c : vm.obj.children) got.push_back(c.kind->kind);
    EXPECT_EQ(got, want);
    // Links: the disk to its Volume row, the interface to its Network row.
    EXPECT_EQ(count(*db, "volume_attachments", "volume_id = (SELECT id FROM volumes)"), 1);
    EXPECT_EQ(count(*db, "port_bindings", "network_id = (SELECT id FROM networks)"), 1);
    EXPECT_TRUE(db->check().empty());
}

TEST_P(StoreSave, SavingTheSameSpecsTwiceChangesNothing) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    store.save_desired(in, "rev1", "alice", {"specs"});
    auto before = db->table_counts();
    std::string stamp = db->db().execAndGet("SELECT updated_at FROM virtual_machines").getString();
    int changes_before = db->db().getTotalChanges();
    auto sum = store.save_desired(in, "rev1", "alice", {"specs"});
    EXPECT_EQ(sum.inserted, 0);
    EXPECT_EQ(sum.updated, 0);
    EXPECT_EQ(sum.marked_for_deletion, 0);
    EXPECT_EQ(sum.unchanged, 6);
    EXPECT_EQ(sum.files_skipped, 1);
    EXPECT_TRUE(sum.nothing_changed());
    auto after = db->table_counts();
    after["load_revisions"] -= 1; // each load is recorded
    EXPECT_EQ(before, after);
    EXPECT_EQ(db->db().execAndGet("SELECT updated_at FROM virtual_machines").getString(), stamp);
    // Only the load_revisions row (insert + summary update) was written.
    EXPECT_EQ(db->db().getTotalChanges() - changes_before, 2);
}

TEST_P(StoreSave, AChangedSpecUpdatesInPlace) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    store.save_desired(in, "rev1", "alice", {});
    long long vm_id = db->db().execAndGet("SELECT id FROM virtual_machines").getInt64();
    in.state.vms[0].obj.fields["memory"] = "2147483648";
    in.state.vms[0].obj.children.pop_back(); // drop the memballoon
    in.state.vms[0].content_hash = "changed";
    auto sum = store.save_desired(in, "rev2", "alice", {});
    EXPECT_EQ(sum.updated, 1);
    EXPECT_EQ(sum.inserted, 0);
    EXPECT_EQ(sum.unchanged, 5);
    EXPECT_EQ(db->db().execAndGet("SELECT id FROM virtual_machines").getInt64(), vm_id);
    auto out = store.load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(out.vms[0].obj.get("memory"), "2147483648");
    EXPECT_EQ(out.vms[0].content_hash, "changed");
    EXPECT_EQ(out.vms[0].obj.children.size(), 7u);
    EXPECT_EQ(count(*db, "memory_balloons"), 0); // no orphaned resource rows
    EXPECT_EQ(positions(*db), (std::vector<long long>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(count(*db, "vendor_options", "owner_table='other_devices'"), 1);
    EXPECT_EQ(count(*db, "port_bindings"), 1);
    EXPECT_EQ(count(*db, "vm_snapshots", "vm_id=" + std::to_string(vm_id)), 1);
    EXPECT_TRUE(db->check().empty());
}

// A VM's devices come back in the order of its document, whichever tables hold them: kinds
// interleaved, two kinds of one table (console before serial) and a reordering on reload.
TEST_P(StoreSave, DevicesComeBackInDocumentOrderAcrossTables) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    SpecLoadResult in;
    in.state.hosts.push_back(host("kvm1"));
    Spec vm = vm_from_xml("kvm1", R"(<domain type='kvm'><name>mix</name><memory>1048576</memory>
  <os><type arch='x86_64'>hvm</type></os><devices>
    <console type='pty'><target type='serial' port='0'/></console>
    <interface type='user'><mac address='52:54:00:00:00:02'/></interface>
    <disk type='file' device='disk'><source file='/v/b.img'/><target dev='vdb' bus='virtio'/></disk>
    <serial type='pty'><target port='1'/></serial>
    <interface type='user'><mac address='52:54:00:00:00:01'/></interface>
    <disk type='file' device='disk'><source file='/v/a.img'/><target dev='vda' bus='virtio'/></disk>
    <mystery/>
    <serial type='pty'><target port='0'/></serial>
  </devices></domain>)");
    in.state.vms.push_back(vm);
    in.files.push_back({"specs/mix.yaml", "h1", 1});
    store.save_desired(in, "rev1", "alice", {});
    auto out = store.load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(kinds_of(out.vms[0]), kinds_of(vm));
    EXPECT_EQ(kinds_of(out.vms[0]).size(), 8u);

    // Reordered in the spec: the stored order follows.
    auto& ch = in.state.vms[0].obj.children;
    std::reverse(ch.begin(), ch.end());
    in.state.vms[0].content_hash = "reordered";
    store.save_desired(in, "rev2", "alice", {});
    out = store.load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(kinds_of(out.vms[0]), kinds_of(in.state.vms[0]));
    EXPECT_NE(kinds_of(out.vms[0]), kinds_of(vm));
    EXPECT_EQ(positions(*db), (std::vector<long long>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_TRUE(db->check().empty());
}

// Two devices of one VM at one position (a database edited by hand): reading refuses with a
// remedy instead of guessing an order.
TEST_P(StoreSave, TwoDevicesAtOnePositionAreRefused) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    store.save_desired(sample(), "rev1", "alice", {});
    db->db().exec("UPDATE channel_device_attachments SET position = 0");
    try {
        store.load_desired();
        FAIL() << "two devices at one position were read";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("two devices at position 0"), std::string::npos) << m;
        EXPECT_NE(e.remedy().find("db check"), std::string::npos) << e.remedy();
    }
}

// Migration 0010 drops attachment_index, which a database of version 9 filled with one row per
// device. Everything it listed is still read from the device tables: the VM reads back the
// same, device for device and in order, and no other row is touched.
TEST_P(StoreSave, Migration0010DropsTheIndexAndLosesNoDevice) {
    TempDir t;
    std::string where = target("v9.db");
    auto in = sample();
    std::map<std::string, long long> before;
    std::vector<std::string> order;
    {
        auto db = Database::open(where);
        Store(*db).save_desired(in, "rev1", "alice", {});
        before = db->table_counts();
        order = kinds_of(Store(*db).load_desired().vms.at(0));
        // The database as version 9 left it: the index table, one row per device.
        db->db().run_migration(
            "CREATE TABLE attachment_index (id INTEGER PRIMARY KEY, vm_id INTEGER NOT "
            "NULL REFERENCES virtual_machines(id) ON DELETE CASCADE, position INTEGER "
            "NOT NULL, device_kind TEXT NOT NULL, table_name TEXT NOT NULL, row_id "
            "INTEGER NOT NULL, UNIQUE (vm_id, position), UNIQUE (table_name, row_id))");
        db->db().exec("INSERT INTO attachment_index(vm_id, position, device_kind, table_name, "
                      "row_id) SELECT vm_id, position, 'disk', 'volume_attachments', id FROM "
                      "volume_attachments");
        db->db().set_schema_version(9);
    }
    MigrateResult r;
    auto db = Database::open(where, &r);
    EXPECT_EQ(r.from_version, 9);
    EXPECT_EQ(r.to_version, Database::latest_version());
    auto tables = db->db().tables();
    EXPECT_EQ(std::count(tables.begin(), tables.end(), "attachment_index"), 0);
    EXPECT_EQ(db->table_counts(), before);
    auto out = Store(*db).load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(kinds_of(out.vms[0]), order);
    EXPECT_EQ(kinds_of(out.vms[0]), kinds_of(in.state.vms[0]));
    EXPECT_TRUE(xml_equal(kVm, render_xml(out.vms[0].obj)));
    EXPECT_TRUE(db->check().empty());
}

TEST_P(StoreSave, ARemovedSpecIsMarkedPendingDeleteAndComesBack) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    store.save_desired(in, "rev1", "alice", {});
    auto removed = in;
    removed.state.vms.clear();
    removed.state.snapshots.clear();
    removed.state.volumes.clear();
    auto sum = store.save_desired(removed, "rev2", "alice", {});
    EXPECT_EQ(sum.marked_for_deletion, 3);
    std::vector<std::string> pending;
    auto out = store.load_desired(&pending);
    EXPECT_TRUE(out.vms.empty());
    EXPECT_TRUE(out.volumes.empty());
    EXPECT_TRUE(out.snapshots.empty());
    std::sort(pending.begin(), pending.end());
    EXPECT_EQ(pending, (std::vector<std::string>{"kvm1/snapshot/web/before-upgrade", "kvm1/vm/web",
                                                 "kvm1/volume/default/web-root"}));
    EXPECT_EQ(count(*db, "virtual_machines", "pending_delete=1"), 1);
    // Its MAC and UUID are free for another VM in the meantime.
    auto other = removed;
    Spec vm2 = in.state.vms[0];
    vm2.obj.fields["name"] = "web2";
    other.state.vms.push_back(vm2);
    EXPECT_NO_THROW(store.save_desired(other, "rev3", "alice", {}));
    // Marking again is not a new change.
    sum = store.save_desired(other, "rev3", "alice", {});
    EXPECT_EQ(sum.marked_for_deletion, 0);
    EXPECT_TRUE(sum.nothing_changed());
    // The spec comes back (web2 goes): pending_delete is cleared, the row id is kept.
    long long id =
        db->db().execAndGet("SELECT id FROM virtual_machines WHERE name='web'").getInt64();
    sum = store.save_desired(in, "rev4", "alice", {});
    EXPECT_EQ(sum.updated, 3);
    EXPECT_EQ(sum.marked_for_deletion, 1);
    pending.clear();
    out = store.load_desired(&pending);
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(out.vms[0].obj.name(), "web");
    EXPECT_EQ(pending, std::vector<std::string>{"kvm1/vm/web2"});
    EXPECT_TRUE(xml_equal(kVm, render_xml(out.vms[0].obj)));
    EXPECT_EQ(db->db().execAndGet("SELECT id FROM virtual_machines WHERE name='web'").getInt64(),
              id);
    EXPECT_EQ(out.snapshots.size(), 1u);
}

TEST_P(StoreSave, AFailingSaveWritesNothing) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    store.save_desired(in, "rev1", "alice", {});
    auto before = db->table_counts();
    auto bad = in;
    bad.state.vms[0].obj.fields["memory"] = "4294967296";
    bad.state.vms[0].content_hash = "changed";
    Spec dup = in.state.vms[0];
    dup.obj.fields["name"] = "web-copy";
    dup.obj.fields.erase("uuid");
    bad.state.vms.push_back(dup); // same MAC on the same host: violates idx_ports_mac
    try {
        store.save_desired(bad, "rev2", "alice", {});
        FAIL() << "expected a constraint error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("web-copy"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos);
    }
    EXPECT_EQ(db->table_counts(), before);
    auto out = store.load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_EQ(out.vms[0].obj.get("memory"), "1073741824");
    // A VM on a host without a Host spec is refused too.
    auto orphan = in;
    orphan.state.vms[0].host = "nowhere";
    EXPECT_THROW(store.save_desired(orphan, "rev3", "alice", {}), Error);
    EXPECT_EQ(db->table_counts(), before);
    // Errors in the load are refused before anything is written.
    auto diag = in;
    diag.diags.error("a.yaml", 1, 1, "bad", "fix it");
    EXPECT_THROW(store.save_desired(diag, "rev4", "alice", {}), Error);
    EXPECT_EQ(db->table_counts(), before);
}

TEST_P(StoreSave, TenThousandVmsLoadQuickly) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    SpecLoadResult in;
    in.state.hosts.push_back(host("big"));
    add_numbered_vms(&in, 10000, "52:54:01");
    auto t0 = std::chrono::steady_clock::now();
    store.save_desired(in, "big", "test", {});
    auto t1 = std::chrono::steady_clock::now();
    auto out = store.load_desired();
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_EQ(out.vms.size(), 10000u);
    EXPECT_EQ(out.vms[9999].obj.children.size(), 8u);
    auto ms = [](auto d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    std::cout << "10000 VMs x 8 devices: save " << ms(t1 - t0) << " ms, load " << ms(t2 - t1)
              << " ms\n";
    EXPECT_LT(ms(t2 - t1), 3000);
}

// Rows are written in chunks (on PostgreSQL by a writer thread while the next chunk is
// encoded): a constraint failing in a late chunk still names its VM, ends the load, and leaves
// the database as it was.
TEST_P(StoreSave, AFailureInALateChunkNamesItsVmAndWritesNothing) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    SpecLoadResult in;
    in.state.hosts.push_back(host("big"));
    store.save_desired(in, "r0", "test", {});
    auto before = db->table_counts();
    add_numbered_vms(&in, 3000, "52:54:02");
    in.state.vms[2500].obj.fields["name"] = "late-dup";
    in.state.vms[2500].obj.children[1].fields["mac"] = "52:54:02:00:00:07"; // vm7's
    try {
        store.save_desired(in, "r1", "test", {});
        FAIL() << "expected the MAC of vm7 used twice to be refused";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("late-dup"), std::string::npos) << m;
        EXPECT_NE(m.find("nothing was written"), std::string::npos) << m;
    }
    EXPECT_EQ(db->table_counts(), before);
    // The same VMs without the clash load in full.
    in.state.vms[2500].obj.children[1].fields["mac"] = "52:54:02:ff:ff:ff";
    store.save_desired(in, "r2", "test", {});
    EXPECT_EQ(count(*db, "virtual_machines"), 3000);
    EXPECT_EQ(count(*db, "ports", "mac_address = '52:54:02:ff:ff:ff'"), 1);
}

TEST_P(StoreSave, AFailoverPairMayShareAMacWithinOneVm) {
    const char* teaming = R"(<domain type='kvm'><name>pair</name><memory unit='KiB'>65536</memory>
  <devices>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='lan'/>
      <model type='virtio'/><teaming type='persistent'/><alias name='ua-backup0'/></interface>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='lan'/>
      <model type='virtio'/><teaming type='transient' persistent='ua-backup0'/></interface>
  </devices></domain>)";
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    SpecLoadResult in;
    in.state.hosts.push_back(host("kvm1"));
    in.state.vms.push_back(vm_from_xml("kvm1", teaming));
    ASSERT_NO_THROW(store.save_desired(in, "r1", "t", {}));
    auto out = store.load_desired();
    ASSERT_EQ(out.vms.size(), 1u);
    EXPECT_TRUE(xml_equal(teaming, render_xml(out.vms[0].obj)));
    // Another VM on the same host with that MAC is still refused.
    Spec other = vm_from_xml("kvm1", teaming);
    other.obj.fields["name"] = "other";
    in.state.vms.push_back(other);
    EXPECT_THROW(store.save_desired(in, "r2", "t", {}), Error);
    EXPECT_EQ(count(*db, "virtual_machines"), 1);
}

// sync_status: pending after a load that adds or changes the spec, what apply/drift record
// otherwise; an unchanged spec keeps its status.
TEST_P(StoreSave, SyncStatusIsPendingAfterAChangeAndKeptOtherwise) {
    TempDir t;
    auto db = fresh(t);
    Store store(*db);
    auto in = sample();
    store.save_desired(in, "rev1", "alice", {});
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::Pending);
    store.record_sync_status(
        {{"kvm1", "web", VmSyncStatus::InSync}, {"kvm1", "no-such-vm", VmSyncStatus::Drifted}});
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::InSync);
    EXPECT_EQ(store.sync_status("kvm1", "no-such-vm"), std::nullopt);
    store.save_desired(in, "rev2", "alice", {}); // nothing changed
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::InSync);
    store.record_sync_status({{"kvm1", "web", VmSyncStatus::Drifted}});
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::Drifted);
    in.state.vms[0].obj.fields["memory"] = "2147483648";
    in.state.vms[0].content_hash = "changed";
    store.save_desired(in, "rev3", "alice", {});
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::Pending);
    EXPECT_THROW(store.record_sync_status({{"kvm1", "web", static_cast<VmSyncStatus>(99)}}),
                 std::exception)
        << "the schema's CHECK constraint keeps the column to its documented values";
    EXPECT_EQ(store.sync_status("kvm1", "web"), VmSyncStatus::Pending);
    // Every status's word is one the schema accepts, and reads back as that status.
    for (auto st : {VmSyncStatus::Pending, VmSyncStatus::InSync, VmSyncStatus::Drifted,
                    VmSyncStatus::PendingRestart, VmSyncStatus::Error, VmSyncStatus::Adopted}) {
        store.record_sync_status({{"kvm1", "web", st}});
        EXPECT_EQ(store.sync_status("kvm1", "web"), st) << vm_sync_status_name(st);
    }
    EXPECT_STREQ(vm_sync_status_name(VmSyncStatus::PendingRestart), "pending_restart");
    EXPECT_STREQ(vm_sync_status_name(VmSyncStatus::InSync), "in_sync");
}
