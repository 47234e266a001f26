// Migrations (issue 2): every table exists, foreign keys are enforced, a second migrate is a
// no-op, an old database is backed up before it is migrated, a newer one is refused untouched,
// and `virtumancer db check` reports a foreign key violation with exit 1.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <set>

#include "store_test_util.hpp"
#include "virtumancer/migrations.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

std::set<std::string> tables(Database& db) {
    auto v = db.db().tables();
    return {v.begin(), v.end()};
}

bool has_column(sql::Connection& db, const std::string& table, const std::string& col) {
    for (const auto& c : db.columns(table))
        if (c.name == col) return true;
    return false;
}

bool has_column(SQLite::Database& db, const std::string& table, const std::string& col) {
    SQLite::Statement q(db, "PRAGMA table_info(" + table + ")");
    while (q.executeStep())
        if (q.getColumn(1).getString() == col) return true;
    return false;
}

// A database at schema version 1: only migration 0001 applied, with one host in it.
void make_v1(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    const auto& m = embedded_migrations();
    ASSERT_GE(m.size(), 2u);
    ASSERT_EQ(m[0].version, 1);
    db.exec(m[0].sql);
    db.exec("PRAGMA user_version = 1");
    db.exec("INSERT INTO hosts(name, uri) VALUES('kvm1', 'qemu:///system')");
}

int run_binary(const std::string& args) {
    std::string cmd = std::string(VIRTUMANCER_BINARY) + " " + args + " >/dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

} // namespace

class Migrations : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(Migrations);

TEST_P(Migrations, EveryTableOfTheDesignExists) {
    auto db = Database::open(target("m.db"));
    EXPECT_EQ(db->version(), Database::latest_version());
    auto have = tables(*db);
    for (const char* name : {"hosts",
                             "virtual_machines",
                             "storage_pools",
                             "volumes",
                             "volume_attachments",
                             "networks",
                             "ports",
                             "port_bindings",
                             "controllers",
                             "controller_attachments",
                             "input_devices",
                             "input_device_attachments",
                             "graphics_devices",
                             "graphics_device_attachments",
                             "videos",
                             "video_attachments",
                             "sound_cards",
                             "sound_card_attachments",
                             "host_devices",
                             "host_device_attachments",
                             "mediated_devices",
                             "mediated_device_attachments",
                             "tpms",
                             "tpm_attachments",
                             "watchdogs",
                             "watchdog_attachments",
                             "serial_devices",
                             "serial_device_attachments",
                             "channel_devices",
                             "channel_device_attachments",
                             "filesystems",
                             "filesystem_attachments",
                             "smartcards",
                             "smartcard_attachments",
                             "usb_redirectors",
                             "usb_redirector_attachments",
                             "rng_devices",
                             "rng_device_attachments",
                             "panic_devices",
                             "panic_device_attachments",
                             "vsocks",
                             "vsock_attachments",
                             "memory_balloons",
                             "memory_balloon_attachments",
                             "shmem_devices",
                             "shmem_device_attachments",
                             "iommu_devices",
                             "iommu_device_attachments",
                             "audio_devices", // migration 0005
                             "audio_device_attachments",
                             "memory_devices",
                             "memory_device_attachments",
                             "boot_configs",
                             "cpu_tunings",
                             "vendor_options",
                             "vm_snapshots",
                             "users",
                             "roles",
                             "permissions",
                             "role_permissions",
                             "tasks",
                             "audit_log",
                             "apply_lock",
                             "load_revisions",
                             "spec_files"})
        EXPECT_TRUE(have.count(name)) << "missing table " << name;
    for (const char* col : {"name", "uuid", "description", "vcpu_count", "cpu_model",
                            "cpu_topology_json", "memory_bytes", "os_type", "is_template",
                            "sync_status", "desired_state", "created_at", "updated_at"})
        EXPECT_TRUE(has_column(db->db(), "virtual_machines", col)) << col;
    EXPECT_TRUE(has_column(db->db(), "tasks", "hostname")); // migration 0002
    if (!pg()) {
        EXPECT_EQ(db->db().execAndGet("PRAGMA journal_mode").getString(), "wal");
    }
}

