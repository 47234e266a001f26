#include "virtumancer/database.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include "sql_sqlite.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/migrations.hpp"

namespace fs = std::filesystem;

namespace virtumancer {
namespace {

const char* kReadOnlyRemedy =
    "plan, drift, render, tasks, audit and db status read it as it is; to load, apply, import "
    "or migrate, make it writable or copy it somewhere writable and point --db at the copy";

std::string parent_of(const std::string& path) {
    fs::path p = fs::path(path).parent_path();
    return p.empty() ? std::string(".") : p.string();
}

// What is wrong with `path` as the database file, as far as the file system tells: a
// directory, a missing or non-directory parent, a file that is not SQLite, and (when `write`)
// a file or directory this process cannot write. Empty when none of these is found.
std::optional<Error> path_problem(const std::string& path, bool write) {
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (fs::is_directory(st))
        return Error("--db " + path + " is a directory, not a database file",
                     "point --db (or VIRTUMANCER_DB) at a file, e.g. " +
                         (fs::path(path) / "virtumancer.db").string());
    std::string dir = parent_of(path);
    fs::file_status dst = fs::status(dir, ec);
    if (!fs::exists(dst))
        return Error("the directory " + dir + " of database " + path + " does not exist",
                     "create it (mkdir -p " + dir +
                         ") or point --db at a file in an existing "
                         "directory");
    if (!fs::is_directory(dst))
        return Error("database " + path + ": " + dir + " is not a directory",
                     "point --db at a file in a directory");
    bool exists = fs::exists(st);
    if (exists && !fs::is_regular_file(st))
        return Error("database " + path + " is not a regular file",
                     "point --db at a SQLite database file");
    if (exists) {
        std::ifstream in(path, std::ios::binary);
        char head[16] = {0};
        in.read(head, sizeof head);
        std::streamsize n = in.gcount();
        if (n > 0 && (n < 16 || std::memcmp(head, "SQLite format 3", 16) != 0))
            return Error("database " + path +
                             " is not a SQLite database file (it does not start "
                             "with SQLite's header); it was not touched",
                         "point --db at a virtumancer database, or at a new file name to create "
                         "one");
    }
    if (!write) return std::nullopt;
    if (exists && ::access(path.c_str(), W_OK) != 0) {
        int err = errno;
        if (err == EROFS)
            return Error("database " + path + " is on a read-only file system", kReadOnlyRemedy);
        return Error("database " + path + " is read-only (" + std::strerror(err) +
                         ": no write permission for this user, or the file is immutable)",
                     kReadOnlyRemedy);
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        int err = errno;
        std::string why = err == EROFS ? "is on a read-only file system" : "is read-only";
        if (!exists)
            return Error("cannot create database " + path + ": its directory " + dir + " " + why,
                         "point --db at a file in a writable directory");
        return Error("the directory " + dir + " of database " + path + " " + why +
                         ": SQLite writes its journal (" + fs::path(path).filename().string() +
                         "-wal, -shm) beside the database",
                     "make the directory writable or move the database into a writable one; " +
                         std::string(kReadOnlyRemedy));
    }
    return std::nullopt;
}

// The error for a failed open or first statement: what the path check finds, else SQLite's.
Error open_error(const std::string& path, const std::string& sqlite_message, bool write) {
    if (auto e = path_problem(path, write)) return *e;
    return Error("cannot open database " + path + ": " + sqlite_message,
                 "check the path and permissions, or point --db at another file");
}

void configure(SQLite::Database& db) {
    db.setBusyTimeout(10000);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");
}

int g_connect_timeout = 10;
int g_query_timeout = 60;

SQLite::Database& raw(sql::Connection& c) {
    return static_cast<sql::SqliteConnection&>(c).raw();
}

std::unique_ptr<sql::Connection> wrap(std::unique_ptr<SQLite::Database> db) {
    return std::make_unique<sql::SqliteConnection>(std::move(db));
}

} // namespace

void Database::set_connect_timeout(int seconds) {
    g_connect_timeout = seconds > 0 ? seconds : 10;
}
int Database::connect_timeout() {
    return g_connect_timeout;
}
void Database::set_query_timeout(int seconds) {
    g_query_timeout = seconds > 0 ? seconds : 60;
}
int Database::query_timeout() {
    return g_query_timeout;
}

std::unique_ptr<Database> Database::open_postgres(const std::string& uri, MigrateResult* mr,
                                                  bool migrate) {
    auto conn = sql::open_postgres_connection(uri, g_connect_timeout, g_query_timeout);
    std::unique_ptr<Database> out(new Database(sql::redact(uri), std::move(conn)));
    int v = 0;
    try {
        v = out->version();
    } catch (const sql::Exception& e) {
        throw Error("cannot read the schema version of " + out->path_ + ": " + e.what(),
                    "check that the user may read the database");
    }
    if (v > latest_version())
        throw Error("database " + out->path_ + " is at schema version " + std::to_string(v) +
                        ", newer than this virtumancer (knows up to " +
                        std::to_string(latest_version()) + "); it was not touched",
                    "use a newer virtumancer, or point --db at another database");
    if (!migrate) return out;
    // No file to copy: each migration runs in one transaction (DDL is transactional in
    // PostgreSQL), so a failed one leaves the database at the version before it.
    MigrateResult r;
    try {
        r = out->migrate();
    } catch (const sql::Exception& e) {
        throw Error("migrating " + out->path_ + " failed (rolled back to schema version " +
                        std::to_string(out->version()) + "): " + e.what(),
                    "check that the user may create tables in the database");
    }
    if (r.from_version > 0 && r.to_version > r.from_version)
        spdlog::info("migrated {} from schema v{} to v{} (each step in one transaction)",
                     out->path_, r.from_version, r.to_version);
    if (mr) *mr = r;
    return out;
}

std::unique_ptr<Database> Database::open_for_cleanup(const std::string& target) {
    if (sql::is_postgres_uri(target))
        return std::unique_ptr<Database>(
            new Database(sql::redact(target),
                         sql::open_postgres_connection(target, 3, std::min(g_query_timeout, 10))));
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(target, SQLite::OPEN_READWRITE);
        db->setBusyTimeout(3000);
    } catch (const SQLite::Exception& e) {
        throw sql::Exception(e.what());
    }
    return std::unique_ptr<Database>(new Database(target, wrap(std::move(db))));
}

