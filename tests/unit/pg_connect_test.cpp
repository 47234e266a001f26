// PostgreSQL connection faults and secrets: a server that is down or silent gives exit 1
// within the connect timeout and a message naming host and port; the password appears in no
// message and no output (issue 14).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;
using virtumancer::testing_util::run_cli;
using virtumancer::testing_util::secs_since;

TEST(PgUri, RedactHidesThePasswordAndNothingElse) {
    EXPECT_EQ(sql::redact("postgresql://vm:s3cret@db.example:5432/fleet?sslmode=require"),
              "postgresql://vm:****@db.example:5432/fleet?sslmode=require");
    EXPECT_EQ(sql::redact("postgres://vm:p%40ss@h/db"), "postgres://vm:****@h/db");
    EXPECT_EQ(sql::redact("postgresql://vm@h/db?password=s3cret&sslmode=disable"),
              "postgresql://vm@h/db?password=****&sslmode=disable");
    EXPECT_EQ(sql::redact("postgresql://h/db"), "postgresql://h/db");
    EXPECT_EQ(sql::redact("./virtumancer.db"), "./virtumancer.db");
    EXPECT_TRUE(sql::is_postgres_uri("postgres://h/db"));
    EXPECT_TRUE(sql::is_postgres_uri("postgresql://h/db"));
    EXPECT_FALSE(sql::is_postgres_uri("virtumancer.db"));
}

TEST(PgConnect, AServerThatIsDownFailsNamingHostAndPort) {
    // Nothing listens on port 1.
    std::string uri = "postgresql://vm:hunter2secret@127.0.0.1:1/fleet";
    try {
        Database::open(uri);
        FAIL() << "connected to nothing";
    } catch (const Error& e) {
        std::string m = std::string(e.what()) + " " + e.remedy();
        EXPECT_NE(m.find("127.0.0.1:1"), std::string::npos) << m;
        EXPECT_EQ(m.find("hunter2secret"), std::string::npos) << m;
    }
    for (const char* cmd : {"plan", "apply --auto-approve", "drift"}) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = run_cli("--db '" + uri + "' " + cmd);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_EQ(r.rc, 1) << cmd << ": " << r.out;
        EXPECT_LT(secs, 5.0) << cmd << ": refused at once, no timeout to wait for";
        EXPECT_NE(r.out.find("cannot connect to PostgreSQL at 127.0.0.1:1"), std::string::npos)
            << cmd << ": " << r.out;
        EXPECT_NE(r.out.find("check that the server runs and answers on 127.0.0.1:1"),
                  std::string::npos)
            << cmd << ": " << r.out;
        EXPECT_EQ(r.out.find("hunter2secret"), std::string::npos) << cmd << ": " << r.out;
    }
}

