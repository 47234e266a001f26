#include <iostream>

#include "commands.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer::cli {

int not_implemented(const std::string& name) {
    std::cerr << "error: `virtumancer " << name << "` is not implemented yet\n";
    return kExitError;
}

} // namespace virtumancer::cli
