// The database: a SQLite file or a PostgreSQL server (a postgresql:// or postgres:// URI).
// Opening, migrations (SQLite: with a backup first; PostgreSQL: each in one transaction),
// status and checks. SQLite: foreign keys on, WAL, a busy timeout; write transactions start
// with BEGIN IMMEDIATE. PostgreSQL: write transactions serialise on an advisory lock.
#pragma once
#include "virtumancer/sql.hpp"

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
    // `target` is a SQLite file path or a PostgreSQL URI (see sql::is_postgres_uri).
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
    // A connection of its own for a last write on the way out (Store::abandon): no migration,
    // short busy/connect timeouts (3 s).
    static std::unique_ptr<Database> open_for_cleanup(const std::string& target);
    // True when opened read-only (writes fail).
    bool read_only() const { return read_only_; }

    sql::Connection& db() { return *db_; }
    sql::Backend backend() const { return db_->backend(); }
    // The file path, or the URI without its password: what messages may show.
    const std::string& path() const { return path_; }
    // Seconds a PostgreSQL connection attempt may take (default 10; a connect_timeout in the
    // URI wins). Set once by the command line (--db-connect-timeout).
    static void set_connect_timeout(int seconds);
    static int connect_timeout();
    // Seconds a PostgreSQL server may stay silent while a statement waits for it (default 60)
    // before the statement fails and the connection is given up. Set once by the command line
    // (--db-timeout, VIRTUMANCER_DB_TIMEOUT).
    static void set_query_timeout(int seconds);
    static int query_timeout();
    int version();
    static int latest_version();
    std::map<std::string, long long> table_counts();
    // integrity_check + foreign_key_check; returns the problems found (empty when healthy).
    std::vector<std::string> check();

    // Runs fn inside a write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: see
    // sql_postgres.cpp); commits, or rolls back when fn throws.
    template <class Fn> void write(Fn&& fn) {
        sql::Transaction tx(*db_, sql::Tx::write);
        fn();
        tx.commit();
    }

  private:
    Database(std::string path, std::unique_ptr<sql::Connection> db)
        : path_(std::move(path)), db_(std::move(db)) {}
    static std::unique_ptr<Database> open_postgres(const std::string& uri, MigrateResult* mr,
                                                   bool migrate);
    MigrateResult migrate();
    std::string path_;
    std::unique_ptr<sql::Connection> db_;
    bool read_only_ = false;
};

// `db copy`: every table of the database `source` (SQLite file or PostgreSQL URI, at the
// current schema version) copied row for row into `target` (either kind), which is created or
// migrated first and must hold no data (src/store/store_copy.cpp).
struct CopiedTable {
    std::string name;
    long long rows = 0;
};
struct CopyResult {
    std::string source, target;               // as messages may show them (no password)
    std::string source_server, target_server; // sql::Connection::server()
    int schema_version = 0;
    std::string owner_id;            // the installation's, the same on both
    std::vector<CopiedTable> tables; // in copy (foreign-key) order
    long long total_rows = 0;
    MigrateResult target_migration;
};
// One write transaction on the target: ids kept, PostgreSQL identity sequences set past the
// largest id, row counts of every table compared on both sides before the commit. Throws
// Error (the target unchanged) when the source is not at the current schema version, an apply
// holds the source's lock, the target holds data, or the counts differ.
CopyResult copy_database(const std::string& source, const std::string& target);

} // namespace virtumancer