TEST(PgConnect, ASilentServerFailsWithinTheConnectTimeout) {
    // A socket that accepts connections (the kernel does) and never says a word.
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(s, 8), 0);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    std::string port = std::to_string(ntohs(a.sin_port));
    std::string uri = "postgresql://vm:hunter2secret@127.0.0.1:" + port + "/fleet?sslmode=disable";
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_cli("--db-connect-timeout 2 --db '" + uri + "' db status");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    close(s);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_LT(secs, 8.0) << r.out;
    EXPECT_GE(secs, 1.5) << r.out; // it did wait for the server
    EXPECT_NE(r.out.find("127.0.0.1:" + port), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("connect_timeout (2 s, from --db-connect-timeout"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("hunter2secret"), std::string::npos) << r.out;
    // connect_timeout= in the URI wins over --db-connect-timeout; apply fails the same way.
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(s2, 0);
    a.sin_port = 0;
    ASSERT_EQ(bind(s2, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(s2, 8), 0);
    len = sizeof a;
    getsockname(s2, reinterpret_cast<sockaddr*>(&a), &len);
    port = std::to_string(ntohs(a.sin_port));
    t0 = std::chrono::steady_clock::now();
    auto ap =
        run_cli("--db-connect-timeout 60 --db 'postgresql://vm:hunter2secret@127.0.0.1:" + port +
                "/fleet?sslmode=disable&connect_timeout=2' apply --auto-approve");
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    close(s2);
    EXPECT_EQ(ap.rc, 1) << ap.out;
    EXPECT_LT(secs, 8.0) << ap.out;
    EXPECT_GE(secs, 1.5) << ap.out;
    EXPECT_NE(ap.out.find("127.0.0.1:" + port), std::string::npos) << ap.out;
    EXPECT_EQ(ap.out.find("hunter2secret"), std::string::npos) << ap.out;
    // The hint quotes the timeout that was in effect (the URI's), not --db-connect-timeout's.
    EXPECT_NE(ap.out.find("connect_timeout (2 s, from connect_timeout= in the URI"),
              std::string::npos)
        << ap.out;
    EXPECT_EQ(ap.out.find("60 s"), std::string::npos) << ap.out;
}

TEST(PgConnect, TheConnectHintSaysWhichTimeoutWasInEffectAndWhereItCameFrom) {
    using virtumancer::sql::connect_timeout_in_effect;
    EXPECT_EQ(connect_timeout_in_effect("postgresql://vm@h/db", "10", 10),
              "10 s, from --db-connect-timeout; connect_timeout= in the URI would win over it");
    EXPECT_EQ(connect_timeout_in_effect("postgresql://vm@h/db?connect_timeout=7", "7", 30),
              "7 s, from connect_timeout= in the URI, which wins over --db-connect-timeout");
    // libpq's value unknown: the URI's when it has one, else --db-connect-timeout's.
    EXPECT_EQ(connect_timeout_in_effect("postgresql://vm@h/db", "", 25),
              "25 s, from --db-connect-timeout; connect_timeout= in the URI would win over it");
    EXPECT_EQ(connect_timeout_in_effect("postgresql://vm@h/db?connect_timeout=0", "0", 10),
              "connect_timeout=0 in the URI: no limit; set a positive one");
}

TEST(PgConnect, KeepalivesAndTimeoutsAreDefaultsTheUriCanOverride) {
    auto d = virtumancer::sql::postgres_connect_defaults(12);
    std::map<std::string, std::string> m(d.begin(), d.end());
    EXPECT_EQ(m["connect_timeout"], "12");
    EXPECT_EQ(m["keepalives"], "1");
    EXPECT_EQ(m["keepalives_idle"], "30");
    EXPECT_EQ(m["keepalives_interval"], "10");
    EXPECT_EQ(m["keepalives_count"], "3");
    EXPECT_EQ(m["tcp_user_timeout"], "60000");
    EXPECT_EQ(m["application_name"], "virtumancer");
    EXPECT_EQ(m.count("dbname"), 0u); // the URI comes after them: what it sets wins
    // libpq takes the URI's value over the default: an invalid one is refused as the URI's.
    auto r = run_cli("--db 'postgresql://vm:pw@127.0.0.1:1/x?keepalives_idle=bogus' db status");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("invalid integer value \"bogus\" for connection option "
                         "\"keepalives_idle\""),
              std::string::npos)
        << r.out;
}

