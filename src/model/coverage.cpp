#include "virtumancer/coverage.hpp"

#include <pugixml.hpp>

#include "virtumancer/diag.hpp"

namespace virtumancer {
namespace {

bool blank(const char* s) {
    for (; *s; ++s)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
    return true;
}

bool is_ns_decl(const std::string& name) {
    return name == "xmlns" || name.rfind("xmlns:", 0) == 0;
}

// `path` is the element's own path ("" for the root of the count).
void count_node(pugi::xml_node el, const std::string& path, std::map<std::string, long long>* out,
                long long* metadata) {
    auto join = [&](const std::string& step) { return path.empty() ? step : path + "/" + step; };
    bool any = false;
    for (auto a : el.attributes()) {
        std::string n = a.name();
        if (is_ns_decl(n)) continue;
        any = true;
        (*out)[join("@" + n)]++;
    }
    bool has_element = false, has_text = false;
    for (auto c : el.children()) {
        if (c.type() == pugi::node_element) {
            has_element = true;
            std::string child = join(c.name());
            if (metadata && child == "metadata") {
                std::map<std::string, long long> md;
                count_node(c, child, &md, nullptr);
                for (auto& [k, v] : md) *metadata += v;
                continue;
            }
            count_node(c, child, out, metadata);
        } else if ((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) &&
                   !blank(c.value())) {
            has_text = true;
        }
    }
    if (has_text)
        (*out)[path]++;
    else if (!any && !has_element && !path.empty())
        (*out)[path]++; // presence
}

pugi::xml_node load(pugi::xml_document& doc, std::string_view xml) {
    auto res = doc.load_buffer(xml.data(), xml.size());
    if (!res)
        throw Error(std::string("malformed XML while measuring coverage: ") + res.description(),
                    "give well-formed XML (check it with xmllint)");
    return doc.document_element();
}

void count_residues(const Object& obj, const std::string& prefix, Coverage* cov) {
    if (!obj.extra_xml.empty()) {
        pugi::xml_document doc;
        auto root = load(doc, obj.extra_xml);
        count_node(root, prefix, &cov->untyped, prefix.empty() ? &cov->metadata_items : nullptr);
    }
    if (obj.children.empty()) return;
    std::string cont = obj.kind ? obj.kind->container : "";
    std::string base = prefix;
    if (!cont.empty()) base = base.empty() ? cont : base + "/" + cont;
    for (const auto& ch : obj.children) {
        std::string el = ch.kind ? ch.kind->element : "";
        if (el == "*" || el.empty()) { // catch-all: its residue names the element
            pugi::xml_document doc;
            el = ch.extra_xml.empty() ? "?" : load(doc, ch.extra_xml).name();
        }
        count_residues(ch, base.empty() ? el : base + "/" + el, cov);
    }
}

} // namespace

long long Coverage::total() const {
    long long t = 0;
    for (auto& [k, v] : items) t += v;
    return t;
}

long long Coverage::untyped_total() const {
    long long t = 0;
    for (auto& [k, v] : untyped) t += v;
    return t;
}

double Coverage::typed_percent() const {
    long long t = total();
    return t == 0 ? 100.0 : 100.0 * static_cast<double>(typed()) / static_cast<double>(t);
}

void Coverage::add(const Coverage& o) {
    for (auto& [k, v] : o.items) items[k] += v;
    for (auto& [k, v] : o.untyped) untyped[k] += v;
    metadata_items += o.metadata_items;
}

std::map<std::string, long long> Coverage::surplus() const {
    std::map<std::string, long long> out;
    for (auto& [k, v] : untyped) {
        auto it = items.find(k);
        long long have = it == items.end() ? 0 : it->second;
        if (v > have) out[k] = v - have;
    }
    return out;
}

std::map<std::string, long long> count_xml_items(std::string_view element_xml,
                                                 const std::string& prefix) {
    pugi::xml_document doc;
    std::map<std::string, long long> out;
    count_node(load(doc, element_xml), prefix, &out, nullptr);
    return out;
}

Coverage measure_coverage(std::string_view xml, const Object& parsed) {
    Coverage cov;
    pugi::xml_document doc;
    count_node(load(doc, xml), "", &cov.items, &cov.metadata_items);
    long long md = cov.metadata_items;
    count_residues(parsed, "", &cov);
    cov.metadata_items = md; // the residue's copy of <metadata> is the same data
    return cov;
}

} // namespace virtumancer
