// One step against its host: the meaning of each plan op.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>
#include <thread>

#include "applier_internal.hpp"
#include "virtumancer/cloud_init.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/usage.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer::applier_detail {
namespace {

void shutdown(const Step& s, const VmShutdown& a, Hypervisor& hv, const ApplyOptions& opts,
              const Progress& progress) {
    if (hv.domain_state(s.name) == "shutoff") return;
    const long long timeout = a.timeout;
    hv.shutdown_domain(s.name);
    auto start = std::chrono::steady_clock::now();
    auto interval =
        std::chrono::duration<double>(opts.poll_interval > 0 ? opts.poll_interval : 0.5);
    int last_pct = -1;
    while (true) {
        if (hv.domain_state(s.name) == "shutoff") return;
        double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (int sig = opts.interrupted ? opts.interrupted() : 0)
            throw StepInterrupted("stopped waiting for VM " + s.name + " to shut down after " +
                                  std::to_string(static_cast<long long>(waited)) + "s of " +
                                  std::to_string(timeout) + "s (" + signal_name(sig) +
                                  "); the ACPI shutdown request was sent, so the guest may "
                                  "still shut down by itself");
        if (waited >= static_cast<double>(timeout)) break;
        int pct = timeout > 0 ? static_cast<int>(waited * 100 / static_cast<double>(timeout)) : 100;
        if (pct != last_pct) {
            progress(pct, "waiting for the guest to shut down (ACPI), " +
                              std::to_string(static_cast<long long>(waited)) + "s of " +
                              std::to_string(timeout) + "s");
            last_pct = pct;
        }
        std::this_thread::sleep_for(interval);
    }
    if (!a.force)
        throw Error("VM " + s.name + " did not shut down within " + std::to_string(timeout) +
                        "s and its spec does not allow a forced stop (force_stop: true)",
                    "shut the guest down from inside, raise shutdown_timeout, or set "
                    "force_stop: true in its spec");
    progress(100, "the guest did not shut down within " + std::to_string(timeout) +
                      "s; forcing it off (force_stop: true)");
    hv.destroy_domain(s.name);
}

// Right before a deletion, from a fresh observation of the host (not the plan's): nothing may
// use the object (a domain's config or running config, an overlay, a volume left in a pool).
// The object a deletion step removes, and who uses it on the host now.
struct Deletion {
    std::string what;
    std::vector<Use> users;
};

void check_unused(const Deletion& d, Hypervisor& hv) {
    if (!d.users.empty())
        throw Error("refusing to delete " + d.what + " on " + hv.uri() + ": it is used " +
                        users_text(d.users) + "; nothing was deleted",
                    "remove those users first (something changed since the plan was made), "
                    "then plan and apply again");
}

// Right before a deletion, from a fresh observation of the host (not the plan's).
Usage fresh_usage(Hypervisor& hv, const ApplyOptions& opts, const Progress& progress) {
    progress(0, "checking that nothing on the host uses it");
    return Usage(hv.observe(opts.parallelism));
}

std::string read_password_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw Error("cannot read the graphics password file " + path,
                    "create it (readable by the user running virtumancer) or fix password_file");
    std::ostringstream os;
    os << f.rdbuf();
    std::string v = os.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    if (v.empty())
        throw Error("the graphics password file " + path + " is empty",
                    "write the password into it");
    return v;
}

