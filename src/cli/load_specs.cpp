// load_specs: see load_specs.hpp.
#include "load_specs.hpp"

#include <iostream>

#include "virtumancer/actor.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer::cli {

std::string SpecsLoaded::line() const {
    if (skipped)
        return "nothing changed (" + std::to_string(files) +
               " files unchanged since the latest load): 0 inserted, 0 updated, 0 marked for "
               "deletion";
    if (preview)
        return "speculative load of revision " + summary.revision +
               ", not saved (the database is unchanged): " + std::to_string(summary.inserted) +
               " inserted, " + std::to_string(summary.updated) + " updated, " +
               std::to_string(summary.unchanged) + " unchanged, " +
               std::to_string(summary.marked_for_deletion) + " marked for deletion";
    return "loaded revision " + summary.revision + ": " + std::to_string(summary.inserted) +
           " inserted, " + std::to_string(summary.updated) + " updated, " +
           std::to_string(summary.unchanged) + " unchanged, " +
           std::to_string(summary.marked_for_deletion) + " marked for deletion";
}

SpecsLoaded load_specs(Database& db, const std::vector<std::string>& paths,
                       const std::string& actor, LoadMode mode) {
    Store store(db);
    SpecLoadResult r = load_spec_files(paths, [&](const std::vector<SpecFile>& files) {
        return store.same_as_last_load(files, paths);
    });
    SpecsLoaded out;
    out.files = r.files.size();
    out.files_parsed = r.files_parsed;
    if (r.skipped) {
        out.ok = out.skipped = true;
        return out;
    }
    r.diags.sort();
    for (const auto& d : r.diags.items()) std::cerr << d.to_string() << "\n";
    if (r.diags.has_errors()) {
        out.errors = static_cast<int>(r.diags.error_count());
        return out;
    }
    std::vector<std::string> hashes;
    for (const auto& f : r.files) hashes.push_back(f.content_hash);
    // Ctrl-C now ends the process inside the load's one transaction: SQLite rolls it back.
    set_interrupt_note("the load was not committed: the database holds what it held before");
    if (mode == LoadMode::speculative) {
        out.preview = store.preview_desired(r, spec_revision(paths, hashes), actor, paths);
        out.summary = out.preview->summary;
        set_interrupt_note("the speculative load was rolled back: the database holds what it "
                           "held before");
        out.ok = true;
        return out;
    }
    out.summary = store.save_desired(r, spec_revision(paths, hashes), actor, paths);
    set_interrupt_note("the specs had been loaded (revision " + out.summary.revision +
                       "); nothing more was done");
    out.ok = true;
    return out;
}

} // namespace virtumancer::cli
