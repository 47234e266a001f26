// `virtumancer validate [PATH...] [--json]`: parse and check specs, print every diagnostic.
#include <iostream>

#include "commands.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer::cli {

namespace {

struct ValidateOpts {
    std::vector<std::string> paths;
    bool json = false;
};

int run_validate(const ValidateOpts& o) {
    SpecLoadResult r = load_spec_files(o.paths);
    r.diags.sort();
    size_t errors = r.diags.error_count();
    size_t warnings = r.diags.items().size() - errors;
    if (o.json) {
        std::cout << r.diags.json() << "\n";
    } else {
        for (const auto& d : r.diags.items()) std::cout << d.to_string() << "\n";
        const auto& s = r.state;
        size_t docs = s.hosts.size() + s.pools.size() + s.volumes.size() + s.networks.size() +
                      s.vms.size() + s.snapshots.size();
        std::cout << r.files.size() << (r.files.size() == 1 ? " file, " : " files, ") << docs
                  << (docs == 1 ? " document: " : " documents: ") << errors
                  << (errors == 1 ? " error, " : " errors, ") << warnings
                  << (warnings == 1 ? " warning" : " warnings") << "\n";
    }
    return errors > 0 ? kExitError : kExitOk;
}

} // namespace

void register_validate(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto opts = std::make_shared<ValidateOpts>();
    auto* cmd = app.add_subcommand(
        "validate",
        "Parse and check specs; report every error as file:line:col (exit 1 on errors)");
    cmd->add_option("paths", opts->paths, "spec files or directories (default: ./specs)");
    cmd->add_flag("--json", opts->json, "print the diagnostics as JSON");
    cmd->callback([&run, opts] { run = [opts] { return run_validate(*opts); }; });
}

} // namespace virtumancer::cli
