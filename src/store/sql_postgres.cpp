// sql::Connection over libpq. One connection per Database, shared by the applier's threads
// like SQLite's (each call holds the connection's mutex while it talks to the server).
// Every wait for the server is bounded (the query timeout, --db-timeout): statements are sent
// asynchronously and their results awaited with poll() on the socket, so a server that stops
// answering (a stopped backend, a network that drops packets) fails the statement after that
// many seconds of silence instead of hanging the command.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "sql_dialect.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/sql.hpp"

namespace virtumancer::sql {
namespace {

// Removes the password (when known) from a message of libpq or the server.
std::string scrub(std::string msg, const std::string& password) {
    if (!password.empty())
        for (size_t p = msg.find(password); p != std::string::npos; p = msg.find(password, p))
            msg.replace(p, password.size(), "****");
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return msg;
}

struct Params {
    std::string host, port, dbname, user, password;
};

// What the URI (and libpq's environment defaults) say, for messages.
Params parse_params(const std::string& uri) {
    Params p;
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(uri.c_str(), &err);
    if (err) PQfreemem(err);
    if (!opts) return p;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
        std::string k = o->keyword;
        std::string v = o->val ? o->val : "";
        if (k == "host" || k == "hostaddr") {
            if (p.host.empty()) p.host = v;
        } else if (k == "port")
            p.port = v;
        else if (k == "dbname")
            p.dbname = v;
        else if (k == "user")
            p.user = v;
        else if (k == "password")
            p.password = v;
    }
    PQconninfoFree(opts);
    auto env = [](const char* n) {
        const char* v = std::getenv(n);
        return std::string(v ? v : "");
    };
    if (p.host.empty()) p.host = env("PGHOST");
    if (p.host.empty()) p.host = "localhost (unix socket)";
    if (p.port.empty()) p.port = env("PGPORT");
    if (p.port.empty()) p.port = "5432";
    if (p.password.empty()) p.password = env("PGPASSWORD");
    return p;
}

// The server did not answer within the query timeout: the message, with what to do after it.
struct SilentServer : Exception {
    SilentServer(const std::string& msg, const std::string& remedy)
        : Exception(msg + "; " + remedy), msg(msg), remedy(remedy) {}
    std::string msg, remedy;
};

// PQcancel in a thread of its own, waited for at most `seconds`: it connects to the server
// again, which may not answer either. A cancel still under way then finishes (or not) on its
// own; it owns its PGcancel.
void cancel_bounded(PGconn* c, int seconds) {
    PGcancel* cn = PQgetCancel(c);
    if (!cn) return;
    struct State {
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
    };
    auto st = std::make_shared<State>();
    std::thread([cn, st] {
        char err[256];
        PQcancel(cn, err, sizeof err);
        PQfreeCancel(cn);
        std::lock_guard<std::mutex> lk(st->m);
        st->done = true;
        st->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lk(st->m);
    st->cv.wait_for(lk, std::chrono::seconds(seconds), [&] { return st->done; });
}

class PgConnection;

class PgStmt : public StmtImpl {
  public:
    PgStmt(PgConnection& c, std::string sql, bool streamed = false)
        : c_(c), sql_(std::move(sql)), streamed_(streamed) {}
    ~PgStmt() override { clear(); }
    void bind_text(int i, const std::string& v) override { at(i) = v; }
    void bind_int(int i, int64_t v) override { at(i) = std::to_string(v); }
    void bind_null(int i) override { at(i) = std::nullopt; }
    bool step() override;
    int exec() override;
    void reset() override { clear(); }
    void clear_bindings() override { params_.clear(); }
    bool is_null(int c) override { return PQgetisnull(res_, row_, c) != 0; }
    std::string text(int c) override {
        return std::string(PQgetvalue(res_, row_, c), PQgetlength(res_, row_, c));
    }
    int64_t int64(int c) override { return std::strtoll(PQgetvalue(res_, row_, c), nullptr, 10); }

  private:
    std::optional<std::string>& at(int i) {
        if (static_cast<int>(params_.size()) < i) params_.resize(i);
        return params_[i - 1];
    }
    // A cursor left open (an abandoned or re-run statement) ends with its transaction: a
    // read's cursors are few (one per table read), and a fully read one keeps only its query's
    // executor state on the server, no rows. Not closing it spares a round trip, and a CLOSE
    // sent after its transaction ended would fail the transaction it lands in.
    void clear() {
        if (res_) PQclear(res_);
        res_ = nullptr;
        row_ = -1;
        cursor_.clear();
    }
    PgConnection& c_;
    std::string sql_;
    bool streamed_;
    std::string cursor_; // the open cursor of a streamed read ("" none)
    std::vector<std::optional<std::string>> params_;
    PGresult* res_ = nullptr;
    int row_ = -1;
};

class PgConnection : public Connection {
  public:
    PgConnection(PGconn* c, Params p, int timeout_s)
        : c_(c), p_(std::move(p)), timeout_s_(timeout_s > 0 ? timeout_s : 60) {
        const char* h = PQhost(c_);
        const char* pt = PQport(c_);
        where_ =
            std::string(h && *h ? h : p_.host.c_str()) + ":" + (pt && *pt ? pt : p_.port.c_str());
        // Sends never block either: what the socket cannot take now waits in libpq's buffer
        // and is flushed under the same deadline (flush()).
        PQsetnonblocking(c_, 1);
        auto keys = run_plain("SELECT hashtext('virtumancer.write.' || coalesce(current_schema(), "
                              "'')), hashtext('virtumancer.apply.' || coalesce(current_schema(), "
                              "''))");
        write_key_ = PQgetvalue(keys, 0, 0);
        apply_key_ = PQgetvalue(keys, 0, 1);
        PQclear(keys);
    }
    ~PgConnection() override {
        if (c_) PQfinish(c_);
        // What to set --db-timeout from: the longest the server was silent on a statement.
        spdlog::debug("PostgreSQL at {}: longest wait for an answer {:.3f} s (--db-timeout {} s)",
                      where_, longest_wait_, timeout_s_);
    }

    Backend backend() const override { return Backend::postgresql; }
    bool lost() const override { return !c_ || PQstatus(c_) == CONNECTION_BAD; }

    std::unique_ptr<StmtImpl> prepare(const std::string& sql) override {
        return std::make_unique<PgStmt>(*this, sql);
    }
    std::unique_ptr<StmtImpl> prepare_streamed(const std::string& sql) override {
        return std::make_unique<PgStmt>(*this, sql, true);
    }

    // Rows a streamed read fetches per round trip.
    static constexpr int kFetchRows = 2000;
    bool in_transaction() const { return c_ && PQtransactionStatus(c_) == PQTRANS_INTRANS; }
    // DECLAREs a cursor for the query (SQLite spelling, ?N parameters) in this transaction;
    // returns its name.
    std::string declare_cursor(const std::string& sqlite_sql,
                               const std::vector<std::optional<std::string>>& params) {
        std::lock_guard<std::mutex> lk(mu_);
        std::string name = "vmr_read_" + std::to_string(++cursors_);
        std::string sql = "DECLARE " + name + " NO SCROLL CURSOR FOR " + pg_statement(sqlite_sql);
        alive();
        ++statements_;
        std::vector<const char*> vals;
        vals.reserve(params.size());
        for (const auto& p : params) vals.push_back(p ? p->c_str() : nullptr);
        PQclear(checked(PQsendQueryParams(c_, sql.c_str(), static_cast<int>(vals.size()), nullptr,
                                          vals.data(), nullptr, nullptr, 0)
                            ? await("a statement")
                            : nullptr,
                        sqlite_sql));
        return name;
    }
    PGresult* fetch(const std::string& cursor) {
        return run_plain("FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + cursor);
    }

    int exec(const std::string& sql) override {
        PGresult* r = run_plain(pg_statement(sql));
        int n = std::atoi(PQcmdTuples(r));
        PQclear(r);
        return n;
    }

    void begin(Tx tx) override {
        if (tx == Tx::read) {
            exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            return;
        }
        // Writers serialise like SQLite's BEGIN IMMEDIATE: a transaction-scoped advisory lock
        // of this database (and schema). READ COMMITTED, so every statement after the lock
        // sees what the writer before committed.
        exec("BEGIN ISOLATION LEVEL READ COMMITTED");
        try {
            // Polled, not awaited (pg_advisory_xact_lock): a writer may wait for another's long
            // load beyond the query timeout, which bounds each poll instead.
            for (int ms = 2;; ms = std::min(ms * 2, 100)) {
                PGresult* r = run_plain("SELECT pg_try_advisory_xact_lock(" + write_key_ + ")");
                bool got = std::string(PQgetvalue(r, 0, 0)) == "t";
                PQclear(r);
                if (got) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            }
        } catch (...) { // safe: rethrown below once the transaction is rolled back
            try {
                exec("ROLLBACK");
            } catch (...) { // safe: the lock's own error, rethrown below, is the one to report;
            }               // a ROLLBACK failing on a broken connection adds nothing to it
            throw;
        }
    }
    int64_t getTotalChanges() override { return changes_; }
    void commit() override { exec("COMMIT"); }
    void rollback() override { exec("ROLLBACK"); }

    std::vector<std::string> tables() override {
        std::vector<std::string> out;
        PGresult* r = run_plain("SELECT table_name FROM information_schema.tables WHERE "
                                "table_schema = current_schema() AND table_type = 'BASE TABLE' "
                                "AND table_name <> 'virtumancer_schema_version'");
        for (int i = 0; i < PQntuples(r); ++i) out.push_back(PQgetvalue(r, i, 0));
        PQclear(r);
        std::sort(out.begin(), out.end());
        return out;
    }

    // Every table's columns in one query (information_schema is slow to ask: one query per
    // table cost a plan about 40 of them), kept until a migration changes the schema.
    std::vector<ColumnMeta> columns(const std::string& table) override {
        if (!columns_read_) {
            PGresult* r = run_plain(
                "SELECT table_name, column_name, data_type, is_nullable, column_default FROM "
                "information_schema.columns WHERE table_schema = current_schema() ORDER BY "
                "table_name, ordinal_position");
            for (int i = 0; i < PQntuples(r); ++i) {
                ColumnMeta c;
                c.name = PQgetvalue(r, i, 1);
                std::string t = PQgetvalue(r, i, 2);
                c.type = t == "bigint" || t == "integer" || t == "smallint" ? "INTEGER" : "TEXT";
                c.notnull = std::string(PQgetvalue(r, i, 3)) == "NO";
                if (!PQgetisnull(r, i, 4)) {
                    std::string d = PQgetvalue(r, i, 4);
                    auto cast = d.rfind("::");
                    if (cast != std::string::npos && d.find('(') == std::string::npos)
                        d = d.substr(0, cast);
                    c.dflt = literal_default(d);
                }
                columns_[PQgetvalue(r, i, 0)].push_back(std::move(c));
            }
            PQclear(r);
            columns_read_ = true;
        }
        auto it = columns_.find(table);
        return it == columns_.end() ? std::vector<ColumnMeta>() : it->second;
    }

    std::vector<std::string> check() override {
        // The server enforces keys and constraints on every write; they can only be broken
        // by a constraint left unvalidated or a foreign key trigger switched off.
        std::vector<std::string> problems;
        PGresult* r = run_plain(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c JOIN "
            "pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() AND "
            "NOT c.convalidated ORDER BY 1, 2");
        for (int i = 0; i < PQntuples(r); ++i)
            problems.push_back(std::string("constraint not validated: table ") +
                               PQgetvalue(r, i, 0) + " constraint " + PQgetvalue(r, i, 1));
        PQclear(r);
        r = run_plain("SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t JOIN "
                      "pg_class k ON k.oid = t.tgrelid JOIN pg_namespace n ON n.oid = "
                      "k.relnamespace WHERE n.nspname = current_schema() AND t.tgenabled = 'D' "
                      "ORDER BY 1, 2");
        for (int i = 0; i < PQntuples(r); ++i)
            problems.push_back(std::string("trigger disabled (keys not enforced): table ") +
                               PQgetvalue(r, i, 0) + " trigger " + PQgetvalue(r, i, 1));
        PQclear(r);
        return problems;
    }

    int schema_version() override {
        PGresult* r = run_plain("SELECT to_regclass('virtumancer_schema_version') IS NOT NULL");
        bool has = std::string(PQgetvalue(r, 0, 0)) == "t";
        PQclear(r);
        if (!has) return 0;
        r = run_plain("SELECT coalesce(max(version), 0) FROM virtumancer_schema_version");
        int v = std::atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
    }

    void set_schema_version(int v) override {
        PQclear(run_plain("CREATE TABLE IF NOT EXISTS virtumancer_schema_version (version "
                          "INTEGER NOT NULL)"));
        PQclear(run_plain("DELETE FROM virtumancer_schema_version"));
        PQclear(
            run_plain("INSERT INTO virtumancer_schema_version VALUES (" + std::to_string(v) + ")"));
    }

    void run_migration(const std::string& sql) override {
        columns_read_ = false;
        columns_.clear();
        PQclear(run_plain(pg_migration(sql), /*multi=*/true));
    }

    std::string server() override {
        PGresult* r = run_plain("SHOW server_version");
        std::string v = PQgetvalue(r, 0, 0);
        PQclear(r);
        return "PostgreSQL " + v + " at " + where() + ", database " + PQdb(c_) + ", user " +
               PQuser(c_);
    }

    std::optional<bool> try_apply_lock() override {
        if (apply_held_) return true;
        PGresult* r = run_plain("SELECT pg_try_advisory_lock(" + apply_key_ + ")");
        apply_held_ = std::string(PQgetvalue(r, 0, 0)) == "t";
        PQclear(r);
        return apply_held_;
    }
    void release_apply_lock() override {
        if (!apply_held_) return;
        PQclear(run_plain("SELECT pg_advisory_unlock(" + apply_key_ + ")"));
        apply_held_ = false;
    }

    std::vector<int64_t> reserve_ids(const std::string& table, size_t n) override {
        std::vector<int64_t> out;
        if (n == 0) return out;
        out.reserve(n);
        // The sequence is looked up once (a sub-select), not per row: pg_get_serial_sequence
        // reads the catalogs on each call, four times the cost of the nextval itself.
        PGresult* r = run_params("SELECT nextval((SELECT CAST(pg_get_serial_sequence(?1, 'id') "
                                 "AS regclass))) FROM generate_series(CAST(1 AS BIGINT), "
                                 "CAST(?2 AS BIGINT))",
                                 {table, std::to_string(n)});
        for (int i = 0; i < PQntuples(r); ++i)
            out.push_back(std::strtoll(PQgetvalue(r, i, 0), nullptr, 10));
        PQclear(r);
        return out;
    }

    // COPY ... FROM STDIN in text format: one statement, the rows streamed in blocks; the
    // server checks keys, constraints and triggers per row as for INSERT, and its error
    // names the failing line ("COPY ports, line 3").
    void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                     const std::vector<Row>& rows) override {
        if (rows.empty()) return;
        std::string sql = "COPY " + table + " (";
        for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
        sql += ") FROM STDIN";
        std::lock_guard<std::mutex> lk(mu_);
        alive();
        ++statements_;
        PGresult* r = PQsendQuery(c_, sql.c_str()) ? await("COPY") : nullptr;
        if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
            checked(r, sql, true); // throws on an error
            throw Exception("PostgreSQL did not start " + sql);
        }
        PQclear(r);
        std::string buf;
        bool sent = true;
        auto put = [&] {
            if (sent && PQputCopyData(c_, buf.data(), static_cast<int>(buf.size())) != 1)
                sent = false; // the server ended the COPY (an error): its result says why
            if (sent) flush("COPY data");
            buf.clear();
        };
        for (const Row& row : rows) {
            for (size_t i = 0; i < row.size(); ++i) {
                if (i) buf += '\t';
                if (!row[i]) {
                    buf += "\\N";
                    continue;
                }
                for (char ch : *row[i]) switch (ch) {
                    case '\\':
                        buf += "\\\\";
                        break;
                    case '\n':
                        buf += "\\n";
                        break;
                    case '\r':
                        buf += "\\r";
                        break;
                    case '\t':
                        buf += "\\t";
                        break;
                    default:
                        buf += ch;
                    }
            }
            buf += '\n';
            if (buf.size() >= (1u << 20)) put();
        }
        if (!buf.empty()) put();
        if (sent && PQputCopyEnd(c_, nullptr) == 1) flush("COPY end");
        // The COPY's result, then nothing.
        PGresult* res = nullptr;
        for (PGresult* x; (x = next_result("the COPY's result"));) {
            if (res) PQclear(res);
            res = x;
        }
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
            changes_ += std::atoll(PQcmdTuples(res));
            PQclear(res);
            return;
        }
        std::optional<size_t> row;
        if (res)
            if (const char* ctx = PQresultErrorField(res, PG_DIAG_CONTEXT)) {
                std::string c = ctx, key = "COPY " + table + ", line ";
                auto p = c.find(key);
                if (p != std::string::npos) {
                    long line = std::atol(c.c_str() + p + key.size());
                    if (line >= 1 && static_cast<size_t>(line) <= rows.size()) row = line - 1;
                }
            }
        std::string msg = res ? PQresultErrorMessage(res) : "";
        if (msg.empty()) msg = PQerrorMessage(c_);
        if (res) PQclear(res);
        if (PQstatus(c_) == CONNECTION_BAD)
            msg = "lost the connection to PostgreSQL at " + where() + ": " + msg;
        throw BatchException(scrub(msg, p_.password), row);
    }

    std::string where() const { return where_; }

    // Runs a statement without parameters (several when multi), checks the result.
    PGresult* run_plain(const std::string& sql, bool multi = false) {
        std::lock_guard<std::mutex> lk(mu_);
        alive();
        ++statements_;
        (void)multi; // the simple query protocol runs several in one implicit transaction
        return checked(PQsendQuery(c_, sql.c_str()) ? await("a statement") : nullptr, sql);
    }

    PGresult* run_params(const std::string& sqlite_sql,
                         const std::vector<std::optional<std::string>>& params) {
        std::lock_guard<std::mutex> lk(mu_);
        alive();
        ++statements_;
        auto it = prepared_.find(sqlite_sql);
        if (it == prepared_.end()) {
            std::string name = "s" + std::to_string(prepared_.size() + 1);
            std::string pg = pg_statement(sqlite_sql);
            checked(PQsendPrepare(c_, name.c_str(), pg.c_str(), 0, nullptr) ? await("PREPARE")
                                                                            : nullptr,
                    pg, true);
            it = prepared_.emplace(sqlite_sql, name).first;
        }
        std::vector<const char*> vals;
        vals.reserve(params.size());
        for (const auto& p : params) vals.push_back(p ? p->c_str() : nullptr);
        return checked(PQsendQueryPrepared(c_, it->second.c_str(), static_cast<int>(vals.size()),
                                           vals.data(), nullptr, nullptr, 0)
                           ? await("a statement")
                           : nullptr,
                       sqlite_sql);
    }

  private:
    // A connection given up (the server did not answer in time) fails every later call at
    // once, with the same message: the applier's threads and the cleanup on the way out do
    // not each wait the timeout again.
    void alive() const {
        if (!c_) throw Exception(gone_);
    }

    // Waits until the socket is ready for `events`; gives up the connection when the server
    // sent nothing for the query timeout (`what`: what was awaited, for the message).
    void wait_socket(short events, const char* what) {
        int fd = PQsocket(c_);
        if (fd < 0) return; // broken: the next libpq call reports it
        auto start = std::chrono::steady_clock::now();
        auto until = start + std::chrono::seconds(timeout_s_);
        while (true) {
            auto now = std::chrono::steady_clock::now();
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
            if (left <= 0) give_up(what);
            pollfd pfd{fd, events, 0};
            int n = poll(&pfd, 1, static_cast<int>(left));
            if (n > 0 || (n < 0 && errno != EINTR)) { // ready, or libpq reports the error
                longest_wait_ =
                    std::max(longest_wait_,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                                 .count());
                return;
            }
        }
    }

    // Sends what libpq still holds for the server (nonblocking: the socket may be full).
    void flush(const char* what) {
        while (PQflush(c_) == 1) {
            wait_socket(POLLIN | POLLOUT, what);
            if (PQconsumeInput(c_) == 0) return; // broken: the result says why
        }
    }

    // The next result of the statement sent (nullptr: no more), awaited under the deadline.
    PGresult* next_result(const char* what) {
        while (PQisBusy(c_)) {
            wait_socket(POLLIN, what);
            if (PQconsumeInput(c_) == 0) break; // broken: PQgetResult returns the error now
        }
        return PQgetResult(c_);
    }

    // Every result of the statement sent, as PQexec returns them: the first error, else the
    // last result; the start of a COPY ends the wait (the caller streams its data).
    PGresult* await(const char* what) {
        flush(what);
        PGresult* keep = nullptr;
        while (PGresult* r = next_result(what)) {
            if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
                PQclear(r);
                continue;
            }
            if (keep) PQclear(keep);
            keep = r;
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) break;
        }
        return keep;
    }

    // The server said nothing for the query timeout: asks it to cancel (bounded: it may not
    // answer that either), closes the connection (the server ends the session, and frees its
    // locks, as soon as it runs again) and throws what happened and what to do.
    [[noreturn]] void give_up(const char* what) {
        std::string n = std::to_string(timeout_s_);
        std::string msg = "lost the connection to PostgreSQL at " + where_ +
                          ": the server did not answer within " + n + " s (waiting for " + what +
                          "), so virtumancer gave up the connection";
        std::string remedy = "check that the server at " + where_ +
                             " runs and is not stopped or overloaded, and the network to it; "
                             "if it is only slow, raise --db-timeout (or VIRTUMANCER_DB_TIMEOUT; "
                             "now " +
                             n + " s)";
        cancel_bounded(c_, std::min(timeout_s_, 5));
        PQfinish(c_);
        c_ = nullptr;
        gone_ = msg + "; " + remedy;
        throw SilentServer(msg, remedy);
    }

    PGresult* checked(PGresult* r, const std::string& sql, bool free_ok = false) {
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            std::string cmd = PQcmdStatus(r);
            if (cmd.rfind("INSERT", 0) == 0 || cmd.rfind("UPDATE", 0) == 0 ||
                cmd.rfind("DELETE", 0) == 0)
                changes_ += std::atoll(PQcmdTuples(r));
            if (free_ok) {
                PQclear(r);
                return nullptr;
            }
            return r;
        }
        std::string msg = r ? PQresultErrorMessage(r) : "";
        if (msg.empty()) msg = PQerrorMessage(c_);
        if (r) PQclear(r);
        if (PQstatus(c_) == CONNECTION_BAD)
            msg = "lost the connection to PostgreSQL at " + where() + ": " + msg;
        (void)sql;
        throw Exception(scrub(msg, p_.password));
    }

    PGconn* c_;
    Params p_;
    int timeout_s_;           // seconds of silence after which a statement fails (--db-timeout)
    std::string where_;       // host:port
    std::string gone_;        // why the connection was given up (c_ is null then)
    double longest_wait_ = 0; // seconds, the longest wait_socket
    std::mutex mu_;
    std::unordered_map<std::string, std::string> prepared_;
    uint64_t cursors_ = 0; // cursors declared (their names are numbered)
    std::string write_key_, apply_key_;
    bool apply_held_ = false;
    int64_t changes_ = 0;
    bool columns_read_ = false;
    std::unordered_map<std::string, std::vector<ColumnMeta>> columns_; // table -> columns
};

