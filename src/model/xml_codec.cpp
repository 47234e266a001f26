#include "virtumancer/xml_codec.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "virtumancer/diag.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

struct Path {
    std::vector<std::string> elems; // element steps from the object's element
    std::string attr;               // "" -> element text (or presence / list)
};

// Paths come from the descriptor tables (a few hundred distinct strings): each is split once
// per thread, not on every field of every object parsed (a stringstream split here was ~70%
// of the instructions of `plan` at 1,000 domains; see docs/performance.md).
const Path& split_path(const std::string& p) {
    thread_local std::unordered_map<std::string, Path> cache;
    auto it = cache.find(p);
    if (it != cache.end()) return it->second;
    Path out;
    for (size_t i = 0; i <= p.size();) {
        size_t j = std::min(p.find('/', i), p.size());
        if (j > i) {
            if (p[i] == '@')
                out.attr = p.substr(i + 1, j - i - 1);
            else
                out.elems.push_back(p.substr(i, j - i));
        }
        i = j + 1;
    }
    return cache.emplace(p, std::move(out)).first->second;
}

// A path step: an element name, optionally with one attribute predicate
// (`source[@mode='bind']`) selecting the child whose attribute has that value.
struct Step {
    std::string name, attr, value;
};

Step parse_step(const std::string& s) {
    Step st;
    auto lb = s.find("[@");
    if (lb == std::string::npos || s.back() != ']') {
        st.name = s;
        return st;
    }
    st.name = s.substr(0, lb);
    std::string pred = s.substr(lb + 2, s.size() - lb - 3); // mode='bind'
    auto eq = pred.find('=');
    st.attr = pred.substr(0, eq);
    st.value = pred.substr(eq + 2, pred.size() - eq - 3);
    return st;
}

bool matches(pugi::xml_node ch, const Step& st) {
    return st.attr.empty() || std::string(ch.attribute(st.attr.c_str()).value()) == st.value;
}

// Follows element steps, each of which must name exactly one child.
pugi::xml_node walk_unique(pugi::xml_node n, const std::vector<Step>& steps, size_t from,
                           size_t upto) {
    for (size_t i = from; i < upto && n; ++i) {
        const Step& st = steps[i];
        pugi::xml_node found;
        size_t c = 0;
        for (auto ch : n.children(st.name.c_str()))
            if (matches(ch, st)) {
                found = ch;
                if (++c > 1) break;
            }
        if (c != 1) return {};
        n = found;
    }
    return n;
}

// A kind's fields compiled once: each path split into parsed steps, and the fields grouped by
// the element their path starts with (the root's own attributes form the group ""). Groups are
// independent (extracting a field only changes the subtree under its first step), so a parse
// visits only the groups whose first element is present, each group's fields in table order.
struct CompiledField {
    const FieldDesc* f;
    Path path; // a copy: split_path's cache belongs to the thread that compiled the kind
    std::vector<Step> steps;
};
// Fields whose path starts with the same element name. When every path of the group starts
// with that plain name and no field removes the element itself (a presence or list field one
// step deep), the element is looked up once for the whole group.
struct FieldGroup {
    std::string first;
    std::vector<size_t> fields;
    bool shared_first = true;
};
struct CompiledKind {
    std::vector<CompiledField> fields;
    std::vector<FieldGroup> groups;
    std::vector<size_t> root_fields; // paths with no element
    std::set<std::string> own;       // container elements the kind's own fields describe
    std::vector<Step> container_steps;
};

const CompiledKind& compiled(const KindDesc& kind) {
    static std::mutex mu;
    static std::unordered_map<const KindDesc*, std::unique_ptr<CompiledKind>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = cache[&kind];
    if (slot) return *slot;
    auto ck = std::make_unique<CompiledKind>();
    for (const auto& f : kind.fields) {
        if (f.path.empty()) continue;
        CompiledField cf{&f, split_path(f.path), {}};
        for (const auto& e : cf.path.elems) cf.steps.push_back(parse_step(e));
        size_t idx = ck->fields.size();
        if (cf.steps.empty()) {
            ck->root_fields.push_back(idx);
        } else {
            const std::string& first = cf.steps.front().name;
            auto g = std::find_if(ck->groups.begin(), ck->groups.end(),
                                  [&](const auto& gr) { return gr.first == first; });
            if (g == ck->groups.end()) g = ck->groups.insert(ck->groups.end(), {first, {}, true});
            g->fields.push_back(idx);
            bool removes_first = cf.steps.size() == 1 &&
                                 (f.type == FieldType::Presence || f.type == FieldType::List);
            if (!cf.steps.front().attr.empty() || removes_first) g->shared_first = false;
        }
        ck->fields.push_back(std::move(cf));
    }
    std::string prefix = kind.container + "/";
    for (const auto& f : kind.fields)
        if (!kind.container.empty() && f.path.rfind(prefix, 0) == 0)
            ck->own.insert(split_path(f.path.substr(prefix.size())).elems.front());
    for (const auto& e : split_path(kind.container).elems)
        ck->container_steps.push_back(parse_step(e));
    slot = std::move(ck);
    return *slot;
}

