// Addresses of running VMs: one read (`virtumancer status`) and the wait of `wait_for_ip:`
// after apply. Through the Hypervisor seam only (virDomainInterfaceAddresses in the adapter).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <thread>
#include <unistd.h>

#include "virtumancer/applier.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {

namespace {

constexpr const char* kAgentChannel = "org.qemu.guest_agent.0";

struct DomainNics {
    std::vector<NicAddresses> nics;
    bool agent_channel = false;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

DomainNics nics_of(const std::string& live_xml) {
    DomainNics out;
    pugi::xml_document doc;
    if (!doc.load_string(live_xml.c_str())) return out;
    pugi::xml_node devices = doc.child("domain").child("devices");
    for (pugi::xml_node i : devices.children("interface")) {
        NicAddresses n;
        n.mac = lower(i.child("mac").attribute("address").value());
        n.type = i.attribute("type").value();
        pugi::xml_node src = i.child("source");
        n.source = src.attribute("network").value();
        if (n.source.empty()) n.source = src.attribute("bridge").value();
        if (n.source.empty()) n.source = src.attribute("dev").value();
        out.nics.push_back(std::move(n));
    }
    for (pugi::xml_node c : devices.children("channel"))
        if (std::string(c.child("target").attribute("name").value()) == kAgentChannel)
            out.agent_channel = true;
    return out;
}

bool link_local(const std::string& family, const std::string& a) {
    if (family == "ipv4") return a.rfind("169.254.", 0) == 0;
    std::string l = lower(a);
    return l.rfind("fe8", 0) == 0 || l.rfind("fe9", 0) == 0 || l.rfind("fea", 0) == 0 ||
           l.rfind("feb", 0) == 0;
}

void add_answer(std::vector<NicAddresses>& nics, const AddressAnswer& a, const std::string& from) {
    for (const auto& ia : a.addresses) {
        if (link_local(ia.family, ia.address)) continue;
        for (auto& n : nics) {
            if (n.mac.empty() || n.mac != lower(ia.mac)) continue;
            bool dup = false;
            for (const auto& have : n.addresses)
                dup = dup || (have.address == ia.address && have.family == ia.family);
            if (!dup) n.addresses.push_back({ia.family, ia.address, from, ia.prefix});
        }
    }
}

std::vector<NicAddresses> read_nics(Hypervisor& hv, const std::string& vm, const DomainNics& d,
                                    const std::string& source, std::vector<std::string>* why_not,
                                    std::string* agent_error) {
    std::vector<NicAddresses> nics = d.nics;
    bool any = source == "any";
    // With `any`, a source that fails (ARP needs the host's netlink, the agent may be gone)
    // is noted and the others still count; a single source's failure is thrown.
    auto ask = [&](const std::string& src) {
        try {
            return hv.interface_addresses(vm, src);
        } catch (const Error& e) {
            if (!any) throw;
            if (why_not) why_not->push_back(src + ": " + e.what());
            return AddressAnswer{};
        }
    };
    bool on_network = std::any_of(nics.begin(), nics.end(),
                                  [](const NicAddresses& n) { return n.type == "network"; });
    if (source == "lease" || (any && on_network)) add_answer(nics, ask("lease"), "lease");
    if (source == "agent" || (any && d.agent_channel)) {
        AddressAnswer a = ask("agent");
        if (a.agent_unavailable) {
            if (agent_error) *agent_error = a.error;
            if (why_not) why_not->push_back("agent: " + a.error);
        }
        add_answer(nics, a, "agent");
    } else if (any && why_not) {
        why_not->push_back("agent: the domain has no guest-agent channel");
    }
    if (source == "arp" || any) add_answer(nics, ask("arp"), "arp");
    return nics;
}

bool has_family(const NicAddresses& n, const std::string& family) {
    return std::any_of(n.addresses.begin(), n.addresses.end(),
                       [&](const NicAddresses::Address& a) { return a.family == family; });
}

// The NICs still without an address of a wanted family ("52:54:00:..:.. (network default)").
std::vector<std::string> missing(const std::vector<NicAddresses>& nics, const WaitForIp& w) {
    std::vector<std::string> out;
    for (const auto& n : nics) {
        bool ok = (!w.ipv4 || has_family(n, "ipv4")) && (!w.ipv6 || has_family(n, "ipv6"));
        if (!ok)
            out.push_back("NIC " + n.mac + " (" + n.type +
                          (n.source.empty() ? "" : " " + n.source) + ")");
    }
    return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

std::string families(const WaitForIp& w) {
    return w.ipv4 && w.ipv6 ? "IPv4 and IPv6" : w.ipv6 ? "IPv6" : "IPv4";
}

// Why `source` can never give `vm` its addresses ("" when it may).
std::string cannot_work(const std::string& host, const std::string& vm, const WaitForIp& w,
                        const DomainNics& d, const std::map<std::string, bool>& networks) {
    std::string where = "VM " + vm + " on host " + host;
    if (d.nics.empty())
        return where + " has no network interface: wait_for_ip has nothing to wait for (remove "
                       "`wait_for_ip`, or add an interface)";
    if (w.source == "agent" && !d.agent_channel)
        return where + " has no guest-agent channel, so wait_for_ip source agent cannot work "
                       "(add a channel: `channels: [{type: unix, target_type: virtio, "
                       "target_name: org.qemu.guest_agent.0}]` and install qemu-guest-agent in "
                       "the guest, or use source lease or arp)";
    if (w.source == "lease")
        for (const auto& n : d.nics) {
            if (n.type != "network")
                return where + ": NIC " + n.mac + " is a " + n.type + " interface" +
                       (n.source.empty() ? "" : " (" + n.source + ")") +
                       ", not on a libvirt network, so it has no DHCP lease libvirt knows "
                       "(use wait_for_ip source arp or agent)";
            auto it = networks.find(host + "/" + n.source);
            if (it != networks.end() && !it->second)
                return where + ": NIC " + n.mac + " is on libvirt network " + n.source +
                       ", which serves no DHCP, so it has no lease (add a dhcp range to the "
                       "network, or use wait_for_ip source arp or agent)";
        }
    return "";
}

} // namespace

nlohmann::json nics_json(const std::vector<NicAddresses>& nics) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : nics) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& x : n.addresses)
            a.push_back({{"family", x.family},
                         {"address", x.address},
                         {"prefix", x.prefix},
                         {"source", x.from}});
        out.push_back({{"mac", n.mac}, {"type", n.type}, {"source", n.source}, {"addresses", a}});
    }
    return out;
}

