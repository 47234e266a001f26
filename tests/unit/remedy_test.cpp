// Errors are values with a place and a remedy (include/virtumancer/diag.hpp): every
// `Error(...)` raised in src/ and include/ passes a non-empty remedy as its second argument,
// and the error paths below that users reach first carry one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "virtumancer/diag.hpp"
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
