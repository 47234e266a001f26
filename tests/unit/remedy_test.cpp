// Errors are values with a place and a remedy (include/virtumancer/diag.hpp): every
// `Error(...)` raised in src/ and include/ passes a non-empty remedy as its second argument,
// and the error paths below that users reach first carry one. Every diagnostic of the spec
// loader and checker carries one too: a malformed spec per kind of diagnostic is loaded and
// each diagnostic it gets must have a remedy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "virtumancer/diag.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The top-level arguments of the call whose '(' is at s[open]; empty when unbalanced.
std::vector<std::string> call_args(const std::string& s, size_t open) {
    std::vector<std::string> args;
    std::string cur;
    int depth = 0;
    for (size_t i = open + 1; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            size_t j = i + 1;
            while (j < s.size() && s[j] != c) j += s[j] == '\\' ? 2 : 1;
            cur += s.substr(i, j - i + 1);
            i = j;
            continue;
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) {
                args.push_back(cur);
                return args;
            }
            --depth;
        }
        if (c == ',' && depth == 0) {
            args.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    return {};
}

bool blank(std::string s) {
    s.erase(0, s.find_first_not_of(" \t\n"));
    s.erase(s.find_last_not_of(" \t\n") + 1);
    return s.empty() || s == "\"\"" || s == "{}";
}

} // namespace

TEST(Remedy, EveryErrorRaisedInTheSourcesHasOne) {
    fs::path root = VIRTUMANCER_SOURCE_DIR;
    int calls = 0;
    std::vector<std::string> missing;
    for (const char* dir : {"src", "include"}) {
        for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
            auto ext = e.path().extension();
            if (ext != ".cpp" && ext != ".hpp") continue;
            std::string s = slurp(e.path());
            for (size_t at = s.find("Error("); at != std::string::npos;
                 at = s.find("Error(", at + 1)) {
                char before = at ? s[at - 1] : ' ';
                if (std::isalnum(static_cast<unsigned char>(before)) || before == '_' ||
                    before == ':')
                    continue; // ParseError(, std::runtime_error(, ...
                size_t line_start = s.rfind('\n', at) + 1;
                std::string line = s.substr(line_start, at - line_start);
                if (line.find("explicit") != std::string::npos ||
                    line.find("class") != std::string::npos)
                    continue; // the constructor itself
                auto args = call_args(s, at + 5);
                ++calls;
                if (args.size() < 2 || blank(args[1]))
                    missing.push_back(
                        e.path().lexically_relative(root).string() + ":" +
                        std::to_string(std::count(s.begin(), s.begin() + at, '\n') + 1));
            }
        }
    }
    EXPECT_GT(calls, 100); // the scan found the errors
    for (const auto& m : missing) ADD_FAILURE() << m << ": Error(...) without a remedy";
}

TEST(Remedy, ReachedErrorsCarryOne) {
    try {
        merge_xml_fragment("<domain", "domain", "<x/>");
        FAIL() << "a malformed stored fragment must be an error";
    } catch (const Error& e) {
        EXPECT_FALSE(e.remedy().empty()) << e.what();
    }
}

