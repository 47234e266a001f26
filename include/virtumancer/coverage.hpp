// Typed coverage of the XML codec: how much of a document lands in typed fields rather than
// in residue XML fragments (Object::extra_xml). Exact, by counting items on both sides.
//
// An "item" is one attribute occurrence (namespace declarations excluded), one non-blank
// leaf-text occurrence, or one empty element without attributes (its presence is the value:
// <acpi/>, <readonly/>). Items are identified by their path from the document's root element,
// e.g. "devices/disk/driver/@cache", "memory" (text), "features/acpi" (presence).
// <metadata> content is opaque application data kept verbatim by design; it is counted apart
// (metadata_items) and left out of the coverage figures.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "virtumancer/model.hpp"

namespace virtumancer {

struct Coverage {
    std::map<std::string, long long> items;   // path -> occurrences in the original XML
    std::map<std::string, long long> untyped; // path -> occurrences left in residues
    long long metadata_items = 0;             // items inside <metadata> (not in the figures)

    long long total() const;
    long long untyped_total() const;
    long long typed() const { return total() - untyped_total(); }
    double typed_percent() const; // 100 when there is nothing to type
    void add(const Coverage& other);
    // Paths whose residue count exceeds the original count (must be empty: a residue may
    // only hold what the document held).
    std::map<std::string, long long> surplus() const;
};

// Counts the items of `xml` (the document `parsed` was parsed from) and the items left in the
// residues of `parsed` and its children, recursively.
Coverage measure_coverage(std::string_view xml, const Object& parsed);

// Items of one element's subtree by path, each path prefixed with `prefix` (the root
// element's own name is not part of the paths). Throws Error on malformed XML.
std::map<std::string, long long> count_xml_items(std::string_view element_xml,
                                                 const std::string& prefix = {});

} // namespace virtumancer
