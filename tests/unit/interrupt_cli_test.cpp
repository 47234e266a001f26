// SIGINT/SIGTERM before anything is executed: one line, exit 130, and a lock held by another
// process is left alone (an apply waiting for it is interrupted).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "test_support.hpp"
#include "virtumancer/database.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

TEST(InterruptCli, ApplyWaitingForTheLockExitsWith130AndLeavesTheHoldersLock) {
    testing_util::TempDir tmp("vm-interrupt-");
    fs::path dir = tmp.path();
    std::string db = (dir / "v.db").string();
    std::ofstream(dir / "host.yaml") << "kind: Host\nname: local\nuri: test:///default\n";
    {
        char host[256] = {0};
        gethostname(host, sizeof host - 1);
        auto d = Database::open(db);
        // The lock is held by this (living) test process.
        sql::Statement q(d->db(), "INSERT INTO apply_lock(id, actor, pid, hostname, since) "
                                  "VALUES(1, 'other', ?, ?, 'now')");
        q.bind(1, static_cast<int>(getpid()));
        q.bind(2, std::string(host));
        q.exec();
    }
    for (int sig : {SIGINT, SIGTERM}) {
        std::string log = (dir / "out.log").string();
        pid_t pid = fork();
        if (pid == 0) {
            std::string cmd = std::string("exec ") + VIRTUMANCER_BINARY + " --db " + db +
                              " apply --auto-approve --lock-timeout 60 " +
                              (dir / "host.yaml").string() + " </dev/null >" + log + " 2>&1";
            signal(SIGINT, SIG_DFL);
            execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        bool waiting = false;
        for (int i = 0; i < 100 && !waiting; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            waiting = testing_util::slurp(log).find("waiting up to") != std::string::npos;
        }
        std::string out = testing_util::slurp(log);
        ASSERT_TRUE(waiting) << out;
        auto t0 = std::chrono::steady_clock::now();
        kill(pid, sig);
        int st = 0;
        waitpid(pid, &st, 0);
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        out = testing_util::slurp(log);
        ASSERT_TRUE(WIFEXITED(st)) << "killed by the signal instead of exiting: " << out;
        EXPECT_EQ(WEXITSTATUS(st), 130) << out;
        EXPECT_LT(took, 2.0);
        std::string line = std::string("virtumancer: interrupted by ") +
                           (sig == SIGINT ? "SIGINT" : "SIGTERM") + "; nothing more was done\n";
        EXPECT_NE(out.find(line), std::string::npos) << out;
        auto d = Database::open(db);
        EXPECT_EQ(d->db().execAndGet("SELECT actor FROM apply_lock").getString(), "other")
            << "the holder's lock must stay";
    }
}

// SIGINT at several moments of a load of many specs: the process exits 130 (or had finished,
// 0), and the database holds either the previous load or the whole new one, never part of it.
TEST(InterruptCli, InterruptedLoadLeavesThePreviousOrTheWholeLoad) {
    testing_util::TempDir tmp("vm-interrupt-load-");
    fs::path dir = tmp.path();
    std::string db = (dir / "v.db").string();
    const int kMany = 3000;
    fs::create_directories(dir / "small");
    fs::create_directories(dir / "big");
    std::ofstream(dir / "small" / "host.yaml")
        << "kind: Host\nname: local\nuri: test:///default\n---\nkind: VirtualMachine\n"
           "name: vm-0\nhost: local\nmemory: 64MiB\nvcpus: 1\n";
    std::ofstream(dir / "big" / "host.yaml") << "kind: Host\nname: local\nuri: test:///default\n";
    for (int i = 0; i < kMany; ++i)
        std::ofstream(dir / "big" / ("vm-" + std::to_string(i) + ".yaml"))
            << "kind: VirtualMachine\nname: vm-" << i
            << "\nhost: local\nmemory: 64MiB\nvcpus: 2\ndescription: number " << i << "\n";
    std::string base = std::string(VIRTUMANCER_BINARY) + " --db " + db + " load ";
    auto fresh = [&] {
        std::error_code ec;
        for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db + ext, ec);
        return std::system((base + (dir / "small").string() + " >/dev/null 2>&1").c_str());
    };
    // How long the whole load takes here; the signals go at fractions of it.
    ASSERT_EQ(fresh(), 0);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(std::system((base + (dir / "big").string() + " >/dev/null 2>&1").c_str()), 0);
    double full = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The process's own start (exec, libraries, the handler) is not part of the load: the
    // signals go at fractions of the rest, so a slow start on a loaded machine does not move
    // them all before the handler is set.
    t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(std::system((std::string(VIRTUMANCER_BINARY) + " --version >/dev/null 2>&1").c_str()),
              0);
    double start = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    start = std::min(start, full / 2);
    int interrupted = 0;
    for (double part : {0.2, 0.4, 0.6, 0.8, 0.95}) {
        ASSERT_EQ(fresh(), 0);
        std::string log = (dir / "out.log").string();
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            std::string cmd = "exec " + base + (dir / "big").string() + " >" + log + " 2>&1";
            execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        double after = start + (full - start) * part;
        std::this_thread::sleep_for(std::chrono::duration<double>(after));
        kill(pid, SIGINT);
        int st = 0;
        waitpid(pid, &st, 0);
        std::string out = testing_util::slurp(log);
        std::string when = "SIGINT after " + std::to_string(after) + " s of a " +
                           std::to_string(full) + " s load (start " + std::to_string(start) +
                           " s): ";
        // On a loaded machine the signal can come before the process has set its handler: the
        // default action ends it, before any load began. The database must then hold the
        // previous load (checked below); `interrupted` counts only exits through the handler.
        bool before_handler = WIFSIGNALED(st) && WTERMSIG(st) == SIGINT;
        ASSERT_TRUE(WIFEXITED(st) || before_handler) << when << out;
        int code = before_handler ? 130 : WEXITSTATUS(st);
        ASSERT_TRUE(code == 130 || code == 0) << when << code << ": " << out;
        auto d = Database::open(db);
        EXPECT_TRUE(d->check().empty());
        long long revisions = d->db().execAndGet("SELECT count(*) FROM load_revisions").getInt64();
        long long vms = d->db().execAndGet("SELECT count(*) FROM virtual_machines").getInt64();
        long long two =
            d->db()
                .execAndGet("SELECT count(*) FROM virtual_machines WHERE vcpu_count = 2")
                .getInt64();
        if (before_handler) {
            EXPECT_EQ(revisions, 1) << when << "killed before its handler, yet it loaded";
        } else if (code == 130) {
            ++interrupted;
            EXPECT_NE(out.find("virtumancer: interrupted by SIGINT; "), std::string::npos) << out;
        }
        if (revisions == 1) { // the previous load, untouched
            EXPECT_EQ(vms, 1) << out;
            EXPECT_EQ(two, 0) << out;
            if (code == 130 && !before_handler) {
                EXPECT_TRUE(out.find("nothing was loaded") != std::string::npos ||
                            out.find("the load was not committed") != std::string::npos)
                    << out;
            }
        } else { // the whole new load
            EXPECT_EQ(revisions, 2) << out;
            EXPECT_EQ(vms, kMany) << out;
            EXPECT_EQ(two, kMany) << out;
        }
    }
    EXPECT_GT(interrupted, 0) << "no load was interrupted (a " << full << " s load, start " << start
                              << " s); the test proves nothing";
}

} // namespace
