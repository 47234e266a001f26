// The committed JSON Schema and reference tables equal what the binary generates, and the
// `validate` command works on the example specs and on a broken fixture.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../../src/spec/spec_internal.hpp"
#include "test_support.hpp"
#include "virtumancer/spec.hpp"

using namespace virtumancer;

namespace {

using testing_util::slurp;

std::string src(const std::string& rel) {
    return std::string(VIRTUMANCER_SOURCE_DIR) + "/" + rel;
}

// Runs a command; returns its exit status and stdout.
int run(const std::string& cmd, std::string* out) {
    int st = -1;
    *out += testing_util::run_shell(cmd, &st);
    return testing_util::exit_code(st);
}

} // namespace

TEST(SpecSchema, CommittedSchemaIsGenerated) {
    std::string committed = slurp(src("schema/virtumancer.schema.json"));
    EXPECT_EQ(committed, spec_json_schema())
        << "regenerate: virtumancer schema > schema/virtumancer.schema.json";
    auto j = nlohmann::json::parse(committed);
    EXPECT_EQ(j["$schema"], "http://json-schema.org/draft-07/schema#");
    // keys come from the descriptors: every domain field and device list is there
    const auto& vm = j["definitions"]["VirtualMachine"]["properties"];
    for (const auto& f : domain_kind().fields) EXPECT_TRUE(vm.contains(f.key)) << f.key;
    for (const auto* k : device_kinds()) EXPECT_TRUE(vm.contains(k->yaml_list)) << k->yaml_list;
    EXPECT_TRUE(vm.contains("other_devices"));
    EXPECT_EQ(j["definitions"]["kind_disk"]["properties"]["cache"]["enum"][1], "none");
}

TEST(SpecSchema, ReferenceDocCarriesTheGeneratedTables) {
    std::string doc = slurp(src("docs/spec-reference.md"));
    std::string tables = spec::reference_markdown();
    EXPECT_NE(doc.find("<!-- BEGIN GENERATED -->\n" + tables + "<!-- END GENERATED -->"),
              std::string::npos)
        << "regenerate the tables with: virtumancer schema --markdown";
    for (const auto* k : device_kinds()) {
        EXPECT_NE(doc.find("`" + k->yaml_list + "` items"), std::string::npos) << k->yaml_list;
        for (const auto& f : k->fields)
            EXPECT_NE(doc.find("| `" + f.key + "` |"), std::string::npos) << f.key;
    }
}

TEST(SpecSchema, ValidateExampleSpecsExitsZero) {
    std::string out;
    int rc = run(std::string(VIRTUMANCER_BINARY) + " validate " + src("specs"), &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("8 files, 16 documents: 0 errors, 0 warnings"), std::string::npos) << out;
    // every example file carries the schema modeline
    for (const char* f :
         {"host", "storage", "network", "web", "db", "template", "snapshot", "cloud"})
        EXPECT_EQ(
            slurp(src(std::string("specs/") + f + ".yaml"))
                .rfind("# yaml-language-server: $schema=../schema/virtumancer.schema.json\n", 0),
            0u)
            << f;
    auto r = load_spec_files({src("specs")});
    EXPECT_EQ(r.state.vms.size(), 5u);
    // specs/cloud.yaml, the provisioning example: an image volume, a seed, a wait for the lease
    bool seed = false, wait = false, image = false;
    for (const auto& v : r.state.vms)
        if (v.obj.name() == "cloud1") {
            seed = v.vm.cloud_init.enabled && !v.vm.cloud_init.hash.empty();
            wait = v.vm.wait_for_ip.enabled && v.vm.wait_for_ip.source == "lease";
        }
    for (const auto& v : r.state.volumes)
        if (v.obj.name() == "debian-12-base") image = v.obj.get("source").rfind("https://", 0) == 0;
    EXPECT_TRUE(seed);
    EXPECT_TRUE(wait);
    EXPECT_TRUE(image);
    EXPECT_EQ(r.state.snapshots.size(), 1u);
}

TEST(SpecSchema, ValidateReportsErrorsAndExitsOne) {
    std::string f = src("tests/data/specs/bad/errors.yaml");
    std::string out;
    int rc = run(std::string(VIRTUMANCER_BINARY) + " validate " + f, &out);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find(f + ":9:9: error: `memory`: ambiguous size unit `G`"), std::string::npos)
        << out;
    EXPECT_NE(out.find(f + ":11:13: error: unknown volume `missing` on host `local`"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("1 file, 2 documents: 2 errors, 0 warnings"), std::string::npos) << out;
    std::string js;
    EXPECT_EQ(run(std::string(VIRTUMANCER_BINARY) + " validate --json " + f, &js), 1);
    auto j = nlohmann::json::parse(js);
    ASSERT_EQ(j["diagnostics"].size(), 2u);
    EXPECT_EQ(j["diagnostics"][0]["line"], 9);
    EXPECT_EQ(j["diagnostics"][0]["column"], 9);
    EXPECT_EQ(j["diagnostics"][0]["severity"], "error");
    EXPECT_EQ(j["errors"], 2);
}
