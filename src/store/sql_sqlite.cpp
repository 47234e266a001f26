// sql::Connection over SQLiteCpp; SQLite's exceptions become sql::Exception.
#include "sql_sqlite.hpp"
#include "sql_dialect.hpp"

#include <algorithm>
#include <cctype>
#include <sqlite3.h>

namespace virtumancer::sql {
namespace {

template <class Fn> auto guard(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const SQLite::Exception& e) {
        throw Exception(e.what());
    }
}

class SqliteStmt : public StmtImpl {
  public:
    SqliteStmt(SqliteConnection& c, const std::string& sql) : c_(c), st_(c.raw(), sql) {}
    void bind_text(int i, const std::string& v) override { st_.bind(i, v); }
    void bind_int(int i, int64_t v) override { st_.bind(i, v); }
    void bind_null(int i) override { st_.bind(i); }
    bool step() override {
        if (!stepped_) c_.count_statement();
        stepped_ = true;
        return guard([&] { return st_.executeStep(); });
    }
    int exec() override {
        c_.count_statement();
        return guard([&] { return st_.exec(); });
    }
    void reset() override {
        stepped_ = false;
        st_.reset();
    }
    void clear_bindings() override { st_.clearBindings(); }
    bool is_null(int c) override { return st_.getColumn(c).isNull(); }
    std::string text(int c) override { return st_.getColumn(c).getString(); }
    int64_t int64(int c) override { return st_.getColumn(c).getInt64(); }

  private:
    SqliteConnection& c_;
    SQLite::Statement st_;
    bool stepped_ = false;
};

} // namespace

std::unique_ptr<StmtImpl> SqliteConnection::prepare(const std::string& sql) {
    return guard([&] { return std::unique_ptr<StmtImpl>(new SqliteStmt(*this, sql)); });
}

int SqliteConnection::exec(const std::string& sql) {
    ++statements_;
    return guard([&] { return db_->exec(sql); });
}

void SqliteConnection::begin(Tx tx) {
    reserved_.clear();
    exec(tx == Tx::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}
void SqliteConnection::commit() {
    exec("COMMIT");
}
void SqliteConnection::rollback() {
    exec("ROLLBACK");
}

std::vector<int64_t> SqliteConnection::reserve_ids(const std::string& table, size_t n) {
    std::vector<int64_t> out;
    if (n == 0) return out;
    ++statements_;
    int64_t max = guard([&] {
                      return db_->execAndGet("SELECT coalesce(max(id), 0) FROM " + table);
                  }).getInt64();
    int64_t& last = reserved_[table];
    last = std::max(last, max);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(++last);
    return out;
}

void SqliteConnection::insert_rows(const std::string& table,
                                   const std::vector<std::string>& columns,
                                   const std::vector<Row>& rows) {
    if (rows.empty()) return;
    ++statements_;
    std::string sql = "INSERT INTO " + table + "(";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? "," : "") + columns[i];
    sql += ") VALUES(";
    for (size_t i = 0; i < columns.size(); ++i) sql += i ? ",?" : "?";
    sql += ")";
    auto st = guard([&] { return std::make_unique<SQLite::Statement>(*db_, sql); });
    for (size_t r = 0; r < rows.size(); ++r) {
        const Row& row = rows[r];
        for (size_t i = 0; i < row.size(); ++i) {
            int idx = static_cast<int>(i + 1);
            if (row[i])
                st->bind(idx, *row[i]);
            else
                st->bind(idx);
        }
        try {
            st->exec();
        } catch (const SQLite::Exception& e) {
            throw BatchException(e.what(), r);
        }
        st->reset();
    }
}

std::vector<std::string> SqliteConnection::tables() {
    ++statements_;
    std::vector<std::string> names;
    guard([&] {
        SQLite::Statement q(*db_, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
                                  "LIKE 'sqlite_%' ORDER BY name");
        while (q.executeStep()) names.push_back(q.getColumn(0).getString());
    });
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<ColumnMeta> SqliteConnection::columns(const std::string& table) {
    ++statements_;
    std::vector<ColumnMeta> out;
    guard([&] {
        SQLite::Statement q(*db_, "PRAGMA table_info(\"" + table + "\")");
        while (q.executeStep()) {
            ColumnMeta c;
            c.name = q.getColumn(1).getString();
            c.type = q.getColumn(2).getString();
            std::transform(c.type.begin(), c.type.end(), c.type.begin(), ::toupper);
            c.notnull = q.getColumn(3).getInt() != 0;
            if (!q.getColumn(4).isNull()) {
                std::string d = q.getColumn(4).getString();
                c.dflt = literal_default(d);
            }
            out.push_back(std::move(c));
        }
    });
    return out;
}

std::vector<std::string> SqliteConnection::check() {
    ++statements_;
    std::vector<std::string> problems;
    guard([&] {
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
    });
    return problems;
}

int SqliteConnection::schema_version() {
    ++statements_;
    return guard([&] { return db_->execAndGet("PRAGMA user_version").getInt(); });
}

void SqliteConnection::set_schema_version(int v) {
    exec("PRAGMA user_version = " + std::to_string(v));
}

void SqliteConnection::run_migration(const std::string& sql) {
    exec(sql);
}

std::string SqliteConnection::server() {
    return std::string("SQLite ") + sqlite3_libversion();
}

} // namespace virtumancer::sql
