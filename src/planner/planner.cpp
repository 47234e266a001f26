// make_plan: desired state vs observed hosts -> ordered, classified steps. Pure.
#include "virtumancer/planner.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <thread>

#include "compare.hpp"
#include "virtumancer/cloud_init.hpp"
#include "virtumancer/hash.hpp"
#include "virtumancer/parallel.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/usage.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {

using planner::diff_domain;
using planner::diff_fields;
using planner::match_devices;

const char* action_symbol(Action a) {
    switch (a) {
    case Action::Create:
        return "+";
    case Action::Update:
        return "~";
    case Action::Replace:
        return "~!"; // a redefine in place (next boot), never destroy+create: docs/safety.md
    case Action::Delete:
        return "-";
    case Action::NoOp:
        return " ";
    }
    return "?";
}

const char* action_name(Action a) {
    switch (a) {
    case Action::Create:
        return "create";
    case Action::Update:
        return "update";
    case Action::Replace:
        return "replace";
    case Action::Delete:
        return "delete";
    case Action::NoOp:
        return "no-op";
    }
    return "?";
}

const char* drift_status_name(DriftStatus s) {
    switch (s) {
    case DriftStatus::InSync:
        return "in_sync";
    case DriftStatus::Drifted:
        return "drifted";
    case DriftStatus::Pending:
        return "pending";
    case DriftStatus::Missing:
        return "missing";
    case DriftStatus::Unmanaged:
        return "unmanaged";
    case DriftStatus::Unreachable:
        return "unreachable";
    case DriftStatus::Conflict:
        return "conflict";
    case DriftStatus::Orphaned:
        return "orphaned";
    case DriftStatus::Error:
        return "error";
    }
    return "?";
}

