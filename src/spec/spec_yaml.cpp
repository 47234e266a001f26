// Raw YAML text -> YNode trees, defending against hostile input: oversized files, invalid
// UTF-8, control characters, deep nesting, alias bombs; duplicate keys are reported here.
#include <yaml.h>

#include <cstdio>
#include <new>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "spec_internal.hpp"

namespace virtumancer::spec {

const YNode* YNode::find(const std::string& key) const {
    for (const auto& [k, v] : map)
        if (k.type == Scalar && k.value == key) return &v;
    return nullptr;
}

namespace {

// Validates UTF-8 and refuses control characters; reports the first problem with its place.
bool check_bytes(const std::string& file, const std::string& text, Diagnostics& diags) {
    int line = 1, col = 1;
    size_t i = 0;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3; // BOM
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        size_t len = 1;
        if (c < 0x80) {
            if (c == '\n') {
                ++line;
                col = 1;
                ++i;
                continue;
            }
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "0x%02x", c);
                diags.error(file, line, col,
                            std::string("control character ") + buf +
                                " is not allowed in YAML (is this a binary file?)",
                            "remove the character, or keep only YAML spec files among the paths "
                            "given");
                return false;
            }
        } else {
            unsigned long cp = 0;
            if ((c & 0xE0) == 0xC0)
                len = 2, cp = c & 0x1F;
            else if ((c & 0xF0) == 0xE0)
                len = 3, cp = c & 0x0F;
            else if ((c & 0xF8) == 0xF0)
                len = 4, cp = c & 0x07;
            else
                len = 0;
            bool ok = len != 0 && i + len <= text.size();
            for (size_t k = 1; ok && k < len; ++k) {
                auto cc = static_cast<unsigned char>(text[i + k]);
                if ((cc & 0xC0) != 0x80) ok = false;
                cp = (cp << 6) | (cc & 0x3F);
            }
            if (ok) {
                static const unsigned long mins[] = {0, 0, 0x80, 0x800, 0x10000};
                if (cp < mins[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
            }
            if (!ok) {
                diags.error(file, line, col,
                            "invalid UTF-8 byte sequence (the file must be UTF-8 text)",
                            "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)");
                return false;
            }
        }
        i += len;
        ++col;
    }
    return true;
}

// Nesting depth estimated from the raw text, so the parser never recurses too deep: flow
// brackets are counted everywhere (even inside strings, erring on the safe side) and block
// nesting by indentation.
bool check_depth(const std::string& file, const std::string& text, Diagnostics& diags) {
    int depth = 0, line = 1, col = 1;
    bool at_line_start = true;
    int indent = 0;
    for (char c : text) {
        if (c == '\n') {
            ++line;
            col = 1;
            at_line_start = true;
            indent = 0;
            continue;
        }
        if (at_line_start) {
            if (c == ' ' || c == '-' || c == '?' || c == ':') {
                ++indent;
                if (indent > 4 * kMaxDepth) {
                    diags.error(file, line, col,
                                "indentation nested deeper than " + std::to_string(4 * kMaxDepth) +
                                    " columns; refusing to parse",
                                "indent less: a spec needs only a few levels of nesting");
                    return false;
                }
            } else {
                at_line_start = false;
            }
        }
        if (c == '[' || c == '{') {
            if (++depth > kMaxDepth) {
                diags.error(file, line, col,
                            "nesting deeper than " + std::to_string(kMaxDepth) +
                                " levels; refusing to parse",
                            "nest fewer `[` and `{`: a spec needs only a few levels of nesting");
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        ++col;
    }
    return true;
}

// Owns a libyaml parser reading `text` (which must outlive it).
class Parser {
  public:
    explicit Parser(const std::string& text) {
        if (!yaml_parser_initialize(&p_)) throw std::bad_alloc();
        yaml_parser_set_input_string(&p_, reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size());
    }
    ~Parser() { yaml_parser_delete(&p_); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
    yaml_parser_t* get() { return &p_; }

  private:
    yaml_parser_t p_;
};

// One parsed event, deleted when it goes out of scope.
class Event {
  public:
    Event() = default;
    ~Event() {
        if (live_) yaml_event_delete(&e_);
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    // false: a syntax (or reader, or memory) error, described in the parser.
    bool parse(Parser& p) {
        live_ = yaml_parser_parse(p.get(), &e_) != 0;
        return live_;
    }
    const yaml_event_t& operator*() const { return e_; }
    const yaml_event_t* operator->() const { return &e_; }

  private:
    yaml_event_t e_{};
    bool live_ = false;
};

std::string str(const yaml_char_t* s) {
    return s ? std::string(reinterpret_cast<const char*>(s)) : std::string();
}

// 1-based line and column of a libyaml mark (which is 0-based).
void place(const yaml_mark_t& m, YNode* out) {
    out->line = static_cast<int>(m.line) + 1;
    out->col = static_cast<int>(m.column) + 1;
}

// The text of a libyaml error, with the place of its context when that differs.
std::string syntax_message(const yaml_parser_t& p) {
    if (p.error == YAML_MEMORY_ERROR) return "out of memory while parsing";
    std::string msg = p.problem ? p.problem : "unknown error";
    if (p.error == YAML_READER_ERROR && p.problem_value != -1) {
        char buf[16];
        std::snprintf(buf, sizeof buf, " (#x%X)", static_cast<unsigned>(p.problem_value));
        msg += buf;
    }
    if (p.context) {
        msg += std::string(" (") + p.context;
        if (p.context_mark.line != p.problem_mark.line ||
            p.context_mark.column != p.problem_mark.column)
            msg += " that starts at line " + std::to_string(p.context_mark.line + 1) + ", column " +
                   std::to_string(p.context_mark.column + 1);
        msg += ")";
    }
    return msg;
}

// 1-based line and column (in characters) of a byte offset of `text`.
std::pair<int, int> place_of_offset(const std::string& text, size_t offset) {
    int line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n')
            ++line, col = 1;
        else if ((c & 0xC0) != 0x80)
            ++col;
    }
    return {line, col};
}

// A plain (unquoted, untagged) scalar that YAML reads as null, as yaml-cpp did.
bool is_null_text(const std::string& s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Builds YNode trees from libyaml events. Aliases are expanded by copying the anchored node,
// every node (copies included) counted against kMaxNodes for the whole file.
struct Builder {
    explicit Builder(const std::string& f) : file(f) {}

    const std::string& file;
    std::vector<Diagnostic> errors; // reported only when the whole file parses
    size_t nodes = 0;
    bool exhausted = false; // budget spent (or a recursive alias): stop building

    struct Frame {
        YNode node;
        std::string anchor;
        YNode key;
        bool have_key = false;
    };
    std::vector<Frame> stack;
    // Anchors of the current document; nullopt while the anchored node is still open.
    std::unordered_map<std::string, std::optional<YNode>> anchors;
    std::optional<YNode> root;

    void error(int line, int col, std::string msg, std::string remedy) {
        errors.push_back(
            Diagnostic{Severity::Error, file, line, col, std::move(msg), std::move(remedy)});
    }

    // Counts one node at `depth` (root 0); false (once reported) when over a limit.
    bool count(const YNode& at, size_t depth) {
        if (++nodes > kMaxNodes || depth > 2 * static_cast<size_t>(kMaxDepth)) {
            exhausted = true;
            error(at.line, at.col,
                  nodes > kMaxNodes ? "document expands to more than " + std::to_string(kMaxNodes) +
                                          " nodes (an alias bomb?); refusing to load it"
                                    : std::string("aliases nest too deep; refusing to load it"),
                  "use fewer aliases (`*name`) of large nodes, or split the document into "
                  "several documents");
            return false;
        }
        return true;
    }

    void begin_document() {
        anchors.clear();
        stack.clear();
        root.reset();
    }

    // Adds a finished node to its parent (or makes it the document's root).
    void add(YNode&& n) {
        if (stack.empty()) {
            root = std::move(n);
            return;
        }
        Frame& f = stack.back();
        if (f.node.type == YNode::Seq) {
            f.node.seq.push_back(std::move(n));
            return;
        }
        if (!f.have_key) {
            f.key = std::move(n);
            f.have_key = true;
            return;
        }
        f.have_key = false;
        YNode& k = f.key;
        if (k.type != YNode::Scalar) {
            error(k.line, k.col, "mapping keys must be plain strings",
                  "write the key as a plain word followed by `:`, e.g. `name: web`");
            return;
        }
        for (const auto& [pk, pv] : f.node.map)
            if (pk.value == k.value) {
                error(k.line, k.col,
                      "duplicate key `" + k.value + "` (first given at line " +
                          std::to_string(pk.line) + ", column " + std::to_string(pk.col) +
                          "); remove one of them",
                      "keep one `" + k.value +
                          ":` line in this mapping, the one with the value "
                          "you mean");
                return;
            }
        f.node.map.emplace_back(std::move(k), std::move(n));
    }

    void finish(YNode&& n, const yaml_char_t* anchor) {
        if (anchor) anchors[str(anchor)] = n;
        add(std::move(n));
    }

    void scalar(const yaml_event_t& e) {
        YNode n;
        place(e.start_mark, &n);
        if (!count(n, stack.size())) return;
        const auto& s = e.data.scalar;
        n.value.assign(reinterpret_cast<const char*>(s.value), s.length);
        n.plain = s.style == YAML_PLAIN_SCALAR_STYLE && !s.tag;
        n.type = n.plain && is_null_text(n.value) ? YNode::Null : YNode::Scalar;
        if (n.type == YNode::Null) n.value.clear();
        finish(std::move(n), s.anchor);
    }

    void start(const yaml_event_t& e, YNode::Type type, const yaml_char_t* anchor) {
        Frame f;
        place(e.start_mark, &f.node);
        if (!count(f.node, stack.size())) return;
        f.node.type = type;
        if (anchor) {
            f.anchor = str(anchor);
            anchors[f.anchor].reset(); // open: an alias to it inside is recursive
        }
        stack.push_back(std::move(f));
    }

    void end() {
        Frame f = std::move(stack.back());
        stack.pop_back();
        if (!f.anchor.empty()) anchors[f.anchor] = f.node;
        add(std::move(f.node));
    }

    // Copies `src` as a node at `depth`, counting every copied node.
    bool copy(const YNode& src, size_t depth, const YNode& at, YNode* out) {
        if (!count(at, depth)) return false;
        out->type = src.type;
        out->value = src.value;
        out->plain = src.plain;
        out->line = src.line;
        out->col = src.col;
        out->seq.reserve(src.seq.size());
        for (const auto& c : src.seq) {
            out->seq.emplace_back();
            if (!copy(c, depth + 1, at, &out->seq.back())) return false;
        }
        out->map.reserve(src.map.size());
        for (const auto& [k, v] : src.map) {
            out->map.emplace_back();
            if (!copy(k, depth + 1, at, &out->map.back().first) ||
                !copy(v, depth + 1, at, &out->map.back().second))
                return false;
        }
        return true;
    }

    // false: the alias names no anchor (a syntax error, reported by the caller).
    bool alias(const yaml_event_t& e) {
        YNode at;
        place(e.start_mark, &at);
        std::string name = str(e.data.alias.anchor);
        auto it = anchors.find(name);
        if (it == anchors.end()) return false;
        if (!it->second) {
            exhausted = true;
            error(at.line, at.col,
                  "alias `*" + name +
                      "` refers to a node that contains it (a recursive alias); refusing to "
                      "load it",
                  "move `*" + name + "` out of the node anchored `&" + name +
                      "`, or write the value out");
            return true;
        }
        YNode n;
        if (!copy(*it->second, stack.size(), at, &n)) return true;
        add(std::move(n));
        return true;
    }
};

} // namespace

std::vector<Doc> parse_yaml_text(const std::string& file, const std::string& text,
                                 Diagnostics& diags) {
    std::vector<Doc> docs;
    if (text.size() > kMaxFileBytes) {
        diags.error(file, 1, 1,
                    "file is " + std::to_string(text.size()) +
                        " bytes; spec files are limited to " + std::to_string(kMaxFileBytes >> 20) +
                        " MiB (split it into several files)",
                    "split it into several files of at most " +
                        std::to_string(kMaxFileBytes >> 20) + " MiB each");
        return docs;
    }
    if (!check_bytes(file, text, diags)) return docs;
    if (!check_depth(file, text, diags)) return docs;
    Parser parser(text);
    Builder b(file);
    for (bool done = false; !done;) {
        Event e;
        if (!e.parse(parser)) {
            const yaml_parser_t& p = *parser.get();
            int line = static_cast<int>(p.problem_mark.line) + 1;
            int col = static_cast<int>(p.problem_mark.column) + 1;
            if (p.error == YAML_READER_ERROR)
                std::tie(line, col) = place_of_offset(text, p.problem_offset);
            else if (p.error == YAML_MEMORY_ERROR)
                line = col = 1;
            diags.error(file, line, col, "YAML syntax error: " + syntax_message(p),
                        "fix the YAML at this place: check the indentation, the quotes and "
                        "the `:` after each key");
            return {};
        }
        switch (e->type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (!b.exhausted) b.begin_document();
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (b.exhausted || !b.root) break;
            if (b.root->type == YNode::Null) break; // empty document (e.g. a trailing ---)
            docs.push_back(Doc{std::move(*b.root), file});
            b.root.reset();
            break;
        case YAML_ALIAS_EVENT:
            if (b.exhausted) break;
            if (!b.alias(*e)) {
                std::string name = str(e->data.alias.anchor);
                diags.error(file, static_cast<int>(e->start_mark.line) + 1,
                            static_cast<int>(e->start_mark.column) + 1,
                            "YAML syntax error: unknown alias `*" + name + "` (no anchor `&" +
                                name + "` before it in this document)",
                            "put `&" + name +
                                "` on the node to repeat, earlier in the same "
                                "document, or write the value out");
                return {};
            }
            break;
        case YAML_SCALAR_EVENT:
            if (!b.exhausted) b.scalar(*e);
            break;
        case YAML_SEQUENCE_START_EVENT:
            if (!b.exhausted) b.start(*e, YNode::Seq, e->data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            if (!b.exhausted) b.start(*e, YNode::Map, e->data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (!b.exhausted) b.end();
            break;
        default:
            break;
        }
    }
    for (auto& d : b.errors) diags.add(std::move(d));
    return docs;
}

} // namespace virtumancer::spec
