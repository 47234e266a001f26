// Internals of the spec loader shared by its translation units (not a public interface).
#pragma once
#include "virtumancer/digest.hpp"
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "virtumancer/descriptors.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/model.hpp"

namespace virtumancer::spec {

// ------------------------------------------------------------------ limits (hostile input)
inline constexpr unsigned long long kMaxFileBytes = 16ULL << 20; // 16 MiB
inline constexpr size_t kMaxNodes = 1000000;                     // per file, aliases counted
inline constexpr int kMaxDepth = 256;                            // nesting of the raw text

// ------------------------------------------------------------------ a parsed YAML tree
// Built from libyaml's parser events: a plain tree with positions; aliases are expanded by
// copying (within the node budget) and duplicate keys are reported while building.
struct YEntry;

struct YNode {
    enum Type { Null, Scalar, Seq, Map } type = Null;
    std::string value;     // scalar text
    bool plain = true;     // scalar was unquoted (so `5` is an integer and `"5"` a string)
    int line = 0, col = 0; // 1-based
    std::vector<YEntry> map;
    std::vector<YNode> seq;

    const YNode* find(const std::string& key) const;
};

// A mapping entry (not std::pair, which needs YNode complete: clang rejects it).
struct YEntry {
    YNode first, second;
    YEntry() = default;
    YEntry(YNode k, YNode v) : first(std::move(k)), second(std::move(v)) {}
};

struct Doc {
    YNode root;
    std::string file;
};

// Checks the raw bytes (size, UTF-8, control characters, nesting depth) and parses every
// document. Problems go to `diags`; returns the documents that parsed.
std::vector<Doc> parse_yaml_text(const std::string& file, const std::string& text,
                                 Diagnostics& diags);

// ------------------------------------------------------------------ small helpers

size_t edit_distance(const std::string& a, const std::string& b);
// " (did you mean `x`?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& v, const std::string& sep);

// Parses a size (`2GiB`, `512 MiB`, `1000000` bytes, `20GB` = 20*10^9). false + *err on error.
bool parse_size(const std::string& text, unsigned long long* bytes, std::string* err);
// Bytes -> the shortest exact spelling (`2GiB`, `1536MiB`, `1000` bytes as plain integer).
std::string format_size(unsigned long long bytes);
// At most `max` bytes of `s` for a message, cut at a UTF-8 character boundary ("..." appended
// when cut); bytes that are not valid UTF-8 are shown as \xNN, so JSON output never breaks.
std::string excerpt(const std::string& s, size_t max);

// ------------------------------------------------------------------ defaults and ranges
// The defaults of descriptor fields live in the descriptors (FieldDesc::default_value,
// default_from, default_doc, late_default, range). This is the documented list of all defaults
// for docs/spec-reference.md: every descriptor field with one, walked kind by kind, then the
// spec-only settings (kind "VirtualMachine", "Network", "Snapshot"; spec_only_defaults()).
struct SpecDefault {
    std::string kind;
    std::string key;
    std::string shown; // for docs: "virtio", "vda, vdb, ... (auto)"
};
const std::vector<SpecDefault>& spec_defaults();
// The documented defaults of keys that are not descriptor fields with a default: settings of a
// spec document, and notes on fields left unset. tests/unit/field_tables_test.cpp checks that
// each names a setting key or a descriptor field.
const std::vector<SpecDefault>& spec_only_defaults();
// How a field's default is shown in docs ("" none): default_doc, else default_value.
std::string shown_default(const FieldDesc& f);

// The default of `key` for `o` (the descriptor's default_from, else its default_value), or
// nullopt.
std::optional<std::string> default_for(const KindDesc& k, const std::string& key, const Object& o);
std::optional<std::string> default_for(const KindDesc& k, const FieldDesc& f, const Object& o);
// Keys of `k` that have a default computed in a later pass (disk target, interface mac, ...):
// when absent from a model object, emit writes `key: null` to keep them absent.
bool has_late_default(const KindDesc& k, const std::string& key, const Object& o);

// The YAML spelling of a descriptor default (`true` for a Bool "yes"), for docs and schema.
std::string yaml_spelling(const FieldDesc& f, const std::string& model_value);

// Model spelling of a descriptor's default_value (written in YAML spelling in the table).
std::string model_default(const FieldDesc& f);

// Spec-only keys of a VirtualMachine document, besides kind/name/host/apiVersion.
struct SpecKey {
    std::string key;
    std::string type; // "string", "integer", "boolean", "enum"
    std::vector<std::string> allowed;
    std::string shown_default;
    std::string doc;
    std::optional<IntRange> range{}; // accepted values of an integer setting
    std::vector<SpecKey> members{};  // type "object": its keys
};
const std::vector<SpecKey>& vm_setting_keys();
// The keys of a VM's `cloud_init:` mapping (spec_cloud_init.cpp).
const std::vector<SpecKey>& cloud_init_keys();
// Reads a VM's `cloud_init:` into `out` (enabled when it is valid): the seed's meta-data with
// its defaults and the content hash; user_data_file / user_data_env are read for the hash only.
void load_cloud_init(const std::string& file, Diagnostics& diags, const YNode& node,
                     const std::string& vm, const Object& obj, CloudInitSpec& out);
// A YAML node as block-style YAML text (the same data, one canonical spelling).
std::string cloud_init_yaml_text(const YNode& n);
const std::vector<SpecKey>& wait_for_ip_keys(); // the keys of `wait_for_ip:`
const std::vector<SpecKey>& host_keys();
const std::vector<SpecKey>& snapshot_keys();

// Keys whose literal value is refused (`password` on graphics): why, and what to write instead.
struct RefusedKey {
    std::string why, remedy;
};
std::optional<RefusedKey> refused_key(const KindDesc& k, const std::string& key);

// The YAML keys of a kind's child lists.
std::vector<const KindDesc*> child_kinds(const KindDesc& k);

// Where each key and list item of every document was, for the cross-document checks. About
// 50 per VM spec, so compact: file names and keys are stored once, an entry is 5 integers
// (a map of "kind|host|name|child|key" strings to SourceRefs took ~100 MiB at 10,000 specs).
class Positions {
  public:
    // Records a place; a later call for the same (document, child, key) replaces it.
    void set(const std::string& doc_kind, const std::string& host, const std::string& name,
             int child, const std::string& key, const std::string& file, int line, int col);
    std::optional<SourceRef> find(const std::string& doc_kind, const std::string& host,
                                  const std::string& name, int child, const std::string& key) const;
    // Takes every entry of `later` (loaded after this one): its places win.
    void merge_later(const Positions& later);

