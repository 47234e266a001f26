// `virtumancer load [PATH...]`: validate specs and write them into the database in one
// transaction (nothing is written when any spec has an error).
#include <iostream>

#include "access_cli.hpp"
#include "commands.hpp"
#include "load_specs.hpp"
#include "virtumancer/actor.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {

struct LoadOpts {
    std::vector<std::string> paths;
    std::string actor;
};

int run_load(const Globals& g, LoadOpts o) {
    if (o.paths.empty()) o.paths = {"specs"};
    set_interrupt_note("nothing was loaded");
    auto db = Database::open(g.db_path);
    Identity who = resolve_identity(*db, o.actor);
    require_permission(*db, who, access::kSpecLoad, "load", "specs", o.paths.front());
    SpecsLoaded l = load_specs(*db, o.paths, who.name);
    if (!l.ok) {
        std::cerr << l.errors << " error(s) in the specs; nothing was loaded\n";
        return kExitError;
    }
    std::cout << l.line() << "\n";
    return kExitOk;
}

} // namespace

void register_load(CLI::App& app, Globals& g, Runner& run) {
    auto opts = std::make_shared<LoadOpts>();
    auto* cmd = app.add_subcommand(
        "load", "Validate specs and write them into the database in one transaction: new specs "
                "inserted, changed ones updated, removed ones marked for deletion (nothing is "
                "written when a spec has an error)");
    cmd->add_option("paths", opts->paths, "spec files or directories (default: ./specs)");
    cmd->add_option("--actor", opts->actor,
                    "who is loading (default: VIRTUMANCER_ACTOR, GITHUB_ACTOR, "
                    "GITLAB_USER_LOGIN, else the OS user)");
    cmd->callback([&run, &g, opts] { run = [&g, opts] { return run_load(g, *opts); }; });
}

} // namespace virtumancer::cli
