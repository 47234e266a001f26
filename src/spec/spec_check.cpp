// Stage 2 of loading: checks across documents (references, duplicate names, conflicting disk
// targets and MACs), defaults that need other documents, and the content hashes.
#include <algorithm>
#include <cctype>
#include <map>

#include "spec_internal.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer::spec {

namespace {

struct MacUse {
    std::string vm;
    SourceRef pos;
};

struct Checker {
    Loaded& L;
    Diagnostics& diags;

    SourceRef at(const std::string& kind, const std::string& host, const std::string& name,
                 int child, const std::string& key, const SourceRef& fallback) const {
        if (auto p = L.notes.pos.find(kind, host, name, child, key)) return *p;
        if (child >= 0)
            if (auto p = L.notes.pos.find(kind, host, name, child, "item")) return *p;
        return fallback;
    }
    bool is_null(const std::string& kind, const std::string& host, const std::string& name,
                 int child, const std::string& key) const {
        return L.notes.nulls.count(annot_key(kind, host, name, child, key)) > 0;
    }
    void error(const SourceRef& r, const std::string& m, const std::string& remedy) {
        diags.error(r.file, r.line, r.column, m, remedy);
    }
    void warning(const SourceRef& r, const std::string& m, const std::string& remedy) {
        diags.warning(r.file, r.line, r.column, m, remedy);
    }
    static std::string where(const SourceRef& r) {
        return r.file + ":" + std::to_string(r.line) + ":" + std::to_string(r.column);
    }

    const Spec* find(const std::vector<Spec>& v, const std::string& host, const std::string& name,
                     const std::string& pool = {}) const {
        for (const auto& s : v)
            if (s.host == host && s.obj.name() == name &&
                (pool.empty() || s.obj.get("pool") == pool))
                return &s;
        return nullptr;
    }
    std::vector<std::string> names(const std::vector<Spec>& v, const std::string& host) const {
        std::vector<std::string> out;
        for (const auto& s : v)
            if (s.host == host) out.push_back(s.obj.name());
        return out;
    }

    void duplicates() {
        std::map<std::string, SourceRef> seen;
        auto check = [&](const std::string& kind, const std::string& key, const std::string& shown,
                         const SourceRef& src) {
            auto [it, fresh] = seen.emplace(kind + "|" + key, src);
            if (!fresh)
                error(src,
                      "duplicate " + kind + " " + shown + " (first defined at " +
                          where(it->second) + "); names must be unique per kind and host",
                      "rename one of the two, or remove the document that is not wanted");
        };
        for (const auto& h : L.state.hosts) check("Host", h.name, "`" + h.name + "`", h.src);
        // Two Host specs for one libvirt: each would plan the other's objects as unwanted
        // (and --prune delete them).
        std::map<std::string, const HostSpec*> uris;
        for (const auto& h : L.state.hosts) {
            if (h.uri.empty()) continue;
            auto [it, fresh] = uris.emplace(h.uri, &h);
            if (!fresh && it->second->name != h.name)
                error(at("Host", "", h.name, -1, "uri", h.src),
                      "Host `" + h.name + "` has the same uri `" + h.uri + "` as Host `" +
                          it->second->name + "` (defined at " + where(it->second->src) +
                          "); one libvirt host needs exactly one Host spec, or each would "
                          "treat the other's objects as unwanted: point every spec's `host:` at "
                          "one of them and remove the other",
                      "remove Host `" + h.name + "` (or `" + it->second->name +
                          "`) and point every spec's `host:` at the one kept");
        }
        auto each = [&](const std::vector<Spec>& v, const std::string& kind, bool pooled) {
            for (const auto& s : v) {
                std::string pool = pooled ? s.obj.get("pool") : "";
                check(kind, s.host + "|" + pool + "|" + s.obj.name(),
                      "`" + s.obj.name() + "` on host `" + s.host + "`" +
                          (pooled ? " in pool `" + pool + "`" : ""),
                      s.src);
            }
        };
        each(L.state.pools, "StoragePool", false);
        each(L.state.volumes, "Volume", true);
        each(L.state.networks, "Network", false);
        each(L.state.vms, "VirtualMachine", false);
        for (const auto& s : L.state.snapshots)
            check("Snapshot", s.host + "|" + s.vm + "|" + s.name,
                  "`" + s.name + "` of VM `" + s.vm + "` on host `" + s.host + "`", s.src);
    }

