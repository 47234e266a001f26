// One step against its host: the meaning of each plan op.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>
#include <thread>

#include "applier_internal.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/usage.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer::applier_detail {
namespace {

std::string arg(const Step& s, const std::string& key, const std::string& def = {}) {
    auto it = s.args.find(key);
    return it == s.args.end() ? def : it->second;
}

bool flag(const Step& s, const std::string& key, bool def = false) {
    auto it = s.args.find(key);
    if (it == s.args.end()) return def;
    return it->second == "1" || it->second == "yes" || it->second == "true";
}

long long number(const Step& s, const std::string& key) {
    std::string v = arg(s, key);
    if (auto n = parse_int(v)) return *n;
    throw Error("step " + std::to_string(s.id) + " (" + s.op + ") has no valid '" + key +
                    "' argument: '" + v + "'",
                "the plan is malformed; make a new one with virtumancer plan");
}

// "pool/volume" volume names: the part after the pool.
std::string volume_name(const Step& s) {
    std::string v = arg(s, "volume");
    if (!v.empty()) return v;
    auto slash = s.name.find('/');
    return slash == std::string::npos ? s.name : s.name.substr(slash + 1);
}

void shutdown(const Step& s, Hypervisor& hv, const ApplyOptions& opts, const Progress& progress) {
    if (hv.domain_state(s.name) == "shutoff") return;
    long long timeout = number(s, "timeout");
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
    if (!flag(s, "force"))
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
void check_unused(const Step& s, Hypervisor& hv, const ApplyOptions& opts,
                  const Progress& progress) {
    progress(0, "checking that nothing on the host uses it");
    Usage u(hv.observe(opts.parallelism));
    std::vector<Use> users;
    std::string what;
    if (s.op == "volume.delete") {
        what = "volume " + arg(s, "pool") + "/" + volume_name(s);
        users = u.volume_users(arg(s, "pool"), volume_name(s));
    } else if (s.op == "pool.undefine") {
        what = "pool " + s.name;
        users = u.pool_users(s.name);
    } else {
        what = "network " + s.name;
        users = u.network_users(s.name);
    }
    if (!users.empty())
        throw Error("refusing to delete " + what + " on " + hv.uri() + ": it is used " +
                        users_text(users) + "; nothing was deleted",
                    "remove those users first (something changed since the plan was made), "
                    "then plan and apply again");
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

} // namespace

std::string inject_graphics_passwords(const std::string& xml, const Step& s) {
    std::map<int, std::string> pw;
    for (const auto& [k, v] : s.args) {
        bool file = k.rfind("password_file:", 0) == 0, env = k.rfind("password_env:", 0) == 0;
        if (!file && !env) continue;
        int idx = parse_int<int>(k.substr(k.find(':') + 1)).value_or(0);
        if (file) {
            pw[idx] = read_password_file(v);
        } else {
            const char* e = std::getenv(v.c_str());
            if (!e || !*e)
                throw Error("the environment variable " + v +
                                " (password_env of a graphics device of " + s.name + ") is not set",
                            "export " + v + " before running apply");
            pw[idx] = e;
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

void run_step(const Step& s, Hypervisor& hv, const ApplyOptions& opts, const Progress& progress) {
    const std::string& op = s.op;
    const std::string& n = s.name;
    if (op == "vm.define") {
        hv.define_domain(inject_graphics_passwords(s.xml, s));
    } else if (op == "vm.start") {
        hv.start_domain(n);
    } else if (op == "vm.shutdown") {
        shutdown(s, hv, opts, progress);
    } else if (op == "vm.destroy") {
        hv.destroy_domain(n);
    } else if (op == "vm.undefine") {
        hv.undefine_domain(n, flag(s, "keep_nvram", true), flag(s, "keep_tpm", true));
    } else if (op == "vm.attach_device") {
        hv.attach_device(n, inject_graphics_passwords(s.xml, s), flag(s, "live"),
                         flag(s, "config"));
    } else if (op == "vm.detach_device") {
        hv.detach_device(n, s.xml, flag(s, "live"), flag(s, "config"));
    } else if (op == "vm.update_device") {
        hv.update_device(n, inject_graphics_passwords(s.xml, s), flag(s, "live"),
                         flag(s, "config"));
    } else if (op == "vm.set_vcpus") {
        hv.set_vcpus(n, static_cast<int>(number(s, "count")), flag(s, "live"), flag(s, "config"));
    } else if (op == "vm.set_memory") {
        hv.set_memory(n, static_cast<unsigned long long>(number(s, "kib")), flag(s, "live"),
                      flag(s, "config"));
    } else if (op == "vm.rename") {
        hv.rename_domain(n, arg(s, "new_name"));
    } else if (op == "vm.autostart") {
        hv.set_domain_autostart(n, flag(s, "autostart"));
    } else if (op == "vm.suspend") {
        hv.suspend_domain(n);
    } else if (op == "vm.resume") {
        hv.resume_domain(n);
    } else if (op == "pool.define") {
        hv.define_pool(s.xml, flag(s, "build"), flag(s, "start"), flag(s, "autostart"));
    } else if (op == "pool.start") {
        hv.start_pool(n);
    } else if (op == "pool.autostart") {
        hv.set_pool_autostart(n, flag(s, "autostart"));
    } else if (op == "volume.create") {
        progress(0, "creating the volume");
        hv.create_volume(arg(s, "pool"), s.xml);
    } else if (op == "volume.resize") {
        hv.resize_volume(arg(s, "pool"), volume_name(s),
                         static_cast<unsigned long long>(number(s, "bytes")));
    } else if (op == "volume.delete") {
        check_unused(s, hv, opts, progress);
        hv.delete_volume(arg(s, "pool"), volume_name(s));
    } else if (op == "network.define") {
        hv.define_network(s.xml, flag(s, "start"), flag(s, "autostart"));
    } else if (op == "network.start") {
        hv.start_network(n);
    } else if (op == "network.autostart") {
        hv.set_network_autostart(n, flag(s, "autostart"));
    } else if (op == "network.update") {
        hv.update_network(n, arg(s, "section"), arg(s, "command"),
                          static_cast<int>(number(s, "parent_index")), s.xml, flag(s, "live"),
                          flag(s, "config"));
    } else if (op == "snapshot.create") {
        std::string dom = arg(s, "domain");
        if (dom.empty()) dom = n.substr(0, n.find('/'));
        hv.create_snapshot(dom, s.xml);
    } else if (op == "snapshot.set_description") {
        std::string dom = arg(s, "domain");
        if (dom.empty()) dom = n.substr(0, n.find('/'));
        hv.set_snapshot_description(dom, arg(s, "snapshot", n.substr(n.find('/') + 1)),
                                    arg(s, "description"));
    } else if (op == "snapshot.delete") {
        std::string dom = arg(s, "domain");
        if (dom.empty()) dom = n.substr(0, n.find('/'));
        hv.delete_snapshot(dom, arg(s, "snapshot", n.substr(n.find('/') + 1)));
    } else if (op == "vm.set_max_vcpus") {
        hv.set_max_vcpus(n, static_cast<int>(number(s, "count")));
    } else if (op == "vm.set_max_memory") {
        hv.set_max_memory(n, static_cast<unsigned long long>(number(s, "kib")));
    } else if (op == "pool.undefine") {
        check_unused(s, hv, opts, progress);
        hv.undefine_pool(n);
    } else if (op == "network.undefine") {
        check_unused(s, hv, opts, progress);
        hv.undefine_network(n);
    } else {
        throw Error("unknown step operation '" + op + "' (step " + std::to_string(s.id) + ")",
                    "this plan was made by a newer virtumancer; plan again with this one");
    }
}

} // namespace virtumancer::applier_detail
