// A host that accepts the connection and never answers (libvirt's remote driver then waits in
// its RPC handshake forever; libvirt has no connect timeout) is reported unreachable within
// the host timeout, and the other hosts are observed and planned all the same.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "../../src/cli/pipeline.hpp"
#include "test_support.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

// Listens on 127.0.0.1 (a free port), accepts every connection and never sends a byte.
class HungListener {
  public:
    HungListener() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            listen(fd_, 16) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            return;
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            while (!stop_) {
                pollfd p{fd_, POLLIN, 0};
                if (poll(&p, 1, 50) > 0) {
                    int c = accept(fd_, nullptr, nullptr);
                    if (c >= 0) accepted_.push_back(c);
                    ++connections_;
                }
            }
        });
    }
    ~HungListener() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (int c : accepted_) close(c);
        if (fd_ >= 0) close(fd_);
    }
    int port() const { return port_; }
    int connections() const { return connections_; }
    std::string uri() const { return "qemu+tcp://127.0.0.1:" + std::to_string(port_) + "/system"; }

  private:
    int fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::vector<int> accepted_;
    std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(HostTimeout, ConnectAndObserveGiveUpOnAHostThatNeverAnswers) {
    HungListener hung;
    ASSERT_GT(hung.port(), 0);
    HostTimeouts t;
    t.seconds = 1;
    auto t0 = std::chrono::steady_clock::now();
    try {
        connect_libvirt(hung.uri(), t);
        FAIL() << "connected to a listener that never answers";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "no answer from " + hung.uri() + " within 1 s");
        EXPECT_NE(e.remedy().find("--host-timeout"), std::string::npos);
    }
    double took = seconds_since(t0);
    EXPECT_GE(took, 0.9);
    EXPECT_LT(took, 2.5);
    EXPECT_GE(hung.connections(), 1) << "libvirt really connected and then waited";

    t0 = std::chrono::steady_clock::now();
    ObservedHost oh = observe_libvirt(hung.uri(), 2, t);
    took = seconds_since(t0);
    EXPECT_FALSE(oh.reachable);
    EXPECT_EQ(oh.uri, hung.uri());
    EXPECT_EQ(oh.error, "no answer from " + hung.uri() + " within 1 s");
    EXPECT_LT(took, 2.5);
    EXPECT_GE(abandoned_host_calls(), 2);
}

TEST(HostTimeout, OneHungHostDoesNotHoldUpTheOthers) {
    HungListener hung;
    ASSERT_GT(hung.port(), 0);
    DesiredState d;
    d.hosts.push_back({"good", "test:///default", "", {}});
    d.hosts.push_back({"hung", hung.uri(), "", {}});
    d.hosts.push_back({"good2", "test:///default", "", {}});
    HostTimeouts t;
    t.seconds = 1.5;
    auto t0 = std::chrono::steady_clock::now();
    auto hosts = cli::observe_hosts(d, {}, 2, t);
    double took = seconds_since(t0);
    EXPECT_LT(took, 3.0) << "hosts are observed at once, the hung one abandoned after 1.5 s";
    ASSERT_EQ(hosts.size(), 3u);
    EXPECT_TRUE(hosts[0].reachable) << hosts[0].error;
    EXPECT_NE(hosts[0].domain("test"), nullptr) << "the good host was really observed";
    EXPECT_FALSE(hosts[1].reachable);
    EXPECT_EQ(hosts[1].host, "hung");
    EXPECT_EQ(hosts[1].error, "no answer from " + hung.uri() + " within 1.5 s");
    EXPECT_TRUE(hosts[2].reachable) << hosts[2].error;
}

// The command line: `plan` with a good and a hung host returns within the timeout and a
// little slack, prints the good host's plan, reports the hung host and exits 1.
TEST(HostTimeout, PlanReportsTheHungHostAndPlansTheGoodOne) {
    HungListener hung;
    ASSERT_GT(hung.port(), 0);
    testing_util::TempDir tmp("vmr-hosttimeout-");
    fs::path dir = tmp.path();
    fs::create_directories(dir / "specs");
    std::ofstream(dir / "specs" / "hosts.yaml")
        << "kind: Host\nname: good\nuri: test:///default\n---\n"
        << "kind: Host\nname: hung\nuri: " << hung.uri() << "\n";
    for (const char* h : {"good", "hung"})
        std::ofstream(dir / "specs" / (std::string(h) + ".yaml"))
            << "kind: VirtualMachine\nname: vmr-unit-" << h << "-vm\nhost: " << h
            << "\nvcpus: 1\nmemory: 64MiB\nstate: shutoff\n";
    std::string cmd = std::string(VIRTUMANCER_BINARY) + " --db " + (dir / "t.db").string() +
                      " plan --host-timeout 2 " + (dir / "specs").string() + " 2>&1";
    auto t0 = std::chrono::steady_clock::now();
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    int st = pclose(p);
    double took = seconds_since(t0);
    EXPECT_LT(took, 5.0) << out;
    ASSERT_TRUE(WIFEXITED(st)) << out;
    EXPECT_EQ(WEXITSTATUS(st), 1) << out;
    EXPECT_NE(out.find("no answer from " + hung.uri() + " within 2 s"), std::string::npos) << out;
    EXPECT_NE(out.find("vmr-unit-good-vm"), std::string::npos) << out;
}

} // namespace
