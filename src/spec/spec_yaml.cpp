// Raw YAML text -> YNode trees, defending against hostile input: oversized files, invalid
// UTF-8, control characters, deep nesting, alias bombs; duplicate keys are reported here.
#include <yaml-cpp/yaml.h>

#include <cstdio>

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
                                " is not allowed in YAML (is this a binary file?)");
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
                            "invalid UTF-8 byte sequence (the file must be UTF-8 text)");
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
                                    " columns; refusing to parse");
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
                                " levels; refusing to parse");
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        ++col;
    }
    return true;
}

struct Converter {
    const std::string& file;
    Diagnostics& diags;
    size_t nodes = 0;
    bool exhausted = false;

    void pos(const YAML::Node& n, YNode* out) {
        auto m = n.Mark();
        out->line = m.line >= 0 ? m.line + 1 : 0;
        out->col = m.column >= 0 ? m.column + 1 : 0;
    }

    bool convert(const YAML::Node& n, YNode* out, int depth) {
        if (exhausted) return false;
        if (++nodes > kMaxNodes || depth > 2 * kMaxDepth) {
            exhausted = true;
            YNode at;
            pos(n, &at);
            diags.error(file, at.line, at.col,
                        nodes > kMaxNodes
                            ? "document expands to more than " + std::to_string(kMaxNodes) +
                                  " nodes (an alias bomb?); refusing to load it"
                            : std::string("aliases nest too deep; refusing to load it"));
            return false;
        }
        pos(n, out);
        switch (n.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            out->type = YNode::Null;
            return true;
        case YAML::NodeType::Scalar:
            out->type = YNode::Scalar;
            out->value = n.Scalar();
            out->plain = n.Tag() == "?";
            return true;
        case YAML::NodeType::Sequence:
            out->type = YNode::Seq;
            for (const auto& item : n) {
                YNode c;
                if (!convert(item, &c, depth + 1)) return false;
                out->seq.push_back(std::move(c));
            }
            return true;
        case YAML::NodeType::Map:
            out->type = YNode::Map;
            for (const auto& kv : n) {
                YNode k, v;
                if (!convert(kv.first, &k, depth + 1)) return false;
                if (!convert(kv.second, &v, depth + 1)) return false;
                if (k.type != YNode::Scalar) {
                    diags.error(file, k.line, k.col, "mapping keys must be plain strings");
                    continue;
                }
                if (const YNode* prev = out->find(k.value)) {
                    (void)prev;
                    int pl = 0, pc = 0;
                    for (const auto& [pk, pv] : out->map)
                        if (pk.value == k.value) pl = pk.line, pc = pk.col;
                    diags.error(file, k.line, k.col,
                                "duplicate key `" + k.value + "` (first given at line " +
                                    std::to_string(pl) + ", column " + std::to_string(pc) +
                                    "); remove one of them");
                    continue;
                }
                out->map.emplace_back(std::move(k), std::move(v));
            }
            return true;
        }
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
                        " MiB (split it into several files)");
        return docs;
    }
    if (!check_bytes(file, text, diags)) return docs;
    if (!check_depth(file, text, diags)) return docs;
    std::vector<YAML::Node> nodes;
    try {
        nodes = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
        int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
        int col = e.mark.column >= 0 ? e.mark.column + 1 : 1;
        diags.error(file, line, col, "YAML syntax error: " + e.msg);
        return docs;
    } catch (const std::exception& e) {
        diags.error(file, 1, 1, std::string("YAML could not be read: ") + e.what());
        return docs;
    }
    Converter conv{file, diags};
    for (const auto& n : nodes) {
        Doc d;
        d.file = file;
        if (!conv.convert(n, &d.root, 0)) break;
        if (d.root.type == YNode::Null) continue; // empty document (e.g. a trailing ---)
        docs.push_back(std::move(d));
    }
    return docs;
}

} // namespace virtumancer::spec