// The seed's files: user-data read now from its file or variable (never kept), checked against
// the content hash loaded into the database.
CloudInitFiles seed_files(const VolumeCloudInitSeed& a) {
    CloudInitFiles f;
    f.meta_data = a.meta_data;
    f.network_config = a.network_config;
    f.has_network_config = a.has_network_config;
    std::string from = "inline user_data";
    if (!a.user_data_file.empty()) {
        from = "user_data_file " + a.user_data_file;
        std::ifstream in(a.user_data_file, std::ios::binary);
        if (!in)
            throw Error("cannot read the cloud-init user_data_file " + a.user_data_file +
                            " of VM " + a.vm,
                        "create it (readable by the user running virtumancer) or fix "
                        "user_data_file, then load the specs again");
        std::ostringstream os;
        os << in.rdbuf();
        f.user_data = os.str();
    } else if (!a.user_data_env.empty()) {
        from = "environment variable " + a.user_data_env + " (user_data_env)";
        const char* e = std::getenv(a.user_data_env.c_str());
        if (!e)
            throw Error("the environment variable " + a.user_data_env +
                            " (cloud-init user_data_env of VM " + a.vm + ") is not set",
                        "export " + a.user_data_env + " with the value it had at load, then apply");
        f.user_data = e;
    } else {
        f.user_data = a.user_data;
    }
    if (cloud_init_hash(f) != a.hash)
        throw Error("the cloud-init content of VM " + a.vm + " is not what was loaded: " + from +
                        " changed since load; no seed was written",
                    "load the specs again (virtumancer load, or plan/apply with the spec files) "
                    "so the new content is planned, or restore the old content");
    return f;
}

} // namespace

std::string inject_graphics_passwords(const std::string& xml,
                                      const std::vector<GraphicsPassword>& passwords,
                                      const Step& s) {
    std::map<int, std::string> pw;
    for (const auto& g : passwords) {
        if (!g.file.empty()) {
            pw[g.index] = read_password_file(g.file);
        } else {
            const char* e = std::getenv(g.env.c_str());
            if (!e || !*e)
                throw Error("the environment variable " + g.env +
                                " (password_env of a graphics device of " + s.name + ") is not set",
                            "export " + g.env + " before running apply");
            pw[g.index] = e;
        }
    }
    if (pw.empty()) return xml;
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single))
        throw Error("step " + std::to_string(s.id) + " has malformed XML",
                    "make a new plan with virtumancer plan");
    std::vector<pugi::xml_node> graphics;
    pugi::xml_node root = doc.document_element();
    if (std::string(root.name()) == "graphics") {
        graphics.push_back(root);
    } else {
        for (auto g : root.child("devices").children("graphics")) graphics.push_back(g);
    }
    for (auto& [idx, value] : pw) {
        if (idx < 0 || static_cast<size_t>(idx) >= graphics.size())
            throw Error("step " + std::to_string(s.id) + " names graphics device " +
                            std::to_string(idx) + " for a password but the XML has " +
                            std::to_string(graphics.size()),
                        "make a new plan with virtumancer plan");
        pugi::xml_attribute a = graphics[idx].attribute("passwd");
        if (!a) a = graphics[idx].append_attribute("passwd");
        a.set_value(value.c_str());
    }
    return xml_document_string(doc);
}

namespace {

// The meaning of each op: one call operator per payload type.
struct RunStep {
    const Step& s;
    Hypervisor& hv;
    const ApplyOptions& opts;
    const Progress& progress;
    StepOutput* out;

