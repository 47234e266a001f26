#include "commands.hpp"

namespace virtumancer::cli {

void register_apply(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("apply", "Execute a plan on the hosts, recording tasks and audit entries");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("apply"); }; });
}

} // namespace virtumancer::cli
