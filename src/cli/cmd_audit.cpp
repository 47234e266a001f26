#include "commands.hpp"

namespace virtumancer::cli {

void register_audit(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("audit", "List audit log entries");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("audit"); }; });
}

} // namespace virtumancer::cli
