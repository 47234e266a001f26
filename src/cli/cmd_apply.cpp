// virtumancer apply [PATH...] | apply --plan FILE: plan (or load a saved plan and check it is
// not stale), confirm, take the apply lock, execute with tasks and audit, verify, summarise.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "access_cli.hpp"
#include "apply_output.hpp"
#include "commands.hpp"
#include "image_source.hpp"
#include "pipeline.hpp"
#include "plan_output.hpp"
#include "virtumancer/actor.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {

struct ApplyArgs {
    std::vector<std::string> paths, host_uris, targets;
    bool auto_approve = false, json = false, prune = false, restart_pending = false;
    std::string plan_file, actor;
    int parallelism = 4;
    double lock_timeout = 0;
    HostTimeouts timeouts;
};

// One connection per host, made on first use and shared by the worker threads. Hosts connect
// independently (a host that does not answer holds up only its own steps), and a failed
// connect is remembered: the host's later steps fail at once with the same error.
class CliHosts : public HostConnector {
  public:
    CliHosts(const DesiredState& d, std::map<std::string, std::string> over, HostTimeouts t)
        : desired_(d), over_(std::move(over)), timeouts_(t) {}
    Hypervisor& hypervisor(const std::string& host) override {
        std::shared_ptr<Slot> slot;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto& s = slots_[host];
            if (!s) s = std::make_shared<Slot>();
            slot = s;
        }
        std::lock_guard<std::mutex> lock(slot->mu);
        if (slot->hv) return *slot->hv;
        if (slot->failed) throw *slot->failed;
        try {
            slot->hv = connect_host(desired_, host, over_, timeouts_);
        } catch (const Error& e) {
            slot->failed = std::make_unique<Error>(e);
            throw;
        }
        return *slot->hv;
    }

  private:
    struct Slot {
        std::mutex mu;
        std::unique_ptr<Hypervisor> hv;
        std::unique_ptr<Error> failed;
    };
    const DesiredState& desired_;
    std::map<std::string, std::string> over_;
    HostTimeouts timeouts_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Slot>> slots_;
};

// Holds the apply lock for the lifetime of the object.
class LockGuard {
  public:
    explicit LockGuard(Store& s) : s_(s) {}
    ~LockGuard() {
        try {
            s_.unlock();
        } catch (...) { // safe: a destructor must not throw; the next apply takes over a lock
        }               // whose process has exited (Store::try_lock)
    }

  private:
    Store& s_;
};

