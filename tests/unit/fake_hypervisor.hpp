// A Hypervisor for pure-logic tests: records every call (in order, with start/end times and
// the peak number of calls in flight), fails chosen calls, delays them, and keeps a little
// state (domain power state, pools, networks). Thread-safe.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "virtumancer/applier.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer::testing {

class FakeHypervisor : public Hypervisor {
  public:
    struct Call {
        std::string what; // "define_domain web", "start_domain web", ...
        std::string arg;  // XML or other payload
        std::chrono::steady_clock::time_point start, end;
    };

    // Configuration (set before use).
    std::map<std::string, std::string> fail;  // "start_domain web" -> error message
    std::map<std::string, int> delay_ms;      // "start_domain web" -> milliseconds
    bool acpi_works = true;                   // shutdown_domain turns the VM off
    std::map<std::string, std::string> state; // domain -> running | shutoff | paused
    ObservedHost observed;                    // what observe() returns
    // Called at the start of every recorded call (e.g. to look at the tasks table meanwhile).
    std::function<void(const std::string& what)> on_call;

    std::string uri() const override { return "fake:///"; }
    ObservedHost observe(int) override {
        record("observe", "");
        std::lock_guard<std::mutex> lock(mu_);
        return observed;
    }
    ObservedDomain observe_domain(const std::string& name) override {
        ObservedDomain d;
        d.name = name;
        d.state = domain_state(name);
        return d;
    }
    void define_domain(const std::string& xml) override {
        std::string name = xml.substr(xml.find("<name>") + 6);
        name = name.substr(0, name.find('<'));
        record("define_domain " + name, xml);
        std::lock_guard<std::mutex> lock(mu_);
        if (!state.count(name)) state[name] = "shutoff";
    }
    void undefine_domain(const std::string& n, bool nv, bool tpm) override {
        record("undefine_domain " + n,
               std::string(nv ? "keep_nvram" : "") + (tpm ? " keep_tpm" : ""));
        std::lock_guard<std::mutex> lock(mu_);
        state.erase(n);
    }
    void start_domain(const std::string& n) override {
        record("start_domain " + n, "");
        set_state(n, "running");
    }
    void shutdown_domain(const std::string& n) override {
        record("shutdown_domain " + n, "");
        if (acpi_works) set_state(n, "shutoff");
    }
    void destroy_domain(const std::string& n) override {
        record("destroy_domain " + n, "");
        set_state(n, "shutoff");
    }
    void suspend_domain(const std::string& n) override {
        record("suspend_domain " + n, "");
        set_state(n, "paused");
    }
    void resume_domain(const std::string& n) override {
        record("resume_domain " + n, "");
        set_state(n, "running");
    }
    std::string domain_state(const std::string& n) override {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = state.find(n);
        return it == state.end() ? "shutoff" : it->second;
    }
    void set_domain_autostart(const std::string& n, bool on) override {
        record("set_domain_autostart " + n, on ? "1" : "0");
    }
    void attach_device(const std::string& d, const std::string& xml, bool live,
                       bool config) override {
        record("attach_device " + d, xml + flags(live, config));
    }
    void detach_device(const std::string& d, const std::string& xml, bool live,
                       bool config) override {
        record("detach_device " + d, xml + flags(live, config));
    }
    void update_device(const std::string& d, const std::string& xml, bool live,
                       bool config) override {
        record("update_device " + d, xml + flags(live, config));
    }
    void set_vcpus(const std::string& d, int n, bool live, bool config) override {
        record("set_vcpus " + d, std::to_string(n) + flags(live, config));
    }
    void set_memory(const std::string& d, unsigned long long kib, bool live, bool config) override {
        record("set_memory " + d, std::to_string(kib) + flags(live, config));
    }
    void create_snapshot(const std::string& d, const std::string& xml) override {
        record("create_snapshot " + d, xml);
    }
    void delete_snapshot(const std::string& d, const std::string& n) override {
        record("delete_snapshot " + d, n);
    }
    void define_pool(const std::string& xml, bool build, bool start, bool autostart) override {
        record("define_pool", xml + flags(build, start) + (autostart ? " autostart" : ""));
    }
    void undefine_pool(const std::string& n) override { record("undefine_pool " + n, ""); }
    void create_volume(const std::string& pool, const std::string& xml) override {
        record("create_volume " + pool, xml);
    }
    void resize_volume(const std::string& pool, const std::string& n,
                       unsigned long long b) override {
        record("resize_volume " + pool + "/" + n, std::to_string(b));
    }
    void delete_volume(const std::string& pool, const std::string& n) override {
        record("delete_volume " + pool + "/" + n, "");
    }
    void upload_volume_bytes(const std::string& pool, const std::string& n,
                             const std::string& bytes) override {
        record("upload_volume " + pool + "/" + n, std::to_string(bytes.size()) + " bytes");
        std::lock_guard<std::mutex> g(upload_mu);
        uploads[pool + "/" + n] = bytes;
    }
    std::mutex upload_mu;
    std::map<std::string, std::string> uploads; // "pool/volume" -> the bytes uploaded
    void define_network(const std::string& xml, bool start, bool autostart) override {
        record("define_network", xml + flags(start, autostart));
    }
    void undefine_network(const std::string& n) override { record("undefine_network " + n, ""); }
    void rename_domain(const std::string& n, const std::string& to) override {
        record("rename_domain " + n, to);
    }
    void set_snapshot_description(const std::string& d, const std::string& n,
                                  const std::string& description) override {
        record("set_snapshot_description " + d, n + " " + description);
    }
    void set_pool_autostart(const std::string& n, bool on) override {
        record("set_pool_autostart " + n, on ? "1" : "0");
    }
    void set_network_autostart(const std::string& n, bool on) override {
        record("set_network_autostart " + n, on ? "1" : "0");
    }
    void start_pool(const std::string& n) override { record("start_pool " + n, ""); }
    void start_network(const std::string& n) override { record("start_network " + n, ""); }
    void update_network(const std::string& n, const std::string& section,
                        const std::string& command, int parent_index, const std::string& xml,
                        bool live, bool config) override {
        record("update_network " + n, section + " " + command + " " + std::to_string(parent_index) +
                                          " " + xml + flags(live, config));
    }

