// libvirt XML <-> canonical model, driven by the field descriptors. Lossless: anything
// without a typed field stays in Object::extra_xml and is rendered back in place.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "virtumancer/diag.hpp"

#include "virtumancer/model.hpp"

namespace virtumancer {

// virtumancer's ownership marker namespace, placed in <metadata> of every object it defines.
inline constexpr const char* kMetadataNs = "https://virtumancer.dev/xmlns/owner/1";

struct OwnerMarker {
    std::string spec;     // "host/kind/name"
    std::string hash;     // spec content hash
    std::string revision; // load revision
    std::string db;       // owner id of the database that defined it ("" in older markers)
    // Content hash of the cloud-init seed the domain was defined with ("" none): a different
    // one in the spec plans a new seed.
    std::string cloud_init = {};
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

// libvirt's scaled integer: value + unit (case-insensitive, as virScaleInteger: b, bytes,
// k/KiB... powers of 1024, KB... powers of 1000) -> bytes. An empty unit means
// `default_scale` (the element's default unit). False on bad syntax or overflow.
bool size_to_bytes(const std::string& value, const std::string& unit,
                   unsigned long long default_scale, unsigned long long* out);

// The default unit (in bytes) of a SizeKiB / SizeBytes field.
unsigned long long default_unit_scale(FieldType t);

// Every size-like element or attribute the codec knows, with libvirt's default unit: the typed
// SizeKiB/SizeBytes fields of every kind and the sizes kept in residue XML (NUMA cells,
// hugepages, shmem, ...). `path` is relative to the owner element, as in FieldDesc::path; an
// attribute path's unit is the same element's @unit. parse_xml, merge_xml_fragment and
// xml_equal write each in its canonical unit, so a missing unit means libvirt's default.
struct SizeRule {
    std::string owner; // element of the object: "domain", "volume", "memory" (device), ...
    std::string path;
    unsigned long long default_scale = 1;
};
const std::vector<SizeRule>& size_rules();

// libvirt (libxml2) refuses XML nested deeper than 256 elements; so does the codec.
inline constexpr int kMaxXmlDepth = 256;

// Throws XmlError when `xml` is malformed or nested deeper than kMaxXmlDepth.
void check_xml_input(std::string_view xml);

// A malformed or too deeply nested XML input, with the 1-based line and column.
class XmlError : public Error {
  public:
    XmlError(int line, int column, const std::string& what, std::string remedy = {})
        : Error("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what,
                std::move(remedy)),
          line_(line), column_(column), message_(what) {}
    int line() const { return line_; }
    int column() const { return column_; }
    const std::string& message() const { return message_; }

  private:
    int line_, column_;
    std::string message_;
};

} // namespace virtumancer