    void host_ref(const std::string& kind, const std::string& host, const std::string& name,
                  const SourceRef& src) {
        for (const auto& h : L.state.hosts)
            if (h.name == host) return;
        std::vector<std::string> hosts;
        for (const auto& h : L.state.hosts) hosts.push_back(h.name);
        error(at(kind, host, name, -1, "host", src),
              "unknown host `" + host + "`" + did_you_mean(host, hosts) +
                  "; define it with a `kind: Host` document",
              "add a `kind: Host` document named `" + host + "`, or correct `host:`");
    }

    void volumes() {
        for (auto& s : L.state.volumes) {
            std::string pool = s.obj.get("pool");
            if (pool.empty()) continue;
            if (!find(L.state.pools, s.host, pool))
                error(at("Volume", s.host, s.obj.name(), -1, "pool", s.src),
                      "unknown pool `" + pool + "` on host `" + s.host + "`" +
                          did_you_mean(pool, names(L.state.pools, s.host)) +
                          "; define it with a `kind: StoragePool` document",
                      "add a `kind: StoragePool` document named `" + pool + "` on host `" + s.host +
                          "`, or correct `pool:`");
            std::string back = s.obj.get("backing_volume");
            if (!back.empty() && !find(L.state.volumes, s.host, back, pool))
                error(at("Volume", s.host, s.obj.name(), -1, "backing_volume", s.src),
                      "unknown backing volume `" + back + "` in pool `" + pool + "`",
                      "add a `kind: Volume` document named `" + back + "` in pool `" + pool +
                          "`, or correct `backing_volume:`");
            image_source(s);
        }
    }

    // A volume filled from an image (`source`, `checksum`): the URL's scheme, the digest's
    // algorithm and length, and no backing store beside it (the upload replaces the whole file,
    // a qcow2 header included, so a backing chain from the spec would be overwritten).
    void image_source(const Spec& s) {
        const std::string& name = s.obj.name();
        std::string src = s.obj.get("source"), sum = s.obj.get("checksum");
        auto pos = [&](const char* key) { return at("Volume", s.host, name, -1, key, s.src); };
        if (!sum.empty() && src.empty())
            error(pos("checksum"), "volume `" + name + "` has a checksum but no source",
                  "add `source:` "
                  "(the image to fill it with) or remove `checksum:`");
        if (!sum.empty()) {
            auto colon = sum.find(':');
            std::string algo = colon == std::string::npos ? "" : sum.substr(0, colon);
            std::string hex = colon == std::string::npos ? sum : sum.substr(colon + 1);
            size_t want = algo == "sha256" ? 64 : algo == "sha512" ? 128 : 0;
            bool is_hex = std::all_of(hex.begin(), hex.end(),
                                      [](unsigned char c) { return std::isxdigit(c) != 0; });
            if (want == 0)
                error(pos("checksum"),
                      "checksum `" + sum + "` of volume `" + name + "` names " +
                          (algo.empty() ? "no algorithm" : "the unknown algorithm `" + algo + "`") +
                          "",
                      "write it as sha256:HEX or sha512:HEX");
            else if (!is_hex || hex.size() != want)
                error(pos("checksum"),
                      "checksum of volume `" + name + "`: " + algo + " needs " +
                          std::to_string(want) + " hex digits, got " + std::to_string(hex.size()) +
                          (is_hex ? "" : " (not all hex)"),
                      std::string("copy the digest from the image's ") +
                          (algo == "sha256" ? "SHA256SUMS" : "SHA512SUMS") + " file or from `" +
                          algo + "sum IMAGE`");
        }
        if (src.empty()) return;
        auto starts = [&](const char* p) { return src.rfind(p, 0) == 0; };
        if (starts("http://") || starts("https://")) {
            std::string rest = src.substr(src.find("//") + 2);
            if (rest.empty() || rest[0] == '/')
                error(pos("source"), "source `" + src + "` of volume `" + name + "` names no host",
                      "write http(s)://HOST/PATH");
        } else if (starts("file://")) {
            if (src.size() <= 7 || src[7] != '/')
                error(pos("source"),
                      "source `" + src + "` of volume `" + name +
                          "`: a file URL needs an absolute path",
                      "write "
                      "file:///absolute/path");
        } else if (auto scheme = src.find("://"); scheme != std::string::npos) {
            error(pos("source"),
                  "source `" + src + "` of volume `" + name + "` has the unsupported scheme `" +
                      src.substr(0, scheme) + "`",
                  "use an absolute path, file://, http:// or "
                  "https://");
        } else if (src[0] != '/') {
            error(pos("source"), "source `" + src + "` of volume `" + name + "` is a relative path",
                  "write an absolute path "
                  "(apply may run in another directory) or a file:// URL");
        }
        for (const char* k : {"backing_volume", "backing_path"})
            if (s.obj.has(k))
                error(pos("source"),
                      "volume `" + name + "` has both a source and " + k +
                          ": the image is written over the whole volume, so its backing store "
                          "would be lost",
                      std::string("remove ") + k +
                          " (a qcow2 image keeps the backing file its header names), or fill "
                          "another volume from the image and make this one an overlay of it");
    }

