#include "commands.hpp"

namespace virtumancer::cli {

void register_import(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("import", "Write specs for existing domains (from XML files or a live host)");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("import"); }; });
}

} // namespace virtumancer::cli
