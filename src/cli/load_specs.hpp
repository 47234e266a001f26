// The load step shared by `load` and by plan/apply/drift given spec paths: skip the whole
// load when every file has the content hash the latest load recorded (nothing is parsed or
// written), else parse and validate everything and save it in one transaction.
#pragma once
#include <string>
#include <vector>

#include "virtumancer/database.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

struct SpecsLoaded {
    bool ok = false;      // false: spec errors (printed to stderr), nothing written
    int errors = 0;       // number of errors when !ok
    bool skipped = false; // files unchanged since the latest load: nothing parsed or written
    size_t files = 0, files_parsed = 0;
    LoadSummary summary;      // when ok && !skipped
    std::string line() const; // "loaded revision ...: N inserted, ..." or "nothing changed ..."
};

// Prints the diagnostics to stderr. Throws Error when saving fails.
SpecsLoaded load_specs(Database& db, const std::vector<std::string>& paths,
                       const std::string& actor);

} // namespace virtumancer::cli
