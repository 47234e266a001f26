// Opening a libvirt connection (with a deadline: libvirt has no connect timeout), the event
// loop thread (domain events, keepalive), and the error plumbing shared by the adapter.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {
namespace lv {

namespace {
// libvirt's default handler prints every error to stderr; we report errors our way only.
void silent_error_handler(void*, virErrorPtr) {}

std::atomic<int> g_abandoned{0};
} // namespace

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        virInitialize(); // required before using libvirt from several threads
        virSetErrorFunc(nullptr, silent_error_handler);
    });
}

void start_event_loop() {
    init_library();
    static std::once_flag once;
    std::call_once(once, [] {
        // Domain events and keepalive need an event loop, registered before the connection
        // that uses it is opened and run by a thread of its own for the life of the process.
        // The thread is detached: it only ever waits in libvirt's poll() and dispatches to
        // heap objects owned through the callbacks' opaque pointers.
        if (virEventRegisterDefaultImpl() == 0) {
            std::thread([] {
                while (true)
                    if (virEventRunDefaultImpl() < 0)
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }).detach();
        }
    });
}

void fail(const std::string& what, const std::string& remedy) {
    throw Error(what + ": " + last_message(), remedy);
}

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void count_abandoned() {
    ++g_abandoned;
}

std::string seconds_text(double s) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

Error no_answer(const std::string& uri, double seconds) {
    return Error("no answer from " + uri + " within " + seconds_text(seconds) + " s",
                 "check that the host is up and libvirtd there answers (virsh -c " + uri +
                     " list); a busy host may need a longer --host-timeout");
}

} // namespace lv

int abandoned_host_calls() {
    return lv::g_abandoned.load();
}

namespace {

bool is_ssh_uri(const std::string& uri) {
    return uri.find("+ssh://") != std::string::npos || uri.find("+libssh") != std::string::npos;
}

// What the worker thread hands over; shared so that an abandoned worker owns what it touches.
struct PendingConnect {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false, abandoned = false;
    virConnectPtr conn = nullptr;
    std::string error;
};

// Opens the connection and turns keepalive on. Runs on the worker thread.
virConnectPtr open_connection(const std::string& uri, const HostTimeouts& t, std::string* error) {
    virConnectPtr raw = is_ssh_uri(uri)
                            ? virConnectOpenAuth(uri.c_str(), virConnectAuthPtrDefault, 0)
                            : virConnectOpen(uri.c_str());
    if (!raw) {
        *error = lv::last_message();
        return nullptr;
    }
    if (t.events && t.keepalive_interval > 0) {
        // Closed after interval * (count + 1) seconds without an answer: about t.seconds.
        int count = std::max(1, static_cast<int>(std::ceil(t.seconds / t.keepalive_interval)) - 1);
        // Local drivers (test://) have no keepalive: -1, harmless.
        if (virConnectSetKeepAlive(raw, t.keepalive_interval, static_cast<unsigned>(count)) < 0)
            virResetLastError();
    }
    return raw;
}

} // namespace

std::unique_ptr<Hypervisor> connect_libvirt(const std::string& uri, const HostTimeouts& t) {
    lv::init_library();
    if (t.events) lv::start_event_loop(); // before the open: only later connections use it
    auto p = std::make_shared<PendingConnect>();
    std::thread([p, uri, t] {
        std::string error;
        virConnectPtr c = open_connection(uri, t, &error);
        bool orphan = false;
        {
            std::lock_guard<std::mutex> lock(p->mu);
            orphan = p->abandoned;
            if (!orphan) {
                p->conn = c;
                p->error = error;
                p->done = true;
            }
        }
        p->cv.notify_all();
        if (orphan && c) virConnectClose(c); // answered too late: nobody wants it
    }).detach();

    std::unique_lock<std::mutex> lock(p->mu);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long long>(t.seconds * 1000));
    if (!p->cv.wait_until(lock, deadline, [&] { return p->done; })) {
        p->abandoned = true;
        lv::count_abandoned();
        throw lv::no_answer(uri, t.seconds);
    }
    if (!p->conn) {
        std::string remedy =
            is_ssh_uri(uri)
                ? "check that the host is reachable, that `ssh` to it works without a password "
                  "(ssh keys, known_hosts) and that libvirtd runs there"
                : "is libvirtd running? for the test environment run scripts/testenv.sh start";
        throw Error("cannot connect to libvirt at " + uri + ": " + p->error, remedy);
    }
    return std::make_unique<LibvirtHypervisor>(lv::Conn(p->conn), uri, t);
}

