// Store: tasks, audit log and the apply lock (desired state: store_save.cpp, store_load.cpp).
#include "virtumancer/store.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <unistd.h>

#include "store_internal.hpp"

namespace virtumancer {
namespace {

using store_detail::Value;

const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

std::string this_host() {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// A pid is alive unless kill(pid, 0) says it does not exist.
bool pid_alive(int pid) {
    if (pid <= 0) return false;
    return kill(pid, 0) == 0 || errno != ESRCH;
}

Value opt(const std::string& s) {
    return s.empty() ? Value() : Value(s);
}

} // namespace

int64_t Store::task_begin(const std::string& run_id, const std::string& actor,
                          const std::string& type, const std::string& target_type,
                          const std::string& target_name, const std::string& details_json) {
    sql::Statement q(db_.db(),
                     std::string("INSERT INTO tasks(run_id, actor, type, target_type, "
                                 "target_name, status, details, pid, hostname, started_at, "
                                 "user_id) VALUES(?1,?2,?3,?4,?5,'RUNNING',?6,?7,?8,") +
                         kNow + ", (SELECT id FROM users WHERE username = ?2)" + ") RETURNING id");
    store_detail::bind_all(q, {run_id, actor, type, target_type, target_name,
                               details_json.empty() ? "{}" : details_json, std::to_string(getpid()),
                               this_host()});
    // RETURNING: the id of this insert even when other threads share the connection.
    q.executeStep();
    return q.getColumn(0).getInt64();
}

void Store::task_progress(int64_t id, int progress) {
    sql::Statement q(db_.db(), std::string("UPDATE tasks SET progress=?, updated_at=") + kNow +
                                   " WHERE id=?");
    q.bind(1, std::max(0, std::min(100, progress)));
    q.bind(2, static_cast<int64_t>(id));
    q.exec();
}

void Store::task_finish(int64_t id, bool ok, const std::string& details_json) {
    sql::Statement q(db_.db(),
                     std::string("UPDATE tasks SET status=?, progress=CASE WHEN ? THEN 100 "
                                 "ELSE progress END, details=?, finished_at=") +
                         kNow + ", updated_at=" + kNow + " WHERE id=?");
    q.bind(1, ok ? "COMPLETED" : "FAILED");
    q.bind(2, ok ? 1 : 0);
    q.bind(3, details_json.empty() ? "{}" : details_json);
    q.bind(4, static_cast<int64_t>(id));
    q.exec();
}

void Store::task_interrupt(int64_t id, const std::string& details_json) {
    sql::Statement q(db_.db(), std::string("UPDATE tasks SET status='INTERRUPTED', details=?, "
                                           "finished_at=") +
                                   kNow + ", updated_at=" + kNow + " WHERE id=?");
    q.bind(1, details_json.empty() ? "{}" : details_json);
    q.bind(2, static_cast<int64_t>(id));
    q.exec();
}

int Store::mark_interrupted_tasks() {
    int n = 0;
    std::string host = this_host();
    int me = getpid();
    db_.write([&] {
        std::vector<int64_t> dead;
        {
            sql::Statement q(db_.db(), "SELECT id, pid, hostname FROM tasks WHERE "
                                       "status='RUNNING'");
            while (q.executeStep()) {
                bool null_host = q.getColumn(2).isNull();
                bool same_host = null_host || q.getColumn(2).getString() == host;
                bool null_pid = q.getColumn(1).isNull();
                if (server_lock_) {
                    // Only an apply holding the server's lock writes tasks, and this session
                    // holds it now: every RUNNING task but this process's own was left by an
                    // apply whose session has ended (killed, crashed or cut off), on this
                    // machine or another, whatever its pid says.
                    if (!(same_host && !null_pid && q.getColumn(1).getInt() == me))
                        dead.push_back(q.getColumn(0).getInt64());
                    continue;
                }
                // Tasks of another machine are not ours to judge.
                if (!same_host) continue;
                if (null_pid || !pid_alive(q.getColumn(1).getInt()))
                    dead.push_back(q.getColumn(0).getInt64());
            }
        }
        for (int64_t id : dead) {
            sql::Statement u(db_.db(), std::string("UPDATE tasks SET status='INTERRUPTED', "
                                                   "finished_at=") +
                                           kNow + ", updated_at=" + kNow + " WHERE id=?");
            u.bind(1, static_cast<int64_t>(id));
            n += u.exec();
        }
    });
    return n;
}

std::vector<TaskRow> Store::tasks(int last, const std::string& status) {
    std::string sql = "SELECT id, run_id, actor, type, target_type, target_name, status, "
                      "details, progress, created_at, started_at, finished_at FROM tasks";
    if (!status.empty()) sql += " WHERE status = ?1";
    sql += " ORDER BY id DESC";
    if (last > 0) sql += " LIMIT " + std::to_string(last);
    sql::Statement q(db_.db(), sql);
    if (!status.empty()) q.bind(1, status);
    std::vector<TaskRow> out;
    while (q.executeStep()) {
        TaskRow r;
        r.id = q.getColumn(0).getInt64();
        r.run_id = q.getColumn(1).getString();
        r.actor = q.getColumn(2).getString();
        r.type = q.getColumn(3).getString();
        r.target_type = q.getColumn(4).getString();
        r.target_name = q.getColumn(5).getString();
        r.status = q.getColumn(6).getString();
        r.details = q.getColumn(7).getString();
        r.progress = q.getColumn(8).getInt();
        r.created_at = q.getColumn(9).getString();
        r.started_at = q.getColumn(10).getString();
        r.finished_at = q.getColumn(11).getString();
        out.push_back(std::move(r));
    }
    std::reverse(out.begin(), out.end()); // oldest first
    return out;
}

void Store::audit(const std::string& actor, const std::string& action,
                  const std::string& target_type, const std::string& target_id,
                  const std::string& details_json) {
    // user_id: the user the actor is, when it is one (access control, docs/access-control.md).
    sql::Statement q(db_.db(), "INSERT INTO audit_log(actor, action, target_type, target_id, "
                               "details, user_id) VALUES(?1,?2,?3,?4,?5,"
                               "(SELECT id FROM users WHERE username = ?1))");
    store_detail::bind_all(
        q, {actor, action, target_type, target_id, details_json.empty() ? "{}" : details_json});
    q.exec();
}

std::vector<AuditRow> Store::audit_rows(const std::string& since, const std::string& target_type,
                                        const std::string& target_id) {
    sql::Statement q(db_.db(), "SELECT id, actor, timestamp, action, target_type, target_id, "
                               "details FROM audit_log WHERE (CAST(?1 AS TEXT) IS NULL OR "
                               "timestamp >= ?1) AND (CAST(?2 AS TEXT) IS NULL OR "
                               "target_type = ?2) AND (CAST(?3 AS TEXT) IS NULL OR "
                               "target_id = ?3) ORDER BY id");
    store_detail::bind_all(q, {opt(since), opt(target_type), opt(target_id)});
    std::vector<AuditRow> out;
    while (q.executeStep()) {
        AuditRow r;
        r.id = q.getColumn(0).getInt64();
        r.actor = q.getColumn(1).getString();
        r.timestamp = q.getColumn(2).getString();
        r.action = q.getColumn(3).getString();
        r.target_type = q.getColumn(4).getString();
        r.target_id = q.getColumn(5).getString();
        r.details = q.getColumn(6).getString();
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

std::optional<LockHolder> read_holder(sql::Connection& db) {
    sql::Statement q(db, "SELECT actor, pid, hostname, since FROM apply_lock WHERE id=1");
    if (!q.executeStep()) return std::nullopt;
    LockHolder h;
    h.actor = q.getColumn(0).getString();
    h.pid = q.getColumn(1).getInt();
    h.hostname = q.getColumn(2).getString();
    h.since = q.getColumn(3).getString();
    return h;
}

void write_holder(sql::Connection& db, const std::string& actor, int pid, const std::string& host) {
    sql::Statement ins(db, std::string("INSERT INTO apply_lock(id, actor, pid, hostname, since) "
                                       "VALUES(1,?,?,?,") +
                               kNow +
                               ") ON CONFLICT(id) DO UPDATE SET actor=excluded.actor, "
                               "pid=excluded.pid, hostname=excluded.hostname, "
                               "since=excluded.since");
    store_detail::bind_all(ins, {actor, std::to_string(pid), host});
    ins.exec();
}

} // namespace

std::optional<LockHolder> Store::try_lock(const std::string& actor, bool* took_over) {
    if (took_over) *took_over = false;
    std::optional<LockHolder> holder;
    std::string host = this_host();
    int me = getpid();
    if (auto got = db_.db().try_apply_lock()) {
        // The server's lock (PostgreSQL): held by this session, released by the server when
        // the process dies or its connection drops. The row only says who holds it.
        if (!*got) {
            // The holder records itself right after the server gave it the lock: a caller
            // that comes in between waits a moment for the row rather than name nobody.
            holder = read_holder(db_.db());
            for (int i = 0; i < 20 && !holder; ++i) {
                usleep(50 * 1000);
                holder = read_holder(db_.db());
            }
            if (!holder)
                holder =
                    LockHolder{"(unknown: the holder has not recorded itself yet)", "?", "?", 0};
            return holder;
        }
        server_lock_ = true;
        db_.write([&] {
            auto h = read_holder(db_.db());
            if (h && took_over && !(h->hostname == host && h->pid == me)) *took_over = true;
            write_holder(db_.db(), actor, me, host);
        });
        return std::nullopt;
    }
    db_.write([&] {
        if (auto h = read_holder(db_.db())) {
            bool same_host = h->hostname == host;
            if (same_host && h->pid == me) return; // already ours
            if (!same_host || pid_alive(h->pid)) {
                holder = h;
                return;
            }
            if (took_over) *took_over = true; // holder died on this machine
        }
        write_holder(db_.db(), actor, me, host);
    });
    return holder;
}

void Store::unlock() {
    sql::Statement q(db_.db(), "DELETE FROM apply_lock WHERE id=1 AND pid=? AND hostname=?");
    store_detail::bind_all(q, {std::to_string(getpid()), this_host()});
    q.exec();
    db_.db().release_apply_lock();
    server_lock_ = false;
}

void Store::abandon(const std::string& db_path) {
    std::string me = std::to_string(getpid()), host = this_host();
    // A connection of its own (PostgreSQL: the server frees this process's apply lock when
    // the process exits).
    auto d = Database::open_for_cleanup(db_path);
    d->write([&] {
        sql::Statement t(d->db(), std::string("UPDATE tasks SET status='INTERRUPTED', "
                                              "finished_at=") +
                                      kNow + ", updated_at=" + kNow +
                                      " WHERE status='RUNNING' AND pid=? AND hostname=?");
        store_detail::bind_all(t, {me, host});
        t.exec();
        sql::Statement l(d->db(), "DELETE FROM apply_lock WHERE id=1 AND pid=? AND hostname=?");
        store_detail::bind_all(l, {me, host});
        l.exec();
    });
}

} // namespace virtumancer
