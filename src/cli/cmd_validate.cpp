#include "commands.hpp"

namespace virtumancer::cli {

void register_validate(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("validate", "Parse and check specs; report every error as file:line:col");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("validate"); }; });
}

} // namespace virtumancer::cli