namespace {

ResourceChange change_of(const std::string& host, const std::string& kind,
                         const std::string& name) {
    ResourceChange rc;
    rc.host = host;
    rc.kind = kind;
    rc.name = name;
    return rc;
}

ChangeClass max_class(ChangeClass a, ChangeClass b) {
    return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

bool is_running(const std::string& state) {
    return state == "running" || state == "paused";
}

// The power state to plan from: a domain paused while libvirt is still starting it
// (reason starting_up) is running for planning, never resumed (vm.resume would race the start
// and fail with "domain is already running").
std::string power_state(const ObservedDomain& od) {
    if (od.state == "paused" && od.state_reason == "starting_up") return "running";
    return od.state;
}

std::string desired_power(const Spec& vm) {
    return vm.vm.is_template ? "shutoff" : vm.vm.state;
}

// Whether adding or removing the device reaches a running VM: its fields' hotplug_values
// decide when it has any (disks on buses without hotplug, cdroms and floppies, an ISA
// watchdog can only change at the next boot), else its kind's add_remove class.
bool hotpluggable(const Object& dev) {
    bool conditional = false;
    for (const auto& f : dev.kind->fields) {
        if (f.hotplug_values.empty()) continue;
        conditional = true;
        std::string v = dev.get(f.key, f.hotplug_values.front());
        if (std::find(f.hotplug_values.begin(), f.hotplug_values.end(), v) ==
            f.hotplug_values.end())
            return false;
    }
    return conditional || dev.kind->add_remove == ChangeClass::Live;
}

bool to_ll(const std::string& s, long long* v) {
    auto n = parse_int(s);
    if (n) *v = *n;
    return n.has_value();
}

// vCPU and balloon changes as QEMU really takes them on a running VM (seen on libvirt 9.0 /
// QEMU 7.2, tests/e2e/plan_matrix_test.cpp): fewer vCPUs than the VM runs now needs the guest to
// eject them (QEMU refuses the unplug until the guest uses the modern ACPI CPU hotplug
// interface), so it is a next-boot change; more vCPUs or memory than the running VM's maximum
// needs the new maximum: a restart. `run` is the running VM (its live XML; else the config).
// The rules are the fields' live_max_field and decrease_change (descriptors_objects.cpp).
void classify_counts(FieldDiff& df, const Object& run) {
    const FieldDesc* f = domain_kind().field(df.field);
    if (!f || f->live_max_field.empty()) return;
    long long now = 0, after = 0, max = 0;
    if (!to_ll(df.after, &after)) return;
    if (f->decrease_change) {
        std::string cur = run.get(f->key, run.get(f->observed_fallback));
        if (!to_ll(cur, &now)) return;
        if (after < now) {
            df.cls = *f->decrease_change;
            return;
        }
    }
    if (to_ll(run.get(f->live_max_field), &max) && after > max) df.cls = ChangeClass::Restart;
}

// The device as the running VM holds it (its live address: libvirt picks live and config
// addresses separately for a hot-plugged device, and matches a watchdog to detach by address);
// without the config's address when the live XML does not have it.
Object running_device(const Object& dev, const Object& run) {
    Object one{&domain_kind(), {}, {}, {dev}};
    for (const auto& p : match_devices(one, run))
        if (p.desired && p.observed) return *p.observed;
    Object out = dev;
    for (auto it = out.fields.begin(); it != out.fields.end();)
        it = it->first.rfind("address_", 0) == 0 ? out.fields.erase(it) : std::next(it);
    return out;
}

// The desired XML to define, keeping what libvirt chose for the existing object
// (UUID, device addresses, machine version) so a redefine changes only what the spec changed.
Object merge_observed(const Object& want, const Object* have) {
    Object out = want;
    if (!have) return out;
    if (!out.has("uuid") && have->has("uuid")) out.fields["uuid"] = have->get("uuid");
    if (have->has("machine") && want.has("machine")) {
        const FieldDesc* f = domain_kind().field("machine");
        if (planner::field_equal(*f, want.get("machine"), have->get("machine")))
            out.fields["machine"] = have->get("machine");
    }
    auto pairs = match_devices(want, *have);
    size_t i = 0;
    for (auto& p : pairs) {
        if (!p.desired) continue;
        Object& dev = out.children[i++];
        if (!p.observed) continue;
        bool has_addr = false;
        for (auto& [k, v] : dev.fields)
            if (k.rfind("address_", 0) == 0) has_addr = true;
        if (has_addr) continue;
        for (auto& [k, v] : p.observed->fields)
            if (k.rfind("address_", 0) == 0) dev.fields[k] = v;
    }
    return out;
}

std::string render_device(const Object& dev) {
    return render_xml(dev);
}

struct Builder {
    Plan plan;
    int next_id = 1;
    int add(StepPayload payload, const std::string& host, const std::string& kind,
            const std::string& name, std::vector<int> deps, const std::string& change) {
        Step s;
        s.id = next_id++;
        s.payload = std::move(payload);
        s.host = host;
        s.kind = kind;
        s.name = name;
        deps.erase(std::remove(deps.begin(), deps.end(), 0), deps.end());
        std::sort(deps.begin(), deps.end());
        deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
        s.deps = std::move(deps);
        s.change = change;
        plan.steps.push_back(std::move(s));
        return plan.steps.back().id;
    }
    // A refused change: listed as blocked and as an error (at the spec's file:line when known).
    void block(Blocked bl) {
        std::string msg = bl.reason;
        if (!bl.users.empty()) {
            msg += "; used by ";
            for (size_t i = 0; i < bl.users.size(); ++i) msg += (i ? ", by " : "") + bl.users[i];
        }
        plan.errors.push_back(
            {Severity::Error, bl.file.empty() ? bl.address() : bl.file, bl.line, 0, msg});
        plan.blocked.push_back(std::move(bl));
    }
};

Blocked blocked_of(const std::string& host, const std::string& kind, const std::string& name,
                   const std::string& op, const SourceRef* src) {
    Blocked bl;
    bl.host = host;
    bl.kind = kind;
    bl.name = name;
    bl.op = op;
    if (src && !src->file.empty()) {
        bl.file = src->file;
        bl.line = src->line;
    }
    return bl;
}

const ObservedHost* find_host(const std::vector<ObservedHost>& obs, const std::string& name) {
    for (const auto& h : obs)
        if (h.host == name) return &h;
    return nullptr;
}

std::string path_join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

struct HostPlan {
    const HostSpec* host;
    const ObservedHost* obs;
    std::map<std::string, int> pool_ready, volume_ready, network_ready;
    std::optional<Usage> usage = std::nullopt; // built on first use (it parses every domain)
    // VMs with a spec whose domain could not be planned (its config does not parse).
    std::set<std::string> unplanned_vms = {};
    // Seed volumes ("pool/volume") of VMs whose spec dropped cloud_init: pruned like volumes
    // whose spec was removed.
    std::vector<std::string> seeds_unused = {};

    // Who uses what on the host as observed (after planned renames, when `obs` is swapped
    // before the first call).
    const Usage& observed_usage() {
        if (!usage) usage.emplace(*obs);
        return *usage;
    }
};

void plan_pools(Builder& b, const DesiredState& d, HostPlan& hp) {
    for (const auto& ps : d.pools) {
        if (ps.host != hp.host->name) continue;
        ResourceChange rc = change_of(hp.host->name, "pool", ps.obj.name());
        const ObservedPool* op = hp.obs->pool(ps.obj.name());
        bool autostart = ps.obj.get("autostart", "yes") != "no";
        if (!op) {
            rc.action = Action::Create;
            rc.cls = ChangeClass::Live;
            for (auto& [k, v] : ps.obj.fields) rc.diffs.push_back({k, "", v, ChangeClass::Live});
            int id = b.add(PoolDefine{render_xml(ps.obj), true, true, autostart}, rc.host, "pool",
                           rc.name, {}, rc.address());
            hp.pool_ready[rc.name] = id;
            b.plan.changes.push_back(rc);
            continue;
        }
        std::vector<FieldDiff> config;
        int last = 0;
        for (const auto& df : planner::diff_pool(ps.obj, *op)) {
            if (df.field == "active") {
                last = b.add(PoolStart{}, rc.host, "pool", rc.name, {}, rc.address());
                rc.diffs.push_back(df);
            } else if (df.field == "autostart") {
                last =
                    b.add(PoolAutostart{autostart}, rc.host, "pool", rc.name, {last}, rc.address());
                rc.diffs.push_back(df);
            } else {
                config.push_back(df);
            }
        }
        hp.pool_ready[rc.name] = last;
        if (!config.empty()) {
            // No step can change a pool's definition without leaving its volumes behind (a new
            // path) or reformatting its storage: a plan error, never a change without a step.
            Blocked bl = blocked_of(rc.host, "pool", rc.name, "", &ps.src);
            std::string fields;
            for (const auto& df : config) fields += (fields.empty() ? "" : ", ") + df.field;
            bl.reason = "pool " + rc.name + " on host " + rc.host + ": the spec changes " + fields +
                        " of an existing pool; virtumancer never redefines or recreates a pool "
                        "in place (its volumes would stay behind at the old path, or its "
                        "storage be rebuilt). Remedy: define a new pool with the new settings "
                        "and move the volumes, or put the spec back as the host has it (" +
                        fields + ")";
            bl.diffs = config;
            b.block(std::move(bl));
        }
        if (rc.diffs.empty()) continue;
        rc.action = Action::Update;
        for (auto& df : rc.diffs) rc.cls = max_class(rc.cls, df.cls);
        b.plan.changes.push_back(rc);
    }
}

// The target path of a pool: as libvirt has it, else as its spec says.
std::string pool_path(const DesiredState& d, const ObservedHost& obs, const std::string& host,
                      const std::string& pool) {
    if (const ObservedPool* op = obs.pool(pool)) {
        Object have = parse_xml(op->xml, pool_kind());
        if (have.has("path")) return have.get("path");
    }
    for (const auto& ps : d.pools)
        if (ps.host == host && ps.obj.name() == pool) return ps.obj.get("path");
    return "";
}

const Spec* find_volume(const DesiredState& d, const std::string& host, const std::string& pool,
                        const std::string& name) {
    for (const auto& v : d.volumes)
        if (v.host == host && v.obj.get("pool") == pool && v.obj.name() == name) return &v;
    return nullptr;
}

// A volume as it is created (and compared): its backing_volume as the backing file's path
// and format.
Object volume_to_create(const DesiredState& d, const ObservedHost& obs, const Spec& vs) {
    Object want = vs.obj;
    std::string pool = want.get("pool"), back = want.get("backing_volume");
    if (back.empty()) return want;
    want.fields["backing_path"] = path_join(pool_path(d, obs, vs.host, pool), back);
    const Spec* bv = find_volume(d, vs.host, pool, back);
    want.fields["backing_format"] = bv ? bv->obj.get("format", "qcow2") : "qcow2";
    return want;
}

// An existing volume whose spec names an image `source`: the source and checksum must be what
// virtumancer uploaded into it (DesiredState::volume_sources). Anything else would need a
// re-upload over the volume's data, which is never planned: a plan error with the remedy.
std::optional<Blocked> source_change(const DesiredState& d, const std::string& host,
                                     const std::string& key, const Spec& vs) {
    std::string src = vs.obj.get("source"), sum = vs.obj.get("checksum");
    if (src.empty()) return std::nullopt; // dropping the source leaves the data as it is
    auto lower = [](std::string t) {
        for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return t;
    };
    auto it = d.volume_sources.find(volume_source_key(host, vs.obj.get("pool"), vs.obj.name()));
    std::string why;
    std::vector<FieldDiff> diffs;
    if (it == d.volume_sources.end()) {
        why = "exists but was not filled from `" + src + "` by this database";
        diffs.push_back({"source", "(unknown)", src, ChangeClass::Replace});
    } else {
        const VolumeSourceRecord& r = it->second;
        if (r.source != src) {
            why = "was filled from `" + r.source + "`, the spec now says `" + src + "`";
            diffs.push_back({"source", r.source, src, ChangeClass::Replace});
        }
        if (!sum.empty() && lower(sum) != lower(r.digest)) {
            why += std::string(why.empty() ? "" : "; ") + "its uploaded image has digest " +
                   r.digest + ", the spec's checksum is " + sum;
            diffs.push_back({"checksum", r.digest, sum, ChangeClass::Replace});
        }
    }
    if (diffs.empty()) return std::nullopt;
    Blocked bl = blocked_of(host, "volume", key, "", &vs.src);
    bl.reason = "volume " + key + " on host " + host + " " + why +
                ": virtumancer never uploads an image over an existing volume's data. Remedy: "
                "give the volume a new name (a new volume is created from the new source), or "
                "delete this one explicitly (remove its spec and apply with --prune, then add "
                "it back), or put source/checksum back as uploaded";
    bl.diffs = std::move(diffs);
    return bl;
}

void plan_volumes(Builder& b, const DesiredState& d, HostPlan& hp) {
    // Backing volumes first: a volume depends on the one it overlays.
    std::vector<const Spec*> order;
    std::set<const Spec*> seen;
    std::function<void(const Spec*)> visit = [&](const Spec* v) {
        if (seen.count(v)) return;
        seen.insert(v);
        std::string back = v->obj.get("backing_volume");
        if (!back.empty())
            if (const Spec* bv = find_volume(d, v->host, v->obj.get("pool"), back)) visit(bv);
        order.push_back(v);
    };
    for (const auto& vs : d.volumes)
        if (vs.host == hp.host->name) visit(&vs);
    for (const Spec* vs : order) {
        std::string pool = vs->obj.get("pool");
        std::string key = volume_address_name(*vs);
        ResourceChange rc = change_of(hp.host->name, "volume", key);
        const ObservedPool* op = hp.obs->pool(pool);
        const ObservedVolume* ov = nullptr;
        if (op)
            for (const auto& v : op->volumes)
                if (v.name == vs->obj.name()) ov = &v;
        Object want = volume_to_create(d, *hp.obs, *vs);
        if (!ov) {
            std::string back = want.get("backing_volume");
            std::vector<int> deps = {hp.pool_ready[pool]};
            if (!back.empty()) deps.push_back(hp.volume_ready[pool + "/" + back]);
            rc.action = Action::Create;
            rc.cls = ChangeClass::Live;
            for (auto& [k, v] : want.fields) rc.diffs.push_back({k, "", v, ChangeClass::Live});
            VolumeCreate vc{pool, render_xml(want)};
            if (want.has("source")) {
                vc.source = want.get("source");
                vc.checksum = want.get("checksum");
                vc.volume = want.name();
                vc.format = want.get("format", "qcow2");
                auto cap = parse_int(want.get("capacity"), Radix::DecimalOrHex);
                vc.capacity = cap && *cap > 0 ? static_cast<unsigned long long>(*cap) : 0;
            }
            hp.volume_ready[key] = b.add(std::move(vc), rc.host, "volume", key, deps, rc.address());
            b.plan.changes.push_back(rc);
            continue;
        }
        hp.volume_ready[key] = 0;
        std::vector<std::string> fixed; // fields that cannot change in place
        std::vector<FieldDiff> refused;
        for (auto& df : planner::diff_volume(want, parse_xml(ov->xml, volume_kind()))) {
            if (df.field == "capacity" && df.cls == ChangeClass::Live) {
                hp.volume_ready[key] =
                    b.add(VolumeResize{pool, vs->obj.name(), std::stoull(df.after)}, rc.host,
                          "volume", key, {}, rc.address());
                rc.diffs.push_back(df);
            } else if (df.field == "capacity") {
                Blocked bl = blocked_of(rc.host, "volume", key, "", &vs->src);
                bl.reason = "volume " + key + " on host " + rc.host + " is " + df.before +
                            " bytes, the spec asks for " + df.after +
                            ": shrinking a volume loses data. Remedy: create a new volume and "
                            "copy the data; virtumancer never shrinks or reformats a volume in "
                            "place (or put capacity back to " +
                            df.before + ")";
                bl.diffs.push_back(df);
                b.block(std::move(bl));
            } else if (df.field == "format") {
                std::string fmt = df.after, had = df.before;
                Blocked bl = blocked_of(rc.host, "volume", key, "", &vs->src);
                std::string vms;
                for (const auto& vm : d.vms) {
                    if (vm.host != hp.host->name) continue;
                    for (const auto& dev : vm.obj.children)
                        if (dev.kind->kind == "disk" && dev.get("pool") == pool &&
                            dev.get("volume") == vs->obj.name())
                            vms += (vms.empty() ? "" : ", ") + vm.obj.name() + " (disk " +
                                   dev.get("target") + ")";
                }
                bl.reason = "volume " + key + " on host " + rc.host + " is " + had +
                            ", the spec says " + fmt +
                            ": a volume's format cannot change in place, and a VM disk driver "
                            "retargeted to " +
                            fmt + " on a " + had + " file corrupts its data" +
                            (vms.empty() ? "" : " (VM " + vms + ")") +
                            ". Remedy: create a new volume and copy the data; virtumancer never "
                            "shrinks or reformats a volume in place (or put format back to " +
                            had + ")";
                bl.diffs.push_back({"format", had, fmt, ChangeClass::Replace});
                b.block(std::move(bl));
            } else {
                fixed.push_back(df.field);
                refused.push_back(df);
            }
        }
        if (auto bl = source_change(d, hp.host->name, key, *vs)) b.block(std::move(*bl));
        if (!fixed.empty()) {
            // The backing chain and the other settings of an existing volume: no step changes
            // them in place.
            std::string list;
            for (const auto& f : fixed) list += (list.empty() ? "" : ", ") + f;
            Blocked bl = blocked_of(rc.host, "volume", key, "", &vs->src);
            bl.reason = "volume " + key + " on host " + rc.host + ": the spec changes " + list +
                        " of an existing volume, which cannot change in place. Remedy: create a "
                        "new volume with these settings and copy the data (remove this one with "
                        "--prune once nothing uses it), or put the spec back as the host has it";
            bl.diffs = refused;
            b.block(std::move(bl));
        }
        if (rc.diffs.empty()) continue;
        rc.action = Action::Update;
        rc.cls = ChangeClass::Live;
        for (auto& df : rc.diffs) rc.cls = max_class(rc.cls, df.cls);
        b.plan.changes.push_back(rc);
    }
}

// The network XML to redefine: the spec's, with what libvirt chose when the network was
// defined (UUID, bridge MAC, bridge name) when the spec leaves them out. A redefine without
// the existing UUID is refused ("already exists with uuid").
Object merge_network(const Object& want, const Object& have) {
    Object out = want;
    for (const char* k : {"uuid", "mac", "bridge"})
        if (!out.has(k) && have.has(k)) out.fields[k] = have.get(k);
    return out;
}

// An active network runs the definition it was started with: a redefine (everything but DHCP
// ranges and hosts, which network.update changes live) takes effect when it is restarted, and
// virtumancer never restarts networks. What the running network lacks is pending: now (its
// config already matches the spec) or after this apply (the redefine planned now).
PendingChange network_pending(const Object& want, const ObservedNetwork& on,
                              const planner::NetworkComparison& config) {
    PendingChange pc;
    pc.kind = "network";
    pc.effect = "the network's next restart (virsh net-destroy " + want.name() +
                " && virsh net-start " + want.name() +
                "; VMs on it lose connectivity briefly); virtumancer never restarts networks";
    if (!on.active || on.live_xml.empty()) return pc;
    ObservedNetwork live = on;
    live.xml = on.live_xml;
    std::set<std::string> in_config;
    for (const auto& df : config.diffs) in_config.insert(df.field);
    for (auto& df : planner::diff_network(want, live).diffs) {
        if (df.field == "active" || df.field == "autostart") continue; // their own steps
        if (!in_config.count(df.field))
            pc.diffs.push_back(std::move(df)); // the config matches, the running network not
        else if (df.cls != ChangeClass::Live)  // DHCP ranges and hosts are updated live
            pc.after_apply.push_back(std::move(df));
    }
    return pc;
}

void plan_networks(Builder& b, const DesiredState& d, HostPlan& hp) {
    for (const auto& ns : d.networks) {
        if (ns.host != hp.host->name) continue;
        ResourceChange rc = change_of(hp.host->name, "network", ns.obj.name());
        const ObservedNetwork* on = hp.obs->network(ns.obj.name());
        bool autostart = ns.obj.get("autostart", "yes") != "no";
        if (!on) {
            rc.action = Action::Create;
            rc.cls = ChangeClass::Live;
            for (auto& [k, v] : ns.obj.fields) rc.diffs.push_back({k, "", v, ChangeClass::Live});
            hp.network_ready[rc.name] = b.add(NetworkDefine{render_xml(ns.obj), true, autostart},
                                              rc.host, "network", rc.name, {}, rc.address());
            b.plan.changes.push_back(rc);
            continue;
        }
        planner::NetworkComparison cmp = planner::diff_network(ns.obj, *on);
        rc.diffs = cmp.diffs;
        int last = 0;
        // DHCP ranges and hosts change in place, on the running network too.
        for (const auto& u : cmp.updates)
            last =
                b.add(NetworkUpdate{u.section, u.command, u.parent_index, u.xml, on->active, true},
                      rc.host, "network", rc.name, {last}, rc.address());
        if (cmp.redefine) {
            Object want = merge_network(ns.obj, parse_xml(on->xml, network_kind()));
            last = b.add(NetworkDefine{render_xml(want), false, autostart}, rc.host, "network",
                         rc.name, {last}, rc.address());
            if (on->active)
                rc.note = "the redefined settings take effect when the network is restarted "
                          "(VMs on it lose connectivity briefly); virtumancer does not restart "
                          "networks: run virsh net-destroy " +
                          rc.name + " && virsh net-start " + rc.name + " when convenient";
        }
        for (const auto& df : cmp.diffs) {
            if (df.field == "active")
                last = b.add(NetworkStart{}, rc.host, "network", rc.name, {last}, rc.address());
            else if (df.field == "autostart")
                last = b.add(NetworkAutostart{autostart}, rc.host, "network", rc.name, {last},
                             rc.address());
        }
        hp.network_ready[rc.name] = last;
        if (PendingChange pc = network_pending(ns.obj, *on, cmp);
            !pc.diffs.empty() || !pc.after_apply.empty()) {
            pc.host = rc.host;
            pc.name = rc.name;
            b.plan.pending.push_back(std::move(pc));
        }
        if (!rc.diffs.empty()) {
            rc.action = Action::Update;
            for (auto& df : rc.diffs) rc.cls = max_class(rc.cls, df.cls);
            b.plan.changes.push_back(rc);
        }
    }
}

// The steps a VM's definition depends on: its pools, volumes and networks.
std::vector<int> vm_deps(const Object& vm, HostPlan& hp) {
    std::vector<int> deps;
    for (const auto& dev : vm.children) {
        if (dev.kind->kind == "disk" && dev.has("pool")) {
            deps.push_back(hp.pool_ready[dev.get("pool")]);
            if (dev.has("volume"))
                deps.push_back(hp.volume_ready[dev.get("pool") + "/" + dev.get("volume")]);
        }
        if (dev.kind->kind == "interface" && dev.has("network"))
            deps.push_back(hp.network_ready[dev.get("network")]);
    }
    return deps;
}

std::string owner_address(const std::string& host, const std::string& name) {
    return host + "/vm/" + name;
}

// Power state transitions appended after the config steps.
int plan_power(Builder& b, const Spec& vm, const std::string& observed_state, ResourceChange& rc,
               int last) {
    std::string want = desired_power(vm);
    const std::string& name = rc.name;
    std::string have = observed_state;
    if (want == "running" && !is_running(have)) {
        rc.diffs.push_back({"state", have, "running", ChangeClass::Live});
        return b.add(VmStart{}, rc.host, "vm", name, {last}, rc.address());
    }
    if (want == "running" && have == "paused") {
        rc.diffs.push_back({"state", have, "running", ChangeClass::Live});
        return b.add(VmResume{}, rc.host, "vm", name, {last}, rc.address());
    }
    if (want == "paused" && have != "paused") {
        rc.diffs.push_back({"state", have, "paused", ChangeClass::Live});
        if (!is_running(have)) last = b.add(VmStart{}, rc.host, "vm", name, {last}, rc.address());
        return b.add(VmSuspend{}, rc.host, "vm", name, {last}, rc.address());
    }
    if (want == "shutoff" && is_running(have)) {
        rc.diffs.push_back({"state", have, "shutoff", ChangeClass::Live});
        return b.add(VmShutdown{vm.vm.shutdown_timeout, vm.vm.force_stop}, rc.host, "vm", name,
                     {last}, rc.address());
    }
    return last;
}

// The per-domain work that needs no plan state: parse the observed inactive XML and diff it
// against the spec. Done for a run of VMs at once on a few threads (CPU work only; results are
// used in spec order, so the plan is exactly a serial one), one run at a time so that only a
// run's parsed domains are in memory at once.
struct PreparedVm {
    bool done = false; // the domain exists and was parsed (or failed to parse: parse_error)
    Object have;
    OwnerMarker seen;
    std::vector<FieldDiff> diffs; // only when the domain is not another database's
    // The config (persistent XML) libvirt returned does not parse: why. An error of this VM
    // only (plan_vm, detect_drift); the other VMs are planned.
    std::string parse_error;
    // Anything else thrown while preparing on a worker thread (a bug, never bad input):
    // rethrown on the planning thread.
    std::exception_ptr error;
    // A running domain's live XML, parsed, and its differences from the spec (same comparison).
    bool has_run = false;
    Object run;
    std::vector<FieldDiff> live_diffs;
    std::string live_error; // the live XML did not parse: why
};

// The running VM's differences from the spec: its live XML (live-only data already stripped
// by the adapter) compared exactly as the config is, so only what the spec says is compared.
// Left out, because libvirt or the guest rewrite them in a running definition:
// - current_memory: the live <currentMemory> is the balloon's actual size, which the guest
//   controls (a target set live shows there only once a guest driver gives memory back);
// - cpu_check: "once the domain starts, libvirt will automatically change the check attribute
//   to the best supported value" (libvirt's domain XML documentation; seen: none -> full);
// - every cpu_* field of a host-model CPU: libvirt replaces it by the expanded custom model
//   at start (same documentation).
std::vector<FieldDiff> live_diffs_of(const Object& want, const Object& run) {
    std::vector<FieldDiff> out = diff_domain(want, run);
    const bool host_model = want.get("cpu_mode") == "host-model";
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const FieldDiff& d) {
                                 return d.field == "current_memory" || d.field == "cpu_check" ||
                                        (host_model && d.field.rfind("cpu_", 0) == 0);
                             }),
              out.end());
    return out;
}

