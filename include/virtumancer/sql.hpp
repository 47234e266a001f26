// The store's SQL connection: one small interface, two implementations (SQLite through
// SQLiteCpp, PostgreSQL through libpq; src/store/sql_sqlite.cpp, sql_postgres.cpp). Store code
// writes its SQL once, in SQLite's spelling with ? / ?N placeholders; the PostgreSQL
// connection translates it in one place (src/store/sql_dialect.cpp, documented in
// docs/schema.md "Two dialects"). Nothing outside src/store/ sees SQLite or libpq.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace virtumancer::sql {

enum class Backend { sqlite, postgresql };

// Any failure of the database (constraint, syntax, connection): the message of the server.
struct Exception : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A failure of Connection::insert_rows: the server's message and the index of the row it
// names (nullopt when the server did not say which).
struct BatchException : Exception {
    BatchException(const std::string& msg, std::optional<size_t> row) : Exception(msg), row(row) {}
    std::optional<size_t> row;
};

using Row = std::vector<std::optional<std::string>>; // text or NULL per column

class StmtImpl {
  public:
    virtual ~StmtImpl() = default;
    virtual void bind_text(int idx, const std::string& v) = 0; // 1-based
    virtual void bind_int(int idx, int64_t v) = 0;
    virtual void bind_null(int idx) = 0;
    virtual bool step() = 0; // runs on the first call; true while a row is there
    virtual int exec() = 0;  // runs to the end; rows changed
    virtual void reset() = 0;
    virtual void clear_bindings() = 0;
    virtual bool is_null(int col) = 0; // 0-based
    virtual std::string text(int col) = 0;
    virtual int64_t int64(int col) = 0;
};

class Column {
  public:
    Column(StmtImpl& s, int i) : s_(s), i_(i) {}
    bool isNull() const { return s_.is_null(i_); }
    std::string getString() const { return s_.text(i_); }
    int64_t getInt64() const { return s_.int64(i_); }
    int getInt() const { return static_cast<int>(s_.int64(i_)); }

  private:
    StmtImpl& s_;
    int i_;
};

// The first column of the first row of a query, copied.
class Cell {
  public:
    explicit Cell(std::optional<std::string> v) : v_(std::move(v)) {}
    bool isNull() const { return !v_; }
    std::string getString() const { return v_ ? *v_ : std::string(); }
    int64_t getInt64() const;
    int getInt() const { return static_cast<int>(getInt64()); }

  private:
    std::optional<std::string> v_;
};

struct ColumnMeta {
    std::string name, type; // type: INTEGER or TEXT (as declared in the migrations)
    bool notnull = false;
    std::optional<std::string> dflt; // a literal default ("dir", "1"); nullopt otherwise
};

enum class Tx {
    read, // one consistent snapshot
    write // serialised with every other writer of the same database
};

class Connection {
  public:
    virtual ~Connection() = default;
    virtual Backend backend() const = 0;
    // A statement in the store's (SQLite) spelling; translated for the backend.
    virtual std::unique_ptr<StmtImpl> prepare(const std::string& sql) = 0;
    // A query whose rows are fetched in batches when it runs inside a transaction, so that a
    // large result is never in memory at once: PostgreSQL reads it through a cursor (2,000
    // rows a round trip; outside a transaction the whole result, as prepare). SQLite steps
    // row by row anyway.
    virtual std::unique_ptr<StmtImpl> prepare_streamed(const std::string& sql) {
        return prepare(sql);
    }
    // Statements without parameters; returns the rows changed by the last one.
    virtual int exec(const std::string& sql) = 0;
    Cell execAndGet(const std::string& sql);
    // Rows inserted, updated or deleted through this connection since it was opened.
    virtual int64_t getTotalChanges() = 0;
    virtual void begin(Tx tx) = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    // Schema introspection for the store's column mapping, status and checks.
    virtual std::vector<std::string> tables() = 0; // user tables, sorted
    virtual std::vector<ColumnMeta> columns(const std::string& table) = 0;
    virtual std::vector<std::string> check() = 0; // integrity problems (empty when healthy)
    virtual int schema_version() = 0;
    virtual void set_schema_version(int v) = 0;
    // Runs a migration file (SQLite spelling with dialect markers; see sql_dialect.cpp).
    virtual void run_migration(const std::string& sql) = 0;
    // "SQLite 3.40.1" / "PostgreSQL 15.4 at 127.0.0.1:5432, database x, user y".
    virtual std::string server() = 0;
    // The apply lock of the server, held by this session and released by the server when the
    // session ends: true when taken (or already held), false when another session holds it;
    // nullopt when the backend has none (SQLite: the apply_lock row is the lock).
    virtual std::optional<bool> try_apply_lock() = 0;
    virtual void release_apply_lock() = 0;
    // The connection to the server is gone (dropped, or given up after --db-timeout): what
    // failed was not the statement's fault, and nothing more can run on it. SQLite: never.
    virtual bool lost() const { return false; }

