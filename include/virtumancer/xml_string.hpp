// pugixml nodes and documents as text, written straight into a std::string (no stringstream:
// the codec and the live-only strip do this for every observed object).
#pragma once
#include <pugixml.hpp>
#include <string>
#include <utility>

namespace virtumancer {

struct StringXmlWriter : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override {
        out.append(static_cast<const char*>(data), size);
    }
};

// `n` as pugixml's print() writes it: one line by default.
inline std::string xml_string(pugi::xml_node n, const char* indent = "",
                              unsigned flags = pugi::format_raw) {
    StringXmlWriter w;
    n.print(w, indent, flags);
    return std::move(w.out);
}

// A whole document as pugixml's save() writes it, without the <?xml?> declaration.
inline std::string xml_document_string(const pugi::xml_document& d, const char* indent = "",
                                       unsigned flags = pugi::format_raw) {
    StringXmlWriter w;
    d.save(w, indent, flags | pugi::format_no_declaration);
    return std::move(w.out);
}

} // namespace virtumancer
