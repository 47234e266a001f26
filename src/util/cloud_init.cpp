#include "virtumancer/cloud_init.hpp"

#include "virtumancer/diag.hpp"
#include "virtumancer/digest.hpp"

namespace virtumancer {

namespace {
// Length-prefixed, so no two different sets of files give the same input.
void frame(std::string& s, std::string_view name, std::string_view data) {
    s += name;
    s += ':';
    s += std::to_string(data.size());
    s += ':';
    s += data;
}
} // namespace

std::string cloud_init_hash(const CloudInitFiles& f) {
    std::string s;
    frame(s, "user-data", f.user_data);
    frame(s, "meta-data", f.meta_data);
    if (f.has_network_config) frame(s, "network-config", f.network_config);
    return "sha256:" + sha256_hex(s);
}

std::string cloud_init_meta_data(const std::string& given, bool has_instance_id,
                                 bool has_local_hostname, const std::string& vm,
                                 const std::string& user_data, const std::string& network_config) {
    std::string defaults;
    if (!has_instance_id) {
        std::string s;
        frame(s, "user-data", user_data);
        frame(s, "meta-data", given);
        frame(s, "network-config", network_config);
        frame(s, "vm", vm);
        defaults += "instance-id: iid-" + sha256_hex(s).substr(0, 16) + "\n";
    }
    if (!has_local_hostname) defaults += "local-hostname: " + vm + "\n";
    std::string out = defaults + given;
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out;
}

std::string cloud_init_seed_image(const CloudInitFiles& f) {
    std::vector<IsoFile> files = {{"user-data", f.user_data}, {"meta-data", f.meta_data}};
    if (f.has_network_config) files.push_back({"network-config", f.network_config});
    return make_iso9660("cidata", files);
}

std::string cloud_init_volume_name(const std::string& vm) {
    return vm + "-cidata.iso";
}

} // namespace virtumancer