  private:
    struct Entry {
        int child;
        uint32_t key, file;
        int line, col;
    };
    static std::string doc_id(const std::string& kind, const std::string& host,
                              const std::string& name);
    // Records `e` in a document's entries, replacing the entry of the same (child, key).
    static void put(std::vector<Entry>& v, const Entry& e);
    uint32_t intern(std::vector<std::string>& table,
                    std::unordered_map<std::string, uint32_t>& index, const std::string& s);
    std::unordered_map<std::string, std::vector<Entry>> docs_;
    std::vector<std::string> files_, keys_;
    std::unordered_map<std::string, uint32_t> file_index_, key_index_;
};

struct Annotations {
    Positions pos;
    std::set<std::string> nulls; // annot_key()s of keys set to null: "leave unset, no default"
};
// `doc_kind` is the document kind (VirtualMachine, Volume, ...); child -1 for the document
// itself; `key` a YAML key, or "item" for a list item's own position.
std::string annot_key(const std::string& doc_kind, const std::string& host, const std::string& name,
                      int child, const std::string& key);

struct Loaded {
    DesiredState state;
    Annotations notes;
};

// Converts one document into `out` (stage 1: types, ranges, allowed values, required keys).
void load_document(const Doc& doc, Loaded& out, Diagnostics& diags);
// Stage 2: references, duplicates, conflicts, defaults that need other documents, hashes.
void check_documents(Loaded& out, Diagnostics& diags);

// The per-kind key tables and the defaults table of docs/spec-reference.md (Markdown).
std::string reference_markdown();

// Canonical text of an object (fields, residue, children) for hashing.
std::string canonical(const Object& o);

} // namespace virtumancer::spec
