// Tasks, audit log and the apply lock.
#include <sys/wait.h>
#include <unistd.h>

#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

// The pid of a child that has exited and been reaped: dead on this machine.
int dead_pid() {
    pid_t p = fork();
    if (p == 0) _exit(0);
    int status = 0;
    waitpid(p, &status, 0);
    return p;
}

std::string hostname() {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

} // namespace

class StoreTasks : public BackendTest {};
class StoreAudit : public BackendTest {};
class StoreServerLock : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(StoreTasks);
VIRTUMANCER_ON_BOTH_BACKENDS(StoreAudit);
INSTANTIATE_TEST_SUITE_P(Backends, StoreServerLock,
                         ::testing::Values(virtumancer::sql::Backend::postgresql), backend_name);

TEST_P(StoreTasks, BeginProgressFinish) {
    TempDir t;
    auto db = Database::open(target("t.db"));
    Store store(*db);
    int64_t a = store.task_begin("run1", "alice", "vm.define", "vm", "web", R"({"x":1})");
    int64_t b = store.task_begin("run1", "alice", "vm.start", "vm", "web", "");
    ASSERT_GT(b, a);
    auto rows = store.tasks(0, "RUNNING");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id, a); // oldest first
    EXPECT_FALSE(rows[0].started_at.empty());
    EXPECT_EQ(db->db().execAndGet("SELECT pid FROM tasks WHERE id=" + std::to_string(a)).getInt(),
              getpid());
    store.task_progress(a, 40);
    EXPECT_EQ(store.tasks(0, "RUNNING")[0].progress, 40);
    store.task_finish(a, true, R"({"ok":true})");
    store.task_finish(b, false, R"({"error":"boom"})");
    rows = store.tasks(0, "");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].status, "COMPLETED");
    EXPECT_EQ(rows[0].progress, 100);
    EXPECT_EQ(rows[0].details, R"({"ok":true})");
    EXPECT_FALSE(rows[0].finished_at.empty());
    EXPECT_EQ(rows[1].status, "FAILED");
    EXPECT_EQ(rows[1].details, R"({"error":"boom"})");
    EXPECT_EQ(store.tasks(1, "").size(), 1u);
    EXPECT_EQ(store.tasks(1, "")[0].id, b); // the newest
    EXPECT_EQ(store.tasks(0, "FAILED").size(), 1u);
}

TEST_P(StoreTasks, RunningTasksOfDeadProcessesAreInterrupted) {
    TempDir t;
    auto db = Database::open(target("t.db"));
    Store store(*db);
    int64_t mine = store.task_begin("run1", "alice", "vm.define", "vm", "a", "");
    int64_t dead = store.task_begin("run0", "bob", "vm.define", "vm", "b", "");
    int64_t elsewhere = store.task_begin("run2", "carol", "vm.define", "vm", "c", "");
    int64_t done = store.task_begin("run0", "bob", "vm.start", "vm", "b", "");
    store.task_finish(done, true, "");
    int pid = dead_pid();
    db->db().exec("UPDATE tasks SET pid=" + std::to_string(pid) + " WHERE id IN (" +
                  std::to_string(dead) + "," + std::to_string(done) + "," +
                  std::to_string(elsewhere) + ")");
    db->db().exec("UPDATE tasks SET hostname='another-machine' WHERE id=" +
                  std::to_string(elsewhere));
    EXPECT_EQ(store.mark_interrupted_tasks(), 1);
    auto status = [&](int64_t id) {
        return db->db()
            .execAndGet("SELECT status FROM tasks WHERE id=" + std::to_string(id))
            .getString();
    };
    EXPECT_EQ(status(dead), "INTERRUPTED");
    EXPECT_EQ(status(mine), "RUNNING");      // this process is alive
    EXPECT_EQ(status(elsewhere), "RUNNING"); // another machine's pid is not ours to judge
    EXPECT_EQ(status(done), "COMPLETED");
    EXPECT_EQ(store.mark_interrupted_tasks(), 0);
}

