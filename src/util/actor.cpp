#include "virtumancer/actor.hpp"

#include "virtumancer/hash.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pwd.h>
#include <unistd.h>

namespace virtumancer {
namespace {

std::string run_capture(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    std::array<char, 256> buf{};
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    if (pclose(p) != 0) return "";
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

} // namespace

std::string current_actor(const std::string& flag) {
    if (!flag.empty()) return flag;
    for (const char* v : {"VIRTUMANCER_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"})
        if (const char* e = std::getenv(v); e && *e) return e;
    if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
    return "uid:" + std::to_string(getuid());
}

std::string spec_revision(const std::vector<std::string>& paths,
                          const std::vector<std::string>& file_hashes) {
    if (!paths.empty()) {
        std::filesystem::path p = paths.front();
        std::string dir = std::filesystem::is_directory(p) ? p.string() : p.parent_path().string();
        if (dir.empty()) dir = ".";
        std::string head =
            run_capture("git -C " + shell_quote(dir) + " rev-parse HEAD 2>/dev/null");
        if (head.size() == 40) {
            std::string dirty =
                run_capture("git -C " + shell_quote(dir) + " status --porcelain -- . 2>/dev/null");
            return dirty.empty() ? head : head + "-dirty";
        }
    }
    std::string all;
    for (const auto& fh : file_hashes) all += fh;
    return "content:" + fnv1a_hex(all);
}

} // namespace virtumancer