// Parses the live XML of a running domain into `p`. An unparsable live XML: no live
// comparison, and `live_error` says why (the plan reports it as an error for the domain).
void prepare_live(const Spec& vm, const ObservedDomain& od, PreparedVm& p) {
    if (!is_running(od.state) || od.live_xml.empty()) return;
    try {
        p.run = parse_xml(od.live_xml, domain_kind());
    } catch (const Error& e) { // bad input from libvirt (parse_xml throws only Error for it)
        p.live_error = e.what();
        return;
    }
    p.live_diffs = live_diffs_of(vm.obj, p.run);
    p.has_run = true;
}

// Parses an existing domain of a VM spec into `p`: its config and owner marker, its
// differences from the spec and its running VM. A config that does not parse is
// `parse_error`, never an exception.
void prepare_domain(const Spec& vm, const ObservedDomain& od, const std::string& owner_id,
                    PreparedVm& p) {
    p.done = true;
    try {
        p.have = parse_xml(od.inactive_xml, domain_kind(), &p.seen);
    } catch (const Error& e) { // bad input from libvirt (parse_xml throws only Error for it)
        p.parse_error = e.what();
        return;
    }
    if (p.seen.foreign_to(owner_id)) return;
    p.diffs = diff_domain(vm.obj, p.have);
    prepare_live(vm, od, p);
}

void prepare_vms(const std::vector<const Spec*>& vms, const ObservedHost& obs,
                 const std::string& owner_id, std::vector<PreparedVm>& out) {
    out.clear();
    out.resize(vms.size());
    auto one = [&](size_t i) {
        const ObservedDomain* od = obs.domain(vms[i]->obj.name());
        if (!od) return;
        try {
            prepare_domain(*vms[i], *od, owner_id, out[i]);
        } catch (...) { // safe: not bad input (that is parse_error) but a bug or bad_alloc on a
                        // worker thread; kept and rethrown on the planning thread, never lost
            out[i].error = std::current_exception();
        }
    };
    size_t hw = std::max(1U, std::thread::hardware_concurrency());
    parallel_for(vms.size(), vms.size() < 16 ? 1 : std::min<size_t>(hw, 4), one);
}

// Calls fn(vm, prepared) for each VM of `host`, in spec order, preparing them a run at a time.
template <class Fn>
void each_prepared_vm(const DesiredState& d, const std::string& host, const ObservedHost& obs,
                      Fn&& fn) {
    std::vector<const Spec*> vms;
    for (const auto& vm : d.vms)
        if (vm.host == host) vms.push_back(&vm);
    constexpr size_t kRun = 256;
    std::vector<PreparedVm> prepared;
    for (size_t start = 0; start < vms.size(); start += kRun) {
        std::vector<const Spec*> run(
            vms.begin() + static_cast<std::ptrdiff_t>(start),
            vms.begin() + static_cast<std::ptrdiff_t>(std::min(start + kRun, vms.size())));
        prepare_vms(run, obs, d.owner_id, prepared);
        for (size_t i = 0; i < run.size(); ++i) fn(*run[i], prepared[i]);
    }
}

// The error for a domain whose XML libvirt returned and virtumancer cannot parse.
Diagnostic unparsable_domain(const std::string& host, const std::string& name,
                             const std::string& which, const std::string& why,
                             const std::string& consequence) {
    return {Severity::Error, host + "/vm/" + name, 0, 0,
            "domain " + name + " on host " + host + ": its " + which + " XML cannot be parsed (" +
                why + "); " + consequence + ". Remedy: look at it with virsh dumpxml " + name +
                " and fix or redefine the domain, then plan again"};
}

// The owner marker of an observed domain without a spec; nullopt (and an error for the
// domain in `errors`) when its XML cannot be parsed: neither unmanaged nor ours then.
std::optional<OwnerMarker> marker_of(const std::string& host, const ObservedDomain& od,
                                     std::vector<Diagnostic>& errors,
                                     const std::string& consequence) {
    OwnerMarker m;
    try {
        parse_xml(od.inactive_xml, domain_kind(), &m);
    } catch (const Error& e) { // bad input from libvirt (parse_xml throws only Error for it)
        errors.push_back(unparsable_domain(host, od.name, "persistent", e.what(), consequence));
        return std::nullopt;
    }
    return m;
}

// ---- cloud-init seeds (`cloud_init:`) ----
// A VM's seed is the volume <vm>-cidata.iso in the pool of its first disk, attached as a
// read-only cdrom (added to the desired VM by with_seed_cdroms before anything compares it).
// The content hash it was made from is kept in the domain's owner marker; another hash in the
// spec, or a missing volume, plans a new seed (next-boot: cloud-init reads it at boot).

std::string seed_pool(const Object& vm) {
    for (const auto& ch : vm.children)
        if (ch.kind && ch.kind->kind == "disk") return ch.get("pool");
    return "";
}

// A bus the machine type has: q35 has SATA (AHCI), pc/i440fx has IDE; other machines SCSI.
std::string seed_bus(const Object& vm) {
    std::string machine = vm.get("machine"), arch = vm.get("arch");
    bool x86 = arch.empty() || arch == "x86_64" || arch == "i686";
    if (machine.find("q35") != std::string::npos) return "sata";
    if (x86 && (machine.empty() || machine == "pc" || machine.rfind("pc-", 0) == 0 ||
                machine.find("i440fx") != std::string::npos))
        return "ide";
    return "scsi";
}

// The first target name free among the VM's disks (IDE: the secondary master hdc first).
std::string seed_target(const Object& vm, const std::string& bus) {
    std::set<std::string> used;
    for (const auto& ch : vm.children)
        if (ch.kind && ch.kind->kind == "disk") used.insert(ch.get("target"));
    if (bus == "ide") {
        for (const char* t : {"hdc", "hdd", "hdb", "hda"})
            if (!used.count(t)) return t;
        return "hdd";
    }
    for (char c = 'a'; c <= 'z'; ++c)
        if (!used.count(std::string("sd") + c)) return std::string("sd") + c;
    return "sdz";
}

Object seed_cdrom(const Object& vm, const std::string& pool) {
    Object d;
    d.kind = device_kind_by_element("disk");
    std::string bus = seed_bus(vm);
    d.fields["type"] = "volume";
    d.fields["device"] = "cdrom";
    d.fields["driver_name"] = "qemu";
    d.fields["format"] = "raw";
    d.fields["pool"] = pool;
    d.fields["volume"] = cloud_init_volume_name(vm.name());
    d.fields["target"] = seed_target(vm, bus);
    d.fields["bus"] = bus;
    d.fields["readonly"] = "yes";
    return d;
}

// The desired state with each seeded VM's cdrom among its disks (after its last disk); nullopt
// when no VM has cloud_init (nothing copied).
std::optional<DesiredState> with_seed_cdroms(const DesiredState& d) {
    if (std::none_of(d.vms.begin(), d.vms.end(),
                     [](const Spec& vm) { return vm.vm.cloud_init.enabled; }))
        return std::nullopt;
    DesiredState out = d;
    for (auto& vm : out.vms) {
        if (!vm.vm.cloud_init.enabled) continue;
        std::string pool = seed_pool(vm.obj);
        if (pool.empty()) continue; // refused at load
        Object cd = seed_cdrom(vm.obj, pool);
        auto& ch = vm.obj.children;
        auto last_disk = std::find_if(ch.rbegin(), ch.rend(), [](const Object& o) {
            return o.kind && o.kind->kind == "disk";
        });
        ch.insert(last_disk.base(), std::move(cd));
    }
    return out;
}

std::string short_hash(const std::string& h) {
    auto colon = h.find(':');
    std::string hex = colon == std::string::npos ? h : h.substr(colon + 1);
    return hex.substr(0, 12);
}

