// A host that goes silent after the connection is made (issue 13): a proxy between a
// qemu+unix URI and the real libvirtd forwards the connection's set-up, then stops forwarding
// in both directions without closing anything, as a host that hangs or a network that drops
// packets does. `plan` and `drift` report that host unreachable with the reason within the
// host timeout (keepalive / silence), plan the healthy host all the same and exit 1. SIGINT and
// SIGTERM while they wait on it exit 130 at once with one line, and leave no half-written
// file and a database that `db check` finds clean.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <mutex>

#include "apply_e2e_util.hpp"

namespace {

using namespace apply_e2e;

const std::string kPrefix = "vmr-e2e-silent-";
const char* kLibvirtSock = "/var/run/libvirt/libvirt-sock";

// The RPC program of libvirt's remote driver and the first calls of an observation
// (virConnectGetCapabilities, virConnectListAllDomains): connection set-up (auth list,
// connect open, feature probes, keepalive) is forwarded, the first of these is not.
constexpr uint32_t kRemoteProgram = 0x20008086;
constexpr uint32_t kProcGetCapabilities = 7;
constexpr uint32_t kProcListAllDomains = 273;

uint32_t be32(const std::string& b, size_t at) {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
           (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Listens on a unix socket of its own; every client is connected to libvirtd's socket and
// its messages forwarded until the client asks for the first observation call. From then on
// nothing is forwarded either way and every socket stays open.
class SilentProxy {
  public:
    SilentProxy() {
        path_ = "/tmp/" + kPrefix + std::to_string(getpid()) + ".sock";
        ::unlink(path_.c_str());
        listen_fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
        if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            listen(listen_fd_, 8) != 0)
            return;
        ok_ = true;
        thread_ = std::thread([this] { loop(); });
    }
    ~SilentProxy() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (auto& c : conns_) {
            ::close(c.client);
            ::close(c.server);
        }
        if (listen_fd_ >= 0) ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
    bool ok() const { return ok_; }
    std::string uri() const { return "qemu+unix:///system?socket=" + path_; }
    // Clients that went through set-up and are now waiting on a silent host.
    int silenced() const { return silenced_; }
    // Waits up to `seconds` until a client has been silenced.
    bool wait_silenced(double seconds) const {
        for (int i = 0; i < seconds * 20 && silenced_ == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return silenced_ > 0;
    }

  private:
    struct Conn {
        int client, server;
        std::string pending; // client bytes not yet forwarded (an incomplete message)
        bool silent = false;
    };

    void loop() {
        char buf[65536];
        while (!stop_) {
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            for (const auto& c : conns_) {
                // A silent connection is not read at all: the peer's writes just queue.
                fds.push_back({c.client, static_cast<short>(c.silent ? 0 : POLLIN), 0});
                fds.push_back({c.server, static_cast<short>(c.silent ? 0 : POLLIN), 0});
            }
            if (poll(fds.data(), fds.size(), 50) <= 0) continue;
            if (fds[0].revents & POLLIN) accept_one();
            for (size_t i = 0; i < conns_.size(); ++i) {
                Conn& c = conns_[i];
                if (c.silent) continue;
                if (fds[1 + 2 * i].revents & (POLLIN | POLLHUP)) {
                    ssize_t n = ::read(c.client, buf, sizeof buf);
                    if (n > 0) from_client(c, std::string(buf, static_cast<size_t>(n)));
                }
                if (!c.silent && fds[2 + 2 * i].revents & (POLLIN | POLLHUP)) {
                    ssize_t n = ::read(c.server, buf, sizeof buf);
                    if (n > 0) write_all(c.client, buf, static_cast<size_t>(n));
                }
            }
        }
    }

    void accept_one() {
        int c = accept(listen_fd_, nullptr, nullptr);
        if (c < 0) return;
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", kLibvirtSock);
        if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(c);
            if (s >= 0) ::close(s);
            return;
        }
        conns_.push_back({c, s, {}, false});
    }

    // Forwards whole RPC messages (4-byte big-endian length, then program, version,
    // procedure) until the first observation call.
    void from_client(Conn& c, const std::string& bytes) {
        c.pending += bytes;
        while (c.pending.size() >= 16) {
            uint32_t len = be32(c.pending, 0);
            if (c.pending.size() < len) return;
            uint32_t prog = be32(c.pending, 4), proc = be32(c.pending, 12);
            if (prog == kRemoteProgram &&
                (proc == kProcGetCapabilities || proc == kProcListAllDomains)) {
                c.silent = true;
                ++silenced_;
                return;
            }
            write_all(c.server, c.pending.data(), len);
            c.pending.erase(0, len);
        }
    }

    std::string path_;
    int listen_fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<int> silenced_{0};
    std::vector<Conn> conns_; // owned by the proxy thread
    std::thread thread_;
};

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Waits for `pid` up to `seconds`; its exit status, or -1 (then it is killed).
int wait_exit(pid_t pid, double seconds) {
    auto t0 = std::chrono::steady_clock::now();
    while (since(t0) < seconds) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class SilentHost : public ::testing::Test {
  protected:
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        ASSERT_TRUE(proxy_.ok()) << "cannot listen on a unix socket in /tmp";
        db_ = dir_.file("v.db");
        // Host `silent` through the proxy; host `good` is libvirt's test driver.
        dir_.write("specs/hosts.yaml", "kind: Host\nname: silent\nuri: " + proxy_.uri() +
                                           "\n---\nkind: Host\nname: good\nuri: test:///default\n");
        for (const char* h : {"silent", "good"})
            dir_.write(std::string("specs/") + h + ".yaml",
                       "kind: VirtualMachine\nname: " + kPrefix + h + "-vm\nhost: " + h +
                           "\ndomain_type: qemu\nvcpus: 1\nmemory: 64MiB\nstate: shutoff\n");
        Result r = vm(db_, "load " + quote(dir_.file("specs")));
        ASSERT_EQ(r.code, 0) << r.out;
    }

    SilentProxy proxy_;
    TempDir dir_;
    std::string db_;
};

TEST_F(SilentHost, PlanAndDriftReportTheHostSilentAfterConnectingAndPlanTheOther) {
    for (const std::string cmd : {"plan", "drift"}) {
        int before = proxy_.silenced();
        auto t0 = std::chrono::steady_clock::now();
        Result r = vm(db_, cmd + " --host-timeout 3 --keepalive-interval 1");
        double took = since(t0);
        EXPECT_GT(proxy_.silenced(), before) << cmd << ": the connection was not made first";
        EXPECT_EQ(r.code, 1) << cmd << ":\n" << r.out;
        EXPECT_GE(took, 2.5) << cmd << ":\n" << r.out;
        EXPECT_LT(took, 8.0) << cmd << " waited past the host timeout:\n" << r.out;
        EXPECT_TRUE(contains(r.out, proxy_.uri())) << cmd << ":\n" << r.out;
        EXPECT_TRUE(contains(r.out, "unreachable")) << cmd << ":\n" << r.out;
        // The reason: silent for the host timeout (the observation heartbeat gave up on it).
        EXPECT_TRUE(contains(r.out, "no answer from " + proxy_.uri() + " within 3 s"))
            << cmd << ":\n"
            << r.out;
        // The healthy host was planned / checked all the same.
        EXPECT_TRUE(contains(r.out, kPrefix + "good-vm")) << cmd << ":\n" << r.out;
        if (cmd == "plan") {
            EXPECT_TRUE(contains(r.out, "is unreachable: ")) << r.out; // with the reason
            EXPECT_FALSE(contains(r.out, "+ vm \"" + kPrefix + "silent-vm\""))
                << "a VM of the silent host was planned as missing:\n"
                << r.out;
        }
    }
}

// Ctrl-C (and SIGTERM) while plan or drift waits on the silent host.
TEST_F(SilentHost, InterruptWhileWaitingExits130AndWritesNothingHalf) {
    struct Case {
        std::string cmd;
        int sig;
        std::string file; // what the command would have written
    };
    const std::string plan_file = dir_.file("plan.json"), junit = dir_.file("drift.xml");
    for (const Case& c : {Case{"plan --out " + quote(plan_file), SIGINT, plan_file},
                          Case{"drift --junit " + quote(junit), SIGINT, junit},
                          Case{"plan --out " + quote(plan_file), SIGTERM, plan_file},
                          Case{"drift --junit " + quote(junit), SIGTERM, junit}}) {
        SCOPED_TRACE(c.cmd + " " + std::to_string(c.sig));
        int before = proxy_.silenced();
        std::string log = dir_.file("out.log");
        pid_t pid = vm_background(db_, c.cmd + " --host-timeout 60", log);
        auto t_start = std::chrono::steady_clock::now();
        while (proxy_.silenced() == before && since(t_start) < 15)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_GT(proxy_.silenced(), before) << slurp(log);
        std::this_thread::sleep_for(std::chrono::milliseconds(300)); // it waits now
        auto t0 = std::chrono::steady_clock::now();
        kill(pid, c.sig);
        int code = wait_exit(pid, 10);
        double took = since(t0);
        std::string out = slurp(log);
        EXPECT_EQ(code, 130) << out;
        EXPECT_LT(took, 2.0) << out;
        EXPECT_TRUE(contains(out, std::string("virtumancer: interrupted by ") +
                                      (c.sig == SIGINT ? "SIGINT" : "SIGTERM")))
            << out;
        // Nothing written half: neither the file nor its temporary.
        EXPECT_FALSE(fs::exists(c.file)) << out;
        for (const auto& e : fs::directory_iterator(fs::path(c.file).parent_path()))
            EXPECT_EQ(e.path().string().find(c.file + "."), std::string::npos) << e.path();
        // The database still opens and is consistent.
        Result check = vm(db_, "db check");
        EXPECT_EQ(check.code, 0) << check.out;
        Result status = vm(db_, "db status");
        EXPECT_EQ(status.code, 0) << status.out;
    }
}

} // namespace