TEST_P(Migrations, ForeignKeysAreEnforced) {
    auto db = Database::open(target("m.db"));
    if (!pg()) {
        EXPECT_EQ(db->db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
    }
    EXPECT_THROW(db->db().exec("INSERT INTO volume_attachments(vm_id, position) VALUES(999, 0)"),
                 sql::Exception);
    EXPECT_THROW(db->db().exec("INSERT INTO virtual_machines(host_id, name) VALUES(42, 'x')"),
                 sql::Exception);
    // Unique constraints: VM name per host, MAC per host, target per VM.
    db->db().exec("INSERT INTO hosts(name, uri) VALUES('h', 'test:///default')");
    db->db().exec("INSERT INTO virtual_machines(id, host_id, name) VALUES(1, 1, 'a')");
    EXPECT_THROW(db->db().exec("INSERT INTO virtual_machines(host_id, name) VALUES(1, 'a')"),
                 sql::Exception);
    db->db().exec("INSERT INTO virtual_machines(id, host_id, name) VALUES(2, 1, 'b')");
    db->db().exec("INSERT INTO ports(vm_id, host_id, position, mac_address) VALUES(1,1,0,'m')");
    // A failover pair: two NICs of one VM with one MAC (migration 0003).
    db->db().exec("INSERT INTO ports(vm_id, host_id, position, mac_address) VALUES(1,1,1,'m')");
    EXPECT_THROW(
        db->db().exec("INSERT INTO ports(vm_id, host_id, position, mac_address) VALUES(2,1,0,'m')"),
        sql::Exception);
    db->db().exec("INSERT INTO ports(vm_id, host_id, position, mac_address) VALUES(2,1,0,'n')");
    EXPECT_THROW(db->db().exec("UPDATE ports SET mac_address='m' WHERE vm_id=2"), sql::Exception);
    db->db().exec("INSERT INTO volume_attachments(vm_id, position, target_dev) VALUES(1,0,'vda')");
    EXPECT_THROW(db->db().exec("INSERT INTO volume_attachments(vm_id, position, target_dev) "
                               "VALUES(1,1,'vda')"),
                 sql::Exception);
    EXPECT_TRUE(db->check().empty());
}

TEST_P(Migrations, ASecondMigrateIsANoOp) {
    TempDir& t = tmp;
    std::string path = target("m.db");
    MigrateResult first, second;
    auto schema = [this](Database& db) {
        std::string out;
        sql::Statement q(
            db.db(), pg() ? "SELECT table_name || '.' || column_name || ' ' || data_type || "
                            "coalesce(' ' || column_default, '') FROM information_schema.columns "
                            "WHERE table_schema = current_schema() UNION ALL SELECT indexdef "
                            "FROM pg_indexes WHERE schemaname = current_schema() UNION ALL "
                            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = "
                            "t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                            "n.nspname = current_schema() ORDER BY 1"
                          : "SELECT sql FROM sqlite_master ORDER BY name");
        while (q.executeStep()) out += q.getColumn(0).getString() + ";";
        return out;
    };
    std::string after_first, after_second;
    {
        auto db = Database::open(path, &first);
        after_first = schema(*db);
    }
    EXPECT_EQ(first.from_version, 0);
    EXPECT_EQ(first.to_version, Database::latest_version());
    EXPECT_TRUE(first.backup_path.empty()); // a new database needs no backup
    {
        auto db = Database::open(path, &second);
        after_second = schema(*db);
        EXPECT_EQ(db->version(), Database::latest_version());
    }
    EXPECT_EQ(after_first, after_second);
    EXPECT_GT(after_first.size(), 1000u);
    EXPECT_EQ(second.from_version, Database::latest_version());
    EXPECT_EQ(second.to_version, Database::latest_version());
    EXPECT_TRUE(second.backup_path.empty());
    int baks = 0;
    for (const auto& e : fs::directory_iterator(t.path()))
        if (e.path().filename().string().find(".bak-") != std::string::npos) ++baks;
    EXPECT_EQ(baks, 0);
}

TEST(Migrations, AnOldDatabaseIsBackedUpThenMigrated) {
    TempDir t;
    std::string path = t.file("old.db");
    make_v1(path);
    MigrateResult r;
    {
        auto db = Database::open(path, &r);
        EXPECT_EQ(db->version(), Database::latest_version());
        EXPECT_TRUE(has_column(db->db(), "tasks", "hostname"));
        EXPECT_EQ(count(*db, "sqlite_master", "type='trigger' AND name='ports_mac_unique_insert'"),
                  1);
        EXPECT_EQ(count(*db, "sqlite_master", "name='idx_ports_mac'"), 0);
        EXPECT_EQ(count(*db, "hosts", "name='kvm1'"), 1); // data kept
    }
    EXPECT_EQ(r.from_version, 1);
    EXPECT_EQ(r.to_version, Database::latest_version());
    EXPECT_EQ(r.backup_path, path + ".bak-v1");
    ASSERT_TRUE(fs::exists(path + ".bak-v1"));
    SQLite::Database bak(path + ".bak-v1", SQLite::OPEN_READONLY);
    EXPECT_EQ(bak.execAndGet("PRAGMA user_version").getInt(), 1);
    EXPECT_EQ(bak.execAndGet("SELECT count(*) FROM hosts").getInt(), 1);
    EXPECT_FALSE(has_column(bak, "tasks", "hostname"));
}

TEST(Migrations, ANewerDatabaseIsRefusedAndUntouched) {
    TempDir t;
    std::string path = t.file("new.db");
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE future(x)");
        db.exec("PRAGMA user_version = 999");
    }
    std::string before = slurp(path);
    try {
        Database::open(path);
        FAIL() << "a database at version 999 was opened";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("999"), std::string::npos) << m;
        EXPECT_NE(m.find("newer"), std::string::npos) << m;
        EXPECT_FALSE(e.remedy().empty());
    }
    EXPECT_EQ(slurp(path), before);
    EXPECT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
    EXPECT_NE(run_binary("--db " + path + " db migrate"), 0);
    EXPECT_EQ(slurp(path), before);
}