bool volume_exists(const ObservedHost& obs, const std::string& pool, const std::string& vol) {
    if (const ObservedPool* op = obs.pool(pool))
        for (const auto& v : op->volumes)
            if (v.name == vol) return true;
    return false;
}

// Plans a new seed when the domain's marker has another content hash (`seen`; "" none) or the
// volume is missing; records its diff on `rc` (class `cls`). Returns the step (0: none).
int plan_seed(Builder& b, const Spec& vm, HostPlan& hp, const std::string& seen, ResourceChange& rc,
              ChangeClass cls) {
    const CloudInitSpec& ci = vm.vm.cloud_init;
    if (!ci.enabled) return 0;
    std::string pool = seed_pool(vm.obj);
    if (pool.empty()) return 0;
    std::string vol = cloud_init_volume_name(vm.obj.name());
    bool exists = volume_exists(*hp.obs, pool, vol);
    if (exists && seen == ci.hash) return 0;
    VolumeCloudInitSeed p;
    p.pool = pool;
    p.volume = vol;
    p.vm = vm.obj.name();
    if (ci.user_data_file.empty() && ci.user_data_env.empty()) p.user_data = ci.user_data;
    p.user_data_file = ci.user_data_file;
    p.user_data_env = ci.user_data_env;
    p.meta_data = ci.meta_data;
    p.network_config = ci.network_config;
    p.has_network_config = ci.has_network_config;
    p.hash = ci.hash;
    p.exists = exists;
    std::string key = pool + "/" + vol;
    int id = b.add(std::move(p), rc.host, "volume", key, {hp.pool_ready[pool]}, rc.address());
    hp.volume_ready[key] = id;
    std::string before = seen.empty() ? "" : short_hash(seen);
    if (!seen.empty() && seen == ci.hash) before += " (seed volume missing)";
    rc.diffs.push_back({"cloud_init", before, short_hash(ci.hash), cls});
    return id;
}

// plan_vm's stages. A VM that does not exist yet: define it, then autostart and power.
void plan_new_vm(Builder& b, const Spec& vm, HostPlan& hp, const OwnerMarker& marker,
                 ResourceChange rc) {
    const std::string& name = rc.name;
    rc.action = Action::Create;
    rc.cls = ChangeClass::Live;
    for (const auto& f : domain_kind().fields) {
        auto it = vm.obj.fields.find(f.key);
        if (it != vm.obj.fields.end())
            rc.diffs.push_back({f.key, "", it->second, ChangeClass::Live});
    }
    for (auto& p : match_devices(vm.obj, Object{&domain_kind(), {}, {}, {}}))
        rc.diffs.push_back({p.label, "", "(added)", ChangeClass::Live});
    plan_seed(b, vm, hp, "", rc, ChangeClass::Live);
    int last = b.add(VmDefine{render_xml(vm.obj, &marker), {}}, rc.host, "vm", name,
                     vm_deps(vm.obj, hp), rc.address());
    if (vm.vm.autostart) last = b.add(VmAutostart{true}, rc.host, "vm", name, {last}, rc.address());
    std::string want = desired_power(vm);
    if (want != "shutoff") {
        last = b.add(VmStart{}, rc.host, "vm", name, {last}, rc.address());
        if (want == "paused") b.add(VmSuspend{}, rc.host, "vm", name, {last}, rc.address());
    }
    if (vm.vm.is_template) rc.note = "template: defined, never started";
    b.plan.changes.push_back(rc);
}

// An existing domain as planned from: its config, owner marker and differences from the spec,
// and the running VM (its live XML; else the config) with its own differences.
struct ExistingVm {
    Object have;
    OwnerMarker seen;
    std::vector<FieldDiff> diffs;
    Object run;
    bool has_run = false;
    std::vector<FieldDiff> live_diffs;
    std::string live_error;  // why the live XML could not be parsed
    std::string parse_error; // why the config could not be parsed (nothing else is set then)
};

// From the prepared run when there is one (throws what preparing threw), else parsed now.
ExistingVm existing_vm(const Spec& vm, const ObservedDomain& od, const std::string& owner_id,
                       PreparedVm* pre) {
    ExistingVm ev;
    PreparedVm now;
    if (!pre || !pre->done) {
        prepare_domain(vm, od, owner_id, now);
        pre = &now;
    }
    if (pre->error) std::rethrow_exception(pre->error);
    ev.parse_error = pre->parse_error;
    if (!ev.parse_error.empty()) return ev;
    ev.seen = pre->seen;
    ev.have = std::move(pre->have);
    ev.diffs = std::move(pre->diffs);
    ev.live_error = pre->live_error;
    if (pre->has_run) {
        ev.run = std::move(pre->run);
        ev.live_diffs = std::move(pre->live_diffs);
        ev.has_run = true;
    } else {
        ev.run = ev.have;
    }
    return ev;
}

// Reclassifies the config diffs: disks that can't be hot-plugged; vCPU/balloon limits;
// everything on a VM that is not running.
void reclassify(std::vector<FieldDiff>& diffs, const Spec& vm, const ExistingVm& ev, bool running) {
    auto pairs = match_devices(vm.obj, ev.have);
    for (auto& df : diffs) {
        classify_counts(df, ev.run);
        for (auto& p : pairs) // a whole device added or removed
            if (p.label == df.field && (!p.desired || !p.observed)) {
                const Object* dev = p.desired ? p.desired : p.observed;
                if (!hotpluggable(*dev)) df.cls = ChangeClass::NextBoot;
            }
        if (!running && df.cls != ChangeClass::Replace) df.cls = ChangeClass::NextBoot;
    }
}

// What the running VM differs in from the spec and will still differ in after this plan's
// live calls. Either the config already matches (now), or the change is planned now in the
// config only (next-boot, restart: after the apply). A VM the plan stops has nothing pending
// (it starts with its config).
struct PendingDiffs {
    std::vector<FieldDiff> now, after;
    bool any() const { return !now.empty() || !after.empty(); }
};

PendingDiffs pending_diffs(const std::vector<FieldDiff>& planned_diffs, const ExistingVm& ev,
                           bool stays_running) {
    PendingDiffs out;
    if (!ev.has_run || !stays_running) return out;
    std::map<std::string, const FieldDiff*> planned;
    for (const auto& df : planned_diffs) planned[df.field] = &df;
    for (const auto& ld : ev.live_diffs) {
        auto it = planned.find(ld.field);
        if (it == planned.end()) {
            FieldDiff d = ld;
            classify_counts(d, ev.run);
            out.now.push_back(d);
        } else if (it->second->cls != ChangeClass::Live) {
            FieldDiff d = *it->second;
            d.before = ld.before; // what the running VM has
            out.after.push_back(d);
        }
    }
    return out;
}

// Whether the plan restarts the running VM (restart_policy: allowed, or apply
// --restart-pending) to make it take its config: when something would be pending otherwise.
bool plans_restart(const Spec& vm, const PlanOptions& opts, const ExistingVm& ev,
                   const std::vector<FieldDiff>& diffs, const PendingDiffs& pending,
                   bool stays_running) {
    if (!stays_running || (vm.vm.restart_policy != "allowed" && !opts.restart_pending))
        return false;
    if (ev.has_run) return pending.any();
    return std::any_of(diffs.begin(), diffs.end(),
                       [](const FieldDiff& df) { return df.cls == ChangeClass::Restart; });
}

// The live calls that bring a running VM to its new config (which came with the define):
// vCPUs, balloon, and devices attached, detached or updated. Returns the last step.
int plan_live_steps(Builder& b, const Spec& vm, const ExistingVm& ev, const Object& merged,
                    const ResourceChange& rc, int last) {
    const std::string& name = rc.name;
    auto pairs = match_devices(vm.obj, ev.have);
    // the merged device of a desired one (same position among the desired children)
    auto merged_device = [&](size_t pi) {
        size_t di = 0;
        for (size_t k = 0; k < pi; ++k)
            if (pairs[k].desired) ++di;
        return render_device(merged.children[di]);
    };
    std::set<std::string> updated; // one update per device, however many fields
    for (const auto& df : rc.diffs) {
        if (df.cls != ChangeClass::Live) continue;
        if (df.field == "vcpus_current") {
            last = b.add(VmSetVcpus{std::stoi(df.after), true, false}, rc.host, "vm", name, {last},
                         rc.address());
            continue;
        }
        if (df.field == "current_memory") {
            last = b.add(VmSetMemory{std::stoull(df.after) / 1024, true, false}, rc.host, "vm",
                         name, {last}, rc.address());
            continue;
        }
        for (size_t pi = 0; pi < pairs.size(); ++pi) {
            auto& p = pairs[pi];
            bool whole = df.field == p.label;
            bool part = df.field.rfind(p.label + ".", 0) == 0;
            if (!whole && !part) continue;
            if (whole && p.desired && !p.observed) {
                last = b.add(VmAttachDevice{merged_device(pi), true, false, {}}, rc.host, "vm",
                             name, {last}, rc.address());
            } else if (whole && p.observed && !p.desired) {
                last = b.add(
                    VmDetachDevice{render_device(running_device(*p.observed, ev.run)), true, false},
                    rc.host, "vm", name, {last}, rc.address());
            } else if (part && p.desired && updated.insert(p.label).second) {
                last = b.add(VmUpdateDevice{merged_device(pi), true, false, {}}, rc.host, "vm",
                             name, {last}, rc.address());
            }
            break;
        }
    }
    return last;
}

// The restart that applies a running VM's config: shutdown, start (and suspend again).
int plan_restart(Builder& b, const Spec& vm, ResourceChange& rc, PendingDiffs& pending, int last) {
    const std::string& name = rc.name;
    last = b.add(VmShutdown{vm.vm.shutdown_timeout, vm.vm.force_stop}, rc.host, "vm", name, {last},
                 rc.address());
    last = b.add(VmStart{}, rc.host, "vm", name, {last}, rc.address());
    if (desired_power(vm) == "paused")
        last = b.add(VmSuspend{}, rc.host, "vm", name, {last}, rc.address());
    // The differences only the running VM has are applied by this restart: shown with the
    // change (before: the running VM's value).
    for (auto& d : pending.now) rc.diffs.push_back(d);
    rc.note = vm.vm.restart_policy == "allowed"
                  ? "restarted to apply (restart_policy: allowed)"
                  : "restarted to apply its pending changes (--restart-pending)";
    return last;
}

// The note of a running VM that keeps running its old config, and its PendingChange.
void note_pending(Builder& b, const ExistingVm& ev, bool running, ResourceChange& rc,
                  PendingDiffs& pending) {
    bool restart_needed = false, next_boot = false;
    if (running)
        for (const auto& df : rc.diffs) {
            if (df.cls == ChangeClass::Restart) restart_needed = true;
            if (df.cls == ChangeClass::NextBoot) next_boot = true;
        }
    if (ev.has_run) {
        // With the running VM known, the note names only what really stays pending (a config
        // change the running VM already has, e.g. a reverted pending one, needs none).
        auto cls_of = [&](ChangeClass c) {
            return std::any_of(pending.after.begin(), pending.after.end(),
                               [c](const FieldDiff& df) { return df.cls == c; });
        };
        restart_needed = cls_of(ChangeClass::Restart) || cls_of(ChangeClass::Replace);
        next_boot = !pending.after.empty();
    }
    if (restart_needed)
        rc.note = "needs a restart: the VM keeps running the old config and is pending "
                  "(set restart_policy: allowed or run apply --restart-pending to let apply "
                  "restart it)";
    else if (next_boot)
        rc.note = "the VM keeps running the old config until its next boot (pending)";
    if (!pending.any()) return;
    PendingChange pc;
    pc.host = rc.host;
    pc.kind = "vm";
    pc.name = rc.name;
    pc.diffs = std::move(pending.now);
    pc.after_apply = std::move(pending.after);
    pc.effect = "the next restart of the VM (shut down and started again; a reboot inside "
                "the guest is not enough), or apply with restart_policy: allowed / "
                "--restart-pending";
    b.plan.pending.push_back(std::move(pc));
}