    static std::string target_prefix(const std::string& bus) {
        if (bus == "virtio") return "vd";
        if (bus == "sata" || bus == "scsi" || bus == "usb") return "sd";
        if (bus == "ide") return "hd";
        if (bus == "fdc") return "fd";
        if (bus == "xen") return "xvd";
        return "";
    }
    static std::string letters(int i) { // 0 -> a, 25 -> z, 26 -> aa
        std::string s;
        ++i;
        while (i > 0) {
            --i;
            s.insert(s.begin(), static_cast<char>('a' + i % 26));
            i /= 26;
        }
        return s;
    }

    void disks(Spec& vm) {
        const std::string& host = vm.host;
        std::string name = vm.obj.name();
        std::map<std::string, SourceRef> targets;
        auto& ch = vm.obj.children;
        for (size_t i = 0; i < ch.size(); ++i) {
            Object& d = ch[i];
            if (d.kind->kind != "disk") continue;
            int idx = static_cast<int>(i);
            if (d.has("volume")) {
                std::string vol = d.get("volume");
                SourceRef vpos = at("VirtualMachine", host, name, idx, "volume", vm.src);
                const Spec* v = nullptr;
                if (d.has("pool")) {
                    std::string pool = d.get("pool");
                    if (!find(L.state.pools, host, pool))
                        error(at("VirtualMachine", host, name, idx, "pool", vm.src),
                              "unknown pool `" + pool + "` on host `" + host + "`" +
                                  did_you_mean(pool, names(L.state.pools, host)),
                              "correct the disk's `pool:`, or add a `kind: StoragePool` "
                              "document named `" +
                                  pool + "`");
                    else if (!(v = find(L.state.volumes, host, vol, pool)))
                        error(vpos, "unknown volume `" + vol + "` in pool `" + pool + "`",
                              "add a `kind: Volume` document named `" + vol + "` in pool `" + pool +
                                  "`, or correct the disk's `volume:`");
                } else {
                    std::vector<const Spec*> hits;
                    for (const auto& s : L.state.volumes)
                        if (s.host == host && s.obj.name() == vol) hits.push_back(&s);
                    if (hits.empty())
                        error(vpos,
                              "unknown volume `" + vol + "` on host `" + host + "`" +
                                  did_you_mean(vol, names(L.state.volumes, host)) +
                                  "; define it with a `kind: Volume` document",
                              "add a `kind: Volume` document named `" + vol +
                                  "`, or correct the disk's `volume:`");
                    else if (hits.size() > 1)
                        error(vpos, "volume `" + vol + "` exists in several pools; add `pool:`",
                              "add `pool:` to the disk, naming the pool of the volume meant");
                    else
                        v = hits[0];
                    if (v && !is_null("VirtualMachine", host, name, idx, "pool"))
                        d.fields["pool"] = v->obj.get("pool");
                }
                if (v && !d.has("format") &&
                    !is_null("VirtualMachine", host, name, idx, "format") && v->obj.has("format"))
                    d.fields["format"] = v->obj.get("format");
            }
            if (d.has("target")) {
                SourceRef tpos = at("VirtualMachine", host, name, idx, "target", vm.src);
                auto [it, fresh] = targets.emplace(d.get("target"), tpos);
                if (!fresh)
                    error(tpos,
                          "two disks use target `" + d.get("target") + "` (the other at " +
                              where(it->second) + ")",
                          "give each disk its own `target`, or remove `target` from one to have "
                          "a free one assigned");
            }
        }
        for (size_t i = 0; i < ch.size(); ++i) {
            Object& d = ch[i];
            int idx = static_cast<int>(i);
            if (d.kind->kind != "disk" || d.has("target") ||
                is_null("VirtualMachine", host, name, idx, "target"))
                continue;
            std::string prefix = target_prefix(d.get("bus"));
            if (prefix.empty()) {
                error(at("VirtualMachine", host, name, idx, "item", vm.src),
                      "set `target` for this disk (no automatic name for bus `" + d.get("bus") +
                          "`)",
                      "add `target:` to this disk with a name free among the VM's disks");
                continue;
            }
            for (int n = 0; n < 18278; ++n) {
                std::string t = prefix + letters(n);
                if (targets.count(t)) continue;
                d.fields["target"] = t;
                targets.emplace(t, vm.src);
                break;
            }
        }
    }

