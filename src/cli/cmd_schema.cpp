// `virtumancer schema`: the JSON Schema (draft-07) of the spec format, generated from the
// descriptors. `--markdown` (hidden) prints the key tables of docs/spec-reference.md.
#include <iostream>

#include "commands.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer::cli {

void register_schema(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto markdown = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("schema", "Print the JSON Schema of the spec format");
    cmd->add_flag("--markdown", *markdown, "print the key reference tables (Markdown) instead")
        ->group("");
    cmd->callback([&run, markdown] {
        run = [markdown] {
            std::cout << (*markdown ? spec_reference_markdown() : spec_json_schema());
            return kExitOk;
        };
    });
}

} // namespace virtumancer::cli
