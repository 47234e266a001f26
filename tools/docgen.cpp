// virtumancer-docgen: writes the man page or a completion script generated from the command
// tree (build time only; not installed). Usage: virtumancer-docgen man|bash|zsh OUT [DATE]
#include <fstream>
#include <iostream>

#include "../src/cli/commands.hpp"
#include "../src/cli/docgen.hpp"
#include "virtumancer_version.hpp"

int main(int argc, char** argv) {
    using namespace virtumancer::cli;
    if (argc < 3) {
        std::cerr << "usage: virtumancer-docgen man|bash|zsh OUT [DATE]\n";
        return 1;
    }
    Globals g; // the built-in defaults, not the environment's
    Runner run;
    auto app = make_app(g, run);
    const std::string what = argv[1];
    std::string text;
    if (what == "man")
        text = man_page(*app, VIRTUMANCER_VERSION, argc > 3 ? argv[3] : "");
    else if (what == "bash")
        text = bash_completion(*app);
    else if (what == "zsh")
        text = zsh_completion(*app);
    else {
        std::cerr << "virtumancer-docgen: unknown output " << what << "\n";
        return 1;
    }
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
        std::cerr << "virtumancer-docgen: cannot write " << argv[2] << "\n";
        return 1;
    }
    return 0;
}
