// `db copy`: one database (SQLite file or PostgreSQL) copied into an empty one of either kind,
// table by table and column by column, generically: the tables, their columns and the order
// of their foreign keys come from the schema the migrations define (read from an in-memory
// SQLite database migrated by the same embedded migrations), so a table added by a later
// migration is copied without a change here.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>

#include "sql_sqlite.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/migrations.hpp"

namespace fs = std::filesystem;

namespace virtumancer {
namespace {

// The apply lock is the database's lock, not its data: the target starts unlocked.
const char* const kLockTable = "apply_lock";

std::string quote(const std::string& ident) {
    return "\"" + ident + "\"";
}

struct SchemaTable {
    std::string name;
    std::vector<std::string> cols;
    std::vector<std::string> self_refs; // columns referencing this table itself
    long long seeded = 0;               // rows a freshly migrated database holds
};

// The schema of the current version, tables in foreign-key order (a table after every table
// it references; ties by name), from an in-memory SQLite database migrated from scratch.
std::vector<SchemaTable> current_schema() {
    auto raw = std::make_unique<SQLite::Database>(":memory:",
                                                  SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    sql::SqliteConnection mem(std::move(raw));
    for (const auto& m : embedded_migrations()) mem.run_migration(m.sql);
    std::map<std::string, SchemaTable> by_name;
    std::map<std::string, std::set<std::string>> parents;
    for (const auto& t : mem.tables()) {
        if (t == kLockTable) continue;
        SchemaTable st;
        st.name = t;
        for (const auto& c : mem.columns(t)) st.cols.push_back(c.name);
        st.seeded = mem.execAndGet("SELECT count(*) FROM " + quote(t)).getInt64();
        sql::Statement fk(mem, "SELECT \"table\", \"from\" FROM pragma_foreign_key_list(?1)");
        fk.bind(1, t);
        parents[t];
        while (fk.executeStep()) {
            std::string parent = fk.getColumn(0).getString();
            if (parent == t)
                st.self_refs.push_back(fk.getColumn(1).getString());
            else
                parents[t].insert(parent);
        }
        by_name.emplace(t, std::move(st));
    }
    std::vector<SchemaTable> out;
    std::set<std::string> done;
    while (out.size() < by_name.size()) {
        bool progressed = false;
        for (auto& [name, st] : by_name) {
            if (done.count(name)) continue;
            bool ready =
                std::all_of(parents[name].begin(), parents[name].end(), [&](const std::string& p) {
                    return done.count(p) || !by_name.count(p);
                });
            if (!ready) continue;
            done.insert(name);
            out.push_back(st);
            progressed = true;
            break; // restart from the first name: ties in name order
        }
        if (!progressed)
            throw Error("db copy: the foreign keys of the schema form a cycle",
                        "report this: the migrations define tables that reference each other");
    }
    return out;
}

// "tasks (3 rows)" for each table of `c` holding rows a freshly migrated database does not.
std::vector<std::string> tables_with_data(sql::Connection& c,
                                          const std::vector<SchemaTable>& schema) {
    std::map<std::string, long long> seeded;
    for (const auto& t : schema) seeded[t.name] = t.seeded;
    std::vector<std::string> out;
    for (const auto& t : c.tables()) {
        long long n = c.execAndGet("SELECT count(*) FROM " + quote(t)).getInt64();
        auto it = seeded.find(t);
        if (n > 0 && n != (it == seeded.end() ? 0 : it->second))
            out.push_back(t + " (" + std::to_string(n) + (n == 1 ? " row)" : " rows)"));
    }
    return out;
}

Error not_empty(const std::string& target, const std::vector<std::string>& tables) {
    std::string list;
    for (size_t i = 0; i < tables.size() && i < 8; ++i) list += (i ? ", " : "") + tables[i];
    if (tables.size() > 8) list += ", ... (" + std::to_string(tables.size()) + " tables)";
    return Error("the target " + target + " is not empty (" + list +
                     "): db copy writes only into an empty database; nothing was written",
                 "copy into a new SQLite file or an empty PostgreSQL database (createdb NAME, "
                 "or an empty schema), or empty this one yourself if it is really not needed");
}

std::string this_host() {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// The apply lock of the source: PostgreSQL's is taken (and held by this connection until it
// closes, so no apply starts during the copy); SQLite's row must be absent or left by a dead
// process of this machine.
void hold_source_lock(Database& src) {
    std::optional<bool> got = src.db().try_apply_lock();
    if (got && *got) return;
    std::string who;
    {
        sql::Statement q(src.db(), "SELECT actor, hostname, pid, since FROM apply_lock");
        if (q.executeStep()) {
            std::string host = q.getColumn(1).getString();
            int pid = q.getColumn(2).getInt();
            bool dead_here = host == this_host() && pid > 0 && pid != getpid() &&
                             kill(pid, 0) != 0 && errno == ESRCH;
            if (!got && dead_here) return; // SQLite: a holder that died
            who = q.getColumn(0).getString() + " on " + host + " (pid " + std::to_string(pid) +
                  ", since " + q.getColumn(3).getString() + ")";
        }
    }
    if (!got && who.empty()) return;
    throw Error("an apply holds the lock of the source " + src.path() +
                    (who.empty() ? std::string() : ": " + who) +
                    "; copying now would copy half of it",
                "wait for the apply to finish and run db copy again");
}

// Rows of `table` of `src` inserted into `dst`, several per statement; returns the number.
long long copy_table(sql::Connection& src, sql::Connection& dst, const SchemaTable& t) {
    std::string cols;
    for (size_t i = 0; i < t.cols.size(); ++i) cols += (i ? ", " : "") + quote(t.cols[i]);
    const int ncols = static_cast<int>(t.cols.size());
    const int per = std::max(1, std::min(256, 16000 / std::max(1, ncols)));
    std::vector<int> self; // positions of the self-referencing columns, set after the insert
    for (const auto& c : t.self_refs)
        self.push_back(
            static_cast<int>(std::find(t.cols.begin(), t.cols.end(), c) - t.cols.begin()));
    int id_pos = static_cast<int>(std::find(t.cols.begin(), t.cols.end(), "id") - t.cols.begin());
    if (!self.empty() && id_pos == ncols)
        throw Error("db copy: table " + t.name + " references itself and has no id column",
                    "report this: db copy cannot order its rows");
    struct Later {
        std::string col, value, id;
    };
    std::vector<Later> later;

    std::vector<std::optional<std::string>> vals;
    long long n = 0;
    auto flush = [&] {
        size_t rows = vals.size() / ncols;
        if (rows == 0) return;
        std::string q = "INSERT INTO " + quote(t.name) + " (" + cols + ") VALUES ";
        std::string one = "(";
        for (int i = 0; i < ncols; ++i) one += i ? ", ?" : "?";
        one += ")";
        for (size_t r = 0; r < rows; ++r) q += (r ? ", " : "") + one;
        sql::Statement ins(dst, q);
        for (size_t i = 0; i < vals.size(); ++i) {
            int at = static_cast<int>(i) + 1;
            if (vals[i])
                ins.bind(at, *vals[i]);
            else
                ins.bind(at);
        }
        ins.exec();
        vals.clear();
    };
    // Text for every value: each backend stores it by the column's type (SQLite's affinity
    // turns "42" into the integer 42 in an INTEGER column; PostgreSQL parses it as BIGINT),
    // and a value that does not fit its column fails the copy instead of changing.
    // Streamed: a PostgreSQL source hands its rows over 2,000 at a time, not a whole table.
    sql::Statement sel(src, "SELECT " + cols + " FROM " + quote(t.name),
                       sql::Statement::Streamed{});
    while (sel.executeStep()) {
        for (int i = 0; i < ncols; ++i) {
            auto c = sel.getColumn(i);
            std::optional<std::string> v;
            if (!c.isNull()) v = c.getString();
            if (v && std::find(self.begin(), self.end(), i) != self.end()) {
                later.push_back({t.cols[i], *v, sel.getColumn(id_pos).getString()});
                v.reset();
            }
            vals.push_back(std::move(v));
        }
        ++n;
        if (vals.size() >= static_cast<size_t>(per * ncols)) flush();
    }
    flush();
    for (const auto& l : later) {
        sql::Statement u(dst, "UPDATE " + quote(t.name) + " SET " + quote(l.col) +
                                  " = ?1 WHERE id = ?2");
        u.bind(1, l.value);
        u.bind(2, l.id);
        u.exec();
    }
    return n;
}

// PostgreSQL: every identity (or serial) column's sequence continues after the largest id
// copied, so the next insert without an id gets a new one.
void reset_sequences(sql::Connection& dst, const std::vector<SchemaTable>& schema) {
    std::set<std::string> ours;
    for (const auto& t : schema) ours.insert(t.name);
    std::vector<std::pair<std::string, std::string>> cols;
    {
        sql::Statement q(dst, "SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND (is_identity = 'YES' OR "
                              "column_default LIKE 'nextval(%')");
        while (q.executeStep()) {
            std::string t = q.getColumn(0).getString();
            if (ours.count(t)) cols.emplace_back(t, q.getColumn(1).getString());
        }
    }
    for (const auto& [t, c] : cols)
        dst.exec("SELECT setval(pg_get_serial_sequence('" + quote(t) + "', '" + c +
                 "'), coalesce((SELECT max(" + quote(c) + ") FROM " + quote(t) +
                 "), 0) + 1, false)");
}

bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

} // namespace

CopyResult copy_database(const std::string& source, const std::string& target) {
    const bool src_pg = sql::is_postgres_uri(source), dst_pg = sql::is_postgres_uri(target);
    const std::string src_name = sql::redact(source), dst_name = sql::redact(target);
    if ((src_pg && dst_pg && source == target) ||
        (!src_pg && !dst_pg && (source == target || same_file(source, target))))
        throw Error("db copy: the source and the target are the same database (" + dst_name + ")",
                    "name another database with --to");
    std::error_code ec;
    if (!src_pg && !fs::exists(source, ec))
        throw Error("the source database " + source + " does not exist",
                    "point --db (or VIRTUMANCER_DB) at the database to copy");

    // The source as it is: never migrated or written by a copy.
    auto src = Database::open_readonly(source);
    const int latest = Database::latest_version();
    if (int v = src->version(); v != latest)
        throw Error("the source " + src_name + " is at schema version " + std::to_string(v) +
                        "; db copy copies a database at the current version " +
                        std::to_string(latest) + " (nothing was written)",
                    v < latest ? "migrate it first: virtumancer --db '" + src_name +
                                     "' db migrate (a SQLite file is backed up before), then "
                                     "copy"
                               : "use the newer virtumancer that wrote it");
    hold_source_lock(*src);

    const std::vector<SchemaTable> schema = current_schema();

    // A target that holds data is refused before it is migrated, so it is left as it was.
    if (dst_pg || fs::exists(target, ec)) {
        auto before = Database::open_readonly(target);
        auto data = tables_with_data(before->db(), schema);
        if (!data.empty()) throw not_empty(dst_name, data);
    }

    CopyResult res;
    auto dst = Database::open(target, &res.target_migration);
    res.source = src->path();
    res.target = dst->path();
    res.source_server = src->db().server();
    res.target_server = dst->db().server();
    res.schema_version = latest;

    std::set<std::string> src_tables, dst_tables;
    for (const auto& t : src->db().tables()) src_tables.insert(t);
    for (const auto& t : dst->db().tables()) dst_tables.insert(t);
    for (const auto& t : schema) {
        if (!src_tables.count(t.name))
            throw Error("the source " + src_name + " has no table " + t.name +
                            " although it says schema version " + std::to_string(latest),
                        "run virtumancer --db '" + src_name + "' db check");
        if (!dst_tables.count(t.name))
            throw Error("the target " + dst_name + " has no table " + t.name +
                            " after its migration to version " + std::to_string(latest),
                        "run virtumancer --db '" + dst_name + "' db check");
    }

    // One snapshot of the source; one transaction on the target.
    sql::Transaction read(src->db(), sql::Tx::read);
    dst->write([&] {
        // Again under the target's write lock: nobody wrote into it since the first look.
        auto data = tables_with_data(dst->db(), schema);
        if (!data.empty()) throw not_empty(dst_name, data);
        // What the migrations seeded (the owner id) gives way to the source's rows.
        for (auto it = schema.rbegin(); it != schema.rend(); ++it)
            if (it->seeded > 0) dst->db().exec("DELETE FROM " + quote(it->name));
        for (const auto& t : schema) {
            long long n = 0;
            try {
                n = copy_table(src->db(), dst->db(), t);
            } catch (const sql::Exception& e) {
                throw Error("db copy: copying table " + t.name + " into " + dst_name +
                                " failed: " + e.what() + "; the copy was rolled back",
                            "run db check on the source; the target holds no copied row");
            }
            spdlog::debug("db copy: {} rows of {}", n, t.name);
            res.tables.push_back({t.name, n});
            res.total_rows += n;
        }
        // Verified before the commit: the same number of rows on both sides of every table.
        for (const auto& t : res.tables) {
            long long s = src->db().execAndGet("SELECT count(*) FROM " + quote(t.name)).getInt64();
            long long d = dst->db().execAndGet("SELECT count(*) FROM " + quote(t.name)).getInt64();
            if (s != t.rows || d != t.rows)
                throw Error("db copy: table " + t.name + " has " + std::to_string(s) +
                                " rows in the source, " + std::to_string(t.rows) +
                                " were copied and the target has " + std::to_string(d) +
                                "; the copy was rolled back",
                            "run db check on both databases and copy again");
        }
        if (dst->backend() == sql::Backend::postgresql) reset_sequences(dst->db(), schema);
        res.owner_id =
            dst->db().execAndGet("SELECT owner_id FROM installation WHERE id = 1").getString();
    });
    read.commit();
    src->db().release_apply_lock();
    return res;
}

} // namespace virtumancer