namespace {

const std::string kHost = "kind: Host\nname: local\nuri: qemu:///system\n---\n";
const std::string kVm = "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64MiB\nvcpus: 1\n";
const std::string kPool = "kind: StoragePool\nname: p\nhost: local\ntype: dir\npath: /tmp/p\n";

std::string vm(const std::string& extra) {
    return kHost + kVm + extra;
}

struct Malformed {
    std::string text;     // the spec file
    std::string expected; // a part of the message of the diagnostic it is written for
};

// One input per kind of diagnostic the loader (YAML, document, keys and values) and the
// checker (across documents) can give.
std::vector<Malformed> malformed_specs() {
    std::string deep_indent = "a:\n" + std::string(4 * 256 + 1, ' ') + "b: 1\n";
    std::string deep_flow = "a: " + std::string(257, '[') + "\n";
    // 10 levels of 10 aliases each: 10^10 nodes when expanded
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 10; ++i) {
        std::string prev = "*a" + std::to_string(i - 1);
        bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) bomb += (k ? ", " : "") + prev;
        bomb += "]\n";
    }
    return {
        // the YAML layer
        {"kind: Host\x01\n", "control character"},
        {"name: \xff\n", "invalid UTF-8"},
        {deep_indent, "indentation nested deeper"},
        {deep_flow, "nesting deeper than"},
        {bomb, "alias bomb"},
        {"? [a, b]\n: v\n", "mapping keys must be plain strings"},
        {"a: 1\na: 2\n", "duplicate key `a`"},
        {"a: &x\n  b: *x\n", "recursive alias"},
        {"a: [\n", "YAML syntax error"},
        {"a: *nope\n", "unknown alias"},
        {std::string(17 << 20, '#'), "limited to 16 MiB"},
        // a document
        {"- a\n", "must be a mapping with `kind` and `name`"},
        {"name: x\n", "missing required key `kind`"},
        {"kind: Hots\nname: x\n", "`kind` must be one of"},
        {"kind: Host\nname: h\napiVersion: v2\nuri: qemu:///system\n", "`apiVersion` must be"},
        {"kind: Host\nuri: qemu:///system\n", "missing required key `name`"},
        {kHost + "kind: Network\nname: n\n", "missing required key `host`"},
        {"kind: Host\nname: h\nuri: nope\n", "must be a libvirt URI"},
        {"kind: Host\nname: h\n", "missing required key `uri`"},
        {"kind: Host\nname: h\nuri: qemu:///system\ndescription: [a]\n", "must be a string"},
        {"kind: Host\nname: [a]\nuri: qemu:///system\n", "must be a name"},
        {"kind: Host\nname: bad name\nuri: qemu:///system\n", "invalid name"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nvcpus: 1\n",
         "missing required key `memory`"},
        {kHost + "kind: StoragePool\nname: p\nhost: local\ntype: dir\n",
         "missing required key `path`"},
        {kHost + "kind: Snapshot\nname: s\nhost: local\n", "missing required key `vm`"},
        // keys and values
        {vm("zzzz: 1\n"), "unknown key `zzzz`"},
        {vm("memroy: 1\n"), "did you mean `memory`"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64MiB\nvcpus: 0\n",
         "is out of range"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64MiB\n"
                 "vcpus: 99999999999999999999\n",
         "does not fit in 64 bits"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64MiB\nvcpus: abc\n",
         "must be an integer"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nmemory: 64G\nvcpus: 1\n",
         "ambiguous size unit"},
        {kHost + "kind: VirtualMachine\nname: web\nhost: local\nmemory: 4097PiB\nvcpus: 1\n",
         "is too large"},
        {vm("disks:\n  - file: /tmp/a.img\n    readonly: maybe\n"), "must be true or false"},
        {vm("boot: hd\n"), "must be a list of strings"},
        {vm("boot: [\"a,b\"]\n"), "without commas"},
        {vm("boot: []\n"), "a non-empty list"},
        {vm("disks:\n  - file: /tmp/a.img\n    bus: virtio2\n"), "must be one of"},
        {vm("disks:\n  - file: [a]\n"), "must be a string"},
        {vm("disks: {a: 1}\n"), "must be a list of mappings"},
        {vm("disks: [a]\n"), "must be mappings"},
        {vm("disks:\n  - file: /tmp/a.img\n    xml: [a]\n"), "must be a string of XML"},
        {vm("disks:\n  - file: /tmp/a.img\n    xml: \"<disk\"\n"), "`xml`:"},
        {vm("other_devices:\n  - xml: \"<a\"\n"), "is not well-formed XML"},
        {vm("other_devices:\n  - {}\n"), "needs `xml:"},
        {vm("graphics:\n  - type: vnc\n    password: x\n"), "literal password"},
        {vm("template: maybe\n"), "must be true or false"},
        {vm("state: runing\n"), "must be one of"},
        {vm("shutdown_timeout: abc\n"), "must be an integer (seconds)"},
        {vm("template: true\nstate: running\n"), "a template is never started"},
        {vm("interfaces:\n  - type: network\n    network: default\n    mac: zz\n"), "unicast MAC"},
        // across documents
        {kHost + "kind: Host\nname: local\nuri: qemu:///session\n", "duplicate Host"},
        {kHost + "kind: Host\nname: other\nuri: qemu:///system\n", "has the same uri"},
        {kHost + "kind: Network\nname: n\nhost: nowhere\n", "unknown host `nowhere`"},
        {kHost + "kind: Volume\nname: v\nhost: local\npool: nope\ncapacity: 1GiB\n",
         "unknown pool `nope`"},
        {kHost + kPool +
             "---\nkind: Volume\nname: v\nhost: local\npool: p\ncapacity: 1GiB\n"
             "backing_volume: nope\n",
         "unknown backing volume"},
        {vm("disks:\n  - volume: v\n    pool: nope\n"), "unknown pool `nope`"},
        {kHost + kPool + "---\n" + kVm + "disks:\n  - volume: v\n    pool: p\n",
         "unknown volume `v` in pool"},
        {vm("disks:\n  - volume: v\n"), "unknown volume `v` on host"},
        {kHost + kPool + "---\n" + kPool.substr(0, kPool.find("name: p")) +
             "name: q\nhost: local\n" +
             "type: dir\npath: /tmp/q\n---\nkind: Volume\nname: v\nhost: local\npool: p\n"
             "capacity: 1GiB\n---\nkind: Volume\nname: v\nhost: local\npool: q\n"
             "capacity: 1GiB\n---\n" +
             kVm + "disks:\n  - volume: v\n",
         "exists in several pools"},
        {vm("disks:\n  - file: /tmp/a.img\n    target: vda\n  - file: /tmp/b.img\n"
            "    target: vda\n"),
         "two disks use target"},
        {vm("disks:\n  - file: /tmp/a.img\n    bus: nvme\n"), "set `target` for this disk"},
        {vm("interfaces:\n  - type: network\n    network: default\n"
            "    mac: \"52:54:00:00:00:01\"\n") +
             "---\nkind: VirtualMachine\nname: db\nhost: local\nmemory: 64MiB\nvcpus: 1\n"
             "interfaces:\n  - type: network\n    network: default\n"
             "    mac: \"52:54:00:00:00:01\"\n",
         "is used twice on host"},
        {vm("interfaces:\n  - type: network\n    network: default\n"
            "    mac: \"52:54:00:00:00:01\"\n  - type: network\n    network: default\n"
            "    mac: \"52:54:00:00:00:01\"\n"),
         "is used by two interfaces of this VM"},
        {vm("interfaces:\n  - type: network\n    network: nope\n"),
         "is not defined by a Network spec"},
        {vm("consoles:\n  - target_type: virtio\n  - target_type: serial\n"),
         "accepts a serial console only as the first console"},
        {vm("serials:\n  - type: pty\nconsoles:\n  - type: file\n    source_path: /tmp/c\n"),
         "console with target_type serial has"},
        {vm("graphics:\n  - type: spice\n    listen: 127.0.0.1\n"), "spice graphics with"},
        {vm("clone_of: nope\n"), "unknown template VM"},
        {vm("clone_of: db\n---\nkind: VirtualMachine\nname: db\nhost: local\nmemory: 64MiB\n"
            "vcpus: 1\n"),
         "is not a template"},
        {vm("template: true\nclone_of: web\n"), "cannot be a clone of itself"},
        {kHost + "kind: Snapshot\nname: s\nhost: local\nvm: nope\n", "unknown VM `nope`"},
    };
}

} // namespace