    // Bulk writes (Store::save_desired), inside a write transaction. The ids of n new rows
    // of `table` (its `id` column), given out once: PostgreSQL takes them from the column's
    // sequence in one query, SQLite counts on from the largest id in the table or given out
    // in this transaction (the write transaction holds the whole file).
    virtual std::vector<int64_t> reserve_ids(const std::string& table, size_t n) = 0;
    // INSERT INTO table(columns) VALUES(...) for every row: PostgreSQL streams them in one
    // COPY ... FROM STDIN (one round trip, the server names the failing line), SQLite steps
    // one prepared INSERT per row. Throws BatchException.
    virtual void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<Row>& rows) = 0;

    // Statements run through this connection since it was opened: each execution of a
    // prepared statement (stepped over any number of result rows), each exec, introspection
    // query, reserve_ids and insert_rows call counts one. For the tests that a read does not
    // issue a query per object.
    int64_t statements() const { return statements_; }

  protected:
    std::atomic<int64_t> statements_{0};
};

// A statement over a connection, spelled like SQLiteCpp's so store code reads the same.
class Statement {
  public:
    Statement(Connection& c, const std::string& sql) : impl_(c.prepare(sql)) {}
    struct Streamed {};
    Statement(Connection& c, const std::string& sql, Streamed) : impl_(c.prepare_streamed(sql)) {}
    void bind(int i, const std::string& v) { impl_->bind_text(i, v); }
    void bind(int i, const char* v) { impl_->bind_text(i, v); }
    void bind(int i, int64_t v) { impl_->bind_int(i, v); }
    void bind(int i, int v) { impl_->bind_int(i, v); }
    void bind(int i) { impl_->bind_null(i); }
    bool executeStep() { return impl_->step(); }
    int exec() { return impl_->exec(); }
    void reset() { impl_->reset(); }
    void clearBindings() { impl_->clear_bindings(); }
    Column getColumn(int i) { return Column(*impl_, i); }

  private:
    std::unique_ptr<StmtImpl> impl_;
};

// A transaction that rolls back unless committed.
class Transaction {
  public:
    Transaction(Connection& c, Tx tx) : c_(c) { c_.begin(tx); }
    ~Transaction() {
        if (!done_) try {
                c_.rollback();
            } catch (...) {
            }
    }
    void commit() {
        c_.commit();
        done_ = true;
    }
    // Ends it without keeping anything (throws when the server does not answer; it then ends
    // the transaction itself with the session).
    void rollback() {
        done_ = true;
        c_.rollback();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

  private:
    Connection& c_;
    bool done_ = false;
};

// True for postgresql:// and postgres:// URIs (everything else is a SQLite file path).
bool is_postgres_uri(const std::string& target);
// The URI with any password replaced by "****" (also a password= query parameter): what may
// be shown in messages, logs and output.
std::string redact(const std::string& target);

// Connects to PostgreSQL (connect_timeout default 10 s unless the URI sets one). Throws
// virtumancer::Error naming host and port (never the password) when it cannot. Every later
// wait for the server is bounded by query_timeout_s (--db-timeout): a statement whose server
// sends nothing for that long fails (sql::Exception naming host and port and what to do), and
// the connection is given up (every later call fails at once).
std::unique_ptr<Connection> open_postgres_connection(const std::string& uri,
                                                     int connect_timeout_s = 10,
                                                     int query_timeout_s = 60);
// The connection parameters given to libpq as defaults (the URI overrides any of them):
// connect_timeout, application_name, TCP keepalives and tcp_user_timeout.
std::vector<std::pair<std::string, std::string>> postgres_connect_defaults(int connect_timeout_s);
// The connect timeout a failed connection had (`effective`: libpq's value after the attempt,
// empty if unknown), and where it came from, as the connect-failure hint says it.
std::string connect_timeout_in_effect(const std::string& uri, const std::string& effective,
                                      int connect_timeout_s);

} // namespace virtumancer::sql