// After extraction from an element selected by a predicate: when only the predicate
// attribute is left, it carries no information of its own (the path implies it).
void drop_spent_predicate(pugi::xml_node n, const std::vector<Step>& steps) {
    if (steps.empty()) return;
    const Step& st = steps.back();
    if (st.attr.empty() || n.first_child()) return;
    auto a = n.first_attribute();
    if (a && !a.next_attribute() && st.attr == a.name()) n.remove_attribute(a);
}

bool is_empty_element(pugi::xml_node n) {
    return !n.first_attribute() && !n.first_child();
}

bool only_text(pugi::xml_node n) {
    auto c = n.first_child();
    return c && c.type() == pugi::node_pcdata && !c.next_sibling();
}

bool is_int(const std::string& s) {
    if (s.empty()) return false;
    size_t i = (s[0] == '-') ? 1 : 0;
    if (i >= s.size()) return false;
    for (; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    // canonical decimal only (no leading zeros), so text renders back identically
    return !(s.size() > 1 && s[0] == '0');
}

bool value_fits(FieldType t, const std::string& v) {
    switch (t) {
    case FieldType::Int:
        return is_int(v);
    case FieldType::Bool:
        return v == "yes" || v == "no";
    case FieldType::OnOff:
        return v == "on" || v == "off";
    default:
        return true;
    }
}

// ---------------------------------------------------------------- sizes and their units
//
// libvirt's scaled integers (basictypes.rng `scaledInteger`, virScaleInteger): an integer with
// an optional unit, case-insensitive: b/byte/bytes; k, m, g, t, p, e and KiB...EiB (powers of
// 1024); KB...EB (powers of 1000). A missing unit means the element's default unit, which
// differs per element (memory: KiB; volume capacity: bytes; <tseg>: MiB). parse_xml and
// merge_xml_fragment rewrite every size the rules below know into its canonical form
// (canonical_size), so a file written without units, or with other units, gives the same
// model as libvirt's own output.

const char* unit_name(unsigned long long scale) {
    switch (scale) {
    case 1:
        return "bytes";
    case 1ULL << 10:
        return "KiB";
    case 1ULL << 20:
        return "MiB";
    case 1ULL << 30:
        return "GiB";
    default:
        return nullptr;
    }
}

// A value in its element's default unit when it is a whole number of them, else in bytes.
std::pair<std::string, std::string> canonical_size(unsigned long long bytes,
                                                   unsigned long long scale) {
    if (scale > 1 && bytes % scale == 0 && unit_name(scale))
        return {std::to_string(bytes / scale), unit_name(scale)};
    return {std::to_string(bytes), "bytes"};
}

struct SizeRuleC {
    std::vector<std::string> elems; // element steps from the owner element
    std::string attr;               // "" -> element text; else this attribute (unit in @unit)
    unsigned long long scale = 1;
};

// Rules by owner element (the object's root: domain, volume, pool, or a device element).
const std::unordered_map<std::string, std::vector<SizeRuleC>>& compiled_size_rules() {
    static const auto rules = [] {
        std::unordered_map<std::string, std::vector<SizeRuleC>> out;
        for (const auto& r : size_rules()) {
            SizeRuleC c;
            c.scale = r.default_scale;
            for (size_t i = 0; i <= r.path.size();) {
                size_t j = std::min(r.path.find('/', i), r.path.size());
                if (j > i) {
                    if (r.path[i] == '@')
                        c.attr = r.path.substr(i + 1, j - i - 1);
                    else
                        c.elems.push_back(r.path.substr(i, j - i));
                }
                i = j + 1;
            }
            out[r.owner].push_back(std::move(c));
        }
        return out;
    }();
    return rules;
}

// Rewrites one size (element text or attribute, unit in @unit) canonically. Values that are
// not a valid scaled integer are left as written (libvirt reports them).
void canonicalize_size(pugi::xml_node el, const SizeRuleC& r) {
    pugi::xml_attribute va;
    std::string text;
    if (r.attr.empty()) {
        if (!only_text(el)) return;
        text = el.first_child().value();
    } else {
        va = el.attribute(r.attr.c_str());
        if (!va) return;
        text = va.value();
    }
    auto ua = el.attribute("unit");
    unsigned long long bytes = 0;
    if (!size_to_bytes(text, ua ? ua.value() : "", r.scale, &bytes)) return;
    auto [v, unit] = canonical_size(bytes, r.scale);
    if (r.attr.empty())
        el.first_child().set_value(v.c_str());
    else
        va.set_value(v.c_str());
    // one place for the unit, whatever the input's attribute order: after the value attribute
    // (as libvirt writes <cell memory='..' unit='KiB'/>), else last
    if (ua) el.remove_attribute(ua);
    ua = va ? el.insert_attribute_after("unit", va) : el.append_attribute("unit");
    ua.set_value(unit.c_str());
}

void canonicalize_rules(pugi::xml_node owner) {
    const auto& all = compiled_size_rules();
    auto it = all.find(owner.name());
    if (it == all.end()) return;
    for (const auto& r : it->second) {
        // every element on the path (a rule may match many: NUMA cells, hugepages)
        std::vector<pugi::xml_node> level{owner};
        for (const auto& step : r.elems) {
            std::vector<pugi::xml_node> next;
            for (auto n : level)
                for (auto ch : n.children(step.c_str())) next.push_back(ch);
            level.swap(next);
        }
        for (auto n : level) canonicalize_size(n, r);
    }
}

// `root` is an object's element; its child objects (devices) are handled with their own rules.
void canonicalize_sizes(pugi::xml_node root) {
    canonicalize_rules(root);
    std::string el = root.name();
    const KindDesc* k = nullptr;
    for (auto* top : {&domain_kind(), &pool_kind(), &volume_kind(), &network_kind()})
        if (top->element == el) k = top;
    if (!k || k->container.empty()) return;
    pugi::xml_node cont = root;
    for (const auto& e : split_path(k->container).elems) cont = cont.child(e.c_str());
    for (auto ch : cont.children())
        if (ch.type() == pugi::node_element) canonicalize_rules(ch);
}

// Nesting depth of elements under `n` (iterative: no recursion on hostile input).
struct DepthWalker : pugi::xml_tree_walker {
    int limit;
    pugi::xml_node too_deep;
    explicit DepthWalker(int l) : limit(l) {}
    bool for_each(pugi::xml_node& node) override {
        if (depth() + 1 > limit && node.type() == pugi::node_element) {
            too_deep = node;
            return false;
        }
        return true;
    }
};

pugi::xml_node too_deep(pugi::xml_node root) {
    DepthWalker w(kMaxXmlDepth);
    root.traverse(w);
    return w.too_deep;
}

// 1-based line and column of a byte offset.
std::pair<int, int> line_col(std::string_view text, ptrdiff_t offset) {
    int line = 1, col = 1;
    for (ptrdiff_t i = 0; i < offset && i < static_cast<ptrdiff_t>(text.size()); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return {line, col};
}

// Loads `xml` into `doc`: malformed XML and nesting deeper than kMaxXmlDepth are XmlErrors
// with the line and column.
pugi::xml_node load_checked(pugi::xml_document& doc, std::string_view xml, const char* what) {
    auto res = doc.load_buffer(xml.data(), xml.size());
    if (!res) {
        auto [l, c] = line_col(xml, res.offset);
        throw XmlError(l, c, std::string("malformed ") + what + ": " + res.description(),
                       "check the XML document");
    }
    if (auto deep = too_deep(doc)) {
        auto [l, c] = line_col(xml, std::max<ptrdiff_t>(0, deep.offset_debug() - 1)); // at '<'
        throw XmlError(l, c,
                       std::string(what) + " nested deeper than " + std::to_string(kMaxXmlDepth) +
                           " elements (libvirt's own limit)",
                       "flatten the document; libvirt refuses it as well");
    }
    return doc.document_element();
}

// Extracts one field from `root` (which is being turned into the residue).
// Returns true and sets *value when the field was present in a form it can hold.
// `base` is the node reached after the first `from` steps of the path (root and 0, or the
// group's shared first element and 1).
bool extract(pugi::xml_node root, const CompiledField& cf, pugi::xml_node base, size_t from,
             std::string* value, std::vector<pugi::xml_node>* touched) {
    const FieldDesc& f = *cf.f;
    const Path& p = cf.path;
    if (f.type == FieldType::List) {
        if (p.elems.empty() || p.attr.empty()) return false;
        pugi::xml_node parent = walk_unique(base, cf.steps, from, cf.steps.size() - 1);
        if (!parent) return false;
        const char* el = p.elems.back().c_str();
        std::vector<pugi::xml_node> items;
        for (auto ch : parent.children(el)) {
            auto a = ch.first_attribute();
            if (!a || a.next_attribute() || std::string(a.name()) != p.attr || ch.first_child())
                return false;
            if (std::string(a.value()).find(',') != std::string::npos) return false;
            items.push_back(ch);
        }
        if (items.empty()) return false;
        std::string joined;
        for (auto& it : items) {
            if (!joined.empty()) joined += ",";
            joined += it.first_attribute().value();
            parent.remove_child(it);
        }
        touched->push_back(parent);
        *value = joined;
        return true;
    }
    pugi::xml_node n = walk_unique(base, cf.steps, from, cf.steps.size());
    if (!n) return false;
    if (f.type == FieldType::Presence) {
        if (!is_empty_element(n) || n == root) return false;
        auto parent = n.parent();
        parent.remove_child(n);
        touched->push_back(parent);
        *value = "yes";
        return true;
    }
    if (f.type == FieldType::SizeKiB || f.type == FieldType::SizeBytes) {
        if (!only_text(n)) return false;
        std::string text = n.text().get();
        auto ua = n.attribute("unit");
        unsigned long long bytes = 0;
        if (!size_to_bytes(text, ua ? ua.value() : "", default_unit_scale(f.type), &bytes))
            return false;
        // Only take it if it renders back exactly as written (parse_xml has written every
        // size in its canonical unit; anything else stays in the residue as it was).
        auto [canon_text, canon_unit] = canonical_size(bytes, default_unit_scale(f.type));
        if (!ua || text != canon_text || canon_unit != ua.value()) return false;
        n.remove_child(n.first_child());
        n.remove_attribute("unit");
        touched->push_back(n);
        *value = std::to_string(bytes);
        return true;
    }
    if (!p.attr.empty()) {
        auto a = n.attribute(p.attr.c_str());
        if (!a) return false;
        std::string v = a.value();
        if (!value_fits(f.type, v)) return false;
        n.remove_attribute(a);
        drop_spent_predicate(n, cf.steps);
        touched->push_back(n);
        *value = v;
        return true;
    }
    if (!only_text(n) || n == root) return false;
    std::string v = n.first_child().value();
    if (!value_fits(f.type, v)) return false;
    n.remove_child(n.first_child());
    touched->push_back(n);
    *value = v;
    return true;
}

void prune_touched(pugi::xml_node root, std::vector<pugi::xml_node>& touched) {
    // Remove elements left empty by extraction, innermost first, never the root.
    bool changed = true;
    while (changed) {
        changed = false;
        for (auto& n : touched) {
            if (!n || n == root) continue;
            if (is_empty_element(n)) {
                auto parent = n.parent();
                parent.remove_child(n);
                n = parent;
                changed = true;
            }
        }
    }
}

std::string serialize(pugi::xml_node n) {
    return xml_string(n);
}

pugi::xml_node ensure_path(pugi::xml_node n, const std::vector<std::string>& steps, size_t upto) {
    for (size_t i = 0; i < upto; ++i) {
        Step st = parse_step(steps[i]);
        pugi::xml_node c;
        for (auto ch : n.children(st.name.c_str()))
            if (matches(ch, st)) {
                c = ch;
                break;
            }
        if (!c) {
            c = n.append_child(st.name.c_str());
            if (!st.attr.empty()) c.append_attribute(st.attr.c_str()) = st.value.c_str();
        }
        n = c;
    }
    return n;
}

void inject(pugi::xml_node root, const FieldDesc& f, const std::string& v) {
    const Path& p = split_path(f.path);
    if (f.type == FieldType::List) {
        pugi::xml_node parent = ensure_path(root, p.elems, p.elems.size() - 1);
        std::stringstream ss(v);
        std::string item;
        while (std::getline(ss, item, ','))
            parent.append_child(p.elems.back().c_str()).append_attribute(p.attr.c_str()) =
                item.c_str();
        return;
    }
    if (f.type == FieldType::Presence) {
        if (v == "yes" || v == "true") ensure_path(root, p.elems, p.elems.size());
        return;
    }
    pugi::xml_node n = ensure_path(root, p.elems, p.elems.size());
    if (f.type == FieldType::SizeKiB || f.type == FieldType::SizeBytes) {
        auto bytes = parse_int<unsigned long long>(v);
        if (!bytes)
            throw Error("`" + f.key + "` is not a size in bytes: `" + v + "`",
                        "fix the value in the spec (e.g. `2GiB`)");
        auto [text, unit] = canonical_size(*bytes, default_unit_scale(f.type));
        n.text().set(text.c_str());
        auto ua = n.attribute("unit");
        if (!ua) ua = n.append_attribute("unit");
        ua = unit.c_str();
        return;
    }
    if (!p.attr.empty()) {
        auto a = n.attribute(p.attr.c_str());
        if (!a) a = n.append_attribute(p.attr.c_str());
        a = v.c_str();
        return;
    }
    n.text().set(v.c_str());
}

bool has_ns(pugi::xml_node n, const char* uri) {
    for (auto a : n.attributes()) {
        std::string name = a.name();
        if ((name == "xmlns" || name.rfind("xmlns:", 0) == 0) && std::string(a.value()) == uri)
            return true;
    }
    return false;
}

void parse_into(pugi::xml_node el, const KindDesc& kind, Object* out);

// Child objects are parsed in place (their element is removed from the container afterwards),
// so no element is copied.
void parse_children(pugi::xml_node root, const KindDesc& kind, const CompiledKind& ck, Object* out,
                    std::vector<pugi::xml_node>* touched) {
    if (kind.children.empty()) return;
    pugi::xml_node cont = walk_unique(root, ck.container_steps, 0, ck.container_steps.size());
    if (!cont) return;
    std::vector<pugi::xml_node> taken;
    for (auto ch : cont.children()) {
        if (ch.type() != pugi::node_element || ck.own.count(ch.name())) continue;
        const KindDesc* child_kind = nullptr;
        for (auto* k : kind.children)
            if (k->element == ch.name()) child_kind = k;
        if (!child_kind && kind.catch_all) child_kind = &other_device_kind();
        if (!child_kind) continue;
        Object child;
        parse_into(ch, *child_kind, &child);
        out->children.push_back(std::move(child));
        taken.push_back(ch);
    }
    for (auto& t : taken) cont.remove_child(t);
    if (!taken.empty()) touched->push_back(cont);
}

// Turns `root` (modified in place: every typed part is removed) into `out`.
void parse_into(pugi::xml_node root, const KindDesc& kind, Object* out) {
    out->kind = &kind;
    if (kind.element == "*") {
        out->extra_xml = serialize(root);
        return;
    }
    const CompiledKind& ck = compiled(kind);
    std::vector<pugi::xml_node> touched;
    parse_children(root, kind, ck, out, &touched);
    std::string v;
    auto take = [&](size_t idx, pugi::xml_node base, size_t from) {
        const CompiledField& cf = ck.fields[idx];
        if (extract(root, cf, base, from, &v, &touched)) out->fields[cf.f->key] = v;
    };
    for (size_t idx : ck.root_fields) take(idx, root, 0);
    // Which groups apply is decided before extracting anything (extraction only removes).
    std::vector<std::pair<const FieldGroup*, pugi::xml_node>> present;
    for (const auto& g : ck.groups) {
        pugi::xml_node first;
        size_t count = 0;
        for (auto ch : root.children(g.first.c_str())) {
            first = ch;
            if (++count > 1 && g.shared_first) break;
        }
        if (count == 0 || (g.shared_first && count != 1)) continue; // every walk would fail
        present.emplace_back(&g, g.shared_first ? first : pugi::xml_node());
    }
    for (const auto& [g, first] : present)
        for (size_t idx : g->fields)
            if (g->shared_first)
                take(idx, first, 1);
            else
                take(idx, root, 0);
    prune_touched(root, touched);
    out->fields.shrink_to_fit();
    out->extra_xml = is_empty_element(root) ? "" : serialize(root);
}

void render_into(pugi::xml_node parent, const Object& obj, const OwnerMarker* marker) {
    const KindDesc& kind = *obj.kind;
    pugi::xml_node root;
    if (!obj.extra_xml.empty()) {
        pugi::xml_document frag;
        if (!frag.load_string(obj.extra_xml.c_str()) || !frag.document_element())
            throw Error("stored XML fragment of a " + kind.kind + " is not well-formed",
                        "fix the `xml:` value of that object in its spec");
        root = parent.append_copy(frag.document_element());
    } else {
        root = parent.append_child(kind.element.c_str());
    }
    if (kind.element == "*") return;
    for (const auto& f : kind.fields) {
        if (f.path.empty()) continue;
        auto it = obj.fields.find(f.key);
        if (it != obj.fields.end()) inject(root, f, it->second);
    }
    if (marker && marker->present()) {
        pugi::xml_node md = root.child("metadata");
        if (!md) md = root.append_child("metadata");
        auto own = md.append_child("virtumancer:owner");
        own.append_attribute("xmlns:virtumancer") = kMetadataNs;
        own.append_attribute("spec") = marker->spec.c_str();
        own.append_attribute("hash") = marker->hash.c_str();
        if (!marker->revision.empty()) own.append_attribute("revision") = marker->revision.c_str();
        if (!marker->db.empty()) own.append_attribute("db") = marker->db.c_str();
        if (!marker->cloud_init.empty())
            own.append_attribute("cloud-init") = marker->cloud_init.c_str();
    }
    if (!obj.children.empty()) {
        const Path& cp = split_path(kind.container);
        pugi::xml_node cont = ensure_path(root, cp.elems, cp.elems.size());
        for (const auto& ch : obj.children) render_into(cont, ch, nullptr);
    }
}

} // namespace

unsigned long long default_unit_scale(FieldType t) {
    return t == FieldType::SizeKiB ? 1024ULL : 1ULL;
}

const std::vector<SizeRule>& size_rules() {
    static const std::vector<SizeRule> rules = [] {
        std::vector<SizeRule> out;
        // Typed fields: their descriptor's type gives libvirt's default unit.
        std::vector<const KindDesc*> kinds = {&domain_kind(), &pool_kind(), &volume_kind(),
                                              &network_kind()};
        for (auto* k : device_kinds()) kinds.push_back(k);
        for (auto* k : kinds)
            for (const auto& f : k->fields)
                if ((f.type == FieldType::SizeKiB || f.type == FieldType::SizeBytes) &&
                    !f.path.empty() && f.path.find('[') == std::string::npos)
                    out.push_back({k->element, f.path, default_unit_scale(f.type)});
        // Sizes kept in the residue (domaincommon.rng, storagepool.rng, storagevol.rng, and
        // libvirt's parsers for the default unit of each).
        const unsigned long long KiB = 1024, MiB = 1024 * 1024, B = 1;
        const SizeRule residue[] = {
            {"domain", "memoryBacking/hugepages/page/@size", KiB},
            {"domain", "cpu/numa/cell/@memory", KiB},
            {"domain", "cpu/numa/cell/cache/size/@value", KiB},
            {"domain", "cpu/numa/cell/cache/line/@value", B},
            {"domain", "cputune/cachetune/cache/@size", KiB},
            {"domain", "features/smm/tseg", MiB},
            {"domain", "features/tcg/tb-cache", KiB},
            {"domain", "features/hpt/maxpagesize", KiB},
            {"shmem", "size", B},
            {"pstore", "size", KiB},
            {"disk", "backingStore/format/metadata_cache/max_size", B},
            {"filesystem", "space_hard_limit", B},
            {"filesystem", "space_soft_limit", B},
            {"volume", "physical", B},
            {"pool", "capacity", B},
            {"pool", "allocation", B},
            {"pool", "available", B},
        };
        for (const auto& r : residue) {
            bool typed = std::any_of(out.begin(), out.end(), [&](const SizeRule& t) {
                return t.owner == r.owner && t.path == r.path;
            });
            if (!typed) out.push_back(r);
        }
        return out;
    }();
    return rules;
}

bool size_to_bytes(const std::string& value, const std::string& unit,
                   unsigned long long default_scale, unsigned long long* out) {
    if (value.empty() ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    auto parsed = parse_int<unsigned long long>(value);
    if (!parsed) return false;
    unsigned long long v = *parsed;
    auto lower = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    std::string u = lower(unit);
    unsigned long long scale = 1;
    if (u.empty()) {
        scale = default_scale;
    } else if (u == "b" || u == "byte" || u == "bytes") {
        scale = 1;
    } else {
        unsigned long long base = 0;
        if (u.size() == 1 || u.substr(1) == "ib")
            base = 1024;
        else if (u.substr(1) == "b")
            base = 1000;
        else
            return false;
        const std::string prefixes = "kmgtpe";
        auto pos = prefixes.find(u[0]);
        if (pos == std::string::npos) return false;
        for (size_t i = 0; i <= pos; ++i) scale *= base;
    }
    if (scale == 0 || (v != 0 && scale > ~0ULL / v)) return false;
    *out = v * scale;
    return true;
}

void check_xml_input(std::string_view xml) {
    pugi::xml_document doc;
    load_checked(doc, xml, "XML");
}

Object parse_xml(std::string_view xml, const KindDesc& kind, OwnerMarker* marker) {
    pugi::xml_document doc;
    pugi::xml_node root = load_checked(doc, xml, "XML");
    if (kind.element != root.name())
        throw Error("expected <" + kind.element + "> as root element, found <" + root.name() + ">",
                    "pass a " + kind.kind + " XML document");
    // Take virtumancer's own marker out of <metadata>; other applications' metadata stays.
    if (auto md = root.child("metadata")) {
        for (auto ch = md.first_child(); ch;) {
            auto next = ch.next_sibling();
            if (has_ns(ch, kMetadataNs)) {
                if (marker) {
                    marker->spec = ch.attribute("spec").value();
                    marker->hash = ch.attribute("hash").value();
                    marker->revision = ch.attribute("revision").value();
                    marker->db = ch.attribute("db").value();
                    marker->cloud_init = ch.attribute("cloud-init").value();
                }
                md.remove_child(ch);
            }
            ch = next;
        }
        if (!md.first_child() && !md.first_attribute()) root.remove_child(md);
    }
    canonicalize_sizes(root);
    Object out;
    parse_into(root, kind, &out);
    return out;
}

std::string render_xml(const Object& obj, const OwnerMarker* marker) {
    pugi::xml_document doc;
    render_into(doc, obj, marker);
    return xml_string(doc.document_element(), "  ", pugi::format_indent);
}

std::string merge_xml_fragment(const std::string& residue, const std::string& element,
                               const std::string& fragment) {
    pugi::xml_document base;
    if (residue.empty())
        base.append_child(element.c_str());
    else if (!base.load_string(residue.c_str()))
        throw Error(
            "stored XML fragment is not well-formed",
            "fix the `xml:` key of the spec (it must be well-formed XML) and load it again");
    pugi::xml_document frag;
    const std::string& text = fragment;
    // Accept either the element itself (<disk snapshot='no'>...</disk>) or bare children.
    auto res = frag.load_buffer(text.data(), text.size());
    if (!res || !frag.document_element() || frag.document_element().name() != element) {
        std::string wrapped = "<" + element + ">" + text + "</" + element + ">";
        frag.reset();
        res = frag.load_buffer(wrapped.data(), wrapped.size());
        if (!res)
            throw Error(std::string("the xml fragment is not well-formed: ") + res.description(),
                        "write well-formed XML, e.g. <" + element + " attr='value'><child/></" +
                            element + ">");
    }
    if (too_deep(frag))
        throw Error("the xml fragment is nested deeper than " + std::to_string(kMaxXmlDepth) +
                        " elements (libvirt's own limit)",
                    "flatten the fragment; libvirt refuses it as well");
    auto dst = base.document_element();
    auto src = frag.document_element();
    for (auto a : src.attributes()) {
        auto d = dst.attribute(a.name());
        if (!d) d = dst.append_attribute(a.name());
        d = a.value();
    }
    for (auto c : src.children()) dst.append_copy(c);
    canonicalize_sizes(dst);
    return serialize(dst);
}

// ---------------------------------------------------------------- semantic comparison
namespace {

std::string lookup_ns(pugi::xml_node n, const std::string& prefix) {
    std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
    for (; n; n = n.parent()) {
        if (n.type() != pugi::node_element) break;
        if (auto a = n.attribute(attr.c_str())) return a.value();
    }
    return prefix; // undeclared prefix: compare by prefix text
}

std::string qname(pugi::xml_node scope, const std::string& name, bool is_attr) {
    auto colon = name.find(':');
    if (colon == std::string::npos) {
        if (is_attr) return name; // unprefixed attributes have no namespace
        std::string ns = lookup_ns(scope, "");
        return ns.empty() ? name : "{" + ns + "}" + name;
    }
    std::string ns = lookup_ns(scope, name.substr(0, colon));
    return "{" + ns + "}" + name.substr(colon + 1);
}

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool values_equal(const std::string& a, const std::string& b) {
    if (a == b) return true;
    auto x = parse_int(a, Radix::DecimalOrHex), y = parse_int(b, Radix::DecimalOrHex);
    return x && y && *x == *y;
}

std::string leaf_text(pugi::xml_node n) {
    std::string t;
    for (auto c : n.children())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) t += c.value();
    return trim(t);
}

bool equal_nodes(pugi::xml_node a, pugi::xml_node b, const std::string& path, std::string* why) {
    auto fail = [&](const std::string& m) {
        if (why) *why = path + ": " + m;
        return false;
    };
    std::map<std::string, std::string> aa, ba;
    for (auto x : a.attributes()) {
        std::string n = x.name();
        if (n == "xmlns" || n.rfind("xmlns:", 0) == 0) continue;
        aa[qname(a, n, true)] = x.value();
    }
    for (auto x : b.attributes()) {
        std::string n = x.name();
        if (n == "xmlns" || n.rfind("xmlns:", 0) == 0) continue;
        ba[qname(b, n, true)] = x.value();
    }
    for (auto& [k, v] : aa) {
        auto it = ba.find(k);
        if (it == ba.end()) return fail("attribute " + k + " missing on the right");
        if (!values_equal(v, it->second))
            return fail("attribute " + k + ": '" + v + "' != '" + it->second + "'");
    }
    for (auto& [k, v] : ba)
        if (!aa.count(k)) return fail("attribute " + k + " missing on the left");
    // children grouped by qualified name, order kept within a group
    std::map<std::string, std::vector<pugi::xml_node>> ac, bc;
    for (auto c : a.children())
        if (c.type() == pugi::node_element) ac[qname(c, c.name(), false)].push_back(c);
    for (auto c : b.children())
        if (c.type() == pugi::node_element) bc[qname(c, c.name(), false)].push_back(c);
    if (ac.empty() && bc.empty()) {
        std::string ta = leaf_text(a), tb = leaf_text(b);
        if (!values_equal(ta, tb)) return fail("text '" + ta + "' != '" + tb + "'");
        return true;
    }
    for (auto& [k, v] : ac) {
        auto it = bc.find(k);
        size_t bn = it == bc.end() ? 0 : it->second.size();
        if (bn != v.size())
            return fail("<" + k + "> count " + std::to_string(v.size()) +
                        " != " + std::to_string(bn));
        for (size_t i = 0; i < v.size(); ++i)
            if (!equal_nodes(v[i], it->second[i], path + "/" + k + "[" + std::to_string(i) + "]",
                             why))
                return false;
    }
    for (auto& [k, v] : bc)
        if (!ac.count(k)) return fail("<" + k + "> missing on the left");
    return true;
}

} // namespace

bool xml_equal(std::string_view a, std::string_view b, std::string* why) {
    pugi::xml_document da, db;
    if (!da.load_buffer(a.data(), a.size())) {
        if (why) *why = "left side is not well-formed XML";
        return false;
    }
    if (!db.load_buffer(b.data(), b.size())) {
        if (why) *why = "right side is not well-formed XML";
        return false;
    }
    // equal_nodes recurses: bounded by the depth limit
    for (auto* d : {&da, &db})
        if (too_deep(*d)) {
            if (why)
                *why = std::string(d == &da ? "left" : "right") + " side is nested deeper than " +
                       std::to_string(kMaxXmlDepth) + " elements";
            return false;
        }
    auto ra = da.document_element(), rb = db.document_element();
    // sizes compare by value whatever their unit (<size unit='M'>4</size> is 4194304 bytes)
    canonicalize_sizes(ra);
    canonicalize_sizes(rb);
    if (qname(ra, ra.name(), false) != qname(rb, rb.name(), false)) {
        if (why) *why = std::string("root <") + ra.name() + "> != <" + rb.name() + ">";
        return false;
    }
    return equal_nodes(ra, rb, std::string("/") + ra.name(), why);
}

} // namespace virtumancer