    void interfaces(Spec& vm, std::map<std::string, MacUse>& macs) {
        const std::string& host = vm.host;
        std::string name = vm.obj.name();
        int n = 0;
        for (size_t i = 0; i < vm.obj.children.size(); ++i) {
            Object& nic = vm.obj.children[i];
            if (nic.kind->kind != "interface") continue;
            int idx = static_cast<int>(i);
            int nic_index = n++;
            if (!nic.has("mac") && !is_null("VirtualMachine", host, name, idx, "mac"))
                nic.fields["mac"] = derived_mac(host, mac_seed(vm.obj), nic_index);
            if (nic.has("mac")) {
                std::string mac = nic.get("mac");
                std::transform(mac.begin(), mac.end(), mac.begin(), ::tolower);
                SourceRef mpos = at("VirtualMachine", host, name, idx, "mac", vm.src);
                auto [it, fresh] = macs.emplace(host + "|" + mac, MacUse{name, mpos});
                if (fresh) {
                    // first use of this MAC
                } else if (it->second.vm != name)
                    error(mpos,
                          "MAC address " + mac + " is used twice on host `" + host +
                              "`: also by VM `" + it->second.vm + "` at " + where(it->second.pos),
                          "give one of the two interfaces another `mac`, or remove its `mac` "
                          "to have one derived");
                else
                    warning(mpos,
                            "MAC address " + mac +
                                " is used by two interfaces of this VM "
                                "(the other at " +
                                where(it->second.pos) +
                                "); only right for a failover (teaming) pair",
                            "unless the two interfaces are a failover pair, give one of them "
                            "another `mac`");
            }
            if (nic.get("type") == "network" && nic.has("network")) {
                std::string net = nic.get("network");
                if (!find(L.state.networks, host, net))
                    warning(at("VirtualMachine", host, name, idx, "network", vm.src),
                            "network `" + net + "` is not defined by a Network spec on host `" +
                                host + "`" + did_you_mean(net, names(L.state.networks, host)) +
                                "; it must already exist there",
                            "add a `kind: Network` document named `" + net +
                                "`, or make sure the host has that network");
            }
        }
    }

    // Inputs libvirt rewrites on define (found by tests/e2e/convergence_test.cpp): they would
    // never converge, so they are refused here with what to write instead.
    void rewritten_by_libvirt(const Spec& vm) {
        const std::string& host = vm.host;
        std::string name = vm.obj.name();
        const auto& ch = vm.obj.children;
        const Object* serial0 = nullptr;
        for (const auto& c : ch)
            if (!serial0 && c.kind->kind == "serial") serial0 = &c;
        bool first_serial_console = true, other_console = false;
        for (size_t i = 0; i < ch.size(); ++i) {
            const Object& c = ch[i];
            int idx = static_cast<int>(i);
            if (c.kind->kind == "console" && c.get("target_type", "serial") != "serial")
                other_console = true;
            else if (c.kind->kind == "console" && other_console)
                error(at("VirtualMachine", host, name, idx, "target_type", vm.src),
                      "a console with target_type serial after a console of another target: "
                      "libvirt accepts a serial console only as the first console; move it "
                      "before the others",
                      "move this console before the consoles of other target types");
            // The first serial console is how libvirt shows serial port 0: it takes that
            // port's type and source and drops its own.
            if (c.kind->kind == "console" && c.get("target_type", "serial") == "serial" &&
                serial0 && first_serial_console) {
                first_serial_console = false;
                for (const char* k : {"type", "source_path", "source_mode", "source_host",
                                      "source_service", "source_channel"}) {
                    if (!c.has(k) || c.get(k) == serial0->get(k)) continue;
                    error(at("VirtualMachine", host, name, idx, k, vm.src),
                          "console with target_type serial has " + std::string(k) + " `" +
                              c.get(k) + "` but the first serial port has `" + serial0->get(k) +
                              "`: libvirt makes this console a view of that port (its " + k +
                              " wins), so the console would never match; give it the same " + k +
                              ", or use target_type virtio for a console of its own",
                          "set the console's " + std::string(k) + " to `" + serial0->get(k) +
                              "`, or use `target_type: virtio`");
                }
            }
            // A spice server with neither a port nor autoport listens nowhere: libvirt
            // stores <listen type='none'/> instead of the address.
            if (c.kind->kind == "graphics" && c.get("type") == "spice" && !c.has("port") &&
                !c.has("tls_port") && c.get("autoport") != "yes" && c.get("autoport") != "true") {
                for (const char* k :
                     {"listen", "listen_address", "listen_network", "listen_type"}) {
                    if (!c.has(k)) continue;
                    if (std::string(k) == "listen_type" && c.get(k) != "address" &&
                        c.get(k) != "network")
                        continue;
                    error(at("VirtualMachine", host, name, idx, k, vm.src),
                          "spice graphics with `" + std::string(k) + ": " + c.get(k) +
                              "` but no port: libvirt keeps a listen address only with a port, "
                              "so it would store listen type none instead; add `autoport: true` "
                              "(or a `port`), or remove `" +
                              k + "`",
                          "add `autoport: true` (or a `port`) to the graphics, or remove `" +
                              std::string(k) + "`");
                    break;
                }
            }
        }
    }

