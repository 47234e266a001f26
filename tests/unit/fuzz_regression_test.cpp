// Inputs the fuzz targets (fuzz/) found, kept in fuzz/regressions/<target>/: each must be
// handled (an error with a place, never a crash, a lost diagnostic or a blow-up), and the
// specific answer of each finding is checked here.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../../fuzz/harness.hpp"
#include "test_support.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;
using namespace virtumancer::testing_util;

namespace {

fs::path regressions(const std::string& target) {
    return fs::path(VIRTUMANCER_SOURCE_DIR) / "fuzz" / "regressions" / target;
}

std::vector<fs::path> files_of(const std::string& target) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(regressions(target))) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string input(const std::string& target, const std::string& name) {
    return slurp(regressions(target) / name);
}

std::string all(const SpecLoadResult& r) {
    std::string s;
    for (const auto& d : r.diags.items()) s += d.to_string() + "\n";
    return s;
}

} // namespace

TEST(FuzzRegressions, EveryKeptInputIsHandled) {
    size_t n = 0;
    for (const auto& [target, check] :
         std::vector<std::pair<std::string, std::string (*)(const std::string&)>>{
             {"spec", fuzz::check_spec},
             {"domain_xml", fuzz::check_domain_xml},
             {"plan_json", fuzz::check_plan_json}}) {
        for (const auto& f : files_of(target)) {
            EXPECT_EQ(check(slurp(f)), "") << f;
            ++n;
        }
    }
    EXPECT_GE(n, 8u);
}