TEST_P(StoreAudit, WriteAndFilter) {
    TempDir t;
    auto db = Database::open(target("t.db"));
    Store store(*db);
    store.audit("alice", "vm.define", "vm", "web", R"({"revision":"abc"})");
    store.audit("alice", "volume.create", "volume", "default/web-root", "");
    db->db().exec("UPDATE audit_log SET timestamp='2020-01-01T00:00:00.000Z' WHERE id=1");
    store.audit("bob", "vm.start", "vm", "web", "");
    EXPECT_EQ(store.audit_rows("", "", "").size(), 3u);
    auto web = store.audit_rows("", "vm", "web");
    ASSERT_EQ(web.size(), 2u);
    EXPECT_EQ(web[0].action, "vm.define");
    EXPECT_EQ(web[0].details, R"({"revision":"abc"})");
    EXPECT_EQ(web[1].actor, "bob");
    EXPECT_EQ(store.audit_rows("2021-01-01", "", "").size(), 2u);
    EXPECT_EQ(store.audit_rows("2021-01-01", "vm", "web").size(), 1u);
    EXPECT_EQ(store.audit_rows("", "volume", "default/web-root").size(), 1u);
}

TEST(StoreLock, TakenHeldAndTakenOverFromADeadHolder) {
    TempDir t;
    auto db = Database::open(t.file("t.db"));
    Store store(*db);
    bool took = true;
    EXPECT_FALSE(store.try_lock("alice", &took).has_value());
    EXPECT_FALSE(took);
    EXPECT_FALSE(store.try_lock("alice", &took).has_value()); // already ours
    store.unlock();
    EXPECT_EQ(count(*db, "apply_lock"), 0);

    // Held by a live process (our parent) on this machine: refused, holder returned.
    db->db().exec("INSERT INTO apply_lock(id, actor, pid, hostname, since) VALUES(1, 'bob', " +
                  std::to_string(getppid()) + ", '" + hostname() + "', '2025-01-01T00:00:00Z')");
    auto holder = store.try_lock("alice", &took);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->actor, "bob");
    EXPECT_EQ(holder->pid, getppid());
    EXPECT_FALSE(took);
    store.unlock(); // not ours: stays
    EXPECT_EQ(count(*db, "apply_lock", "actor='bob'"), 1);

    // Held by a dead process on another machine: its pid means nothing here, refused.
    int pid = dead_pid();
    db->db().exec("UPDATE apply_lock SET pid=" + std::to_string(pid) +
                  ", hostname='another-machine'");
    EXPECT_TRUE(store.try_lock("alice", &took).has_value());

    // Held by a dead process on this machine: taken over.
    db->db().exec("UPDATE apply_lock SET hostname='" + hostname() + "'");
    EXPECT_FALSE(store.try_lock("alice", &took).has_value());
    EXPECT_TRUE(took);
    EXPECT_EQ(count(*db, "apply_lock", "actor='alice' AND pid=" + std::to_string(getpid())), 1);
    store.unlock();
    EXPECT_EQ(count(*db, "apply_lock"), 0);
}

TEST(StoreLock, SecondConnectionSeesTheHolder) {
    TempDir t;
    auto db1 = Database::open(t.file("t.db"));
    auto db2 = Database::open(t.file("t.db"));
    Store s1(*db1), s2(*db2);
    EXPECT_FALSE(s1.try_lock("alice").has_value());
    // Same process: treated as ours (re-entrant per process).
    EXPECT_FALSE(s2.try_lock("bob").has_value());
    // A different (live) pid in the row: the second caller is refused.
    db1->db().exec("UPDATE apply_lock SET pid=" + std::to_string(getppid()));
    auto h = s2.try_lock("bob");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->actor, "alice"); // the re-entrant take above kept the first holder
}