// One VM: created when missing; else its config redefined (adopting a domain without the
// marker), the running VM changed live or restarted or left pending, then autostart and power.
void plan_vm(Builder& b, const DesiredState& d, const Spec& vm, HostPlan& hp,
             const PlanOptions& opts, PreparedVm* pre) {
    const std::string name = vm.obj.name();
    ResourceChange rc = change_of(hp.host->name, "vm", name);
    const ObservedDomain* od = hp.obs->domain(name);
    OwnerMarker marker{owner_address(hp.host->name, name), vm.content_hash, opts.revision,
                       d.owner_id};
    if (vm.vm.cloud_init.enabled) marker.cloud_init = vm.vm.cloud_init.hash;
    if (!od) return plan_new_vm(b, vm, hp, marker, std::move(rc));
    ExistingVm ev = existing_vm(vm, *od, d.owner_id, pre);
    if (!ev.parse_error.empty()) {
        // Neither its ownership nor its differences are known: nothing of this VM is planned
        // (its snapshots neither), the other VMs are.
        b.plan.errors.push_back(
            unparsable_domain(rc.host, name, "persistent", ev.parse_error,
                              "VM " + name +
                                  "'s spec was not compared with it, so nothing of the VM (nor its "
                                  "snapshots) was planned"));
        hp.unplanned_vms.insert(name);
        return;
    }
    if (ev.seen.foreign_to(d.owner_id)) {
        b.plan.errors.push_back({Severity::Error, rc.address(), 0, 0,
                                 "domain " + name + " on host " + rc.host +
                                     " is managed by another virtumancer database (owner id " +
                                     ev.seen.db +
                                     "); it was not planned or changed. Rename the "
                                     "spec, or manage the domain from that database"});
        return;
    }
    if (!ev.live_error.empty())
        b.plan.errors.push_back(unparsable_domain(
            rc.host, name, "running (live)", ev.live_error,
            "the running VM was not compared with its spec, so nothing pending is shown for it"));
    rc.diffs = std::move(ev.diffs);
    const bool running = is_running(od->state);
    const bool adopt = !ev.seen.present();
    reclassify(rc.diffs, vm, ev, running);
    const bool new_seed = plan_seed(b, vm, hp, ev.seen.cloud_init, rc, ChangeClass::NextBoot) != 0;
    // cloud_init dropped: its seed is unused. The marker keeps naming it while the volume
    // exists, so a later --prune still knows the volume is this VM's seed.
    if (!vm.vm.cloud_init.enabled && !ev.seen.cloud_init.empty())
        for (const auto& op : hp.obs->pools)
            if (volume_exists(*hp.obs, op.name, cloud_init_volume_name(name))) {
                hp.seeds_unused.push_back(op.name + "/" + cloud_init_volume_name(name));
                marker.cloud_init = ev.seen.cloud_init;
            }
    const bool stays_running = running && desired_power(vm) != "shutoff";
    PendingDiffs pending = pending_diffs(rc.diffs, ev, stays_running);
    // No live calls when restarting (a live call could even fail, e.g. more vCPUs than the
    // running VM's old maximum).
    const bool will_restart = plans_restart(vm, opts, ev, rc.diffs, pending, stays_running);
    int last = 0;
    if (!rc.diffs.empty() || adopt) {
        Object merged = merge_observed(vm.obj, &ev.have);
        last = b.add(VmDefine{render_xml(merged, &marker), {}}, rc.host, "vm", name,
                     vm_deps(vm.obj, hp), rc.address());
        if (running && !will_restart) last = plan_live_steps(b, vm, ev, merged, rc, last);
    }
    if (will_restart)
        last = plan_restart(b, vm, rc, pending, last);
    else
        note_pending(b, ev, running && (!rc.diffs.empty() || adopt), rc, pending);
    if (adopt)
        rc.note = (rc.note.empty() ? "" : rc.note + "; ") +
                  "adopts an existing domain (stamps virtumancer's ownership marker)";
    if (new_seed && running && !will_restart)
        rc.note = (rc.note.empty() ? "" : rc.note + "; ") +
                  "a new cloud-init seed: the guest reads it at its next boot";
    if (vm.vm.autostart != od->autostart) {
        rc.diffs.push_back({"autostart", od->autostart ? "yes" : "no",
                            vm.vm.autostart ? "yes" : "no", ChangeClass::Live});
        last = b.add(VmAutostart{vm.vm.autostart}, rc.host, "vm", name, {last}, rc.address());
    }
    last = plan_power(b, vm, power_state(*od), rc, last);
    if (rc.diffs.empty() && !adopt) return;
    rc.action = Action::Update;
    rc.cls = ChangeClass::Live;
    for (auto& df : rc.diffs) rc.cls = max_class(rc.cls, df.cls);
    if (will_restart) rc.cls = max_class(rc.cls, ChangeClass::Restart);
    if (rc.cls == ChangeClass::Replace) rc.action = Action::Replace;
    b.plan.changes.push_back(rc);
}

void plan_snapshots(Builder& b, const DesiredState& d, HostPlan& hp,
                    const std::map<std::string, int>& vm_last) {
    for (const auto& s : d.snapshots) {
        if (s.host != hp.host->name || hp.unplanned_vms.count(s.vm)) continue;
        const ObservedDomain* od = hp.obs->domain(s.vm);
        auto it = vm_last.find(s.vm);
        int after_vm = it == vm_last.end() ? 0 : it->second;
        ResourceChange rc = change_of(s.host, "snapshot", snapshot_address_name(s));
        if (od && std::count(od->snapshots.begin(), od->snapshots.end(), s.name)) {
            rc.diffs = planner::diff_snapshot(s, *od);
            if (rc.diffs.empty()) continue;
            rc.action = Action::Update;
            rc.cls = ChangeClass::Live;
            rc.note = "the snapshot's metadata is redefined; its disk and memory state stay";
            b.add(SnapshotSetDescription{s.vm, s.name, s.description}, s.host, "snapshot", rc.name,
                  {after_vm}, rc.address());
            b.plan.changes.push_back(rc);
            continue;
        }
        // The VM's power state when the snapshot is taken (after the VM's own steps).
        bool active = od && is_running(od->state);
        for (const auto& vm : d.vms)
            if (vm.host == s.host && vm.obj.name() == s.vm) active = desired_power(vm) != "shutoff";
        if (active && !s.memory) {
            // libvirt (QEMU) refuses a disk-only internal snapshot of an active domain.
            Blocked bl = blocked_of(s.host, "snapshot", rc.name, "snapshot.create", &s.src);
            bl.reason = "snapshot " + s.name + " of VM " + s.vm + " on host " + s.host +
                        ": the VM is running when the snapshot is taken and the snapshot has no "
                        "memory state; libvirt refuses a disk-only internal snapshot of a "
                        "running VM. Remedy: set `memory: true` on the snapshot, or `state: "
                        "shutoff` on the VM";
            bl.diffs.push_back({"memory", "", "no", ChangeClass::Live});
            b.block(std::move(bl));
            continue;
        }
        rc.action = Action::Create;
        rc.cls = ChangeClass::Live;
        rc.diffs.push_back({"memory", "", s.memory ? "yes" : "no", ChangeClass::Live});
        std::string xml = "<domainsnapshot><name>" + s.name + "</name>";
        if (!s.description.empty()) {
            pugi::xml_document doc;
            doc.append_child("description").text().set(s.description.c_str());
            xml += xml_string(doc);
        }
        xml += s.memory ? "<memory snapshot='internal'/>" : "<memory snapshot='no'/>";
        xml += "</domainsnapshot>";
        b.add(SnapshotCreate{s.vm, xml, s.memory}, s.host, "snapshot", rc.name, {after_vm},
              rc.address());
        b.plan.changes.push_back(rc);
    }
}

// A VM to be created whose writable disk is already used by another domain on the host: two
// domains writing one image corrupt it, and the usual cause is a VM renamed in its spec
// without its `uuid` (planned as a new domain beside the old one). Blocked, naming the users;
// read-only, shareable and CD-ROM/floppy disks may be shared and are not checked. The usage
// graph is built only when the host has a VM to create.
void check_new_vm_disks(Builder& b, const DesiredState& d, HostPlan& hp,
                        const std::function<bool(const std::string&)>& skip) {
    for (const auto& vm : d.vms) {
        if (vm.host != hp.host->name || hp.obs->domain(vm.obj.name()) || skip(vm.obj.name()))
            continue;
        for (const auto& dev : vm.obj.children) {
            if (dev.kind->kind != "disk") continue;
            std::string device = dev.get("device", "disk");
            auto on = [&](const char* k) {
                return dev.has(k) && dev.get(k) != "no" && dev.get(k) != "false";
            };
            if (device == "cdrom" || device == "floppy" || on("readonly") || on("shareable"))
                continue;
            const Usage& usage = hp.observed_usage();
            std::vector<Use> users;
            std::string what;
            if (dev.has("volume")) {
                what = "volume " + dev.get("pool") + "/" + dev.get("volume");
                for (auto& u : usage.volume_users(dev.get("pool"), dev.get("volume")))
                    if (u.kind == "domain") users.push_back(u);
            } else if (dev.has("file")) {
                what = "file " + dev.get("file");
                users = usage.file_users(dev.get("file"));
            }
            if (users.empty()) continue;
            Blocked bl = blocked_of(hp.host->name, "vm", vm.obj.name(), "vm.define", &vm.src);
            std::string first = users.front().name;
            bl.reason =
                "VM " + vm.obj.name() + " on host " + hp.host->name + " is new, but its disk " +
                dev.get("target") + " (" + what + ") is already used by another domain; " +
                "two domains writing one disk image corrupt it. Remedy: if this VM is " +
                "domain " + first + " renamed, put that domain's uuid in the spec (`uuid:`, " +
                "see `virsh domuuid " + first + "`) and its interfaces' `mac:` (see `virsh " +
                "domiflist " + first + "`: MACs the spec left out were derived from the old " +
                "name, and derive from the uuid once it is set) so it is renamed in place " +
                "with the same identity; otherwise give " +
                "this VM its own volume, or mark the disk `shareable`/`readonly`";
            for (const auto& u : users) bl.users.push_back(u.text());
            b.block(std::move(bl));
        }
    }
}

// The host as the plan's steps on it leave it (in step order): what each domain's config and
// running config refer to, which volumes exist and what backs them.
Usage projected_usage(Usage u, const Plan& plan, const std::string& host) {
    for (const auto& s : plan.steps) {
        if (s.host != host) continue;
        switch (s.op()) {
        case Op::VmDefine:
            u.set_domain_config(s.name, domain_refs(s.xml()));
            break;
        case Op::VmUndefine:
            u.remove_domain(s.name);
            break;
        case Op::VmDestroy:
        case Op::VmShutdown:
            u.stop_domain(s.name);
            break;
        case Op::VmStart:
            u.start_domain(s.name);
            break;
        case Op::VmDetachDevice:
            if (std::get<VmDetachDevice>(s.payload).live)
                u.detach_live(s.name, domain_refs(s.xml()));
            break;
        case Op::VmAttachDevice:
            if (std::get<VmAttachDevice>(s.payload).live)
                u.attach_live(s.name, domain_refs(s.xml()));
            break;
        case Op::VolumeDelete: {
            const auto& del = std::get<VolumeDelete>(s.payload);
            u.remove_volume(del.pool, s.name.substr(s.name.find('/') + 1));
            break;
        }
        case Op::VolumeCloudInitSeed: {
            const auto& seed = std::get<VolumeCloudInitSeed>(s.payload);
            std::string dir = u.pool_path(seed.pool);
            u.add_volume(seed.pool, seed.volume, dir.empty() ? "" : path_join(dir, seed.volume),
                         "");
            break;
        }
        case Op::VolumeCreate: {
            const auto& create = std::get<VolumeCreate>(s.payload);
            std::string vol = s.name.substr(s.name.find('/') + 1);
            pugi::xml_document doc;
            std::string backing;
            if (doc.load_string(create.xml.c_str()))
                backing =
                    doc.document_element().child("backingStore").child("path").text().as_string();
            std::string dir = u.pool_path(create.pool);
            u.add_volume(create.pool, vol, dir.empty() ? "" : path_join(dir, vol), backing);
            break;
        }
        default:
            break;
        }
    }
    return u;
}