int Database::latest_version() {
    const auto& m = embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

int Database::version() {
    return db_->schema_version();
}

std::unique_ptr<Database> Database::open(const std::string& path, MigrateResult* mr) {
    if (sql::is_postgres_uri(path)) return open_postgres(path, mr, true);
    // A directory or a missing parent fails before SQLite (and would be a raw filesystem error).
    if (auto e = path_problem(path, false)) throw *e;
    std::error_code ec;
    bool existed = fs::exists(path, ec) && fs::file_size(path, ec) > 0;
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        // SQLite opens a file it may not write read-only without saying so.
        if (sqlite3_db_readonly(db->getHandle(), "main") == 1) {
            if (auto e = path_problem(path, true)) throw *e;
            throw Error("database " + path + " can only be opened read-only", kReadOnlyRemedy);
        }
        configure(*db);
        // Validates that the file is a database before anything is written.
        int v = db->execAndGet("PRAGMA user_version").getInt();
        if (v > latest_version())
            throw Error("database " + path + " is at schema version " + std::to_string(v) +
                            ", newer than this virtumancer (knows up to " +
                            std::to_string(latest_version()) + "); it was not touched",
                        "use a newer virtumancer, or point --db at another file");
        db->exec("PRAGMA journal_mode = WAL");
    } catch (const SQLite::Exception& e) {
        throw open_error(path, e.what(), true);
    }
    std::unique_ptr<Database> out(new Database(path, wrap(std::move(db))));
    int v = out->version();
    if (existed && v < latest_version() && v > 0) {
        // Back up before migrating an existing database (checkpoint the WAL into the file first).
        raw(*out->db_).exec("PRAGMA wal_checkpoint(TRUNCATE)");
        std::string bak = path + ".bak-v" + std::to_string(v);
        raw(*out->db_).backup(bak.c_str(), SQLite::Database::Save);
        spdlog::info("backed up {} (schema v{}) to {}", path, v, bak);
        MigrateResult r = out->migrate();
        r.backup_path = bak;
        if (mr) *mr = r;
        return out;
    }
    MigrateResult r = out->migrate();
    if (mr) *mr = r;
    return out;
}

