// The libvirt adapter behind virtumancer::Hypervisor. Private to src/hypervisor.
#pragma once
#include <optional>

#include "libvirt_handles.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer {

class LibvirtHypervisor final : public Hypervisor {
  public:
    LibvirtHypervisor(lv::Conn conn, std::string uri)
        : conn_(std::move(conn)), uri_(std::move(uri)) {}

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

    lv::Conn conn_;
    std::string uri_;
};

// virDomainState -> running | shutoff | paused | other.
std::string state_name(int state);

} // namespace virtumancer