namespace {

bool read_all(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

// A fake PostgreSQL server on a loopback port: it completes the startup of the first
// connection (authentication ok, backend key, ready for query) and then never says another
// word, to it or to any later connection (the cancel request). Stopped at destruction.
class SilentAfterStartup {
  public:
    SilentAfterStartup() {
        s_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s_, 8) != 0) return;
        socklen_t len = sizeof a;
        getsockname(s_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = std::to_string(ntohs(a.sin_port));
        th_ = std::thread([this] { serve(); });
    }
    ~SilentAfterStartup() {
        stop_ = true;
        if (th_.joinable()) th_.join();
        for (int fd : fds_) close(fd);
        close(s_);
    }
    const std::string& port() const { return port_; }
    int accepted() const { return accepted_; }
    bool started() const { return started_; }

  private:
    void serve() {
        while (!stop_) {
            pollfd p{s_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept(s_, nullptr, nullptr);
            if (c < 0) continue;
            fds_.push_back(c);
            if (++accepted_ == 1) startup(c);
        }
    }
    void startup(int c) {
        unsigned char len[4];
        if (!read_all(c, len, 4)) return;
        uint32_t n = (uint32_t(len[0]) << 24) | (uint32_t(len[1]) << 16) | (uint32_t(len[2]) << 8) |
                     uint32_t(len[3]);
        if (n < 8 || n > 10000) return;
        std::vector<char> rest(n - 4);
        if (!read_all(c, rest.data(), rest.size())) return;
        const unsigned char reply[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0,   'K', 0, 0, 0, 12,
                                       0,   0, 0, 1, 0, 0, 0, 2, 'Z', 0,   0, 0, 5, 'I'};
        started_ = write(c, reply, sizeof reply) == static_cast<ssize_t>(sizeof reply);
    }
    int s_ = -1;
    std::string port_;
    std::thread th_;
    std::atomic<bool> stop_{false}, started_{false};
    std::atomic<int> accepted_{0};
    std::vector<int> fds_;
};

} // namespace

// A server that completes the connection and then answers nothing (a stopped backend, a
// network that drops packets): the first statement fails after --db-timeout, naming host and
// port and what to do; the cancel sent to it, unanswered as well, does not hang either.
TEST(PgConnect, AServerSilentAfterConnectingFailsWithinTheQueryTimeout) {
    SilentAfterStartup fake;
    ASSERT_FALSE(fake.port().empty());
    std::string uri = "postgresql://vm:hunter2secret@127.0.0.1:" + fake.port() +
                      "/fleet?sslmode=disable&gssencmode=disable";
    auto t0 = std::chrono::steady_clock::now();
    try {
        virtumancer::sql::open_postgres_connection(uri, 5, 2);
        FAIL() << "a silent server answered";
    } catch (const Error& e) {
        double secs = secs_since(t0);
        EXPECT_GE(secs, 1.9) << "it did wait for the server";
        EXPECT_LT(secs, 8.0) << "the statement (2 s) and the cancel (2 s) are bounded";
        std::string m = e.what();
        EXPECT_NE(m.find("PostgreSQL at 127.0.0.1:" + fake.port() +
                         ": the server did not answer within 2 s"),
                  std::string::npos)
            << m;
        EXPECT_NE(e.remedy().find("raise --db-timeout"), std::string::npos) << e.remedy();
        EXPECT_EQ((m + e.remedy()).find("hunter2secret"), std::string::npos) << m;
    }
    EXPECT_TRUE(fake.started());
    EXPECT_GE(fake.accepted(), 2) << "no cancel request was sent";

    // The command line: --db-timeout and VIRTUMANCER_DB_TIMEOUT, exit 1, host and port named.
    for (const std::string& how : {std::string("--db-timeout 2 "), std::string("")}) {
        SilentAfterStartup f2;
        std::string u2 = "postgresql://vm:hunter2secret@127.0.0.1:" + f2.port() +
                         "/fleet?sslmode=disable&gssencmode=disable";
        t0 = std::chrono::steady_clock::now();
        auto r =
            run_cli(how + "--db '" + u2 + "' plan", how.empty() ? "VIRTUMANCER_DB_TIMEOUT=2 " : "");
        double secs = secs_since(t0);
        EXPECT_EQ(r.rc, 1) << r.out;
        EXPECT_GE(secs, 1.9) << r.out;
        EXPECT_LT(secs, 10.0) << r.out;
        EXPECT_NE(r.out.find("127.0.0.1:" + f2.port() + ": the server did not answer within 2 s"),
                  std::string::npos)
            << r.out;
        EXPECT_NE(r.out.find("hint: check that the server at 127.0.0.1:" + f2.port()),
                  std::string::npos)
            << r.out;
        EXPECT_EQ(r.out.find("hunter2secret"), std::string::npos) << r.out;
    }
}

class PgSecrets : public BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, PgSecrets,
                         ::testing::Values(virtumancer::sql::Backend::postgresql), backend_name);