std::unique_ptr<Database> Database::open_readonly(const std::string& path) {
    // PostgreSQL: the server's permissions decide what this user may write.
    if (sql::is_postgres_uri(path)) return open_postgres(path, nullptr, false);
    if (auto e = path_problem(path, false)) throw *e;
    if (!fs::exists(path))
        throw Error("database " + path + " does not exist",
                    "run `virtumancer db migrate` or `virtumancer load` to create it");
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
        db->setBusyTimeout(10000);
        db->exec("PRAGMA foreign_keys = ON");
        db->execAndGet("PRAGMA user_version");
    } catch (const SQLite::Exception& e) {
        // A WAL database in a directory this process cannot write: SQLite cannot create the
        // -shm file even to read. Nobody can write it there either, so read it as immutable.
        if (e.getErrorCode() != SQLITE_READONLY && e.getErrorCode() != SQLITE_CANTOPEN)
            throw open_error(path, e.what(), false);
        try {
            std::string uri = "file:" + fs::absolute(path).string() + "?immutable=1";
            db = std::make_unique<SQLite::Database>(uri, SQLite::OPEN_READONLY | SQLite::OPEN_URI);
            db->exec("PRAGMA foreign_keys = ON");
            db->execAndGet("PRAGMA user_version");
            spdlog::info("{}: its directory is not writable; read as an immutable file", path);
        } catch (const SQLite::Exception& e2) {
            throw open_error(path, e2.what(), false);
        }
    }
    auto out = std::unique_ptr<Database>(new Database(path, wrap(std::move(db))));
    out->read_only_ = true;
    return out;
}

std::unique_ptr<Database> Database::open_for_reading(const std::string& path) {
    if (sql::is_postgres_uri(path)) return open_postgres(path, nullptr, true);
    std::error_code ec;
    // A database this process cannot write (or whose journal it cannot create) is read as it
    // is; anything else opens as for writing (created and migrated when needed).
    if (!fs::exists(path, ec) || !path_problem(path, true)) return open(path);
    if (auto e = path_problem(path, false)) throw *e;
    auto db = open_readonly(path);
    int v = db->version();
    if (v != latest_version())
        throw Error("database " + path + " is read-only and at schema version " +
                        std::to_string(v) + "; this virtumancer reads version " +
                        std::to_string(latest_version()) + " (migrating would write to it)",
                    v < latest_version()
                        ? "make it writable and run `virtumancer db migrate`, or use the "
                          "virtumancer that wrote it"
                        : "use a newer virtumancer");
    spdlog::info("{} is read-only: opened for reading", path);
    return db;
}

MigrateResult Database::migrate() {
    MigrateResult r;
    r.from_version = version();
    r.to_version = r.from_version;
    for (const auto& m : embedded_migrations()) {
        if (m.version <= r.to_version) continue;
        write([&] {
            // Re-check inside the write lock: another process may have migrated meanwhile.
            int now = version();
            if (m.version <= now) return;
            db_->run_migration(m.sql);
            db_->set_schema_version(m.version);
            spdlog::debug("applied migration {}", m.name);
        });
        r.to_version = m.version;
    }
    return r;
}

std::map<std::string, long long> Database::table_counts() {
    std::map<std::string, long long> out;
    for (const auto& n : db_->tables())
        out[n] = db_->execAndGet("SELECT count(*) FROM \"" + n + "\"").getInt64();
    return out;
}

std::vector<std::string> Database::check() {
    return db_->check();
}

} // namespace virtumancer
