// `virtumancer status [VM...] [--json]`: per VM, what it is now: power state, addresses (with
// the source that gave them), what a plan would change (the planner's own plan, limited to the
// VM), the last apply task and the last recorded check, and its devices desired vs live.
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.hpp"
#include "pipeline.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

namespace virtumancer::cli {

namespace {

struct StatusArgs {
    std::vector<std::string> vms;
    bool json = false;
    ObserveArgs obs;
};

std::string device_id(const Object& o) {
    std::string id;
    for (const auto& k : o.kind->identity)
        if (o.has(k)) id += (id.empty() ? "" : ",") + o.get(k);
    return o.kind->kind + (id.empty() ? "" : "[" + id + "]");
}

// Device ids in order, numbered when the same id repeats (other[1], other[2]).
std::vector<std::string> device_ids(const Object& o) {
    std::vector<std::string> out;
    std::map<std::string, int> seen;
    for (const auto& c : o.children) {
        std::string id = device_id(c);
        if (int n = ++seen[id]; n > 1) id += "#" + std::to_string(n);
        out.push_back(id);
    }
    return out;
}

int run_status(const Globals& g, const StatusArgs& a) {
    auto db = Database::open_for_reading(g.db_path);
    auto over = parse_host_uris(a.obs.host_uris);
    HostTimeouts t = a.obs.timeouts;
    t.events = false;
    auto [d, observed] = desired_and_observed(*db, a.obs.paths, over, a.obs.parallelism, t);
    std::vector<const Spec*> vms;
    for (const auto& name : a.vms) {
        bool found = false;
        for (const auto& s : d.state.vms)
            if (s.obj.name() == name || s.host + "/" + s.obj.name() == name) {
                vms.push_back(&s);
                found = true;
            }
        if (!found)
            throw Error("no VirtualMachine spec named " + name + " in the database",
                        "`virtumancer status` with no name lists every VM it knows");
    }
    if (a.vms.empty())
        for (const auto& s : d.state.vms) vms.push_back(&s);

    PlanOptions popts;
    popts.pending_delete = d.pending_delete;
    popts.revision = d.revision;
    for (const Spec* s : vms) popts.targets.push_back(s->host + "/vm/" + s->obj.name());
    Plan plan = make_plan(d.state, observed, popts);

    Store store(*db);
    std::vector<TaskRow> tasks = store.tasks(0, "");
    std::map<std::string, std::unique_ptr<Hypervisor>> conns;
    std::map<std::string, std::string> conn_errors;

    nlohmann::json out = nlohmann::json::array();
    int exit_code = kExitOk;
    for (const Spec* s : vms) {
        const std::string name = s->obj.name();
        nlohmann::json j = {{"host", s->host}, {"name", name}};
        const ObservedHost* oh = nullptr;
        for (const auto& h : observed)
            if (h.host == s->host) oh = &h;
        const ObservedDomain* od = oh && oh->reachable ? oh->domain(name) : nullptr;
        std::string state = !oh || !oh->reachable ? "unknown (host unreachable)"
                            : od                  ? od->state
                                                  : "not defined";
        j["state"] = state;
        j["desired_state"] = s->vm.state;
        if (oh && !oh->reachable) {
            j["error"] = oh->error;
            exit_code = kExitError;
        }

        // addresses
        nlohmann::json nics = nlohmann::json::array();
        nlohmann::json notes = nlohmann::json::array();
        if (od && od->state == "running") {
            try {
                auto& hv = conns[s->host];
                if (!hv && !conn_errors.count(s->host)) {
                    try {
                        hv = connect_host(d.state, s->host, over, t);
                    } catch (const Error& e) {
                        conn_errors[s->host] = e.what();
                    }
                }
                std::vector<std::string> why;
                if (!hv) why.push_back("cannot connect: " + conn_errors[s->host]);
                for (const auto& n : hv ? read_addresses(*hv, name, od->live_xml, "any", &why)
                                        : std::vector<NicAddresses>{}) {
                    nlohmann::json addrs = nlohmann::json::array();
                    for (const auto& x : n.addresses)
                        addrs.push_back({{"family", x.family},
                                         {"address", x.address},
                                         {"prefix", x.prefix},
                                         {"source", x.from}});
                    nics.push_back({{"mac", n.mac},
                                    {"type", n.type},
                                    {"network", n.source},
                                    {"addresses", addrs}});
                }
                for (const auto& w : why) notes.push_back(w);
            } catch (const Error& e) {
                notes.push_back(std::string("cannot read addresses: ") + e.what());
            }
        }
        j["nics"] = nics;
        if (!notes.empty()) j["address_notes"] = notes;

        // pending changes: the plan's changes and pending restarts of this VM
        nlohmann::json changes = nlohmann::json::array();
        std::string address = s->host + "/vm/" + name;
        for (const auto& c : plan.changes) {
            if (c.address() != address) continue;
            nlohmann::json diffs = nlohmann::json::array();
            for (const auto& df : c.diffs)
                diffs.push_back({{"field", df.field},
                                 {"live", df.before},
                                 {"desired", df.after},
                                 {"class", change_class_name(df.cls)}});
            changes.push_back({{"action", action_name(c.action)},
                               {"class", change_class_name(c.cls)},
                               {"diffs", diffs},
                               {"note", c.note}});
        }
        nlohmann::json pending = nlohmann::json::array();
        for (const auto& p : plan.pending) {
            if (p.address() != address) continue;
            for (const auto& df : p.diffs)
                pending.push_back({{"field", df.field},
                                   {"running", df.before},
                                   {"desired", df.after},
                                   {"effect", p.effect}});
        }
        j["changes"] = changes;
        j["pending_restart"] = pending;
        for (const auto& e : plan.errors)
            if (e.file == address || e.file.find(address) != std::string::npos)
                j["plan_error"] = e.message;

        // the last apply and the last recorded check (sync_status)
        // the newest run with a task of this VM, and that run's tasks of it
        std::string run_id;
        for (auto it = tasks.rbegin(); it != tasks.rend() && run_id.empty(); ++it)
            if (it->target_type == "vm" && it->target_name == name) run_id = it->run_id;
        if (!run_id.empty()) {
            nlohmann::json steps = nlohmann::json::array();
            std::string status = "COMPLETED", started, finished, actor;
            for (const auto& tk : tasks) {
                if (tk.run_id != run_id || tk.target_type != "vm" || tk.target_name != name)
                    continue;
                steps.push_back({{"type", tk.type}, {"status", tk.status}});
                if (tk.status != "COMPLETED" && status == "COMPLETED") status = tk.status;
                if (started.empty() || tk.started_at < started) started = tk.started_at;
                if (tk.finished_at > finished) finished = tk.finished_at;
                actor = tk.actor;
            }
            j["last_apply"] = {{"run_id", run_id},        {"status", status},
                               {"actor", actor},          {"started_at", started},
                               {"finished_at", finished}, {"tasks", steps}};
        }
        if (auto sync = store.sync_status(s->host, name))
            j["last_check"] = vm_sync_status_name(*sync);

        // devices desired vs live
        std::vector<std::string> want = device_ids(s->obj), have;
        if (od) {
            try {
                const std::string& xml = od->live_xml.empty() ? od->inactive_xml : od->live_xml;
                have = device_ids(parse_xml(strip_live_only_domain(xml), domain_kind()));
            } catch (const std::exception& e) {
                j["devices_error"] = e.what();
            }
        }
        nlohmann::json devs = nlohmann::json::array();
        std::set<std::string> live(have.begin(), have.end()), desired(want.begin(), want.end());
        for (const auto& id : want)
            devs.push_back({{"device", id}, {"desired", true}, {"live", live.count(id) > 0}});
        for (const auto& id : have)
            if (!desired.count(id))
                devs.push_back({{"device", id}, {"desired", false}, {"live", true}});
        j["devices"] = devs;
        out.push_back(j);
    }

    if (a.json) {
        std::cout << out.dump(2) << "\n";
        return exit_code;
    }
    for (const auto& j : out) {
        std::cout << "vm " << j["name"].get<std::string>() << " (host "
                  << j["host"].get<std::string>() << "): " << j["state"].get<std::string>();
        if (j["state"] != j["desired_state"])
            std::cout << " (desired " << j["desired_state"].get<std::string>() << ")";
        std::cout << "\n";
        if (j.contains("error")) std::cout << "  error: " << j["error"].get<std::string>() << "\n";
        std::cout << "  addresses:";
        bool any = false;
        for (const auto& n : j["nics"]) {
            std::cout << "\n    " << n["mac"].get<std::string>() << " ("
                      << n["type"].get<std::string>()
                      << (n["network"].get<std::string>().empty()
                              ? ""
                              : " " + n["network"].get<std::string>())
                      << "):";
            if (n["addresses"].empty()) std::cout << " none";
            for (const auto& x : n["addresses"])
                std::cout << " " << x["address"].get<std::string>() << "/" << x["prefix"].get<int>()
                          << " (" << x["source"].get<std::string>() << ")";
            any = true;
        }
        if (!any) std::cout << " none";
        std::cout << "\n";
        if (j.contains("address_notes"))
            for (const auto& w : j["address_notes"])
                std::cout << "    note: " << w.get<std::string>() << "\n";
        if (j["changes"].empty() && j["pending_restart"].empty())
            std::cout << "  pending changes: none\n";
        for (const auto& c : j["changes"]) {
            std::cout << "  pending change: " << c["action"].get<std::string>() << " ("
                      << c["class"].get<std::string>() << ")\n";
            for (const auto& df : c["diffs"])
                std::cout << "    " << df["field"].get<std::string>() << ": "
                          << df["live"].get<std::string>() << " -> "
                          << df["desired"].get<std::string>() << " ("
                          << df["class"].get<std::string>() << ")\n";
        }
        for (const auto& p : j["pending_restart"])
            std::cout << "  pending until restart: " << p["field"].get<std::string>() << ": "
                      << p["running"].get<std::string>() << " -> "
                      << p["desired"].get<std::string>() << "\n";
        if (j.contains("last_apply")) {
            const auto& l = j["last_apply"];
            std::cout << "  last apply: " << l["status"].get<std::string>() << " at "
                      << l["finished_at"].get<std::string>() << " (run "
                      << l["run_id"].get<std::string>() << ":";
            for (const auto& tk : l["tasks"])
                std::cout << " " << tk["type"].get<std::string>() << " "
                          << tk["status"].get<std::string>() << ";";
            std::cout << ")\n";
        } else {
            std::cout << "  last apply: never\n";
        }
        if (j.contains("last_check"))
            std::cout << "  last check: " << j["last_check"].get<std::string>() << "\n";
        std::cout << "  devices (desired / live):\n";
        for (const auto& dv : j["devices"])
            std::cout << "    " << (dv["desired"].get<bool>() ? "desired" : "-      ") << " "
                      << (dv["live"].get<bool>() ? "live" : "-   ") << "  "
                      << dv["device"].get<std::string>() << "\n";
    }
    return exit_code;
}

} // namespace

void register_status(CLI::App& app, Globals& g, Runner& run) {
    auto a = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand(
        "status", "Per VM: power state, addresses (DHCP lease, guest agent or ARP, with the "
                  "source), pending changes (as plan finds them), the last apply and check, and "
                  "its devices desired vs live");
    cmd->add_option("vms", a->vms, "VM names (default: every VM spec)");
    cmd->add_flag("--json", a->json, "print the status as JSON");
    cmd->add_option("--host-uri", a->obs.host_uris, "NAME=URI: override a Host's URI (repeatable)");
    add_host_timeout_options(cmd, a->obs.timeouts);
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_status(g, *a); }; });
}

} // namespace virtumancer::cli