TEST(Remedy, EveryDiagnosticOfAMalformedSpecHasOne) {
    int diagnostics = 0;
    for (const auto& m : malformed_specs()) {
        SpecLoadResult r = load_spec_text("t.yaml", m.text);
        bool found = false;
        std::string all;
        for (const auto& d : r.diags.items()) {
            ++diagnostics;
            all += d.to_string() + "\n";
            found |= d.message.find(m.expected) != std::string::npos;
            EXPECT_FALSE(d.remedy.empty()) << "a diagnostic without a remedy: " << d.to_string();
            // printed after the message, on a line of its own
            if (!d.remedy.empty()) {
                EXPECT_NE(d.to_string().find("\n  hint: " + d.remedy), std::string::npos);
            }
            EXPECT_EQ(d.remedy.find('\n'), std::string::npos) << d.remedy;
        }
        EXPECT_TRUE(found) << "no diagnostic says `" << m.expected << "` for\n"
                           << m.text.substr(0, 400) << "\ngot:\n"
                           << all;
    }
    EXPECT_GT(diagnostics, 70);
    // Paths that do not exist (the file-level diagnostics).
    SpecLoadResult none = load_spec_files({"/nonexistent/vmr-remedy-test.yaml"});
    ASSERT_EQ(none.diags.items().size(), 1u);
    EXPECT_FALSE(none.diags.items()[0].remedy.empty()) << none.diags.items()[0].to_string();
}

// `validate --json` carries each diagnostic's remedy.
TEST(Remedy, DiagnosticsJsonCarriesIt) {
    SpecLoadResult r = load_spec_text("t.yaml", vm("state: runing\n"));
    ASSERT_EQ(r.diags.error_count(), 1u);
    std::string js = r.diags.json();
    EXPECT_NE(js.find("\"remedy\": \"set `state` to one of"), std::string::npos) << js;
}
