// PostgreSQL connection faults and secrets: a server that is down or silent gives exit 1
// within the connect timeout and a message naming host and port; the password appears in no
// message and no output (issue 14).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;
using virtumancer::testing_util::run_cli;

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
    EXPECT_NE(r.out.find("connect_timeout"), std::string::npos) << r.out;
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