void take_lock(Store& store, const std::string& actor, double timeout) {
    auto start = std::chrono::steady_clock::now();
    bool waited_notice = false;
    while (true) {
        bool took_over = false;
        auto holder = store.try_lock(actor, &took_over);
        if (!holder) {
            if (took_over)
                std::cerr << "warning: took over the apply lock left by an apply that is no "
                             "longer running (it was killed, crashed or lost its database "
                             "connection); its unfinished tasks are marked INTERRUPTED\n";
            return;
        }
        double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::string who = "actor " + holder->actor + ", pid " + std::to_string(holder->pid) +
                          " on host " + holder->hostname + ", since " + holder->since;
        if (waited >= timeout)
            throw Error("another apply holds the lock on this database (" + who + ")" +
                            (timeout > 0
                                 ? "; waited " + std::to_string(static_cast<int>(timeout)) + "s"
                                 : ""),
                        "wait for it to finish, or pass --lock-timeout SECONDS to wait for it");
        // Said once the holder is known (PostgreSQL: it records itself just after taking the
        // server's lock, and a load in progress can delay that).
        if (!waited_notice && holder->pid != 0) {
            std::cerr << "waiting up to " << timeout << "s for the apply lock (" << who << ")\n";
            waited_notice = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw Error("cannot read the saved plan " + path,
                    "make one with: virtumancer plan --out " + path);
    std::ostringstream os;
    os << f.rdbuf();
    return os.str();
}

Plan load_saved_plan(const std::string& path) {
    Plan p;
    try {
        p = plan_from_json(read_file(path));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error("the saved plan " + path + " is not a virtumancer plan: " + e.what(),
                    "make one with: virtumancer plan --out " + path);
    }
    if (p.speculative)
        throw Error("the saved plan " + path +
                        " is a speculative plan (plan --speculative): its specs were never "
                        "loaded into the database, so it cannot be applied; nothing was executed",
                    "load the reviewed specs and plan them, then apply that plan: virtumancer "
                    "plan specs/ --out plan.json, then virtumancer apply --plan plan.json");
    return p;
}

bool confirm(bool json) {
    std::ostream& os = json ? std::cerr : std::cout;
    os << "\nApply these changes? Only 'yes' is accepted: " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "yes";
}

// After executing: a database that stopped answering (PostgreSQL: the server ended the
// session or the network dropped it) made every step after that fail to record its task, so
// none of them ran; one that was running when it happened may have changed its host without a
// record of it. Said once, plainly, with what to do.
void check_database_still_answers(Store& store) {
    try {
        store.latest_revision_id();
    } catch (const std::exception& e) {
        throw Error(std::string("the connection to the database was lost during the apply (") +
                        e.what() +
                        "). Steps that had not started were not run; a step running at that "
                        "moment may have changed its host without the database recording it "
                        "(\"recording it failed\" above) and its task is left RUNNING",
                    "when the database answers again (check the server and the network to it), "
                    "run the same `virtumancer apply` again: it marks the tasks this run left "
                    "RUNNING as INTERRUPTED and plans from what the hosts hold now");
    }
}

// wait_for_ip after apply: the VMs in the plan's scope (its targets) whose steps all
// succeeded. Prints what it finds; false when a wait failed.
bool wait_for_addresses(const DesiredState& desired, const std::vector<ObservedHost>& observed,
                        const Plan& plan, const ApplyResult* r, HostConnector& hosts, Store& store,
                        ApplyOptions opts, bool json) {
    std::vector<std::string> failed_vms;
    if (r)
        for (size_t i = 0; i < plan.steps.size() && i < r->steps.size(); ++i)
            if (r->steps[i].status != StepStatus::Completed && plan.steps[i].kind == "vm")
                failed_vms.push_back(plan.steps[i].host + "/" + plan.steps[i].name);
    std::vector<std::string> vms;
    for (const auto& s : desired.vms) {
        if (!s.vm.wait_for_ip.enabled) continue;
        std::string key = s.host + "/" + s.obj.name();
        bool in_scope = opts.plan_options.targets.empty();
        for (const auto& t : opts.plan_options.targets)
            in_scope = in_scope || t == "vm/" + s.obj.name() || t == s.host + "/vm/" + s.obj.name();
        if (in_scope && std::find(failed_vms.begin(), failed_vms.end(), key) == failed_vms.end())
            vms.push_back(key);
    }
    if (vms.empty()) return true;
    if (r) opts.run_id = r->run_id;
    std::ostream& os = json ? std::cerr : std::cout;
    auto results = wait_for_ips(desired, vms, dhcp_networks(desired, observed), hosts, store, opts,
                                [&](const std::string& line) { os << line << std::endl; });
    bool ok = true;
    for (const auto& w : results) {
        ok = ok && w.ok;
        if (json) {
            nlohmann::json e = {{"host", w.host},
                                {"vm", w.vm},
                                {"ok", w.ok},
                                {"seconds", w.seconds},
                                {"nics", nics_json(w.nics)}};
            if (!w.ok) e["error"] = w.error;
            std::cout << json_event_line("addresses", "addresses", e.dump()) << std::endl;
        } else if (!w.ok && !w.interrupted) {
            std::cerr << "error: " << w.error << "\n";
        }
    }
    return ok;
}

bool has_errors(const Plan& p) {
    for (const auto& e : p.errors)
        if (e.severity == Severity::Error) return true;
    return false;
}

int run_apply(Globals& g, const ApplyArgs& a) {
    if (!a.plan_file.empty() &&
        (!a.paths.empty() || a.prune || !a.targets.empty() || a.restart_pending))
        throw Error("--plan executes a saved plan as it is: spec paths, --prune, --target and "
                    "--restart-pending cannot be combined with it",
                    "pass them to `virtumancer plan --out FILE` instead");
    Plan saved; // read (a malformed or speculative one refused) before anything is locked
    if (!a.plan_file.empty()) saved = load_saved_plan(a.plan_file);
    auto db = Database::open(g.db_path);
    Store store(*db);
    set_command_actor(a.actor);
    Identity who = resolve_identity(*db, a.actor);
    std::string actor = who.name;

    LockGuard unlock_at_exit(store);
    take_lock(store, actor, a.lock_timeout);
    // Ctrl-C from here on: the apply lock is released (through a connection of its own).
    set_interrupt_cleanup([path = g.db_path] { Store::abandon(path); },
                          "the apply lock was released");
    if (int n = store.mark_interrupted_tasks())
        std::cerr << "marked " << n << " task(s) left RUNNING by an apply that died as "
                  << "INTERRUPTED (see virtumancer tasks --status INTERRUPTED); this apply "
                     "continues from what the hosts hold now\n";

    auto over = parse_host_uris(a.host_uris);
    Desired d = desired_state(*db, a.paths);
    PlanOptions popts;
    popts.prune = a.prune;
    popts.targets = a.targets;
    popts.restart_pending = a.restart_pending;
    popts.pending_delete = d.pending_delete;
    popts.revision = d.revision;
    Plan plan;
    std::vector<ObservedHost> observed; // what the plan was made from (or checked against)
    if (!a.plan_file.empty()) {
        plan = std::move(saved);
        std::vector<std::string> hosts = plan_hosts(plan);
        DesiredState only;
        for (const auto& h : d.state.hosts)
            if (std::find(hosts.begin(), hosts.end(), h.name) != hosts.end())
                only.hosts.push_back(h);
        observed = observe_hosts(only, over, a.parallelism, a.timeouts);
        auto reasons = stale_reasons(plan, observed, store.latest_revision_id());
        if (!reasons.empty()) {
            std::string all;
            for (size_t i = 1; i < reasons.size() && i < 10; ++i) all += "; " + reasons[i];
            if (reasons.size() > 10)
                all += "; and " + std::to_string(reasons.size() - 10) + " more";
            throw Error("saved plan is stale: " + reasons[0] + all + ". Nothing was executed",
                        "make a new plan (virtumancer plan --out " + a.plan_file +
                            "), review it, and apply that");
        }
        // Verification plans with the options the saved plan was made with (it records them).
        popts.prune = plan.options.prune;
        popts.targets = plan.options.targets;
        popts.restart_pending = plan.options.restart_pending;
    } else {
        observed = observe_hosts(d.state, over, a.parallelism, a.timeouts);
        plan = make_plan(d.state, observed, popts);
        plan.revision_id = d.revision_id;
    }

    if (a.json)
        std::cout << json_event_line("plan", "plan", plan_to_json(plan)) << std::endl;
    else
        print_plan(std::cout, plan, use_color());
    bool plan_errors = has_errors(plan);
    if (auto denied = denied_steps(who, plan); !denied.empty()) {
        // Access control: nothing of the plan runs when the actor may not run one of its steps.
        print_denials(a.json ? std::cerr : std::cout, *db, who, plan, denied);
        audit_denials(*db, who, "apply", plan, denied);
        std::cerr << "error: " << denied.size() << " step(s) are DENIED for " << who.name
                  << " (see above); apply refuses the whole plan and executed nothing\n";
        return kExitError;
    }
    if (!plan.blocked.empty()) {
        // A blocked deletion or unsafe change: nothing of the plan runs (docs/safety.md).
        std::cerr << "error: " << plan.blocked.size()
                  << " change(s) are BLOCKED (see above); apply refuses the whole plan and "
                     "executed nothing\n";
        return kExitError;
    }
    if (plan.empty()) {
        if (a.json) {
            ApplyEvent sum;
            sum.type = "summary";
            make_apply_output(std::cout, ApplyOutputMode::Json, 0)->event(sum);
        } else {
            std::cout << "No changes.\n";
        }
        // wait_for_ip: VMs already running are waited for too (they may still be booting).
        ApplyOptions wopts;
        wopts.interrupted = interrupt_signal;
        wopts.actor = actor;
        wopts.plan_options = popts;
        CliHosts whosts(d.state, over, a.timeouts);
        set_interrupt_mode(InterruptMode::Finish);
        bool waited =
            wait_for_addresses(d.state, observed, plan, nullptr, whosts, store, wopts, a.json);
        if (int sig = interrupt_signal()) {
            (void)sig;
            store.unlock();
            return kExitInterrupted;
        }
        return plan_errors || !waited ? kExitError : kExitOk;
    }
    if (!a.auto_approve && !isatty(STDIN_FILENO))
        throw Error("apply needs confirmation but there is no terminal to ask on; nothing was "
                    "changed",
                    "pass --auto-approve, or review the plan first with `virtumancer plan "
                    "--out FILE` and run `virtumancer apply --plan FILE --auto-approve`");
    if (!a.auto_approve && !confirm(a.json)) {
        std::cerr << "Apply cancelled: nothing was changed.\n";
        return kExitError;
    }

    ApplyOptions opts;
    opts.interrupted = interrupt_signal;
    opts.parallelism = a.parallelism;
    opts.actor = actor;
    opts.desired = &d.state;
    opts.plan_options = popts;
    auto images = local_image_source();
    opts.images = images.get();
    CliHosts hosts(d.state, over, a.timeouts);
    ApplyOutputMode mode = a.json                  ? ApplyOutputMode::Json
                           : isatty(STDOUT_FILENO) ? ApplyOutputMode::Terminal
                                                   : ApplyOutputMode::Plain;
    auto sink = make_apply_output(std::cout, mode, static_cast<int>(plan.steps.size()));
    if (!a.json) std::cout << "\n";
    // Ctrl-C while executing: running steps finish (waits stop early), no new step starts.
    set_interrupt_cleanup([path = g.db_path] { Store::abandon(path); },
                          "the apply lock was released and this apply's RUNNING tasks marked "
                          "INTERRUPTED (the calls they made may still complete)");
    set_interrupt_mode(InterruptMode::Finish);
    ApplyResult r = apply_plan(plan, hosts, store, opts, *sink);
    check_database_still_answers(store);
    if (r.signal) {
        store.unlock();
        std::ostream& os = a.json ? std::cerr : std::cout;
        os << "The apply lock was released. Steps not run are listed above; tasks of steps that "
              "were stopped are INTERRUPTED (virtumancer tasks --status INTERRUPTED). Run "
              "`virtumancer plan` to see what is left to do."
           << std::endl;
        return kExitInterrupted;
    }
    bool waited = wait_for_addresses(d.state, observed, plan, &r, hosts, store, opts, a.json);
    if (interrupt_signal()) {
        store.unlock();
        std::ostream& os = a.json ? std::cerr : std::cout;
        os << "The apply lock was released; the wait for addresses was interrupted." << std::endl;
        return kExitInterrupted;
    }
    if (plan_errors && !a.json)
        std::cerr << "error: some hosts or objects could not be planned (see above); they were "
                     "not changed\n";
    return r.ok() && !plan_errors && waited ? kExitOk : kExitError;
}

} // namespace

void register_apply(CLI::App& app, Globals& g, Runner& run) {
    auto a = std::make_shared<ApplyArgs>();
    auto* cmd = app.add_subcommand(
        "apply", "Plan (spec PATHs are loaded first), confirm, and execute the plan on the "
                 "hosts, recording tasks and audit entries; or execute a saved plan (--plan)");
    cmd->add_option("paths", a->paths, "spec files or directories to load first");
    cmd->add_flag("--auto-approve", a->auto_approve, "do not ask for confirmation (CI)");
    cmd->add_option("--plan", a->plan_file,
                    "execute this saved plan (virtumancer plan --out) and nothing else; refused "
                    "when stale or speculative (plan --speculative)");
    cmd->add_option("--parallelism", a->parallelism, "actions run at once")
        ->check(CLI::Range(1, 64));
    add_host_timeout_options(cmd, a->timeouts);
    cmd->add_option("--detach-timeout", a->timeouts.detach_seconds,
                    "seconds a live device detach waits for the guest to release the device; "
                    "after that the step fails and the device is reported still attached")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    cmd->add_option("--lock-timeout", a->lock_timeout,
                    "seconds to wait for another apply to finish (default 0: fail at once)")
        ->check(CLI::Range(0.0, 86400.0));
    cmd->add_option("--actor", a->actor,
                    "who is applying (default: VIRTUMANCER_ACTOR, the CI user, the OS user)");
    cmd->add_flag("--json", a->json, "a stream of JSON events, one per line");
    cmd->add_option("--host-uri", a->host_uris, "NAME=URI: override a Host's URI (repeatable)");
    cmd->add_flag("--prune", a->prune,
                  "delete managed objects whose spec was removed (snapshots, VMs, volumes, pools, "
                  "networks; never one something on the host still uses)");
    cmd->add_option("--target", a->targets, "KIND/NAME: restrict the plan (repeatable)");
    cmd->add_flag("--restart-pending", a->restart_pending,
                  "restart running VMs (only the --target ones, when given) so that their "
                  "pending changes take effect, whatever their restart_policy (shutdown_timeout "
                  "and force_stop apply)");
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_apply(g, *a); }; });
}

} // namespace virtumancer::cli
