#include "commands.hpp"

namespace virtumancer::cli {

void register_plan(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("plan", "Compare desired state with live libvirt and print the ordered, classified plan");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("plan"); }; });
}

} // namespace virtumancer::cli
