#include "commands.hpp"

namespace virtumancer::cli {

void register_schema(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto* cmd = app.add_subcommand("schema", "Print the JSON Schema of the spec format");
    cmd->allow_extras();
    cmd->callback([&run] { run = [] { return not_implemented("schema"); }; });
}

} // namespace virtumancer::cli
