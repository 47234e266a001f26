#include "commands.hpp"

namespace virtumancer::cli {

void register_load(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("load", "Validate specs and write them into the database (one transaction)");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("load"); }; });
}

} // namespace virtumancer::cli