// Deletions of what the specs no longer name, with --prune, in reverse dependency order:
// snapshots, then VMs, then volumes (overlays before their backing volumes), then pools and
// networks. A deletion is planned only when nothing left on the host uses the object after the
// plan's own earlier steps (on which it then depends); otherwise it is blocked, naming each
// user, and apply refuses the plan. Without --prune each is a warning.
void plan_deletions(Builder& b, const DesiredState& d, HostPlan& hp, const PlanOptions& opts) {
    const std::string& host = hp.host->name;
    std::vector<std::string> p_snap, p_vol, p_pool, p_net;
    for (const auto& addr : opts.pending_delete) {
        auto p1 = addr.find('/'), p2 = addr.find('/', p1 + 1);
        if (p1 == std::string::npos || p2 == std::string::npos) continue;
        if (addr.substr(0, p1) != host) continue;
        std::string kind = addr.substr(p1 + 1, p2 - p1 - 1), name = addr.substr(p2 + 1);
        if (kind == "snapshot") p_snap.push_back(name);
        if (kind == "volume") p_vol.push_back(name);
        if (kind == "pool") p_pool.push_back(name);
        if (kind == "network") p_net.push_back(name);
    }
    auto steps_of_vm = [&](const std::string& vm) {
        std::vector<int> ids;
        for (const auto& s : b.plan.steps)
            if (s.host == host && s.kind == "vm" && s.name == vm) ids.push_back(s.id);
        return ids;
    };
    auto kept = [&](const std::string& kind, const std::string& name) {
        b.plan.errors.push_back({Severity::Warning, host + "/" + kind + "/" + name, 0, 0,
                                 "managed by virtumancer but no spec names it any more; "
                                 "run with --prune to delete it"});
    };
    auto deleted = [&](const std::string& kind, const std::string& name) {
        ResourceChange rc = change_of(host, kind, name);
        rc.action = Action::Delete;
        rc.cls = ChangeClass::Replace;
        rc.diffs.push_back({kind, name, "(deleted)", ChangeClass::Replace});
        return rc;
    };

    // Snapshots whose specs were removed.
    std::map<std::string, std::vector<int>> snap_deletes; // vm -> its snapshot.delete steps
    for (const auto& name : p_snap) {
        auto slash = name.find('/');
        if (slash == std::string::npos) continue;
        std::string vm = name.substr(0, slash), snap = name.substr(slash + 1);
        const ObservedDomain* od = hp.obs->domain(vm);
        if (!od || !std::count(od->snapshots.begin(), od->snapshots.end(), snap)) continue;
        if (!opts.prune) {
            kept("snapshot", name);
            continue;
        }
        ResourceChange rc = deleted("snapshot", name);
        snap_deletes[vm].push_back(
            b.add(SnapshotDelete{vm, snap}, host, "snapshot", name, steps_of_vm(vm), rc.address()));
        b.plan.changes.push_back(rc);
    }

    // Managed domains without a spec.
    std::set<std::string> wanted;
    for (const auto& vm : d.vms)
        if (vm.host == host) wanted.insert(vm.obj.name());
    for (const auto& od : hp.obs->domains) {
        if (wanted.count(od.name)) continue;
        std::optional<OwnerMarker> m =
            marker_of(host, od, b.plan.errors,
                      "virtumancer cannot tell whether it manages it, so it was neither listed "
                      "as unmanaged nor planned for deletion");
        if (!m) continue;
        if (!m->present() || m->foreign_to(d.owner_id)) {
            b.plan.unmanaged.push_back(host + "/vm/" + od.name);
            continue;
        }
        if (!m->cloud_init.empty())
            for (const auto& op : hp.obs->pools)
                if (volume_exists(*hp.obs, op.name, cloud_init_volume_name(od.name)))
                    p_vol.push_back(op.name + "/" + cloud_init_volume_name(od.name));
        if (!opts.prune) {
            kept("vm", od.name);
            continue;
        }
        ResourceChange rc = change_of(host, "vm", od.name);
        rc.action = Action::Delete;
        rc.cls = ChangeClass::Replace;
        rc.diffs.push_back({"state", od.state, "(deleted)", ChangeClass::Replace});
        rc.note = "undefined keeping NVRAM and TPM state; its volumes stay unless their specs "
                  "are removed too";
        std::vector<int> deps = snap_deletes[od.name];
        if (is_running(od.state))
            deps = {b.add(VmDestroy{}, host, "vm", od.name, deps, rc.address())};
        b.add(VmUndefine{true, true}, host, "vm", od.name, deps, rc.address());
        b.plan.changes.push_back(rc);
    }

    // Seeds of VMs whose spec dropped cloud_init.
    p_vol.insert(p_vol.end(), hp.seeds_unused.begin(), hp.seeds_unused.end());
    // What exists of the removed volumes, pools and networks.
    auto split = [](const std::string& key) {
        auto slash = key.find('/');
        return std::make_pair(key.substr(0, slash),
                              slash == std::string::npos ? "" : key.substr(slash + 1));
    };
    std::vector<std::string> vols, pools, nets;
    for (const auto& key : p_vol) {
        auto [pool, vol] = split(key);
        const ObservedPool* op = hp.obs->pool(pool);
        bool exists = false;
        if (op)
            for (const auto& v : op->volumes) exists |= v.name == vol;
        if (exists) (opts.prune ? vols.push_back(key) : kept("volume", key));
    }
    for (const auto& name : p_pool)
        if (hp.obs->pool(name)) (opts.prune ? pools.push_back(name) : kept("pool", name));
    for (const auto& name : p_net)
        if (hp.obs->network(name)) (opts.prune ? nets.push_back(name) : kept("network", name));
    if (vols.empty() && pools.empty() && nets.empty()) return;

    const Usage& before = hp.observed_usage();
    Usage after = projected_usage(before, b.plan, host);
    std::vector<int> vm_deletes;
    for (const auto& s : b.plan.steps)
        if (s.op() == Op::VmUndefine && s.host == host) vm_deletes.push_back(s.id);
    // The steps that took `users` away (the VMs' steps, the overlays' deletes).
    std::map<std::string, int> vol_delete; // "pool/name" -> its volume.delete step
    auto deps_of = [&](const std::vector<Use>& users) {
        std::vector<int> deps = vm_deletes;
        for (const auto& u : users) {
            if (u.kind == "domain") {
                auto ids = steps_of_vm(u.name);
                deps.insert(deps.end(), ids.begin(), ids.end());
            } else if (vol_delete.count(u.name)) {
                deps.push_back(vol_delete[u.name]);
            }
        }
        return deps;
    };
    auto refuse = [&](const std::string& kind, const std::string& name, const std::string& op,
                      const std::vector<Use>& users, const std::string& remedy) {
        Blocked bl = blocked_of(host, kind, name, op, nullptr);
        for (const auto& u : users) bl.users.push_back(u.text());
        bl.reason = kind + " " + name + " on host " + host +
                    " is still in use, so its deletion (--prune) is BLOCKED and apply refuses "
                    "this plan. Remedy: " +
                    remedy;
        bl.diffs.push_back({kind, name, "(deleted)", ChangeClass::Replace});
        b.block(std::move(bl));
    };

    // A domain whose XML does not parse may use any of them (the usage graph sees nothing in
    // it): while one is on the host, every such deletion is blocked, naming it.
    std::vector<Use> unreadable;
    auto loads = [](const std::string& xml) {
        pugi::xml_document doc;
        return xml.empty() || static_cast<bool>(doc.load_string(xml.c_str()));
    };
    for (const auto& od : hp.obs->domains)
        if (!loads(od.inactive_xml) || !loads(od.live_xml))
            unreadable.push_back({"domain", od.name, "its XML cannot be parsed"});
    if (!unreadable.empty()) {
        auto unknown = [&](const std::string& kind, const std::string& name,
                           const std::string& op) {
            Blocked bl = blocked_of(host, kind, name, op, nullptr);
            for (const auto& u : unreadable) bl.users.push_back(u.text());
            bl.reason = kind + " " + name + " on host " + host +
                        " may be in use by a domain whose XML cannot be parsed, so its deletion "
                        "(--prune) is BLOCKED and apply refuses this plan. Remedy: fix or "
                        "undefine that domain (virsh dumpxml " +
                        unreadable.front().name + " shows its XML), or put the " + kind +
                        "'s spec back";
            bl.diffs.push_back({kind, name, "(deleted)", ChangeClass::Replace});
            b.block(std::move(bl));
        };
        for (const auto& key : vols) unknown("volume", key, "volume.delete");
        for (const auto& name : pools) unknown("pool", name, "pool.undefine");
        for (const auto& name : nets) unknown("network", name, "network.undefine");
        return;
    }

    // Volumes: those still used by something that stays are blocked (and so is what backs them).
    std::set<std::string> del(vols.begin(), vols.end());
    auto remaining_users = [&](const std::string& key) {
        auto [pool, vol] = split(key);
        std::vector<Use> us = after.volume_users(pool, vol);
        us.erase(
            std::remove_if(us.begin(), us.end(),
                           [&](const Use& u) { return u.kind == "volume" && del.count(u.name); }),
            us.end());
        return us;
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (const auto& key : vols)
            if (del.count(key) && !remaining_users(key).empty()) {
                del.erase(key);
                changed = true;
            }
    }
    std::set<std::string> done;
    std::function<void(const std::string&)> emit = [&](const std::string& key) {
        if (!done.insert(key).second) return;
        auto [pool, vol] = split(key);
        std::vector<Use> used = before.volume_users(pool, vol);
        for (const auto& u : after.volume_users(pool, vol)) // overlays deleted in this plan
            if (u.kind == "volume" && del.count(u.name)) {
                emit(u.name);
                used.push_back(u);
            }
        ResourceChange rc = deleted("volume", key);
        vol_delete[key] =
            b.add(VolumeDelete{pool, vol}, host, "volume", key, deps_of(used), rc.address());
        b.plan.changes.push_back(rc);
    };
    for (const auto& key : vols)
        if (del.count(key)) emit(key);
    for (const auto& key : vols) {
        if (del.count(key)) continue;
        refuse("volume", key, "volume.delete", remaining_users(key),
               "remove its users first (detach the disk in the VM's spec, and restart a VM that "
               "still runs with it; delete or rebase an overlay), or put its Volume spec back");
    }
    for (const auto& key : del) {
        auto [pool, vol] = split(key);
        after.remove_volume(pool, vol);
    }

    // Pools: only when no volume is left in them and no domain uses them.
    for (const auto& name : pools) {
        std::vector<Use> users = after.pool_users(name);
        if (!users.empty()) {
            refuse("pool", name, "pool.undefine", users,
                   "delete or move the volumes left in it (remove their specs too, with "
                   "--prune, or delete unmanaged ones by hand), or put its StoragePool spec "
                   "back");
            continue;
        }
        std::vector<Use> used = before.pool_users(name);
        ResourceChange rc = deleted("pool", name);
        rc.note = "stopped and undefined; files left in its directory stay on disk";
        b.add(PoolUndefine{}, host, "pool", name, deps_of(used), rc.address());
        b.plan.changes.push_back(rc);
    }
    // Networks: only when no domain (config or running) is attached to them.
    for (const auto& name : nets) {
        std::vector<Use> users = after.network_users(name);
        if (!users.empty()) {
            refuse("network", name, "network.undefine", users,
                   "remove the interfaces on it from the VMs' specs (and restart VMs that still "
                   "run with them), or put its Network spec back");
            continue;
        }
        ResourceChange rc = deleted("network", name);
        rc.note = "stopped and undefined";
        b.add(NetworkUndefine{}, host, "network", name, deps_of(before.network_users(name)),
              rc.address());
        b.plan.changes.push_back(rc);
    }
}

