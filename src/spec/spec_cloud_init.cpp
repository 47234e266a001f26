// `cloud_init:` of a VirtualMachine: the seed's files, resolved at load. user_data_file (relative
// to the spec file) and user_data_env are read here only to compute the content hash; their
// values are never kept in the model (the database stores the reference and the hash).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec_internal.hpp"
#include "virtumancer/cloud_init.hpp"

namespace virtumancer::spec {

const std::vector<SpecKey>& cloud_init_keys() {
    static const std::vector<SpecKey> k = {
        {"user_data",
         "string",
         {},
         "",
         "user-data as text (e.g. `#cloud-config` ...); stored in the database and shown by "
         "plan: not for secrets (use user_data_file or user_data_env)"},
        {"user_data_file",
         "string",
         {},
         "",
         "file holding the user-data, relative to the spec file; read at load and apply, never "
         "stored (only its path and a content hash)"},
        {"user_data_env",
         "string",
         {},
         "",
         "environment variable holding the user-data; read at load and apply, never stored "
         "(only its name and a content hash)"},
        {"meta_data",
         "object",
         {},
         "instance-id: iid-<hash of the content>, local-hostname: <VM name>",
         "meta-data keys (a mapping); the defaults are added for keys it lacks, so a change of "
         "any file gives a new instance-id and cloud-init runs again"},
        {"network_config",
         "object or string",
         {},
         "",
         "network-config (version 1 or 2) as a mapping or YAML text; no file when absent"},
    };
    return k;
}

namespace {

bool plain_safe(const std::string& v) {
    if (v.empty()) return false;
    for (char ch : v)
        if (ch == '\n' || ch == '\r' || ch == '\t') return false;
    return true;
}

std::string quoted(const std::string& v) {
    std::string out = "\"";
    for (char ch : v) {
        unsigned char u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (u < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", u);
            out += b;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

// A scalar as YAML: a plain scalar stays plain (its YAML type is kept: 5, true, null), a quoted
// or block one is written double-quoted.
std::string scalar_text(const YNode& n) {
    if (n.type == YNode::Null) return "null";
    if (n.plain && plain_safe(n.value)) return n.value;
    return quoted(n.value);
}

void emit(std::ostringstream& os, const YNode& n, int indent);

void emit_value(std::ostringstream& os, const YNode& v, int indent) {
    if (v.type == YNode::Map && !v.map.empty()) {
        os << "\n";
        emit(os, v, indent + 2);
    } else if (v.type == YNode::Seq && !v.seq.empty()) {
        os << "\n";
        emit(os, v, indent + 2);
    } else if (v.type == YNode::Map) {
        os << " {}\n";
    } else if (v.type == YNode::Seq) {
        os << " []\n";
    } else {
        os << " " << scalar_text(v) << "\n";
    }
}

// Block-style YAML of a node (the same data as the spec wrote, in one canonical spelling).
void emit(std::ostringstream& os, const YNode& n, int indent) {
    std::string pad(static_cast<size_t>(indent), ' ');
    if (n.type == YNode::Map) {
        for (const auto& e : n.map) {
            os << pad << scalar_text(e.first) << ":";
            emit_value(os, e.second, indent);
        }
    } else if (n.type == YNode::Seq) {
        for (const auto& item : n.seq) {
            os << pad << "-";
            if (item.type == YNode::Map && !item.map.empty()) {
                // first key on the dash's line, the others aligned under it
                std::ostringstream inner;
                emit(inner, item, indent + 2);
                std::string s = inner.str();
                os << " " << s.substr(static_cast<size_t>(indent) + 2);
            } else {
                emit_value(os, item, indent);
            }
        }
    } else {
        os << pad << scalar_text(n) << "\n";
    }
}

std::string yaml_text(const YNode& n) {
    std::ostringstream os;
    emit(os, n, 0);
    return os.str();
}

bool valid_env_name(const std::string& v) {
    if (v.empty() || std::isdigit(static_cast<unsigned char>(v[0]))) return false;
    for (char ch : v)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
    return true;
}

} // namespace

std::string cloud_init_yaml_text(const YNode& n) {
    return yaml_text(n);
}

void load_cloud_init(const std::string& file, Diagnostics& diags, const YNode& node,
                     const std::string& vm, const Object& obj, CloudInitSpec& out) {
    auto error = [&](const YNode& at, const std::string& msg, const std::string& remedy) {
        diags.error(file, at.line, at.col, msg, remedy);
    };
    if (node.type != YNode::Map) {
        error(node,
              "`cloud_init` must be a mapping with user_data (or user_data_file or "
              "user_data_env), meta_data and network_config; got " +
                  std::string(node.type == YNode::Seq ? "a list" : "a scalar"),
              "write it as a mapping, e.g. `cloud_init:` then `  user_data: |` on the next line");
        return;
    }
    std::vector<std::string> known;
    for (const auto& k : cloud_init_keys()) known.push_back(k.key);
    const YNode* source = nullptr;
    std::string user_data;
    bool ok = true;
    const YNode *meta = nullptr, *net = nullptr;
    for (const auto& [k, v] : node.map) {
        const std::string& key = k.value;
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            error(k, "unknown key `" + key + "` in cloud_init" + did_you_mean(key, known),
                  "use one of " + join(known, ", "));
            ok = false;
            continue;
        }
        if (key == "meta_data") {
            meta = &v;
            continue;
        }
        if (key == "network_config") {
            net = &v;
            continue;
        }
        if (source) {
            error(k, "cloud_init has both `" + key + "` and another user-data source",
                  "give only one of user_data, user_data_file, user_data_env");
            ok = false;
            continue;
        }
        source = &k;
        if (v.type != YNode::Scalar) {
            error(v,
                  "`" + key + "` must be " +
                      (key == "user_data" ? std::string("text (a block scalar: `user_data: |`)")
                       : key == "user_data_file" ? "a file path"
                                                 : "a variable name") +
                      ", got " +
                      (v.type == YNode::Map   ? "a mapping"
                       : v.type == YNode::Seq ? "a list"
                                              : "null"),
                  "write `" + key + ":` followed by a single value");
            ok = false;
            continue;
        }
        if (key == "user_data") {
            out.user_data = user_data = v.value;
        } else if (key == "user_data_file") {
            std::filesystem::path p(v.value);
            if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
            std::error_code ec;
            std::filesystem::path abs = std::filesystem::absolute(p, ec).lexically_normal();
            std::ifstream in(abs, std::ios::binary);
            if (v.value.empty() || !in || std::filesystem::is_directory(abs, ec)) {
                error(v,
                      "user_data_file `" + v.value + "` cannot be read (looked for " +
                          abs.string() + ")",
                      "create it, or give the path relative to this spec file");
                ok = false;
                continue;
            }
            std::ostringstream ss;
            ss << in.rdbuf();
            user_data = ss.str();
            out.user_data_file = abs.string();
        } else { // user_data_env
            if (!valid_env_name(v.value)) {
                error(v,
                      "user_data_env must name an environment variable (letters, digits, _), "
                      "got `" +
                          excerpt(v.value, 40) + "`",
                      "write the variable's name, e.g. `user_data_env: WEB_USER_DATA`");
                ok = false;
                continue;
            }
            const char* val = std::getenv(v.value.c_str());
            if (!val) {
                error(v, "environment variable " + v.value + " (user_data_env) is not set",
                      "export it before load and apply (its value is never stored)");
                ok = false;
                continue;
            }
            user_data = val;
            out.user_data_env = v.value;
        }
    }
    std::string given_meta;
    bool has_iid = false, has_host = false;
    if (meta && meta->type != YNode::Null) {
        if (meta->type != YNode::Map) {
            error(*meta, "`meta_data` must be a mapping",
                  "write it as a mapping, e.g. `local-hostname: web1`");
            ok = false;
        } else {
            for (const auto& e : meta->map) {
                if (e.first.value == "instance-id") has_iid = true;
                if (e.first.value == "local-hostname") has_host = true;
                if (e.first.value == "instance_id" || e.first.value == "local_hostname")
                    diags.warning(
                        file, e.first.line, e.first.col,
                        "meta_data key `" + e.first.value +
                            "` is written as is; cloud-init reads `" +
                            (e.first.value == "instance_id" ? "instance-id" : "local-hostname") +
                            "` (with a dash)",
                        std::string("write `") +
                            (e.first.value == "instance_id" ? "instance-id" : "local-hostname") +
                            "`");
            }
            if (!meta->map.empty()) given_meta = yaml_text(*meta);
        }
    }
    if (net && net->type != YNode::Null) {
        if (net->type == YNode::Map) {
            out.network_config = yaml_text(*net);
            out.has_network_config = true;
        } else if (net->type == YNode::Scalar) {
            out.network_config = net->value;
            out.has_network_config = true;
        } else {
            error(*net, "`network_config` must be a mapping or YAML text",
                  "write it as a mapping (e.g. `version: 2`) or a block scalar `|`");
            ok = false;
        }
    }
    // The seed goes into the pool of the VM's first disk.
    const Object* first = nullptr;
    for (const auto& ch : obj.children)
        if (ch.kind && ch.kind->kind == "disk") {
            first = &ch;
            break;
        }
    if (!first || (!first->has("volume") && !first->has("pool"))) {
        error(node,
              "cloud_init puts its seed volume in the pool of the VM's first disk, and "
              "this VM's first disk is " +
                  std::string(first ? "not a volume of a pool" : "missing"),
              "give the VM a first disk with `volume:` (a Volume spec)");
        ok = false;
    }
    if (!ok) return;
    out.enabled = true;
    out.meta_data =
        cloud_init_meta_data(given_meta, has_iid, has_host, vm, user_data, out.network_config);
    CloudInitFiles files{user_data, out.meta_data, out.network_config, out.has_network_config};
    out.hash = cloud_init_hash(files);
}

} // namespace virtumancer::spec
