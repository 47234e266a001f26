#include "virtumancer/database.hpp"

#include <filesystem>
#include <spdlog/spdlog.h>

#include "virtumancer/diag.hpp"
#include "virtumancer/migrations.hpp"

namespace fs = std::filesystem;

namespace virtumancer {
namespace {

void configure(SQLite::Database& db) {
    db.setBusyTimeout(10000);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");
}

} // namespace

int Database::latest_version() {
    const auto& m = embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

int Database::version() {
    return db_->execAndGet("PRAGMA user_version").getInt();
}

std::unique_ptr<Database> Database::open(const std::string& path, MigrateResult* mr) {
    bool existed = fs::exists(path) && fs::file_size(path) > 0;
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
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
        throw Error("cannot open database " + path + ": " + e.what(),
                    "check the path and permissions, or point --db at another file");
    }
    std::unique_ptr<Database> out(new Database(path, std::move(db)));
    int v = out->version();
    if (existed && v < latest_version() && v > 0) {
        // Back up before migrating an existing database (checkpoint the WAL into the file first).
        out->db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
        std::string bak = path + ".bak-v" + std::to_string(v);
        out->db_->backup(bak.c_str(), SQLite::Database::Save);
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
    if (!fs::exists(path))
        throw Error("database " + path + " does not exist",
                    "run `virtumancer db migrate` or `virtumancer load` to create it");
    try {
        auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
        db->setBusyTimeout(10000);
        db->exec("PRAGMA foreign_keys = ON");
        return std::unique_ptr<Database>(new Database(path, std::move(db)));
    } catch (const SQLite::Exception& e) {
        throw Error("cannot open database " + path + ": " + e.what(), "check the path");
    }
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
            db_->exec(m.sql);
            db_->exec("PRAGMA user_version = " + std::to_string(m.version));
            spdlog::debug("applied migration {}", m.name);
        });
        r.to_version = m.version;
    }
    return r;
}

std::map<std::string, long long> Database::table_counts() {
    std::map<std::string, long long> out;
    SQLite::Statement q(*db_, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
                              "LIKE 'sqlite_%' ORDER BY name");
    std::vector<std::string> names;
    while (q.executeStep()) names.push_back(q.getColumn(0).getString());
    for (const auto& n : names)
        out[n] = db_->execAndGet("SELECT count(*) FROM \"" + n + "\"").getInt64();
    return out;
}

std::vector<std::string> Database::check() {
    std::vector<std::string> problems;
    SQLite::Statement ic(*db_, "PRAGMA integrity_check");
    while (ic.executeStep()) {
        std::string s = ic.getColumn(0).getString();
        if (s != "ok") problems.push_back("integrity: " + s);
    }
    SQLite::Statement fk(*db_, "PRAGMA foreign_key_check");
    while (fk.executeStep()) {
        problems.push_back("foreign key: table " + fk.getColumn(0).getString() + " rowid " +
                           fk.getColumn(1).getString() + " references missing row in " +
                           fk.getColumn(2).getString());
    }
    return problems;
}

} // namespace virtumancer