bool PgStmt::step() {
    if (!res_) {
        if (streamed_ && c_.in_transaction()) {
            cursor_ = c_.declare_cursor(sql_, params_);
            res_ = c_.fetch(cursor_);
        } else {
            res_ = c_.run_params(sql_, params_);
        }
        row_ = 0;
    } else {
        ++row_;
    }
    // The batch is read; a full one may have more behind it.
    if (row_ >= PQntuples(res_) && !cursor_.empty() &&
        PQntuples(res_) == PgConnection::kFetchRows) {
        PQclear(res_);
        res_ = nullptr;
        res_ = c_.fetch(cursor_);
        row_ = 0;
    }
    return row_ < PQntuples(res_);
}

int PgStmt::exec() {
    clear();
    PGresult* r = c_.run_params(sql_, params_);
    int n = std::atoi(PQcmdTuples(r));
    PQclear(r);
    return n;
}

} // namespace

std::vector<std::pair<std::string, std::string>> postgres_connect_defaults(int connect_timeout_s) {
    return {{"connect_timeout", std::to_string(connect_timeout_s > 0 ? connect_timeout_s : 10)},
            {"application_name", "virtumancer"},
            // A peer that vanished (host down, network cut) is noticed by the kernel too:
            // probes after 30 s idle, every 10 s, 3 unanswered end the connection; data sent
            // and not acknowledged for 60 s ends it.
            {"keepalives", "1"},
            {"keepalives_idle", "30"},
            {"keepalives_interval", "10"},
            {"keepalives_count", "3"},
            {"tcp_user_timeout", "60000"}};
}