    // Inspection.
    std::vector<Call> calls() const {
        std::lock_guard<std::mutex> lock(mu_);
        return calls_;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& c : calls())
            if (c.what != "observe") out.push_back(c.what);
        return out;
    }
    const Call* find(const std::string& what) const {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& c : calls_)
            if (c.what == what) return &c;
        return nullptr;
    }
    bool called(const std::string& what) const { return find(what) != nullptr; }
    int peak_in_flight() const { return peak_; }

  private:
    static std::string flags(bool a, bool b) {
        return std::string(" [") + (a ? "1" : "0") + (b ? "1" : "0") + "]";
    }
    void set_state(const std::string& n, const std::string& s) {
        std::lock_guard<std::mutex> lock(mu_);
        state[n] = s;
    }
    void record(const std::string& what, const std::string& arg) {
        int now = ++in_flight_;
        int p = peak_.load();
        while (now > p && !peak_.compare_exchange_weak(p, now)) {
        }
        if (on_call) on_call(what);
        Call c{what, arg, std::chrono::steady_clock::now(), {}};
        int ms = 0;
        std::string err;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto d = delay_ms.find(what);
            if (d != delay_ms.end()) ms = d->second;
            auto f = fail.find(what);
            if (f != fail.end()) err = f->second;
        }
        if (ms) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        c.end = std::chrono::steady_clock::now();
        {
            std::lock_guard<std::mutex> lock(mu_);
            calls_.push_back(c);
        }
        --in_flight_;
        if (!err.empty()) throw Error(err);
    }

    mutable std::mutex mu_;
    std::vector<Call> calls_;
    std::atomic<int> in_flight_{0}, peak_{0};
};

// Every host name maps to the same fake.
class FakeConnector : public HostConnector {
  public:
    explicit FakeConnector(FakeHypervisor& hv) : hv_(hv) {}
    Hypervisor& hypervisor(const std::string& host) override {
        if (unreachable.count(host)) throw Error("host " + host + " is unreachable");
        return hv_;
    }
    std::set<std::string> unreachable;

  private:
    FakeHypervisor& hv_;
};

// Collects events.
class EventLog : public EventSink {
  public:
    void event(const ApplyEvent& e) override {
        std::lock_guard<std::mutex> lock(mu_);
        events.push_back(e);
    }
    std::vector<ApplyEvent> events;

  private:
    std::mutex mu_;
};

} // namespace virtumancer::testing
