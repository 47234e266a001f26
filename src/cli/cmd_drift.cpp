#include "commands.hpp"

namespace virtumancer::cli {

void register_drift(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("drift", "Report differences between managed objects and their specs");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("drift"); }; });
}

} // namespace virtumancer::cli
