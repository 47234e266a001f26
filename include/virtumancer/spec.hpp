// The YAML spec language: files -> DesiredState, with diagnostics at file:line:col.
// Also the other direction (model -> YAML, for import) and the JSON Schema of the format.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "virtumancer/diag.hpp"
#include "virtumancer/model.hpp"

namespace virtumancer {

struct SpecFile {
    std::string path;         // as found (relative to the cwd when given relative)
    std::string content_hash; // hex digest of the file bytes
    unsigned long long size = 0;
};

struct SpecLoadResult {
    DesiredState state; // valid only when !diags.has_errors()
    Diagnostics diags;
    std::vector<SpecFile> files;
    size_t files_parsed = 0; // files whose YAML was parsed (0 when skipped)
    bool skipped = false;    // the `skip_if` of load_spec_files said the files are unchanged
};

// Finds *.yaml / *.yml recursively under each path (a file is taken as is), parses every
// document, applies documented defaults, validates (types, ranges, allowed values,
// references, duplicates, conflicts) and reports every problem at once.
SpecLoadResult load_spec_files(const std::vector<std::string>& paths);

// Same, but first reads and hashes every file; when all could be read and
// `skip_if(files)` is true, returns with `skipped` set, `files` filled and nothing parsed
// (state empty, no diagnostics). Used to skip a load whose files equal the last load's.
using SpecFilesPredicate = std::function<bool(const std::vector<SpecFile>&)>;
SpecLoadResult load_spec_files(const std::vector<std::string>& paths,
                               const SpecFilesPredicate& skip_if);

// Same, from in-memory text (tests); `name` is the file name used in diagnostics.
SpecLoadResult load_spec_text(const std::string& name, const std::string& text);

// Model -> YAML document(s). Fields equal to their documented default are left out.
std::string emit_host_yaml(const HostSpec& h);
std::string emit_spec_yaml(const std::string& kind /* VirtualMachine|StoragePool|Volume|Network */,
                           const Spec& s);

// The JSON Schema (draft-07) of the spec format, generated from the descriptors.
std::string spec_json_schema();

// The per-kind key tables and the defaults table of docs/spec-reference.md (Markdown), printed
// by `virtumancer schema --markdown`.
std::string spec_reference_markdown();

// Names must be safe as libvirt names and file names: [A-Za-z0-9][A-Za-z0-9._-]{0,63}, no "..".
bool is_safe_name(const std::string& name, std::string* why = nullptr);

// Stable MAC for an interface without one: 52:54:00 + 3 bytes of hash(host, vm, index).
std::string derived_mac(const std::string& host, const std::string& vm, int index);

// What a VM's derived MACs hash (the `vm` of derived_mac): its spec `uuid` when it sets one,
// so the MACs survive a rename; else its name.
std::string mac_seed(const Object& vm);

} // namespace virtumancer
