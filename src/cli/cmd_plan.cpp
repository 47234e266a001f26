#include <fstream>
#include <iostream>

#include "access_cli.hpp"
#include "commands.hpp"
#include "pipeline.hpp"
#include "plan_output.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/planner.hpp"

namespace virtumancer::cli {

namespace {
struct PlanArgs {
    ObserveArgs obs;
    std::vector<std::string> targets;
    bool json = false, detailed = false, prune = false, restart_pending = false,
         speculative = false;
    std::string out, actor;
};
} // namespace

void register_plan(CLI::App& app, Globals& g, Runner& run) {
    auto a = std::make_shared<PlanArgs>();
    auto* cmd = app.add_subcommand(
        "plan", "Compare the desired state (database; spec PATHs are loaded first, or with "
                "--speculative only planned) with live libvirt and print the ordered plan, each "
                "change classified as live, next-boot, restart or replace");
    add_observe_options(cmd, a->obs);
    cmd->add_flag("--speculative", a->speculative,
                  "plan the spec PATHs without loading them: the database is left exactly as "
                  "it was (for pull requests: only reviewed specs should change the shared "
                  "desired state). Needs no permission. The plan cannot be applied: --out is "
                  "refused and `apply --plan` refuses its --json");
    cmd->add_option("--target", a->targets, "KIND/NAME: restrict the plan (repeatable)");
    cmd->add_flag("--json", a->json, "print the plan as JSON (stable, versioned format)");
    cmd->add_option("--out", a->out, "save the plan (with fingerprints) for `apply --plan`");
    cmd->add_flag("--detailed-exitcode", a->detailed,
                  "exit 0 no changes, 1 error, 2 changes or pending changes on running VMs");
    cmd->add_flag("--prune", a->prune,
                  "delete managed objects whose spec was removed (snapshots, VMs, volumes, pools, "
                  "networks; never one something on the host still uses)");
    cmd->add_flag("--restart-pending", a->restart_pending,
                  "plan a restart of the running VMs (--target limits which) whose pending "
                  "changes need one, as `apply --restart-pending` does");
    cmd->add_option("--actor", a->actor,
                    "plan as this actor: its denied steps are marked (default: "
                    "VIRTUMANCER_ACTOR, the CI user, the OS user; on PostgreSQL the login)");
    cmd->callback([&g, &run, a] {
        run = [&g, a] {
            if (a->speculative && !a->out.empty())
                throw Error("--out saves a plan for `apply --plan`, and a speculative plan "
                            "cannot be applied (its specs are not in the database); nothing "
                            "was planned",
                            "drop --out (--json > FILE keeps it for review); to apply, load the "
                            "reviewed specs and plan them: virtumancer plan specs/ --out " +
                                a->out + ", then virtumancer apply --plan " + a->out);
            auto db = Database::open_for_reading(g.db_path);
            set_command_actor(a->actor);
            Identity who = resolve_identity(*db, a->actor);
            note_open_mode(std::cerr, who);
            auto [d, observed] =
                desired_and_observed(*db, a->obs.paths, parse_host_uris(a->obs.host_uris),
                                     a->obs.parallelism, a->obs.timeouts, a->speculative);
            PlanOptions opts;
            opts.prune = a->prune;
            opts.targets = a->targets;
            opts.restart_pending = a->restart_pending;
            opts.pending_delete = d.pending_delete;
            opts.revision = d.revision;
            Plan p = make_plan(d.state, observed, opts);
            p.revision_id = d.revision_id;
            p.speculative = a->speculative;
            if (!a->out.empty()) write_file_atomic(a->out, plan_to_json(p));
            if (a->json)
                std::cout << with_access_json(plan_to_json(p), who, p) << "\n";
            else
                print_plan(std::cout, p, use_color());
            if (!a->out.empty() && !a->json)
                std::cout << "Saved the plan to " << a->out
                          << "; apply exactly it with: virtumancer apply --plan " << a->out << "\n";
            if (a->speculative && !a->json)
                std::cout << "\nSpeculative plan: the specs given were planned, not loaded; the "
                             "database is unchanged and this plan cannot be applied. Once they "
                             "are reviewed and merged: virtumancer plan specs/ --out plan.json, "
                             "then virtumancer apply --plan plan.json\n";
            auto denied = denied_steps(who, p);
            print_denials(a->json ? std::cerr : std::cout, *db, who, p, denied);
            bool err = false;
            for (const auto& e : p.errors) err |= e.severity == Severity::Error;
            if (err || (a->detailed && !denied.empty())) return kExitError;
            if (a->detailed && !p.settled()) return kExitChanges;
            return kExitOk;
        };
    });
}

} // namespace virtumancer::cli
