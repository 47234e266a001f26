// libvirt XML <-> canonical model, driven by the field descriptors. Lossless: anything
// without a typed field stays in Object::extra_xml and is rendered back in place.
#pragma once
#include <string>
#include <string_view>

#include "virtumancer/model.hpp"

namespace virtumancer {

// virtumancer's ownership marker namespace, placed in <metadata> of every object it defines.
inline constexpr const char* kMetadataNs = "https://virtumancer.dev/xmlns/owner/1";

struct OwnerMarker {
    std::string spec;     // "host/kind/name"
    std::string hash;     // spec content hash
    std::string revision; // load revision
    std::string db;       // owner id of the database that defined it ("" in older markers)
    bool present() const { return !spec.empty(); }
    // Defined from another virtumancer database (markers without a db id count as ours).
    bool foreign_to(const std::string& owner_id) const {
        return present() && !db.empty() && !owner_id.empty() && db != owner_id;
    }
};

// Parses an XML document whose root is `kind.element`. Throws Error on malformed XML.
// The ownership marker, if any, is removed from the residue and returned in *marker.
Object parse_xml(std::string_view xml, const KindDesc& kind, OwnerMarker* marker = nullptr);

// Renders an object (and its children) as an XML document.
std::string render_xml(const Object& obj, const OwnerMarker* marker = nullptr);

// Merges a user-supplied XML fragment (the spec's `xml:` escape hatch) into an element
// residue: attributes are set, child elements appended. Returns the merged residue.
// Throws Error when the fragment is not well-formed XML.
std::string merge_xml_fragment(const std::string& residue, const std::string& element,
                               const std::string& fragment);

// Semantic XML equality, with the rules of libvirt-go-xml (see ../shared/corpus/README.md).
// On difference, *why names the first differing path.
bool xml_equal(std::string_view a, std::string_view b, std::string* why = nullptr);

// Size parsing shared with the spec loader: value + libvirt unit -> bytes.
bool size_to_bytes(const std::string& value, const std::string& unit, unsigned long long* out);

} // namespace virtumancer
