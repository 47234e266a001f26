// load_spec_files parses many files on several threads (64 files or more): the result must be
// exactly that of loading them one after the other, in file order, with every diagnostic at its
// file:line:col, including checks across files that landed on different threads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"
#include "virtumancer/spec.hpp"

using namespace virtumancer;
namespace fs = std::filesystem;

namespace {

struct TempDir : virtumancer::testing_util::TempDir {
    TempDir() : virtumancer::testing_util::TempDir("vmr-spec-parallel-") {}
};

std::string vm_name(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "vm-%03d", i);
    return buf;
}

std::string vm_spec(const std::string& name) {
    return "kind: VirtualMachine\nname: " + name +
           "\nhost: local\nvcpus: 1\nmemory: 256MiB\nstate: shutoff\n";
}

} // namespace

TEST(SpecParallel, ManyFilesLoadAsIfOneAfterTheOther) {
    TempDir dir;
    dir.write("000-host.yaml", "kind: Host\nname: local\nuri: test:///default\n");
    const int n = 150; // several threads' worth
    std::string first_of_dup;
    for (int i = 1; i <= n; ++i) {
        std::string name = vm_name(i);
        std::string text = vm_spec(name);
        if (i == 140) text = vm_spec(vm_name(3)); // same name as file 3: another thread's
        if (i == 120) text += "vcpuz: 2\n";       // unknown key, line 7
        std::string path = dir.write(vm_name(i) + ".yaml", text);
        if (i == 3) first_of_dup = path;
    }
    SpecLoadResult r = load_spec_files({dir.path().string()});
    EXPECT_EQ(r.files_parsed, static_cast<size_t>(n + 1));

    // Documents in file order (the duplicate sits at position 140).
    ASSERT_EQ(r.state.vms.size(), static_cast<size_t>(n));
    for (int i = 1; i <= n; ++i) {
        std::string want = i == 140 ? vm_name(3) : vm_name(i);
        EXPECT_EQ(r.state.vms[i - 1].obj.name(), want) << "position " << i;
        EXPECT_EQ(fs::path(r.state.vms[i - 1].src.file).filename().string(), vm_name(i) + ".yaml");
    }

    // The duplicate across threads names both places; the unknown key its own.
    std::string dup_file = (dir.path() / (vm_name(140) + ".yaml")).string();
    std::string unk_file = (dir.path() / (vm_name(120) + ".yaml")).string();
    int dups = 0, unknown = 0;
    for (const auto& d : r.diags.items()) {
        std::string s = d.to_string();
        if (s.find("duplicate VirtualMachine `vm-003`") != std::string::npos) {
            ++dups;
            EXPECT_EQ(d.file, dup_file);
            EXPECT_EQ(d.line, 2);
            EXPECT_EQ(d.column, 7);
            EXPECT_NE(s.find(first_of_dup + ":2:7"), std::string::npos) << s;
        }
        if (s.find("vcpuz") != std::string::npos) {
            ++unknown;
            EXPECT_EQ(d.file, unk_file);
            EXPECT_EQ(d.line, 7);
            EXPECT_EQ(d.column, 1);
        }
    }
    EXPECT_EQ(dups, 1) << "diagnostics: " << r.diags.items().size();
    EXPECT_EQ(unknown, 1);

    // Without the two faulty files everything loads and validates.
    fs::remove(dup_file);
    fs::remove(unk_file);
    SpecLoadResult ok = load_spec_files({dir.path().string()});
    EXPECT_FALSE(ok.diags.has_errors());
    EXPECT_EQ(ok.state.vms.size(), static_cast<size_t>(n - 2));
}