// Graphics passwords are never in a plan: a VM's steps that send graphics XML name the
// password_file / password_env of each graphics device (by its index among the step XML's
// <graphics> elements) and the applier reads the secret at apply time.
void add_password_args(Plan& p, size_t first_step, const Spec& vm) {
    std::vector<const Object*> graphics;
    for (const auto& dev : vm.obj.children)
        if (dev.kind->kind == "graphics") graphics.push_back(&dev);
    auto password = [](int idx, const Object& g) -> std::optional<GraphicsPassword> {
        if (g.has("password_file")) return GraphicsPassword{idx, g.get("password_file"), ""};
        if (g.has("password_env")) return GraphicsPassword{idx, "", g.get("password_env")};
        return std::nullopt;
    };
    // The one graphics device a device step sends, when it is one.
    auto device_password = [&](const std::string& xml) -> std::optional<GraphicsPassword> {
        pugi::xml_document doc;
        if (!doc.load_string(xml.c_str())) return std::nullopt;
        pugi::xml_node root = doc.document_element();
        if (std::string(root.name()) != "graphics") return std::nullopt;
        for (const Object* g : graphics)
            if (g->get("type") == root.attribute("type").value()) return password(0, *g);
        return std::nullopt;
    };
    for (size_t i = first_step; i < p.steps.size(); ++i) {
        Step& s = p.steps[i];
        if (auto* def = std::get_if<VmDefine>(&s.payload)) {
            for (size_t g = 0; g < graphics.size(); ++g)
                if (auto pw = password(static_cast<int>(g), *graphics[g]))
                    def->passwords.push_back(*pw);
        } else if (auto* att = std::get_if<VmAttachDevice>(&s.payload)) {
            if (auto pw = device_password(att->xml)) att->passwords.push_back(*pw);
        } else if (auto* upd = std::get_if<VmUpdateDevice>(&s.payload)) {
            if (auto pw = device_password(upd->xml)) upd->passwords.push_back(*pw);
        }
    }
}

// Whether a step carries out the diff of `field` of its change: a power step the state, an
// autostart step the autostart, a device step its device's fields, a vCPU/memory/DHCP/rename
// step those fields; any other step every field but power and autostart. `device`: the label
// prefix of a device step's XML root ("disk" for <disk>).
bool step_changes(const Step& s, const std::string& device, const std::string& field) {
    auto starts_with = [&](const std::string& p) { return field.rfind(p, 0) == 0; };
    switch (s.op()) {
    case Op::VmStart:
    case Op::VmShutdown:
    case Op::VmDestroy:
    case Op::VmSuspend:
    case Op::VmResume:
    case Op::PoolStart:
    case Op::NetworkStart:
        return field == "state" || field == "active";
    case Op::VmAutostart:
    case Op::PoolAutostart:
    case Op::NetworkAutostart:
        return field == "autostart";
    case Op::VmSetVcpus:
        return starts_with("vcpu");
    case Op::VmSetMemory:
        return field.find("memory") != std::string::npos;
    case Op::NetworkUpdate:
        return field.find(".dhcp_") != std::string::npos;
    case Op::VmRename:
        return field == "name";
    case Op::VolumeCloudInitSeed:
        return field == "cloud_init";
    case Op::VmAttachDevice:
    case Op::VmDetachDevice:
    case Op::VmUpdateDevice:
        return !device.empty() && (field == device || starts_with(device + "["));
    default:
        return field != "state" && field != "active" && field != "autostart";
    }
}

} // namespace

void assign_step_fields(Plan& p) {
    std::map<std::string, const ResourceChange*> by_address;
    for (const auto& c : p.changes) by_address[c.address()] = &c;
    for (auto& s : p.steps) {
        auto it = by_address.find(s.change);
        if (it == by_address.end()) continue;
        std::string device;
        if (!s.xml().empty()) {
            pugi::xml_document doc;
            if (doc.load_string(s.xml().c_str())) device = doc.document_element().name();
        }
        std::vector<std::string> fields;
        for (const auto& d : it->second->diffs)
            if (step_changes(s, device, d.field)) fields.push_back(d.field);
        if (fields.empty())
            for (const auto& d : it->second->diffs) fields.push_back(d.field);
        std::vector<std::string> unique;
        for (auto& f : fields)
            if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(f);
        s.fields = std::move(unique);
    }
}

namespace {

void apply_targets(Plan& p, const std::vector<std::string>& targets) {
    if (targets.empty()) return;
    auto keep = [&](const std::string& address) {
        for (const auto& t : targets) {
            // target is kind/name; address is host/kind/name
            auto pos = address.find('/');
            if (pos != std::string::npos && address.substr(pos + 1) == t) return true;
            if (address == t) return true;
        }
        return false;
    };
    std::vector<ResourceChange> changes;
    for (auto& c : p.changes)
        if (keep(c.address())) changes.push_back(c);
    p.changes = changes;
    std::vector<PendingChange> pending;
    for (auto& c : p.pending)
        if (keep(c.address())) pending.push_back(c);
    p.pending = pending;
    std::set<int> kept;
    std::vector<Step> steps;
    for (auto& s : p.steps)
        if (keep(s.change)) {
            kept.insert(s.id);
            steps.push_back(s);
        }
    for (auto& s : steps) {
        std::vector<int> deps;
        for (int dd : s.deps)
            if (kept.count(dd)) deps.push_back(dd);
        s.deps = deps;
    }
    p.steps = steps;
}

} // namespace

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// VM specs whose `uuid` libvirt has under another domain name (new name -> old name): the
// VM was renamed in its spec. A shut-off domain of this database is renamed
// (virDomainRename keeps its UUID, disks, NVRAM and snapshots); any other is refused with the
// remedy and neither name is planned: defining the new name would fail ("already exists with
// uuid") and the old name would look like a VM without a spec (deleted with --prune).
struct Renames {
    std::map<std::string, std::string> planned, refused;
};

Renames renamed_vms(const DesiredState& d, const HostPlan& hp, Plan& plan) {
    Renames out;
    for (const auto& vm : d.vms) {
        if (vm.host != hp.host->name || !vm.obj.has("uuid")) continue;
        const std::string name = vm.obj.name();
        if (hp.obs->domain(name)) continue;
        std::string uuid = lower(vm.obj.get("uuid"));
        for (const auto& od : hp.obs->domains) {
            if (od.name == name || od.uuid.empty() || lower(od.uuid) != uuid) continue;
            std::optional<OwnerMarker> m =
                marker_of(hp.host->name, od, plan.errors,
                          "it has the uuid of VM " + name + "'s spec, so neither name was planned");
            if (!m) {
                out.refused[name] = od.name;
                break;
            }
            std::string why;
            if (!m->present() || m->foreign_to(d.owner_id))
                why = "it is not managed by this virtumancer database";
            else if (od.state != "shutoff")
                why = "libvirt renames only a shut-off domain and it is " + od.state;
            if (why.empty()) {
                out.planned[name] = od.name;
                break;
            }
            out.refused[name] = od.name;
            plan.errors.push_back(
                {Severity::Error, vm.src.file.empty() ? hp.host->name + "/vm/" + name : vm.src.file,
                 vm.src.line, vm.src.column,
                 "VM " + name + " on host " + hp.host->name + " has uuid " + vm.obj.get("uuid") +
                     ", which libvirt has as domain '" + od.name + "': a rename, refused because " +
                     why +
                     "; neither name was planned (never a create and a delete). Shut it down "
                     "(state: shutoff) and plan again, rename it by hand (virsh domrename " +
                     od.name + " " + name + "), or keep the old name in the spec"});
            break;
        }
    }
    return out;
}

// The observed host as it is after the planned renames: each domain under its new name.
ObservedHost after_renames(const ObservedHost& obs, const std::map<std::string, std::string>& r) {
    ObservedHost out = obs;
    for (const auto& [nu, old] : r)
        for (auto& od : out.domains) {
            if (od.name != old) continue;
            od.name = nu;
            for (std::string* xml : {&od.inactive_xml, &od.live_xml}) {
                auto pos = xml->find("<name>" + old + "</name>");
                if (pos != std::string::npos) xml->replace(pos + 6, old.size(), nu);
            }
        }
    std::sort(out.domains.begin(), out.domains.end(),
              [](const ObservedDomain& a, const ObservedDomain& b) { return a.name < b.name; });
    return out;
}

// Removes every change and step of a refused rename: the old name's (a delete, a warning),
// the snapshots of the new one.
void drop_renamed(Plan& plan, const std::string& host,
                  const std::map<std::string, std::string>& renamed) {
    auto gone = [&](const std::string& address) {
        for (const auto& [nu, old] : renamed)
            if (address == host + "/vm/" + old ||
                address.rfind(host + "/snapshot/" + nu + "/", 0) == 0)
                return true;
        return false;
    };
    std::set<int> dropped;
    std::vector<Step> steps;
    for (auto& st : plan.steps)
        if (gone(st.change))
            dropped.insert(st.id);
        else
            steps.push_back(std::move(st));
    for (auto& st : steps)
        st.deps.erase(std::remove_if(st.deps.begin(), st.deps.end(),
                                     [&](int id) { return dropped.count(id) > 0; }),
                      st.deps.end());
    plan.steps = std::move(steps);
    plan.changes.erase(std::remove_if(plan.changes.begin(), plan.changes.end(),
                                      [&](const ResourceChange& c) { return gone(c.address()); }),
                       plan.changes.end());
    plan.errors.erase(std::remove_if(plan.errors.begin(), plan.errors.end(),
                                     [&](const Diagnostic& e) {
                                         return e.severity == Severity::Warning && gone(e.file);
                                     }),
                      plan.errors.end());
}

} // namespace

std::string volume_address_name(const Spec& volume) {
    return volume.obj.get("pool") + "/" + volume.obj.name();
}

std::string snapshot_address_name(const SnapshotSpec& snapshot) {
    return snapshot.vm + "/" + snapshot.name;
}

std::string desired_domain_xml(const Spec& vm, const std::string& revision) {
    OwnerMarker marker{owner_address(vm.host, vm.obj.name()), vm.content_hash, revision, {}};
    const CloudInitSpec& ci = vm.vm.cloud_init;
    std::string pool = seed_pool(vm.obj);
    if (!ci.enabled || pool.empty()) return render_xml(vm.obj, &marker);
    marker.cloud_init = ci.hash; // with its seed's cdrom, as apply defines it
    DesiredState one;
    one.vms.push_back(vm);
    return render_xml(with_seed_cdroms(one)->vms[0].obj, &marker);
}

std::map<std::string, std::string> fingerprints(const std::vector<ObservedHost>& observed) {
    std::map<std::string, std::string> out;
    for (const auto& h : observed) {
        if (!h.reachable) continue;
        for (const auto& d : h.domains) {
            out[h.host + "/vm/" + d.name] = fnv1a_hex(d.inactive_xml + "|" + d.state);
            for (const auto& [snap, description] : d.snapshot_descriptions)
                out[h.host + "/snapshot/" + d.name + "/" + snap] = fnv1a_hex(description);
        }
        for (const auto& p : h.pools) {
            out[h.host + "/pool/" + p.name] = fnv1a_hex(p.xml + (p.active ? "|a" : "|i"));
            for (const auto& v : p.volumes)
                out[h.host + "/volume/" + p.name + "/" + v.name] = fnv1a_hex(v.xml);
        }
        for (const auto& n : h.networks)
            out[h.host + "/network/" + n.name] = fnv1a_hex(n.xml + (n.active ? "|a" : "|i"));
    }
    return out;
}

namespace {
Plan make_plan_seeded(const DesiredState& desired, const std::vector<ObservedHost>& observed,
                      const PlanOptions& opts);
std::vector<DriftItem> detect_drift_seeded(const DesiredState& desired,
                                           const std::vector<ObservedHost>& observed);
} // namespace

// The desired state compared is the specs' with each VM's cloud-init seed cdrom.
Plan make_plan(const DesiredState& desired, const std::vector<ObservedHost>& observed,
               const PlanOptions& opts) {
    if (auto seeded = with_seed_cdroms(desired)) return make_plan_seeded(*seeded, observed, opts);
    return make_plan_seeded(desired, observed, opts);
}

std::vector<DriftItem> detect_drift(const DesiredState& desired,
                                    const std::vector<ObservedHost>& observed) {
    if (auto seeded = with_seed_cdroms(desired)) return detect_drift_seeded(*seeded, observed);
    return detect_drift_seeded(desired, observed);
}

