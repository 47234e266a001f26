// The libvirt adapter behind virtumancer::Hypervisor. Private to src/hypervisor.
#pragma once
#include <atomic>
#include <chrono>
#include <optional>

#include "libvirt_handles.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer {

class LibvirtHypervisor final : public Hypervisor {
  public:
    LibvirtHypervisor(lv::Conn conn, std::string uri, HostTimeouts timeouts = {})
        : conn_(std::move(conn)), uri_(std::move(uri)), timeouts_(timeouts) {}

    // observe_libvirt() watches this clock (milliseconds of the host's last answer) to tell
    // a slow host from one that stopped answering.
    void set_heartbeat(std::shared_ptr<std::atomic<long long>> h) { heartbeat_ = std::move(h); }

    // Device removal events of one detach (libvirt_devices.cpp).
    struct RemovalWatch;

    std::string uri() const override { return uri_; }
    ObservedHost observe(int parallelism) override;
    ObservedDomain observe_domain(const std::string& name) override;

    void define_domain(const std::string& xml) override;
    void undefine_domain(const std::string& name, bool keep_nvram, bool keep_tpm) override;
    void start_domain(const std::string& name) override;
    void shutdown_domain(const std::string& name) override;
    void destroy_domain(const std::string& name) override;
    void suspend_domain(const std::string& name) override;
    void resume_domain(const std::string& name) override;
    std::string domain_state(const std::string& name) override;
    void set_domain_autostart(const std::string& name, bool on) override;
    void attach_device(const std::string& domain, const std::string& xml, bool live,
                       bool config) override;
    void detach_device(const std::string& domain, const std::string& xml, bool live,
                       bool config) override;
    void update_device(const std::string& domain, const std::string& xml, bool live,
                       bool config) override;
    void set_vcpus(const std::string& domain, int n, bool live, bool config) override;
    void set_memory(const std::string& domain, unsigned long long kib, bool live,
                    bool config) override;
    void set_max_vcpus(const std::string& domain, int n) override;
    void set_max_memory(const std::string& domain, unsigned long long kib) override;
    std::string domain_xml_with_secrets(const std::string& name) override;
    void create_snapshot(const std::string& domain, const std::string& xml) override;
    void delete_snapshot(const std::string& domain, const std::string& name) override;
    void rename_domain(const std::string& name, const std::string& new_name) override;
    void set_snapshot_description(const std::string& domain, const std::string& name,
                                  const std::string& description) override;
    AddressAnswer interface_addresses(const std::string& domain,
                                      const std::string& source) override;

    void define_pool(const std::string& xml, bool build, bool start, bool autostart) override;
    void set_pool_autostart(const std::string& name, bool on) override;
    void set_network_autostart(const std::string& name, bool on) override;
    void start_pool(const std::string& name) override;
    void start_network(const std::string& name) override;
    void undefine_pool(const std::string& name) override;
    void create_volume(const std::string& pool, const std::string& xml) override;
    void resize_volume(const std::string& pool, const std::string& name,
                       unsigned long long bytes) override;
    void delete_volume(const std::string& pool, const std::string& name) override;
    void upload_volume(const std::string& pool, const std::string& name, unsigned long long length,
                       const std::function<size_t(char*, size_t)>& read) override;
    unsigned long long volume_capacity(const std::string& pool, const std::string& name) override;

    void define_network(const std::string& xml, bool start, bool autostart) override;
    void undefine_network(const std::string& name) override;
    void update_network(const std::string& name, const std::string& section,
                        const std::string& command, int parent_index, const std::string& xml,
                        bool live, bool config) override;

  private:
    lv::Domain domain(const std::string& name) const;
    lv::Pool pool(const std::string& name) const;
    lv::Net network(const std::string& name) const;
    // Fetch everything about one object; nullopt when it vanished after it was listed.
    // With `facts` (from flag-filtered lists of the whole host) a domain costs one
    // GetXMLDesc, plus its live XML when active, its state only when active but neither
    // running nor paused, its snapshots only when it has some; without, each is asked.
    std::optional<ObservedDomain> fetch_domain(virDomainPtr d,
                                               const lv::DomainFacts* facts = nullptr) const;
    std::optional<ObservedPool> fetch_pool(virStoragePoolPtr p) const;
    std::optional<ObservedNetwork> fetch_network(virNetworkPtr n) const;
    void answered() const; // the host answered: moves the heartbeat on

    // A power call (start, resume, ...) that counts as done when libvirt refuses it because
    // the domain already is where the call would take it (VIR_ERR_OPERATION_INVALID "domain
    // is already running" / "not running", state re-read); any other error is thrown.
    void power_call(const std::string& name, const char* verb, int (*call)(virDomainPtr),
                    bool (*reached)(int state, int reason));
    // Waits until the device `xml` names (its alias in `before_live`, or when it cannot be
    // told apart, any device of the same element there) is gone from the running domain;
    // throws when the guest does not release it within timeouts_.detach_seconds of `start`
    // or reports that the removal failed.
    void wait_removed(virDomainPtr d, const std::string& dom, const std::string& xml,
                      const std::string& before_live, const std::shared_ptr<RemovalWatch>& w,
                      std::chrono::steady_clock::time_point start);

    lv::Conn conn_;
    std::string uri_;
    HostTimeouts timeouts_;
    std::shared_ptr<std::atomic<long long>> heartbeat_;
};

// virDomainState -> running | shutoff | paused | other.
std::string state_name(int state);
// virDomainGetState's reason for that state, lower case: "user", "starting_up", "booted", ...
std::string state_reason_name(int state, int reason);

namespace lv {
long long now_ms(); // steady clock
void count_abandoned();
// "no answer from URI within N s", with a remedy.
Error no_answer(const std::string& uri, double seconds);
} // namespace lv

} // namespace virtumancer
