// Who uses what on one host, built from what libvirt reports (an ObservedHost): which domains
// use which volumes (a disk's source file or pool+volume), which volumes back which (a
// volume's <backingStore> path), which domains use which networks, which volumes live in which
// pool. Every domain counts, managed or not, with its persistent AND its running config.
// Pure (no I/O): the planner projects it through a plan's own steps before it plans a
// deletion, and the applier builds it again from a fresh observation right before one.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "virtumancer/hypervisor.hpp"

namespace virtumancer {

// What one domain description refers to.
struct DiskRef {
    std::string target; // guest device name (vda)
    std::string file;   // source file or block device path ("" for pool+volume or network)
    std::string pool, volume;
};
struct NicRef {
    std::string mac, network, bridge;
};
struct DomainRefs {
    std::vector<DiskRef> disks;
    std::vector<NicRef> nics;
};

// The references of a <domain> XML, or of a single <disk>/<interface> device XML. Malformed
// or empty XML refers to nothing.
DomainRefs domain_refs(const std::string& xml);

// One user of an object.
struct Use {
    std::string kind;         // "domain" | "volume"
    std::string name;         // domain name, or "pool/volume"
    std::string how;          // "disk vdb", "disk vdb, running VM only", "backing file", ...
    std::string text() const; // "domain web (disk vdb)"
};

// "by domain web (disk vdb), by volume p/o.qcow2 (backing file)"
std::string users_text(const std::vector<Use>& users);

class Usage {
  public:
    Usage() = default;
    explicit Usage(const ObservedHost& h);

    // Changes the plan's own steps make (projection of the host after them).
    void set_domain_config(const std::string& name, DomainRefs refs); // vm.define
    void set_domain_live(const std::string& name, DomainRefs refs);   // running config
    void start_domain(const std::string& name);                       // live = config
    void stop_domain(const std::string& name);                        // live = nothing
    void remove_domain(const std::string& name);                      // vm.undefine
    void detach_live(const std::string& name, const DomainRefs& dev);
    void attach_live(const std::string& name, const DomainRefs& dev);
    void add_volume(const std::string& pool, const std::string& name, const std::string& path,
                    const std::string& backing_path);
    void remove_volume(const std::string& pool, const std::string& name);

    // The path of a pool's target directory ("" when unknown).
    std::string pool_path(const std::string& pool) const;

    std::vector<Use> volume_users(const std::string& pool, const std::string& name) const;
    std::vector<Use> pool_users(const std::string& pool) const;
    // The domains whose disks use the file at `path` (by path, or by a pool+volume that is it).
    std::vector<Use> file_users(const std::string& path) const;
    std::vector<Use> network_users(const std::string& network) const;

  private:
    struct Dom {
        DomainRefs config, live;
    };
    struct Vol {
        std::string path, backing;
    };
    std::map<std::string, Dom> domains_;
    std::map<std::string, Vol> volumes_; // "pool/name"
    std::map<std::string, std::string> pool_paths_, bridges_;

    void disk_users(const std::function<bool(const DiskRef&)>& match, std::vector<Use>& out) const;
};

} // namespace virtumancer