std::vector<NicAddresses> read_addresses(Hypervisor& hv, const std::string& vm,
                                         const std::string& live_xml, const std::string& source,
                                         std::vector<std::string>* why_not) {
    DomainNics d = nics_of(live_xml);
    if (source == "agent" && !d.agent_channel) {
        if (why_not) why_not->push_back("agent: the domain has no guest-agent channel");
        return d.nics;
    }
    return read_nics(hv, vm, d, source, why_not, nullptr);
}

std::map<std::string, bool> dhcp_networks(const DesiredState& desired,
                                          const std::vector<ObservedHost>& observed) {
    std::map<std::string, bool> out;
    for (const auto& h : observed)
        for (const auto& n : h.networks) {
            pugi::xml_document doc;
            const std::string& xml = n.live_xml.empty() ? n.xml : n.live_xml;
            if (!doc.load_string(xml.c_str())) continue;
            bool dhcp = false;
            for (pugi::xml_node ip : doc.child("network").children("ip"))
                dhcp = dhcp || ip.child("dhcp");
            out[h.host + "/" + n.name] = dhcp;
        }
    for (const auto& s : desired.networks) {
        bool dhcp = false;
        for (const auto& ip : s.obj.children) dhcp = dhcp || !ip.children.empty();
        out[s.host + "/" + s.obj.name()] = dhcp;
    }
    return out;
}

