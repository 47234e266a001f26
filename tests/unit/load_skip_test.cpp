// Loading unchanged spec files is skipped by content hash (issue 3): the second load parses
// nothing and writes nothing; a changed, removed or added file makes a full load that picks
// the change up.
#include <gtest/gtest.h>

#include <fstream>

#include "../../src/cli/load_specs.hpp"
#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

class LoadSkip : public BackendTest {
  protected:
    std::string specs = tmp.file("specs");
    std::unique_ptr<Database> db;

    void SetUp() override {
        BackendTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        fs::create_directories(specs);
        write_file(specs + "/host.yaml", kH1HostYaml);
        write_file(specs + "/a.yaml", h1_vm_yaml("vm-a", 1));
        write_file(specs + "/b.yaml", h1_vm_yaml("vm-b", 2));
        db = Database::open(target("v.db"));
    }

    cli::SpecsLoaded load() { return cli::load_specs(*db, {specs}, "tester"); }

    std::string vcpus(const std::string& vm) {
        for (const auto& s : Store(*db).load_desired().vms)
            if (s.obj.name() == vm) return s.obj.get("vcpus");
        return "(absent)";
    }
};

VIRTUMANCER_ON_BOTH_BACKENDS(LoadSkip);

TEST_P(LoadSkip, SecondLoadOfSameFilesParsesAndWritesNothing) {
    auto first = load();
    ASSERT_TRUE(first.ok);
    EXPECT_FALSE(first.skipped);
    EXPECT_EQ(first.files_parsed, 3u);
    EXPECT_EQ(first.summary.inserted, 3);
    long long revisions = count(*db, "load_revisions");

    auto second = load();
    ASSERT_TRUE(second.ok);
    EXPECT_TRUE(second.skipped);
    EXPECT_EQ(second.files, 3u);
    EXPECT_EQ(second.files_parsed, 0u) << "an unchanged load must not parse any file";
    EXPECT_EQ(count(*db, "load_revisions"), revisions) << "a skipped load records nothing";
    EXPECT_NE(second.line().find("nothing changed (3 files unchanged"), std::string::npos);
    EXPECT_NE(second.line().find(" 0 inserted, 0 updated"), std::string::npos);
    EXPECT_EQ(vcpus("vm-a"), "1");
}

TEST_P(LoadSkip, ChangedFileMakesAFullLoad) {
    ASSERT_TRUE(load().ok);
    write_file(specs + "/a.yaml", h1_vm_yaml("vm-a", 4));
    auto r = load();
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.files_parsed, 3u) << "validation is global: every file is parsed again";
    EXPECT_EQ(r.summary.updated, 1);
    EXPECT_EQ(r.summary.unchanged, 2);
    EXPECT_EQ(vcpus("vm-a"), "4");
    EXPECT_TRUE(load().skipped) << "and the load after that is skipped again";
}

TEST_P(LoadSkip, RemovedFileMarksItsObjectsPendingDelete) {
    ASSERT_TRUE(load().ok);
    fs::remove(specs + "/b.yaml");
    auto r = load();
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.summary.marked_for_deletion, 1);
    std::vector<std::string> pending;
    Store(*db).load_desired(&pending);
    EXPECT_EQ(pending, std::vector<std::string>{"h1/vm/vm-b"});
    EXPECT_EQ(vcpus("vm-b"), "(absent)");
    EXPECT_TRUE(load().skipped);
}

TEST_P(LoadSkip, AddedFileIsLoaded) {
    ASSERT_TRUE(load().ok);
    write_file(specs + "/c.yaml", h1_vm_yaml("vm-c", 3));
    auto r = load();
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.summary.inserted, 1);
    EXPECT_EQ(vcpus("vm-c"), "3");
}

TEST_P(LoadSkip, CrossFileErrorIsStillReportedWhenAnotherFileChanges) {
    ASSERT_TRUE(load().ok);
    // a.yaml unchanged; the new file duplicates its VM name: only a global check sees it.
    write_file(specs + "/dup.yaml", h1_vm_yaml("vm-a", 2));
    auto r = load();
    EXPECT_FALSE(r.ok);
    EXPECT_GE(r.errors, 1);
    EXPECT_EQ(vcpus("vm-a"), "1");
}

TEST_P(LoadSkip, DifferentPathsSpellingIsNotSkipped) {
    ASSERT_TRUE(load().ok);
    auto r = cli::load_specs(*db, {specs + "/host.yaml", specs + "/a.yaml", specs + "/b.yaml"},
                             "tester");
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.skipped) << "the latest load's paths are recorded (import uses them)";
    EXPECT_EQ(r.summary.unchanged, 3);
}

} // namespace