    void operator()(const VmDefine& a) const {
        hv.define_domain(inject_graphics_passwords(a.xml, a.passwords, s));
    }
    void operator()(const VmStart&) const { hv.start_domain(s.name); }
    void operator()(const VmShutdown& a) const { shutdown(s, a, hv, opts, progress); }
    void operator()(const VmDestroy&) const { hv.destroy_domain(s.name); }
    void operator()(const VmUndefine& a) const {
        hv.undefine_domain(s.name, a.keep_nvram, a.keep_tpm);
    }
    void operator()(const VmAttachDevice& a) const {
        hv.attach_device(s.name, inject_graphics_passwords(a.xml, a.passwords, s), a.live,
                         a.config);
    }
    void operator()(const VmDetachDevice& a) const {
        hv.detach_device(s.name, a.xml, a.live, a.config);
    }
    void operator()(const VmUpdateDevice& a) const {
        hv.update_device(s.name, inject_graphics_passwords(a.xml, a.passwords, s), a.live,
                         a.config);
    }
    void operator()(const VmSetVcpus& a) const { hv.set_vcpus(s.name, a.count, a.live, a.config); }
    void operator()(const VmSetMemory& a) const { hv.set_memory(s.name, a.kib, a.live, a.config); }
    void operator()(const VmRename& a) const { hv.rename_domain(s.name, a.new_name); }
    void operator()(const VmAutostart& a) const { hv.set_domain_autostart(s.name, a.autostart); }
    void operator()(const VmSuspend&) const { hv.suspend_domain(s.name); }
    void operator()(const VmResume&) const { hv.resume_domain(s.name); }
    void operator()(const PoolDefine& a) const {
        hv.define_pool(a.xml, a.build, a.start, a.autostart);
    }
    void operator()(const PoolStart&) const { hv.start_pool(s.name); }
    void operator()(const PoolAutostart& a) const { hv.set_pool_autostart(s.name, a.autostart); }
    void operator()(const PoolUndefine&) const {
        check_unused({"pool " + s.name, fresh_usage(hv, opts, progress).pool_users(s.name)}, hv);
        hv.undefine_pool(s.name);
    }
    void operator()(const VolumeCreate& a) const {
        if (!a.source.empty()) {
            std::string digest = create_volume_from_image(s, a, hv, opts, progress);
            if (out) out->uploaded_digest = digest;
            return;
        }
        progress(0, "creating the volume");
        hv.create_volume(a.pool, a.xml);
    }
    void operator()(const VolumeResize& a) const { hv.resize_volume(a.pool, a.volume, a.bytes); }
    void operator()(const VolumeDelete& a) const {
        check_unused({"volume " + a.pool + "/" + a.volume,
                      fresh_usage(hv, opts, progress).volume_users(a.pool, a.volume)},
                     hv);
        hv.delete_volume(a.pool, a.volume);
    }
    void operator()(const NetworkDefine& a) const {
        hv.define_network(a.xml, a.start, a.autostart);
    }
    void operator()(const NetworkStart&) const { hv.start_network(s.name); }
    void operator()(const NetworkAutostart& a) const {
        hv.set_network_autostart(s.name, a.autostart);
    }
    void operator()(const NetworkUpdate& a) const {
        hv.update_network(s.name, a.section, a.command, a.parent_index, a.xml, a.live, a.config);
    }
    void operator()(const NetworkUndefine&) const {
        check_unused({"network " + s.name, fresh_usage(hv, opts, progress).network_users(s.name)},
                     hv);
        hv.undefine_network(s.name);
    }
    void operator()(const SnapshotCreate& a) const { hv.create_snapshot(a.domain, a.xml); }
    void operator()(const SnapshotSetDescription& a) const {
        hv.set_snapshot_description(a.domain, a.snapshot, a.description);
    }
    void operator()(const SnapshotDelete& a) const { hv.delete_snapshot(a.domain, a.snapshot); }
    // A new seed: built, its hash checked, then the volume (re)created with its exact size and
    // the image uploaded. The old seed is deleted only once the new image is built.
    void operator()(const VolumeCloudInitSeed& a) const {
        std::string image = cloud_init_seed_image(seed_files(a));
        if (a.exists) {
            progress(0, "deleting the old seed");
            hv.delete_volume(a.pool, a.volume);
        }
        progress(0, "creating the seed volume (" + std::to_string(image.size()) + " bytes)");
        pugi::xml_document doc;
        auto vol = doc.append_child("volume");
        vol.append_child("name").text() = a.volume.c_str();
        auto cap = vol.append_child("capacity");
        cap.append_attribute("unit") = "bytes";
        cap.text() = std::to_string(image.size()).c_str();
        vol.append_child("target").append_child("format").append_attribute("type") = "raw";
        hv.create_volume(a.pool, xml_document_string(doc));
        progress(0, "uploading the seed");
        hv.upload_volume_bytes(a.pool, a.volume, image);
    }
};

} // namespace

void run_step(const Step& s, Hypervisor& hv, const ApplyOptions& opts, const Progress& progress,
              StepOutput* out) {
    std::visit(RunStep{s, hv, opts, progress, out}, s.payload);
}

} // namespace virtumancer::applier_detail
