// The SQLite database: opening, migrations (with a backup first), status and checks.
// Foreign keys on, WAL, a busy timeout; write transactions start with BEGIN IMMEDIATE.
#pragma once
#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace virtumancer {

struct MigrateResult {
    int from_version = 0;
    int to_version = 0;
    std::string backup_path; // "" when no backup was needed (new or current database)
};

class Database {
  public:
    // Opens (creating if needed) and migrates to the newest embedded version.
    // Throws Error when the database is newer than this binary or cannot be opened.
    static std::unique_ptr<Database> open(const std::string& path, MigrateResult* mr = nullptr);
    // Opens without migrating (db status of a foreign file); read-only.
    static std::unique_ptr<Database> open_readonly(const std::string& path);
    // For commands that only read (plan, drift, render, tasks, audit, db status): as open(),
    // except that a database this process cannot write (file, directory or file system
    // read-only) is opened read-only when it is at the current schema version.
    // Errors name what is wrong with the path (a directory, a missing directory, not SQLite).
    static std::unique_ptr<Database> open_for_reading(const std::string& path);
    // True when opened read-only (writes fail).
    bool read_only() const { return read_only_; }

    SQLite::Database& db() { return *db_; }
    const std::string& path() const { return path_; }
    int version();
    static int latest_version();
    std::map<std::string, long long> table_counts();
    // integrity_check + foreign_key_check; returns the problems found (empty when healthy).
    std::vector<std::string> check();

    // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn throws.
    template <class Fn> void write(Fn&& fn) {
        db_->exec("BEGIN IMMEDIATE");
        try {
            fn();
            db_->exec("COMMIT");
        } catch (...) { // safe: rolled back, then rethrown
            try {
                db_->exec("ROLLBACK");
            } catch (...) { // safe: the original exception below says what went wrong
            }
            throw;
        }
    }

  private:
    Database(std::string path, std::unique_ptr<SQLite::Database> db)
        : path_(std::move(path)), db_(std::move(db)) {}
    MigrateResult migrate();
    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
    bool read_only_ = false;
};

} // namespace virtumancer