std::vector<WaitIpResult> wait_for_ips(const DesiredState& desired,
                                       const std::vector<std::string>& vms,
                                       const std::map<std::string, bool>& networks,
                                       HostConnector& hosts, Store& store, const ApplyOptions& opts,
                                       const std::function<void(const std::string&)>& progress) {
    using clock = std::chrono::steady_clock;
    struct Waiting {
        const Spec* spec;
        WaitIpResult r;
        Hypervisor* hv = nullptr;
        DomainNics nics;
        std::string agent_error, last_error;
        clock::time_point start;
        bool done = false;
    };
    std::string run_id = opts.run_id;
    if (run_id.empty()) {
        char buf[48];
        snprintf(
            buf, sizeof buf, "%llx-%d-ip",
            static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count()),
            static_cast<int>(getpid()));
        run_id = buf;
    }
    std::vector<Waiting> todo;
    for (const auto& s : desired.vms) {
        const WaitForIp& w = s.vm.wait_for_ip;
        if (!w.enabled || s.vm.is_template || s.vm.state != "running") continue;
        if (std::find(vms.begin(), vms.end(), s.host + "/" + s.obj.name()) == vms.end()) continue;
        Waiting x;
        x.spec = &s;
        x.r.host = s.host;
        x.r.vm = s.obj.name();
        todo.push_back(std::move(x));
    }
    auto since = [](clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    };
    auto finish = [&](Waiting& x, bool ok, const std::string& error, bool interrupted = false) {
        x.done = true;
        x.r.ok = ok;
        x.r.error = error;
        x.r.interrupted = interrupted;
        x.r.seconds = since(x.start);
        nlohmann::json details = {{"source", x.spec->vm.wait_for_ip.source},
                                  {"timeout", x.spec->vm.wait_for_ip.timeout},
                                  {"seconds", x.r.seconds},
                                  {"nics", nics_json(x.r.nics)}};
        if (ok)
            details["result"] = "ok";
        else
            details[interrupted ? "interrupted" : "error"] = error;
        try {
            if (x.r.task_id) {
                if (interrupted)
                    store.task_interrupt(x.r.task_id, details.dump());
                else
                    store.task_finish(x.r.task_id, ok, details.dump());
            }
        } catch (const std::exception& e) {
            if (ok) {
                x.r.ok = false;
                x.r.error = std::string("the addresses were found but recording the task "
                                        "failed: ") +
                            e.what();
            }
        }
        std::string line = "vm " + x.r.vm + ": ";
        if (x.r.ok) {
            std::vector<std::string> found;
            for (const auto& n : x.r.nics)
                for (const auto& a : n.addresses)
                    found.push_back(n.mac + " " + a.address + "/" + std::to_string(a.prefix) +
                                    " (" + a.from + ")");
            char secs[32];
            snprintf(secs, sizeof secs, "%.1f", x.r.seconds);
            line += "addresses after " + std::string(secs) + "s: " + join(found, ", ");
        } else if (interrupted) {
            line += "wait for addresses interrupted: " + x.r.error;
        } else {
            return; // the caller reports the failure (WaitIpResult::error)
        }
        if (progress) progress(line);
    };

    for (auto& x : todo) {
        const WaitForIp& w = x.spec->vm.wait_for_ip;
        x.start = clock::now();
        try {
            x.r.task_id = store.task_begin(run_id, opts.actor, "vm.wait_ip", "vm", x.r.vm,
                                           nlohmann::json{{"source", w.source},
                                                          {"timeout", w.timeout},
                                                          {"ipv4", w.ipv4},
                                                          {"ipv6", w.ipv6}}
                                               .dump());
        } catch (const std::exception& e) {
            finish(x, false, std::string("cannot record the task in the database: ") + e.what());
            continue;
        }
        try {
            x.hv = &hosts.hypervisor(x.r.host);
            ObservedDomain od = x.hv->observe_domain(x.r.vm);
            if (od.state != "running") {
                finish(x, false,
                       "VM " + x.r.vm + " on host " + x.r.host + " is " + od.state +
                           ", not running: wait_for_ip has nothing to wait for");
                continue;
            }
            x.nics = nics_of(od.live_xml);
            x.r.nics = x.nics.nics;
        } catch (const Error& e) {
            finish(x, false, std::string("VM ") + x.r.vm + ": " + e.what());
            continue;
        }
        if (std::string why = cannot_work(x.r.host, x.r.vm, w, x.nics, networks); !why.empty()) {
            finish(x, false, why);
            continue;
        }
        if (progress)
            progress("vm " + x.r.vm + ": waiting up to " + std::to_string(w.timeout) + "s for " +
                     families(w) + " addresses of " + std::to_string(x.nics.nics.size()) +
                     " NIC(s) (source " + w.source + ")");
    }

    double delay = 0.5;
    while (true) {
        bool left = false;
        for (auto& x : todo) {
            if (x.done) continue;
            const WaitForIp& w = x.spec->vm.wait_for_ip;
            if (int sig = opts.interrupted ? opts.interrupted() : 0) {
                finish(x, false, "stopped by signal " + std::to_string(sig), true);
                continue;
            }
            try {
                x.r.nics = read_nics(*x.hv, x.r.vm, x.nics, w.source, nullptr, &x.agent_error);
                x.last_error.clear();
            } catch (const Error& e) {
                x.last_error = e.what(); // the domain may be restarting; try again
            }
            std::vector<std::string> lacking = missing(x.r.nics, w);
            if (lacking.empty() && x.last_error.empty()) {
                finish(x, true, "");
                continue;
            }
            if (since(x.start) >= w.timeout) {
                std::string msg = "VM " + x.r.vm + " on host " + x.r.host + ": no " + families(w) +
                                  " address for " + join(lacking, ", ") +
                                  " within the wait_for_ip timeout of " +
                                  std::to_string(w.timeout) + "s (source " + w.source + ")";
                if (w.source == "agent" && !x.agent_error.empty())
                    msg += "; the guest agent did not connect: " + x.agent_error;
                if (!x.last_error.empty()) msg += "; last error: " + x.last_error;
                msg += ". Check that the guest boots and runs DHCP on that NIC (its serial "
                       "console), or raise wait_for_ip.timeout";
                finish(x, false, msg);
                continue;
            }
            left = true;
        }
        if (!left) break;
        // Sleep `delay` (not past the earliest timeout), in slices, so Ctrl-C is noticed.
        double nap = delay;
        for (const auto& x : todo)
            if (!x.done)
                nap = std::min(nap, std::max(0.1, x.spec->vm.wait_for_ip.timeout - since(x.start)));
        auto until = clock::now() + std::chrono::duration<double>(nap);
        while (clock::now() < until) {
            if (opts.interrupted && opts.interrupted()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        delay = std::min(delay * 1.5, 5.0);
    }
    std::vector<WaitIpResult> out;
    for (auto& x : todo) out.push_back(std::move(x.r));
    return out;
}

} // namespace virtumancer
