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

#include "test_util.hpp"
#include "virtumancer/database.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

TEST(InterruptCli, ApplyWaitingForTheLockExitsWith130AndLeavesTheHoldersLock) {
    std::string tmpl = (fs::temp_directory_path() / "vm-interrupt-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    fs::path dir = tmpl;
    std::string db = (dir / "v.db").string();
    std::ofstream(dir / "host.yaml") << "kind: Host\nname: local\nuri: test:///default\n";
    {
        char host[256] = {0};
        gethostname(host, sizeof host - 1);
        auto d = Database::open(db);
        // The lock is held by this (living) test process.
        SQLite::Statement q(d->db(), "INSERT INTO apply_lock(id, actor, pid, hostname, since) "
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
    std::error_code ec;
    fs::remove_all(dir, ec);
}

} // namespace