TEST(Migrations, DbCheckExitsOneOnAForeignKeyViolation) {
    TempDir t;
    std::string path = t.file("c.db");
    { auto db = Database::open(path); }
    EXPECT_EQ(run_binary("--db " + path + " db check"), 0);
    // Write a dangling reference behind the schema's back (foreign keys off).
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "PRAGMA foreign_keys=OFF; INSERT INTO volume_attachments(vm_id, "
                           "position) VALUES(12345, 0);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    EXPECT_EQ(run_binary("--db " + path + " db check"), 1);
}

// PostgreSQL: a database at schema version 1 is migrated in place (each migration in one
// transaction; no file to back up), its data kept; a newer one is refused untouched; db check
// reports a constraint the server does not enforce (NOT VALID) with exit 1.
class PgMigrations : public BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, PgMigrations,
                         ::testing::Values(virtumancer::sql::Backend::postgresql), backend_name);

TEST_P(PgMigrations, AnOldDatabaseIsMigratedInPlace) {
    std::string uri = target("old");
    {
        auto c = sql::open_postgres_connection(uri);
        c->run_migration(embedded_migrations()[0].sql);
        c->set_schema_version(1);
        c->exec("INSERT INTO hosts(name, uri) VALUES('kvm1', 'qemu:///system')");
        EXPECT_FALSE(has_column(*c, "tasks", "hostname"));
    }
    MigrateResult r;
    auto db = Database::open(uri, &r);
    EXPECT_EQ(r.from_version, 1);
    EXPECT_EQ(r.to_version, Database::latest_version());
    EXPECT_TRUE(r.backup_path.empty());
    EXPECT_EQ(db->version(), Database::latest_version());
    EXPECT_TRUE(has_column(db->db(), "tasks", "hostname"));
    EXPECT_EQ(count(*db, "hosts", "name='kvm1'"), 1);
    EXPECT_EQ(count(*db, "installation"), 1);
    EXPECT_EQ(db->db().execAndGet("SELECT length(owner_id) FROM installation").getInt(), 16);
    // 0009: the MAC rule is checked per statement (two triggers, no row trigger left).
    EXPECT_EQ(count(*db, "pg_trigger",
                    "tgname IN ('ports_mac_unique_insert', 'ports_mac_unique_update') AND "
                    "tgrelid = 'ports'::regclass AND tgtype & 1 = 0"),
              2);
    EXPECT_EQ(count(*db, "pg_trigger", "tgname='ports_mac_unique' AND tgrelid = 'ports'::regclass"),
              0);
}

TEST_P(PgMigrations, ANewerDatabaseIsRefusedAndUntouched) {
    std::string uri = target("new");
    {
        auto c = sql::open_postgres_connection(uri);
        c->exec("CREATE TABLE future(x INTEGER)");
        c->set_schema_version(999);
    }
    try {
        Database::open(uri);
        FAIL() << "a database at version 999 was opened";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("999"), std::string::npos) << m;
        EXPECT_NE(m.find("newer"), std::string::npos) << m;
    }
    auto c = sql::open_postgres_connection(uri);
    EXPECT_EQ(c->tables(), std::vector<std::string>{"future"});
    EXPECT_NE(run_binary("--db '" + uri + "' db migrate"), 0);
    EXPECT_EQ(c->tables(), std::vector<std::string>{"future"});
}

TEST_P(PgMigrations, DbCheckExitsOneOnAConstraintNotEnforced) {
    std::string uri = target("c");
    { auto db = Database::open(uri); }
    EXPECT_EQ(run_binary("--db '" + uri + "' db check"), 0);
    auto c = sql::open_postgres_connection(uri);
    c->exec("INSERT INTO hosts(name, uri) VALUES('', 'x')");
    c->exec("ALTER TABLE hosts ADD CONSTRAINT hosts_named CHECK (name <> '') NOT VALID");
    EXPECT_EQ(run_binary("--db '" + uri + "' db check"), 1);
}
