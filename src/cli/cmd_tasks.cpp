#include "commands.hpp"

namespace virtumancer::cli {

void register_tasks(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("tasks", "List recorded tasks");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("tasks"); }; });
}

} // namespace virtumancer::cli