namespace {
Plan make_plan_seeded(const DesiredState& desired, const std::vector<ObservedHost>& observed,
                      const PlanOptions& opts) {
    Builder b;
    for (const auto& h : observed) {
        if (!h.reachable) {
            b.plan.errors.push_back({Severity::Error, "host/" + h.host, 0, 0,
                                     "host " + h.host + " (" + h.uri + ") is unreachable: " +
                                         h.error + "; its objects were not planned"});
            continue;
        }
    }
    b.plan.fingerprints = fingerprints(observed);
    // Two Host specs reaching the same libvirt (same host UUID, else the same URI) would plan
    // each other's objects as unwanted: an error naming both, and nothing planned on either.
    std::set<std::string> same_host;
    for (size_t i = 0; i < desired.hosts.size(); ++i) {
        const ObservedHost* a = find_host(observed, desired.hosts[i].name);
        if (!a || !a->reachable) continue;
        for (size_t j = i + 1; j < desired.hosts.size(); ++j) {
            const ObservedHost* c = find_host(observed, desired.hosts[j].name);
            if (!c || !c->reachable) continue;
            bool by_uuid = !a->host_uuid.empty() && a->host_uuid == c->host_uuid;
            if (!by_uuid && !(a->uri == c->uri && !a->uri.empty())) continue;
            const HostSpec& h1 = desired.hosts[i];
            const HostSpec& h2 = desired.hosts[j];
            auto where = [](const HostSpec& h) {
                return h.src.file.empty() ? std::string("host/") + h.name
                                          : h.src.file + ":" + std::to_string(h.src.line);
            };
            Blocked bl = blocked_of(h2.name, "host", h2.name, "", &h2.src);
            bl.reason = "Host specs " + h1.name + " (" + where(h1) + ") and " + h2.name + " (" +
                        where(h2) + ") reach the same libvirt host (" +
                        (by_uuid ? "host UUID " + a->host_uuid : "URI " + a->uri) +
                        "); each would treat the other's objects as unmanaged or unwanted, so "
                        "nothing was planned on either. Remedy: keep one Host spec per "
                        "hypervisor and point every spec's `host:` at it";
            b.block(std::move(bl));
            same_host.insert(h1.name);
            same_host.insert(h2.name);
        }
    }
    for (const auto& host : desired.hosts) {
        const ObservedHost* oh = find_host(observed, host.name);
        if (!oh || !oh->reachable || same_host.count(host.name)) continue;
        HostPlan hp{&host, oh, {}, {}, {}};
        plan_pools(b, desired, hp);
        plan_volumes(b, desired, hp);
        plan_networks(b, desired, hp);
        std::map<std::string, int> vm_last;
        Renames renamed = renamed_vms(desired, hp, b.plan);
        ObservedHost renamed_host; // the host as it is after the planned renames
        if (!renamed.planned.empty()) {
            renamed_host = after_renames(*oh, renamed.planned);
            hp.obs = &renamed_host;
        }
        each_prepared_vm(desired, host.name, *hp.obs, [&](const Spec& vm, PreparedVm& pre) {
            const std::string& name = vm.obj.name();
            if (renamed.refused.count(name)) return;
            size_t before = b.plan.steps.size();
            int rename = 0;
            auto rn = renamed.planned.find(name);
            if (rn != renamed.planned.end())
                rename = b.add(VmRename{name}, host.name, "vm", rn->second, {},
                               owner_address(host.name, name));
            size_t first = b.plan.steps.size();
            plan_vm(b, desired, vm, hp, opts, &pre);
            add_password_args(b.plan, before, vm);
            vm_last[name] = b.plan.steps.size() > before ? b.plan.steps.back().id : 0;
            if (!rename) return;
            // The VM's own steps run on the renamed domain.
            for (size_t i = first; i < b.plan.steps.size(); ++i) {
                auto& deps = b.plan.steps[i].deps;
                deps.insert(deps.begin(), rename);
                std::sort(deps.begin(), deps.end());
            }
            std::string addr = owner_address(host.name, name);
            auto it = std::find_if(b.plan.changes.begin(), b.plan.changes.end(),
                                   [&](const ResourceChange& c) { return c.address() == addr; });
            if (it == b.plan.changes.end()) {
                ResourceChange rc = change_of(host.name, "vm", name);
                rc.action = Action::Update;
                rc.cls = ChangeClass::Live;
                b.plan.changes.push_back(rc);
                it = b.plan.changes.end() - 1;
            }
            it->diffs.insert(it->diffs.begin(), {"name", rn->second, name, ChangeClass::Live});
            it->note = "renamed in place (virDomainRename: same UUID, disks, NVRAM and "
                       "snapshots)" +
                       (it->note.empty() ? "" : "; " + it->note);
        });
        check_new_vm_disks(b, desired, hp,
                           [&](const std::string& n) { return renamed.refused.count(n) > 0; });
        plan_snapshots(b, desired, hp, vm_last);
        plan_deletions(b, desired, hp, opts);
        if (!renamed.refused.empty()) drop_renamed(b.plan, host.name, renamed.refused);
    }
    assign_step_fields(b.plan);
    apply_targets(b.plan, opts.targets);
    b.plan.options = {opts.prune, opts.targets, opts.restart_pending};
    return b.plan;
}
} // namespace

std::vector<std::string> changes_without_steps(const Plan& p) {
    std::set<std::string> has_step, has_block;
    for (const auto& s : p.steps) has_step.insert(s.change);
    for (const auto& bl : p.blocked) has_block.insert(bl.address());
    std::vector<std::string> out;
    for (const auto& c : p.changes)
        if ((c.action == Action::Update || c.action == Action::Replace) &&
            !has_step.count(c.address()) && !has_block.count(c.address()))
            out.push_back(c.address());
    return out;
}

namespace {
std::vector<DriftItem> detect_drift_seeded(const DesiredState& desired,
                                           const std::vector<ObservedHost>& observed) {
    std::vector<DriftItem> out;
    for (const auto& host : desired.hosts) {
        const ObservedHost* oh = find_host(observed, host.name);
        if (!oh || !oh->reachable) {
            out.push_back({host.name,
                           "host",
                           host.name,
                           DriftStatus::Unreachable,
                           {{"reachable", "no", "yes", ChangeClass::Live}}});
            continue;
        }
        std::set<std::string> wanted;
        each_prepared_vm(desired, host.name, *oh, [&](const Spec& vm, PreparedVm& pre) {
            wanted.insert(vm.obj.name());
            DriftItem it{host.name, "vm", vm.obj.name(), DriftStatus::InSync, {}};
            const ObservedDomain* od = oh->domain(vm.obj.name());
            if (!od) {
                it.status = DriftStatus::Missing;
                out.push_back(it);
                return;
            }
            if (pre.error) std::rethrow_exception(pre.error);
            if (!pre.parse_error.empty()) {
                it.status = DriftStatus::Error;
                it.error = unparsable_domain(host.name, od->name, "persistent", pre.parse_error,
                                             "it was not compared with its spec")
                               .message;
                out.push_back(it);
                return;
            }
            const OwnerMarker& m = pre.seen;
            if (m.foreign_to(desired.owner_id)) {
                it.status =
                    DriftStatus::Conflict; // same name, defined from another virtumancer database
                it.diffs.push_back({"owner", m.db, desired.owner_id, ChangeClass::Replace});
                out.push_back(it);
                return;
            }
            it.diffs = std::move(pre.diffs);
            std::string want = desired_power(vm);
            std::string st = power_state(*od); // paused while starting up: running
            if ((want == "running" && st != "running") || (want == "paused" && st != "paused") ||
                (want == "shutoff" && is_running(st)))
                it.diffs.push_back({"state", st, want, ChangeClass::Live});
            if (vm.vm.autostart != od->autostart)
                it.diffs.push_back({"autostart", od->autostart ? "yes" : "no",
                                    vm.vm.autostart ? "yes" : "no", ChangeClass::Live});
            const CloudInitSpec& ci = vm.vm.cloud_init;
            if (ci.enabled &&
                (m.cloud_init != ci.hash ||
                 !volume_exists(*oh, seed_pool(vm.obj), cloud_init_volume_name(vm.obj.name()))))
                it.diffs.push_back({"cloud_init", short_hash(m.cloud_init), short_hash(ci.hash),
                                    ChangeClass::NextBoot});
            // Pending: the running VM differs where its config matches the spec (a VM that
            // should be shut off starts with its config: nothing pending then).
            if (pre.has_run && want != "shutoff") {
                std::set<std::string> in_config;
                for (const auto& df : it.diffs) in_config.insert(df.field);
                for (auto& ld : pre.live_diffs)
                    if (!in_config.count(ld.field)) it.pending.push_back(std::move(ld));
            }
            if (!it.diffs.empty())
                it.status = DriftStatus::Drifted;
            else if (!it.pending.empty())
                it.status = DriftStatus::Pending;
            out.push_back(it);
        });
        for (const auto& od : oh->domains) {
            if (wanted.count(od.name)) continue;
            std::vector<Diagnostic> errors;
            std::optional<OwnerMarker> m =
                marker_of(host.name, od, errors,
                          "virtumancer cannot tell whether it manages it (orphaned) or not "
                          "(unmanaged)");
            if (!m) {
                DriftItem it{host.name, "vm", od.name, DriftStatus::Error, {}};
                it.error = errors.at(0).message;
                out.push_back(it);
                continue;
            }
            bool ours = m->present() && !m->foreign_to(desired.owner_id);
            out.push_back({host.name,
                           "vm",
                           od.name,
                           ours ? DriftStatus::Orphaned : DriftStatus::Unmanaged,
                           {}});
        }
        for (const auto& ps : desired.pools) {
            if (ps.host != host.name) continue;
            DriftItem it{host.name, "pool", ps.obj.name(), DriftStatus::InSync, {}};
            if (const ObservedPool* op = oh->pool(ps.obj.name()))
                it.diffs = planner::diff_pool(ps.obj, *op);
            else
                it.status = DriftStatus::Missing;
            if (!it.diffs.empty()) it.status = DriftStatus::Drifted;
            out.push_back(it);
        }
        for (const auto& vs : desired.volumes) {
            if (vs.host != host.name) continue;
            std::string pool = vs.obj.get("pool");
            DriftItem it{host.name, "volume", volume_address_name(vs), DriftStatus::Missing, {}};
            if (const ObservedPool* op = oh->pool(pool))
                for (const auto& v : op->volumes)
                    if (v.name == vs.obj.name()) {
                        it.status = DriftStatus::InSync;
                        it.diffs = planner::diff_volume(volume_to_create(desired, *oh, vs),
                                                        parse_xml(v.xml, volume_kind()));
                        if (!it.diffs.empty()) it.status = DriftStatus::Drifted;
                    }
            out.push_back(it);
        }
        for (const auto& ns : desired.networks) {
            if (ns.host != host.name) continue;
            DriftItem it{host.name, "network", ns.obj.name(), DriftStatus::InSync, {}};
            if (const ObservedNetwork* on = oh->network(ns.obj.name())) {
                auto cmp = planner::diff_network(ns.obj, *on);
                it.diffs = cmp.diffs;
                it.pending = network_pending(ns.obj, *on, cmp).diffs;
            } else {
                it.status = DriftStatus::Missing;
            }
            if (!it.diffs.empty())
                it.status = DriftStatus::Drifted;
            else if (!it.pending.empty())
                it.status = DriftStatus::Pending;
            out.push_back(it);
        }
        for (const auto& sn : desired.snapshots) {
            if (sn.host != host.name) continue;
            DriftItem it{
                host.name, "snapshot", snapshot_address_name(sn), DriftStatus::Missing, {}};
            const ObservedDomain* od = oh->domain(sn.vm);
            if (od && std::count(od->snapshots.begin(), od->snapshots.end(), sn.name)) {
                it.diffs = planner::diff_snapshot(sn, *od);
                it.status = it.diffs.empty() ? DriftStatus::InSync : DriftStatus::Drifted;
            }
            out.push_back(it);
        }
    }
    return out;
}
} // namespace

} // namespace virtumancer
