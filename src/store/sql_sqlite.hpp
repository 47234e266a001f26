// The SQLite implementation of sql::Connection (over SQLiteCpp).
#pragma once
#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <memory>

#include "virtumancer/sql.hpp"

namespace virtumancer::sql {

class SqliteConnection : public Connection {
  public:
    explicit SqliteConnection(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
    SQLite::Database& raw() { return *db_; }

    Backend backend() const override { return Backend::sqlite; }
    std::unique_ptr<StmtImpl> prepare(const std::string& sql) override;
    int exec(const std::string& sql) override;
    int64_t getTotalChanges() override { return db_->getTotalChanges(); }
    void begin(Tx tx) override;
    void commit() override;
    void rollback() override;
    std::vector<std::string> tables() override;
    std::vector<ColumnMeta> columns(const std::string& table) override;
    std::vector<std::string> check() override;
    int schema_version() override;
    void set_schema_version(int v) override;
    void run_migration(const std::string& sql) override;
    std::string server() override;
    std::optional<bool> try_apply_lock() override { return std::nullopt; }
    void release_apply_lock() override {}
    std::vector<int64_t> reserve_ids(const std::string& table, size_t n) override;
    void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                     const std::vector<Row>& rows) override;
    void count_statement() { ++statements_; }

  private:
    std::unique_ptr<SQLite::Database> db_;
    std::map<std::string, int64_t> reserved_; // table -> last id given out (this transaction)
};

} // namespace virtumancer::sql