// A value cut at 40 bytes inside a UTF-8 character once made `validate --json` print only a
// JSON library error, losing every diagnostic.
TEST(FuzzRegressions, Utf8CutInAQuotedValueKeepsJsonAndDiagnostics) {
    SpecLoadResult r = load_spec_text("t.yaml", input("spec", "utf8-cut-at-40-bytes.yaml"));
    ASSERT_EQ(r.diags.error_count(), 2u) << all(r);
    auto doc = nlohmann::json::parse(r.diags.json()); // throws on invalid UTF-8
    ASSERT_EQ(doc["diagnostics"].size(), 2u);
    bool state = false, autostart = false;
    for (const auto& d : doc["diagnostics"]) {
        std::string m = d["message"];
        if (m.find("`state`") != std::string::npos) {
            state = true;
            // 39 ASCII bytes and no half character, then "..."
            EXPECT_NE(m.find("`" + std::string(39, 'a') + "...`"), std::string::npos) << m;
            EXPECT_EQ(d["line"], 10);
            EXPECT_EQ(d["column"], 8);
        }
        if (m.find("`autostart`") != std::string::npos) autostart = true;
    }
    EXPECT_TRUE(state && autostart) << r.diags.json();
    // bytes that are not UTF-8 at all (from any message) are replaced, never thrown
    Diagnostics raw;
    raw.error("f.yaml", 1, 1, std::string("bad \xc3 byte"), "fix it");
    auto parsed = nlohmann::json::parse(raw.json(), nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << raw.json();
}

// `vcpus: 9999999999999999999` once gave `error: stoll` with no place and lost the other
// diagnostics.
TEST(FuzzRegressions, IntegerBeyond64BitsIsOutOfRangeAtItsPlace) {
    SpecLoadResult r = load_spec_text("t.yaml", input("spec", "vcpus-beyond-2-63.yaml"));
    std::string s = all(r);
    EXPECT_NE(s.find("t.yaml:9:8: error: `vcpus`: value out of range"), std::string::npos) << s;
    EXPECT_NE(s.find("t.yaml:10:12: error: `autostart`"), std::string::npos) << s;
    SpecLoadResult t = load_spec_text("t.yaml", input("spec", "shutdown-timeout-beyond-2-64.yaml"));
    s = all(t);
    EXPECT_NE(s.find("t.yaml:10:19: error: `shutdown_timeout`: value out of range"),
              std::string::npos)
        << s;
}

// A saved plan with format_version 2^64 or ids of 1e300 was read through an undefined
// float-to-int conversion and reported a wrapped number.
TEST(FuzzRegressions, SavedPlanRejectsOutOfRangeNumbers) {
    auto message = [](const std::string& text) {
        try {
            plan_from_json(text);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    std::string m = message(input("plan_json", "format-version-2-64.json"));
    EXPECT_NE(m.find("`format_version` is out of range: 1.8446744073709552e+19"), std::string::npos)
        << m;
    m = message(input("plan_json", "step-ids-1e300.json"));
    EXPECT_NE(m.find("`steps[0].id` is out of range: 1e+300"), std::string::npos) << m;
    m = message(input("plan_json", "dep-below-int64.json"));
    EXPECT_NE(m.find("`steps[0].deps[0]` is out of range"), std::string::npos) << m;
    m = message(R"({"format_version": "1"})");
    EXPECT_NE(m.find("`format_version` is not an integer"), std::string::npos) << m;
    m = message(R"({"format_version": 4, "changes": [], "steps": [], "fingerprints": {}})");
    EXPECT_NE(m.find("format version 4"), std::string::npos) << m;
    m = message(R"({"format_version": 1, "changes": [], "steps": [], "fingerprints": {}})");
    EXPECT_NE(m.find("format version 1 (made by an older virtumancer)"), std::string::npos) << m;
}

// XML nested 9,000 deep (63 KB) once made import write a 160 MB spec with 790 MB of memory;
// the comparison recursed without a limit (stack overflow at 6,000).
TEST(FuzzRegressions, DeepXmlIsRefusedWithItsPlace) {
    std::string xml = input("domain_xml", "nested-9000-deep.xml");
    auto t0 = std::chrono::steady_clock::now();
    try {
        import_domain_xml(xml, "local");
        ADD_FAILURE() << "accepted";
    } catch (const XmlError& e) {
        EXPECT_EQ(e.line(), 1);
        // the 257th element: <domain><devices> and 255 <x>
        EXPECT_EQ(e.column(), static_cast<int>(xml.find("<x>") + 1 + 254 * 3)) << e.what();
        EXPECT_NE(std::string(e.what()).find("nested deeper than 256 elements"), std::string::npos);
    }
    EXPECT_THROW(parse_xml(xml, domain_kind()), XmlError);
    std::string why;
    EXPECT_FALSE(xml_equal(xml, xml, &why));
    EXPECT_NE(why.find("nested deeper than 256"), std::string::npos) << why;
    std::string frag = std::string(300, '<'); // not XML at all: a plain error
    EXPECT_THROW(merge_xml_fragment("", "disk", frag), Error);
    std::string deep;
    for (int i = 0; i < 6000; ++i) deep += "<a>";
    for (int i = 0; i < 6000; ++i) deep += "</a>";
    EXPECT_FALSE(xml_equal(deep, deep, &why));
    EXPECT_THROW(merge_xml_fragment("", "disk", deep), Error);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(FuzzRegressions, DeepButAllowedResidueKeepsTheSpecSmall) {
    std::string xml = input("domain_xml", "deep-and-wide-residue.xml");
    ImportedDomain d = import_domain_xml(xml, "local");
    std::string yaml = emit_spec_yaml("VirtualMachine", d.spec);
    EXPECT_LT(yaml.size(), 2 * xml.size() + 8192) << "spec of " << yaml.size() << " bytes";
    // and it still loads back to the same residue
    SpecLoadResult r =
        load_spec_text("t.yaml", "kind: Host\nname: local\nuri: qemu:///system\n---\n" + yaml);
    ASSERT_FALSE(r.diags.has_errors()) << all(r);
    ASSERT_EQ(r.state.vms.size(), 1u);
    std::string why;
    EXPECT_TRUE(xml_equal(render_xml(r.state.vms[0].obj), render_xml(d.spec.obj), &why)) << why;
}