namespace {

struct PendingObserve {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    ObservedHost result;
    // Milliseconds (steady clock) of the host's last answer: connected, or an object read.
    std::shared_ptr<std::atomic<long long>> heartbeat =
        std::make_shared<std::atomic<long long>>(lv::now_ms());
};

} // namespace

ObservedHost observe_libvirt(const std::string& uri, int parallelism, const HostTimeouts& t) {
    lv::init_library();
    auto p = std::make_shared<PendingObserve>();
    // Reading needs no domain events, and a host that stops answering is caught by the
    // heartbeat below, not by keepalive: a connection without the event loop's per-call cost.
    HostTimeouts reading = t;
    reading.events = false;
    // The connect has its own deadline (the same) inside the worker.
    std::thread([p, uri, parallelism, t = reading] {
        ObservedHost oh;
        try {
            auto hv = connect_libvirt(uri, t);
            p->heartbeat->store(lv::now_ms());
            static_cast<LibvirtHypervisor&>(*hv).set_heartbeat(p->heartbeat);
            oh = hv->observe(parallelism);
            oh.reachable = true;
        } catch (const std::exception& e) {
            oh.reachable = false;
            oh.error = e.what();
        }
        oh.uri = uri;
        {
            std::lock_guard<std::mutex> lock(p->mu);
            p->result = std::move(oh);
            p->done = true;
        }
        p->cv.notify_all();
    }).detach();

    const long long limit = static_cast<long long>(t.seconds * 1000);
    std::unique_lock<std::mutex> lock(p->mu);
    while (!p->done) {
        long long silent = lv::now_ms() - p->heartbeat->load();
        // The connect reports its own timeout; give it a little slack to do so first.
        if (silent >= limit + 200) break;
        p->cv.wait_for(lock, std::chrono::milliseconds(std::max(10LL, limit + 200 - silent)));
    }
    if (p->done) return std::move(p->result);
    lv::count_abandoned();
    ObservedHost oh;
    oh.uri = uri;
    oh.reachable = false;
    oh.error = lv::no_answer(uri, t.seconds).what();
    return oh;
}

std::string state_name(int state) {
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: // running, waiting on a resource
        return "running";
    case VIR_DOMAIN_SHUTOFF:
        return "shutoff";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    default: // nostate, shutdown in progress, crashed, pmsuspended
        return "other";
    }
}

std::string state_reason_name(int state, int reason) {
    static const char* const running[] = {
        "unknown",       "booted",   "migrated",           "restored",
        "from_snapshot", "unpaused", "migration_canceled", "save_canceled",
        "wakeup",        "crashed",  "postcopy",           "postcopy_failed"};
    static const char* const paused[] = {
        "unknown", "user",        "migration",     "save",           "dump",
        "ioerror", "watchdog",    "from_snapshot", "shutting_down",  "snapshot",
        "crashed", "starting_up", "postcopy",      "postcopy_failed"};
    static const char* const shutoff[] = {"unknown", "shutdown",      "destroyed",
                                          "crashed", "migrated",      "saved",
                                          "failed",  "from_snapshot", "daemon"};
    auto pick = [&](const char* const* names, size_t n) -> std::string {
        if (reason >= 0 && static_cast<size_t>(reason) < n) return names[reason];
        return "reason_" + std::to_string(reason);
    };
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return pick(running, std::size(running));
    case VIR_DOMAIN_PAUSED:
        return pick(paused, std::size(paused));
    case VIR_DOMAIN_SHUTOFF:
        return pick(shutoff, std::size(shutoff));
    default:
        return reason == 0 ? "unknown" : "reason_" + std::to_string(reason);
    }
}

} // namespace virtumancer
