// `db copy` (issue 14): a database copied into an empty one of either kind keeps every row of
// every table (compared value for value, not only counted) and the owner id; a target holding
// data is refused and left as it was; PostgreSQL's identity sequences continue after the
// copied ids. SQLite -> SQLite always; the directions with PostgreSQL when the test server
// answers (required with VIRTUMANCER_REQUIRE_PG=1).
#include <unistd.h>

#include <algorithm>

#include "store_test_util.hpp"
#include "virtumancer/access_store.hpp"
#include "virtumancer/spec.hpp"

using namespace virtumancer;
using namespace store_test;
using virtumancer::testing_util::run_cli;

// The actor of the copies on SQLite (fill() makes it an admin; PostgreSQL uses the login).
const std::string kCopyAdmin = "copy-admin";
const std::string kAsAdmin = "VIRTUMANCER_ACTOR=copy-admin ";

namespace {

struct Direction {
    sql::Backend from, to;
};

std::string direction_name(const ::testing::TestParamInfo<Direction>& i) {
    auto n = [](sql::Backend b) { return b == sql::Backend::sqlite ? "sqlite" : "postgresql"; };
    return std::string(n(i.param.from)) + "_to_" + n(i.param.to);
}

using Rows = std::vector<std::vector<std::optional<std::string>>>;

// Every row of `table`, every column as text (NULL kept apart), sorted here (the backends'
// collations differ).
Rows dump(Database& db, const std::string& table) {
    auto cols = db.db().columns(table);
    sql::Statement q(db.db(), "SELECT * FROM \"" + table + "\"");
    Rows out;
    while (q.executeStep()) {
        std::vector<std::optional<std::string>> row;
        for (size_t i = 0; i < cols.size(); ++i) {
            auto c = q.getColumn(static_cast<int>(i));
            row.push_back(c.isNull() ? std::nullopt : std::optional<std::string>(c.getString()));
        }
        out.push_back(std::move(row));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, Rows> dump_all(Database& db) {
    std::map<std::string, Rows> out;
    for (const auto& t : db.db().tables()) out[t] = dump(db, t);
    return out;
}

std::string specs_dir() {
    return std::string(VIRTUMANCER_SOURCE_DIR) + "/specs";
}

// A volume whose backing volume gets a larger id (declared after it), 300 volumes apart: more
// than one INSERT of the copy apart (256 rows each), so the copy must not insert a row before
// the row it references.
std::string backing_first() {
    std::string y = "kind: Volume\nname: zz-child\nhost: local\npool: vm-images\n"
                    "capacity: 1GiB\nbacking_volume: zz-base\n";
    for (int i = 0; i < 300; ++i)
        y += "---\nkind: Volume\nname: zz-fill-" + std::to_string(i) +
             "\nhost: local\npool: vm-images\ncapacity: 1MiB\n";
    return y + "---\nkind: Volume\nname: zz-base\nhost: local\npool: vm-images\n"
               "capacity: 1GiB\n";
}

} // namespace

class DbCopy : public ::testing::TestWithParam<Direction> {
  protected:
    void SetUp() override {
        if (GetParam().from != sql::Backend::postgresql &&
            GetParam().to != sql::Backend::postgresql)
            return;
        admin_uri_ = pg_test_uri();
        VMR_PG_CONNECT_OR_SKIP(admin_, admin_uri_);
    }
    void TearDown() override {
        for (const auto& s : schemas_) try {
                admin_->exec("DROP SCHEMA IF EXISTS " + s + " CASCADE");
            } catch (...) {
            }
    }
    // A database of its own: a file of the temporary directory, or a fresh schema.
    std::string make(const std::string& name, sql::Backend b) {
        if (b == sql::Backend::sqlite) return tmp.file(name + ".db");
        std::string schema = "vmcopy_" + std::to_string(getpid()) + "_" +
                             std::to_string(schemas_.size() + 1) + "_" + name;
        admin_->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        admin_->exec("CREATE SCHEMA " + schema);
        schemas_.push_back(schema);
        return store_test::pg_schema_uri(admin_uri_, schema);
    }
    std::string source() { return make("src", GetParam().from); }
    std::string target() { return make("dst", GetParam().to); }
    // The password of the test server ("" when none): never in any output.
    std::string password() const {
        auto at = admin_uri_.find('@');
        auto colon = admin_uri_.rfind(':', at);
        if (at == std::string::npos || colon == std::string::npos || colon < 13) return "";
        return admin_uri_.substr(colon + 1, at - colon - 1);
    }

    // Specs (two loads: two revisions, one object pending delete), tasks, audit entries,
    // sync statuses and a user with a role: rows in most tables.
    void fill(const std::string& uri) {
        // An admin first (db copy needs db.admin once users exist): on PostgreSQL the login,
        // on SQLite the actor the copies below run as.
        std::string who = kCopyAdmin;
        if (sql::is_postgres_uri(uri)) {
            auto d = Database::open(uri);
            who = AccessStore(*d).session_user();
        }
        auto add = run_cli("--db '" + uri + "' user add " + who + " --role admin",
                           "VIRTUMANCER_ACTOR=" + who + " ");
        ASSERT_EQ(add.rc, 0) << add.out;
        auto db = Database::open(uri);
        Store store(*db);
        std::string extra = tmp.write("extra/backing.yaml", backing_first());
        SpecLoadResult first = load_spec_files({specs_dir(), extra});
        ASSERT_FALSE(first.diags.has_errors()) << first.diags.json();
        store.save_desired(first, "rev-1", "alice", {specs_dir(), extra});
        SpecLoadResult second = load_spec_files({specs_dir()});
        ASSERT_FALSE(second.diags.has_errors()) << second.diags.json();
        store.save_desired(second, "rev-2", "bob", {specs_dir()});
        int64_t a = store.task_begin("run-1", "alice", "vm.define", "vm", "web", R"({"n":1})");
        store.task_progress(a, 50);
        store.task_finish(a, true, R"({"ok":true})");
        int64_t b = store.task_begin("run-1", "alice", "vm.start", "vm", "web", "");
        store.task_finish(b, false, R"({"error":"it's \"quoted\"\nand two lines"})");
        store.task_begin("run-2", "bob", "volume.create", "volume", "vm-images/db-data", "");
        store.audit("alice", "vm.define", "vm", "local/web", R"({"xml":"<domain/>"})");
        store.audit("bob", "load", "revision", "rev-2", "{}");
        store.record_sync_status({{"local", "web", VmSyncStatus::InSync}});
        db->write([&] {
            // More rows than a PostgreSQL source hands over at once (2,000 a fetch).
            db->db().exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                          "i < 2100) INSERT INTO audit_log(actor, action, target_type, target_id) "
                          "SELECT 'bulk', 'copy-test.bulk', 'row', 'r' || i FROM n");
            db->db().exec("INSERT INTO roles(name) VALUES ('copy-test-operator')");
            db->db().exec("INSERT INTO permissions(action, description) VALUES "
                          "('copy-test.apply', 'apply plans')");
            db->db().exec("INSERT INTO role_permissions(role_id, permission_id) SELECT r.id, "
                          "p.id FROM roles r, permissions p WHERE r.name = 'copy-test-operator' "
                          "AND p.action = 'copy-test.apply'");
            db->db().exec("INSERT INTO users(username, password_hash, role_id) SELECT "
                          "'copy-test-user', 'x$hash', id FROM roles WHERE name = "
                          "'copy-test-operator'");
        });
    }

    TempDir tmp;

  private:
    std::string admin_uri_;
    std::unique_ptr<sql::Connection> admin_;
    std::vector<std::string> schemas_;
};

INSTANTIATE_TEST_SUITE_P(
    Directions, DbCopy,
    ::testing::Values(Direction{sql::Backend::sqlite, sql::Backend::sqlite},
                      Direction{sql::Backend::sqlite, sql::Backend::postgresql},
                      Direction{sql::Backend::postgresql, sql::Backend::sqlite},
                      Direction{sql::Backend::postgresql, sql::Backend::postgresql}),
    direction_name);

TEST_P(DbCopy, EveryRowOfEveryTableAndTheOwnerIdArrive) {
    std::string src_uri = source(), dst_uri = target();
    fill(src_uri);
    // A target that was only migrated (its own owner id) counts as empty.
    std::string dst_owner_before;
    {
        auto d = Database::open(dst_uri);
        dst_owner_before = Store(*d).load_desired().owner_id;
    }
    auto r = run_cli("--db '" + src_uri + "' db copy --to '" + dst_uri + "'", kAsAdmin);
    ASSERT_EQ(r.rc, 0) << r.out;
    if (!password().empty()) {
        EXPECT_EQ(r.out.find(password()), std::string::npos) << r.out;
    }

    auto src = Database::open(src_uri);
    auto dst = Database::open(dst_uri);
    auto a = dump_all(*src), b = dump_all(*dst);
    a.erase("apply_lock");
    b.erase("apply_lock");
    ASSERT_EQ(a.size(), b.size());
    long long total = 0;
    int non_empty = 0;
    for (const auto& [table, rows] : a) {
        ASSERT_TRUE(b.count(table)) << table;
        EXPECT_EQ(rows, b[table]) << "table " << table << " differs";
        total += static_cast<long long>(rows.size());
        non_empty += rows.empty() ? 0 : 1;
        // The summary names each table with its row count.
        EXPECT_NE(r.out.find("  " + table), std::string::npos) << r.out;
    }
    EXPECT_NE(r.out.find("total: " + std::to_string(total) + " rows"), std::string::npos) << r.out;
    // Not a vacuous comparison: history, desired state and users are there.
    for (const char* t : {"tasks", "audit_log", "load_revisions", "spec_files", "hosts",
                          "virtual_machines", "volumes", "volume_attachments", "ports", "users",
                          "roles", "permissions", "role_permissions", "installation"})
        EXPECT_FALSE(a[t].empty()) << t;
    EXPECT_GE(non_empty, 20) << r.out;
    EXPECT_EQ(a["tasks"].size(), 3u);
    EXPECT_EQ(a["audit_log"].size(), 2102u); // two entries and 2,100 bulk rows
    EXPECT_EQ(a["load_revisions"].size(), 2u);
    // A row that references a row of its own table with a larger id arrived.
    EXPECT_EQ(count(*dst, "volumes v", "v.backing_volume_id > v.id"), 1);

    // The owner id is the source's (the target's own was replaced).
    std::string owner = Store(*src).load_desired().owner_id;
    ASSERT_FALSE(owner.empty());
    EXPECT_EQ(Store(*dst).load_desired().owner_id, owner);
    EXPECT_NE(dst_owner_before, owner);
    EXPECT_NE(r.out.find("owner id " + owner), std::string::npos) << r.out;
    // The desired state reads back the same, pending deletions included.
    std::vector<std::string> pa, pb;
    auto da = Store(*src).load_desired(&pa), db = Store(*dst).load_desired(&pb);
    EXPECT_EQ(da.vms.size(), db.vms.size());
    EXPECT_EQ(pa, pb);
    EXPECT_FALSE(pa.empty());

    // Later inserts get new ids after the copied ones (PostgreSQL: sequences were reset).
    Store out(*dst);
    int64_t max_task = dst->db().execAndGet("SELECT max(id) FROM tasks").getInt64();
    EXPECT_EQ(out.task_begin("run-3", "carol", "vm.define", "vm", "x", ""), max_task + 1);
    int64_t max_audit = dst->db().execAndGet("SELECT max(id) FROM audit_log").getInt64();
    out.audit("carol", "vm.define", "vm", "local/x", "{}");
    EXPECT_EQ(dst->db().execAndGet("SELECT max(id) FROM audit_log").getInt64(), max_audit + 1);
    int64_t max_rev = out.latest_revision_id();
    int64_t max_volume = dst->db().execAndGet("SELECT max(id) FROM volumes").getInt64();
    std::string added = tmp.write("extra2/new.yaml", "kind: Volume\nname: zz-new\nhost: local\n"
                                                     "pool: vm-images\ncapacity: 1GiB\n");
    SpecLoadResult again = load_spec_files({specs_dir(), added});
    ASSERT_FALSE(again.diags.has_errors()) << again.diags.json();
    auto sum = out.save_desired(again, "rev-3", "carol", {specs_dir(), added});
    EXPECT_EQ(sum.revision_id, max_rev + 1);
    EXPECT_EQ(sum.inserted, 1);
    EXPECT_EQ(dst->db().execAndGet("SELECT id FROM volumes WHERE name = 'zz-new'").getInt64(),
              max_volume + 1);
}

TEST_P(DbCopy, ATargetHoldingDataIsRefusedAndLeftUnchanged) {
    std::string src_uri = source(), dst_uri = target();
    fill(src_uri);
    {
        auto d = Database::open(dst_uri);
        Store(*d).audit("someone", "load", "revision", "theirs", "{}");
    }
    std::map<std::string, Rows> before;
    {
        auto d = Database::open(dst_uri);
        before = dump_all(*d);
    }
    auto r = run_cli("--db '" + src_uri + "' db copy --to '" + dst_uri + "'", kAsAdmin);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("not empty"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("audit_log (1 row)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(sql::redact(dst_uri)), std::string::npos) << r.out; // names the target
    EXPECT_NE(r.out.find("hint: "), std::string::npos) << r.out;
    if (!password().empty()) {
        EXPECT_EQ(r.out.find(password()), std::string::npos) << r.out;
    }
    auto d = Database::open(dst_uri);
    EXPECT_EQ(dump_all(*d), before);
    // The library says the same (no output involved).
    EXPECT_THROW(copy_database(src_uri, dst_uri), Error);
    EXPECT_EQ(dump_all(*d), before);
}

TEST_P(DbCopy, AnApplyHoldingTheSourceLockIsRefusedUntilItEnds) {
    std::string src_uri = source(), dst_uri = target();
    fill(src_uri);
    auto s = Database::open(src_uri);
    Store holder(*s);
    ASSERT_FALSE(holder.try_lock("applier-x").has_value());
    auto r = run_cli("--db '" + src_uri + "' db copy --to '" + dst_uri + "'", kAsAdmin);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("an apply holds the lock"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("applier-x"), std::string::npos) << r.out;
    holder.unlock();
    r = run_cli("--db '" + src_uri + "' db copy --to '" + dst_uri + "'", kAsAdmin);
    EXPECT_EQ(r.rc, 0) << r.out;
}

TEST(DbCopyRefusals, ASourceBehindTheCurrentSchemaIsRefusedWithTheMigrateRemedy) {
    TempDir t;
    std::string src = t.file("old.db"), dst = t.file("new.db");
    {
        auto d = Database::open(src);
        d->db().exec("PRAGMA user_version = 3");
    }
    auto r = run_cli("--db '" + src + "' db copy --to '" + dst + "'", kAsAdmin);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("schema version 3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("db migrate"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dst)) << "the target was created";
    EXPECT_EQ(Database::open_readonly(src)->version(), 3) << "the source was migrated";
}

TEST(DbCopyRefusals, NoSourceAndTheSameDatabaseAreRefused) {
    TempDir t;
    auto r = run_cli("--db '" + t.file("none.db") + "' db copy --to '" + t.file("x.db") + "'");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(t.file("x.db")));
    { Database::open(t.file("a.db")); }
    r = run_cli("--db '" + t.file("a.db") + "' db copy --to '" + t.path().string() + "/./a.db'");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("the same database"), std::string::npos) << r.out;
}