    void clones(const Spec& vm) {
        if (vm.vm.clone_of.empty()) return;
        SourceRef pos = at("VirtualMachine", vm.host, vm.obj.name(), -1, "clone_of", vm.src);
        const Spec* t = find(L.state.vms, vm.host, vm.vm.clone_of);
        if (!t)
            error(pos,
                  "unknown template VM `" + vm.vm.clone_of + "` on host `" + vm.host + "`" +
                      did_you_mean(vm.vm.clone_of, names(L.state.vms, vm.host)),
                  "correct `clone_of:`, or add a VirtualMachine named `" + vm.vm.clone_of +
                      "` with `template: true`");
        else if (!t->vm.is_template)
            error(pos, "`" + vm.vm.clone_of + "` is not a template; add `template: true` to it",
                  "add `template: true` to VM `" + vm.vm.clone_of +
                      "`, or clone another VM that is a template");
        else if (t == &vm)
            error(pos, "a VM cannot be a clone of itself",
                  "set `clone_of:` to the name of a template VM, or remove it");
    }

    void run() {
        duplicates();
        for (const auto& s : L.state.pools) host_ref("StoragePool", s.host, s.obj.name(), s.src);
        for (const auto& s : L.state.volumes) host_ref("Volume", s.host, s.obj.name(), s.src);
        for (const auto& s : L.state.networks) host_ref("Network", s.host, s.obj.name(), s.src);
        for (const auto& s : L.state.vms) host_ref("VirtualMachine", s.host, s.obj.name(), s.src);
        for (const auto& s : L.state.snapshots) host_ref("Snapshot", s.host, s.name, s.src);
        volumes();
        std::map<std::string, MacUse> macs;
        for (auto& vm : L.state.vms) {
            disks(vm);
            interfaces(vm, macs);
            rewritten_by_libvirt(vm);
            clones(vm);
        }
        for (const auto& sn : L.state.snapshots)
            if (!sn.vm.empty() && !find(L.state.vms, sn.host, sn.vm))
                error(at("Snapshot", sn.host, sn.name, -1, "vm", sn.src),
                      "unknown VM `" + sn.vm + "` on host `" + sn.host + "`" +
                          did_you_mean(sn.vm, names(L.state.vms, sn.host)),
                      "correct `vm:`, or add a VirtualMachine named `" + sn.vm + "` on host `" +
                          sn.host + "`");
        auto hash = [](const std::string& kind, Spec& s) {
            std::string text = kind + "|" + s.host + "|" + canonical(s.obj);
            if (kind == "VirtualMachine") {
                const VmSettings& v = s.vm;
                text += "|state=" + v.state + "|autostart=" + std::to_string(v.autostart) +
                        "|template=" + std::to_string(v.is_template) + "|clone_of=" + v.clone_of +
                        "|restart=" + v.restart_policy +
                        "|timeout=" + std::to_string(v.shutdown_timeout) +
                        "|force=" + std::to_string(v.force_stop);
                if (v.cloud_init.enabled) text += "|cloud_init=" + v.cloud_init.hash;
                if (const WaitForIp& w = v.wait_for_ip; w.enabled)
                    text += "|wait_for_ip=" + std::to_string(w.timeout) + "," + w.source + "," +
                            std::to_string(w.ipv4) + "," + std::to_string(w.ipv6);
            }
            s.content_hash = sha256_hex(text);
        };
        for (auto& s : L.state.pools) hash("StoragePool", s);
        for (auto& s : L.state.volumes) hash("Volume", s);
        for (auto& s : L.state.networks) hash("Network", s);
        for (auto& s : L.state.vms) hash("VirtualMachine", s);
    }
};

} // namespace

void check_documents(Loaded& out, Diagnostics& diags) {
    Checker{out, diags}.run();
}

} // namespace virtumancer::spec