TEST_P(PgSecrets, NeitherAWrongPasswordNorDbStatusShowsThePassword) {
    std::string uri = target("s");
    auto at = uri.find('@');
    auto colon = uri.rfind(':', at);
    ASSERT_NE(at, std::string::npos);
    std::string password = uri.substr(colon + 1, at - colon - 1);
    ASSERT_GE(password.size(), 8u);
    // The right password: db status names the backend and the target without the password.
    auto r = run_cli("--db '" + uri + "' -vv db status");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("backend: PostgreSQL 15"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(":****@"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("virtual_machines"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(password), std::string::npos) << "password shown";
    // A wrong password: refused, named host and port, neither password shown.
    std::string wrong = uri.substr(0, colon + 1) + "Wr0ngPassw0rd" + uri.substr(at);
    auto w = run_cli("--db '" + wrong + "' plan");
    EXPECT_EQ(w.rc, 1) << w.out;
    EXPECT_NE(w.out.find("127.0.0.1:"), std::string::npos) << w.out;
    EXPECT_EQ(w.out.find("Wr0ngPassw0rd"), std::string::npos) << w.out;
    EXPECT_EQ(w.out.find(password), std::string::npos) << "password shown";
    try {
        Database::open(wrong);
        FAIL() << "a wrong password was accepted";
    } catch (const Error& e) {
        std::string m = std::string(e.what()) + " " + e.remedy();
        EXPECT_EQ(m.find("Wr0ngPassw0rd"), std::string::npos) << m;
    }
}

// The query timeout on the test server (issue 14: a server that stops answering hangs
// nothing): a statement the server is silent on for longer fails, the session ends; waits
// for locks that may last longer (the write lock, the apply lock) are not cut by it.
class PgDeadline : public BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, PgDeadline,
                         ::testing::Values(virtumancer::sql::Backend::postgresql), backend_name);

TEST_P(PgDeadline, AStatementSilentLongerThanTheTimeoutFailsAndTheSessionEnds) {
    std::string app = "vmr_pgsilent_unit_" + std::to_string(getpid());
    std::string uri = target("d") + "&application_name=" + app;
    std::string password = uri.substr(uri.rfind(':', uri.find('@')) + 1);
    password = password.substr(0, password.find('@'));
    auto c = sql::open_postgres_connection(uri, 5, 2);
    // Silent for less than the timeout (1 s of 2): answered.
    auto t0 = std::chrono::steady_clock::now();
    c->exec("SELECT pg_sleep(1)");
    EXPECT_GE(secs_since(t0), 0.9);
    t0 = std::chrono::steady_clock::now();
    std::string first;
    try {
        c->exec("SELECT pg_sleep(30)");
        ADD_FAILURE() << "a statement outlived the timeout";
    } catch (const sql::Exception& e) {
        first = e.what();
    }
    double secs = secs_since(t0);
    EXPECT_GE(secs, 1.9) << first;
    EXPECT_LT(secs, 6.0) << first;
    EXPECT_NE(first.find("lost the connection to PostgreSQL at 127.0.0.1:"), std::string::npos)
        << first;
    EXPECT_NE(first.find("the server did not answer within 2 s"), std::string::npos) << first;
    EXPECT_NE(first.find("raise --db-timeout"), std::string::npos) << first;
    EXPECT_EQ(first.find(password), std::string::npos) << "password shown";
    // Given up: every later call fails at once, saying the same.
    t0 = std::chrono::steady_clock::now();
    try {
        c->exec("SELECT 1");
        ADD_FAILURE() << "a given-up connection ran a statement";
    } catch (const sql::Exception& e) {
        EXPECT_EQ(std::string(e.what()), first);
    }
    EXPECT_LT(secs_since(t0), 0.5);
    // The statement was cancelled and the session closed: the server holds nothing of it.
    auto admin = sql::open_postgres_connection(pg_test_uri(), 5);
    long long left = 1;
    for (int i = 0; i < 50 && left > 0; ++i) {
        left = admin
                   ->execAndGet("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                                app + "'")
                   .getInt64();
        if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(left, 0) << "the session outlived the give-up";
}

TEST_P(PgDeadline, AWriterWaitsForTheWriteLockLongerThanTheTimeout) {
    std::string uri = target("w");
    auto holder = sql::open_postgres_connection(uri, 5);
    holder->begin(sql::Tx::write); // holds the write lock of this database
    auto c = sql::open_postgres_connection(uri, 5, 1);
    std::atomic<bool> done{false};
    std::string err;
    auto t0 = std::chrono::steady_clock::now();
    std::thread t([&] {
        try {
            c->begin(sql::Tx::write);
            c->commit();
        } catch (const std::exception& e) {
            err = e.what();
        }
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    EXPECT_FALSE(done) << "the writer did not wait for the lock: " << err;
    holder->commit();
    t.join();
    EXPECT_TRUE(err.empty()) << err;
    EXPECT_GE(secs_since(t0), 3.4);
}

TEST_P(PgDeadline, ApplyWaitsForTheApplyLockUpToLockTimeoutNotTheQueryTimeout) {
    std::string uri = target("a");
    auto m = run_cli("--db '" + uri + "' db migrate");
    ASSERT_EQ(m.rc, 0) << m.out;
    auto holder = sql::open_postgres_connection(uri, 5);
    ASSERT_EQ(holder->try_apply_lock(), std::optional<bool>(true));
    holder->exec("INSERT INTO apply_lock(id, actor, pid, hostname, since) VALUES (1, 'someone', "
                 "4242, 'elsewhere', '2026-12-01T00:00:00.000Z')");
    TempDir dir;
    std::atomic<bool> done{false};
    virtumancer::testing_util::CliRun r;
    std::thread t([&] {
        r = run_cli("--db-timeout 1 --db '" + uri + "' apply --auto-approve --lock-timeout 600",
                    "cd '" + dir.path().string() + "' && ");
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(4000));
    EXPECT_FALSE(done) << "apply stopped waiting for the lock: " << r.out;
    holder->release_apply_lock();
    t.join();
    EXPECT_NE(r.out.find("waiting up to 600s for the apply lock (actor someone, pid 4242 on host "
                         "elsewhere"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("took over the apply lock"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("did not answer"), std::string::npos) << r.out;
}

// plan and drift whose statement the server does not answer (here: it waits for a table
// another session locked, silent as a stopped backend): exit 1 after --db-timeout, naming host
// and port and the remedy; the other session is not disturbed.
TEST_P(PgDeadline, PlanAndDriftWhoseServerStaysSilentExitOne) {
    std::string uri = target("p");
    auto m = run_cli("--db '" + uri + "' db migrate");
    ASSERT_EQ(m.rc, 0) << m.out;
    auto locker = sql::open_postgres_connection(uri, 5);
    locker->exec("BEGIN");
    locker->exec("LOCK TABLE virtual_machines IN ACCESS EXCLUSIVE MODE");
    for (const char* cmd : {"plan", "drift"}) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = run_cli("--db-timeout 2 --db '" + uri + "' " + cmd);
        double secs = secs_since(t0);
        EXPECT_EQ(r.rc, 1) << cmd << ": " << r.out;
        EXPECT_GE(secs, 1.9) << cmd << ": " << r.out;
        EXPECT_LT(secs, 10.0) << cmd << ": " << r.out;
        EXPECT_NE(r.out.find("lost the connection to PostgreSQL at 127.0.0.1:"), std::string::npos)
            << cmd << ": " << r.out;
        EXPECT_NE(r.out.find("the server did not answer within 2 s"), std::string::npos)
            << cmd << ": " << r.out;
        EXPECT_NE(r.out.find("raise --db-timeout"), std::string::npos) << cmd << ": " << r.out;
    }
    // The locking session still works and its transaction is intact.
    EXPECT_EQ(locker->execAndGet("SELECT count(*) FROM virtual_machines").getInt64(), 0);
    locker->exec("ROLLBACK");
    // Unlocked, the server answers plan at once (an empty database: nothing to plan).
    auto ok = run_cli("--db-timeout 2 --db '" + uri + "' plan");
    EXPECT_NE(ok.out.find("holds no specs"), std::string::npos) << ok.out;
    EXPECT_EQ(ok.out.find("did not answer"), std::string::npos) << ok.out;
}

// A load whose server goes silent while it writes (the write waits for a table another
// session locked): exit 1 after --db-timeout, nothing written, and the remedy is to load
// again once the server answers, not to fix a spec; then the same load succeeds.
TEST_P(PgDeadline, ALoadWhoseServerStaysSilentWritesNothingAndIsRunAgain) {
    std::string uri = target("l");
    auto m = run_cli("--db '" + uri + "' db migrate");
    ASSERT_EQ(m.rc, 0) << m.out;
    TempDir dir;
    fs::create_directories(dir.path() / "specs");
    std::ofstream(dir.path() / "specs" / "all.yaml")
        << "kind: Host\nname: h\nuri: test:///default\n---\nkind: VirtualMachine\nname: silent1\n"
           "host: h\nmemory: 64MiB\nvcpus: 1\nstate: shutoff\n";
    std::string load = "--db-timeout 2 --db '" + uri + "' load " + (dir.path() / "specs").string();
    auto locker = sql::open_postgres_connection(uri, 5);
    locker->exec("BEGIN");
    locker->exec("LOCK TABLE virtual_machines IN ACCESS EXCLUSIVE MODE");
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_cli(load);
    double secs = secs_since(t0);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_GE(secs, 1.9) << r.out;
    EXPECT_LT(secs, 10.0) << r.out;
    EXPECT_NE(r.out.find("the server did not answer within 2 s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing was written"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("run the same load again"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("fix the spec"), std::string::npos) << r.out;
    locker->exec("ROLLBACK");
    auto admin = sql::open_postgres_connection(uri, 5);
    EXPECT_EQ(admin->execAndGet("SELECT count(*) FROM load_revisions").getInt64(), 0);
    EXPECT_EQ(admin->execAndGet("SELECT count(*) FROM hosts").getInt64(), 0);
    auto again = run_cli(load);
    EXPECT_EQ(again.rc, 0) << again.out;
    EXPECT_EQ(
        admin->execAndGet("SELECT count(*) FROM virtual_machines WHERE name='silent1'").getInt64(),
        1);
}