std::string connect_timeout_in_effect(const std::string& uri, const std::string& effective,
                                      int connect_timeout_s) {
    bool from_uri = false;
    char* err = nullptr;
    if (PQconninfoOption* opts = PQconninfoParse(uri.c_str(), &err)) {
        for (PQconninfoOption* o = opts; o->keyword; ++o)
            if (std::string(o->keyword) == "connect_timeout" && o->val) from_uri = true;
        PQconninfoFree(opts);
    }
    if (err) PQfreemem(err);
    std::string v = effective.empty()
                        ? std::to_string(connect_timeout_s > 0 ? connect_timeout_s : 10)
                        : effective;
    if (std::atoi(v.c_str()) <= 0)
        return "connect_timeout=" + v + " in the URI: no limit; set a positive one";
    if (from_uri)
        return v + " s, from connect_timeout= in the URI, which wins over --db-connect-timeout";
    return v + " s, from --db-connect-timeout; connect_timeout= in the URI would win over it";
}

std::unique_ptr<Connection> open_postgres_connection(const std::string& uri, int connect_timeout_s,
                                                     int query_timeout_s) {
    Params p = parse_params(uri);
    // Earlier keywords are defaults: what the URI (expanded from dbname) sets wins.
    auto defaults = postgres_connect_defaults(connect_timeout_s);
    std::vector<const char*> keys, vals;
    for (const auto& [k, v] : defaults) {
        keys.push_back(k.c_str());
        vals.push_back(v.c_str());
    }
    keys.push_back("dbname");
    vals.push_back(uri.c_str());
    keys.push_back(nullptr);
    vals.push_back(nullptr);
    PGconn* c = PQconnectdbParams(keys.data(), vals.data(), 1);
    if (!c) throw Error("cannot connect to PostgreSQL: out of memory", "try again");
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = scrub(PQerrorMessage(c), p.password);
        const char* h = PQhost(c);
        const char* port = PQport(c);
        std::string host = h && *h ? h : p.host;
        std::string pt = port && *port ? port : p.port;
        std::string effective;
        if (PQconninfoOption* opts = PQconninfo(c)) {
            for (PQconninfoOption* o = opts; o->keyword; ++o)
                if (std::string(o->keyword) == "connect_timeout" && o->val) effective = o->val;
            PQconninfoFree(opts);
        }
        PQfinish(c);
        throw Error("cannot connect to PostgreSQL at " + host + ":" + pt + " (" + redact(uri) +
                        "): " + msg,
                    "check that the server runs and answers on " + host + ":" + pt +
                        ", that the database and user exist and the password is right (in the "
                        "URI, PGPASSWORD or ~/.pgpass); a server that does not answer fails "
                        "after connect_timeout (" +
                        connect_timeout_in_effect(uri, effective, connect_timeout_s) + ")");
    }
    // Notices (e.g. "relation already exists, skipping") are not for the user.
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    try {
        return std::make_unique<PgConnection>(c, std::move(p), query_timeout_s);
    } catch (const SilentServer& e) {
        throw Error(e.msg, e.remedy);
    } catch (const Exception& e) {
        throw Error(std::string("PostgreSQL: ") + e.what(), "check the database URI");
    }
}

} // namespace virtumancer::sql
