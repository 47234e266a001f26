#include "commands.hpp"

namespace virtumancer::cli {

void register_render(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("render", "Print the libvirt XML virtumancer would define for an object");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("render"); }; });
}

} // namespace virtumancer::cli