// PostgreSQL: the apply lock is the server's, held by the session that took it and released
// by the server when that session ends (a killed process's connection drops).
TEST_P(StoreServerLock, HeldByTheSessionAndFreedWhenItEnds) {
    auto db1 = Database::open(target("t.db"));
    auto db2 = Database::open(target("t.db"));
    Store s1(*db1), s2(*db2);
    bool took = true;
    EXPECT_FALSE(s1.try_lock("alice", &took).has_value());
    EXPECT_FALSE(took);
    EXPECT_FALSE(s1.try_lock("alice").has_value()); // already ours
    // Another session (another runner) is refused and told who holds it.
    auto h = s2.try_lock("bob");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->actor, "alice");
    EXPECT_EQ(h->pid, getpid());
    EXPECT_EQ(h->hostname, hostname());
    EXPECT_FALSE(h->since.empty());
    // Unlocked: the other session takes it.
    s1.unlock();
    EXPECT_EQ(count(*db1, "apply_lock"), 0);
    EXPECT_FALSE(s2.try_lock("bob").has_value());
    EXPECT_TRUE(s1.try_lock("alice").has_value());
    // The holder's connection ends without unlocking (as when its process is killed): the
    // server frees the lock at once; the stale row is replaced.
    db2.reset();
    bool taken = false; // the server ends the session a moment after the client hangs up
    for (int i = 0; i < 50 && !taken; ++i) {
        taken = !s1.try_lock("alice").has_value();
        if (!taken) usleep(100 * 1000);
    }
    EXPECT_TRUE(taken);
    EXPECT_EQ(count(*db1, "apply_lock", "actor='alice'"), 1);
}

// PostgreSQL: the apply that holds the server's lock knows every other apply's session has
// ended, so tasks left RUNNING by any other process are INTERRUPTED, on this machine or
// another, whatever their pid (a pid of another machine means nothing here, and a process
// cut off from the database may still be alive without being able to record anything).
TEST_P(StoreServerLock, TheHolderInterruptsTasksOfEndedSessionsOnAnyMachine) {
    auto db1 = Database::open(target("t.db"));
    auto db2 = Database::open(target("t.db"));
    Store s1(*db1), s2(*db2);
    int64_t mine = s1.task_begin("run1", "alice", "vm.define", "vm", "a", "");
    int64_t elsewhere = s1.task_begin("run0", "bob", "vm.shutdown", "vm", "b", "");
    int64_t cut_off = s1.task_begin("run0", "bob", "vm.define", "vm", "c", "");
    int64_t done = s1.task_begin("run0", "bob", "vm.start", "vm", "b", "");
    s1.task_finish(done, true, "");
    // A pid that is alive here (our parent) on another machine, and on this one.
    db1->db().exec("UPDATE tasks SET pid=" + std::to_string(getppid()) +
                   ", hostname='another-machine' WHERE id=" + std::to_string(elsewhere));
    db1->db().exec("UPDATE tasks SET pid=" + std::to_string(getppid()) +
                   " WHERE id=" + std::to_string(cut_off));
    auto status = [&](int64_t id) {
        return db1->db()
            .execAndGet("SELECT status FROM tasks WHERE id=" + std::to_string(id))
            .getString();
    };
    // Without the lock nothing proves those processes dead.
    EXPECT_EQ(s2.mark_interrupted_tasks(), 0);
    EXPECT_EQ(status(elsewhere), "RUNNING");
    // Holding it, the other session's tasks are dead; this process's own are not.
    ASSERT_FALSE(s2.try_lock("carol").has_value());
    EXPECT_EQ(s2.mark_interrupted_tasks(), 2);
    EXPECT_EQ(status(elsewhere), "INTERRUPTED");
    EXPECT_EQ(status(cut_off), "INTERRUPTED");
    EXPECT_EQ(status(mine), "RUNNING");
    EXPECT_EQ(status(done), "COMPLETED");
    // Unlocked: back to judging by pid only.
    s2.unlock();
    db1->db().exec("UPDATE tasks SET status='RUNNING' WHERE id=" + std::to_string(elsewhere));
    EXPECT_EQ(s2.mark_interrupted_tasks(), 0);
    EXPECT_EQ(status(elsewhere), "RUNNING");
}
