// Hostile input never crashes or hangs the spec loader: each case ends quickly with a
// diagnostic at a known place.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "virtumancer/spec.hpp"

using namespace virtumancer;
namespace fs = std::filesystem;

namespace {

struct Timed {
    SpecLoadResult r;
    double seconds;
};

Timed timed_load(const std::string& text) {
    auto t0 = std::chrono::steady_clock::now();
    SpecLoadResult r = load_spec_text("h.yaml", text);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {std::move(r), s};
}

std::string first_error(const SpecLoadResult& r) {
    for (const auto& d : r.diags.items())
        if (d.severity == Severity::Error) return d.to_string();
    return "";
}

} // namespace

TEST(SpecHostile, FiftyMegabyteFileIsRefusedBeforeParsing) {
    fs::path p = fs::temp_directory_path() / "virtumancer_spec_big.yaml";
    {
        std::ofstream out(p, std::ios::binary);
        std::string line = "# padding padding padding padding padding padding padding padding\n";
        for (size_t n = 0; n < 50u * 1024 * 1024; n += line.size()) out << line;
    }
    auto t0 = std::chrono::steady_clock::now();
    SpecLoadResult r = load_spec_files({p.string()});
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fs::remove(p);
    EXPECT_LT(s, 2.0);
    ASSERT_EQ(r.diags.error_count(), 1u);
    EXPECT_EQ(r.diags.items()[0].line, 1);
    EXPECT_EQ(r.diags.items()[0].column, 1);
    EXPECT_NE(r.diags.items()[0].message.find("limited to 16 MiB"), std::string::npos);
    // the same from memory
    auto t = timed_load(std::string(17u << 20, '#'));
    EXPECT_NE(first_error(t.r).find("h.yaml:1:1: error: file is 17825792 bytes"), std::string::npos)
        << first_error(t.r);
}

TEST(SpecHostile, AliasBombStopsAtTheNodeBudget) {
    std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'j'; ++c) {
        text += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) text += std::string(i ? ", " : "") + "*" + prev;
        text += "]\n";
        prev = c;
    }
    text += "kind: Host\n"; // 10^10 nodes if expanded
    auto t = timed_load(text);
    EXPECT_LT(t.seconds, 10.0);
    EXPECT_NE(first_error(t.r).find("more than 1000000 nodes (an alias bomb?)"), std::string::npos)
        << first_error(t.r);
}

TEST(SpecHostile, DeepFlowNestingIsRefused) {
    auto t = timed_load("a: " + std::string(100000, '[') + "\n");
    EXPECT_LT(t.seconds, 2.0);
    EXPECT_NE(first_error(t.r).find("h.yaml:1:260: error: nesting deeper than 256 levels"),
              std::string::npos)
        << first_error(t.r);
    auto m = timed_load(std::string(100000, '{'));
    EXPECT_NE(first_error(m.r).find("nesting deeper than 256"), std::string::npos);
}

TEST(SpecHostile, DeepBlockNestingIsRefused) {
    std::string text;
    for (int i = 0; i < 100000; ++i) text += "- ";
    text += "x\n";
    auto t = timed_load(text);
    EXPECT_LT(t.seconds, 2.0);
    EXPECT_NE(first_error(t.r).find("h.yaml:1:1025: error: indentation nested deeper"),
              std::string::npos)
        << first_error(t.r);
}

TEST(SpecHostile, BinaryGarbage) {
    std::string text = "kind: Host\nname: x";
    for (int i = 0; i < 4096; ++i) text += static_cast<char>((i * 7919) % 256);
    auto t = timed_load(text);
    EXPECT_NE(first_error(t.r).find("h.yaml:2:8: error: control character 0x00"), std::string::npos)
        << first_error(t.r);
}

TEST(SpecHostile, InvalidUtf8) {
    auto t = timed_load("kind: Host\nname: caf\xC3\n");
    EXPECT_NE(first_error(t.r).find("h.yaml:2:10: error: invalid UTF-8"), std::string::npos)
        << first_error(t.r);
    auto o = timed_load("kind: Host\nname: \xC0\xAF\n"); // overlong '/'
    EXPECT_NE(first_error(o.r).find("h.yaml:2:7: error: invalid UTF-8"), std::string::npos);
    auto ok = timed_load("kind: Host\nname: h\nuri: qemu:///system\ndescription: caf\xC3\xA9\n");
    EXPECT_FALSE(ok.r.diags.has_errors()) << first_error(ok.r);
}

TEST(SpecHostile, HostileNames) {
    const char* names[] = {"\"<script>\"", "\"a&b\"",     "\"../etc\"",  "\"a/b\"", "\"it's\"",
                           "'say \"hi\"'", "\"bell\\a\"", "\"nul\\0x\"", "\"\""};
    for (const char* n : names) {
        auto t = timed_load(std::string("kind: Host\nname: ") + n + "\nuri: qemu:///system\n");
        std::string e = first_error(t.r);
        EXPECT_NE(e.find("h.yaml:2:7: error: invalid name"), std::string::npos) << n << ": " << e;
        EXPECT_NE(e.find("names are 1-64 characters of A-Z a-z 0-9 . _ -"), std::string::npos);
        EXPECT_TRUE(t.r.state.hosts.empty());
    }
}

TEST(SpecHostile, NonMappingDocumentsAndOddKeys) {
    auto t = timed_load("- just\n- a list\n---\n42\n---\n? [complex, key]\n: v\n");
    EXPECT_GE(t.r.diags.error_count(), 3u);
    EXPECT_NE(first_error(t.r).find("h.yaml:1:1: error: a spec document must be a mapping"),
              std::string::npos)
        << first_error(t.r);
}
