// The load step shared by `load` and by plan/apply/drift given spec paths: skip the whole
// load when every file has the content hash the latest load recorded (nothing is parsed or
// written), else parse and validate everything and save it in one transaction (or, for
// plan --speculative, read it back inside that transaction and roll it back).
#pragma once
#include <optional>
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
    LoadSummary summary; // when ok && !skipped
    // LoadMode::speculative, ok && !skipped: the desired state the load would make (when
    // skipped, the database already holds it).
    std::optional<LoadPreview> preview;
    std::string line() const; // "loaded revision ...: N inserted, ..." or "nothing changed ..."
};

enum class LoadMode {
    keep,       // the load is committed: the database's desired state
    speculative // the load is read back inside its transaction and rolled back (Store::
                // preview_desired): the database is left as it was
};

// Prints the diagnostics to stderr. Throws Error when saving fails.
SpecsLoaded load_specs(Database& db, const std::vector<std::string>& paths,
                       const std::string& actor, LoadMode mode = LoadMode::keep);

} // namespace virtumancer::cli
