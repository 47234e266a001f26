// cloud-init NoCloud seeds: the files of a seed, their content hash, and the seed image
// (an ISO 9660 image labelled `cidata`, see iso9660.hpp).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "virtumancer/iso9660.hpp"

namespace virtumancer {

// The three files of a seed, as the guest reads them.
struct CloudInitFiles {
    std::string user_data;
    std::string meta_data;      // YAML, with instance-id and local-hostname
    std::string network_config; // YAML; only written when has_network_config
    bool has_network_config = false;
};

// The hash of a seed's content ("sha256:HEX"): what decides whether a VM's seed is current.
std::string cloud_init_hash(const CloudInitFiles& f);

// meta-data: `given` (the spec's meta_data as YAML, "" none) with the defaults added first for
// keys it lacks: `instance-id: iid-<16 hex of the content's hash>` (so a change of any file
// re-runs cloud-init in the guest) and `local-hostname: <vm>`.
std::string cloud_init_meta_data(const std::string& given, bool has_instance_id,
                                 bool has_local_hostname, const std::string& vm,
                                 const std::string& user_data, const std::string& network_config);

// The seed image: files user-data, meta-data and (when given) network-config, label `cidata`.
std::string cloud_init_seed_image(const CloudInitFiles& f);

// The name of a VM's seed volume: "<vm>-cidata.iso".
std::string cloud_init_volume_name(const std::string& vm);

} // namespace virtumancer
