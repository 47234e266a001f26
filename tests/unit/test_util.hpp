// Shared helpers of the unit tests: where the libvirt corpus is, reading files, running the
// virtumancer binary and other commands.
#pragma once
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace virtumancer::testing_util {

// $VIRTUMANCER_CORPUS, else ../shared/corpus/libvirt-11.3.0 beside the project, else the
// workplace's /work/shared copy (a clone made elsewhere, e.g. in /tmp).
inline std::filesystem::path corpus_dir() {
    if (const char* env = std::getenv("VIRTUMANCER_CORPUS")) return env;
    auto beside = std::filesystem::path(VIRTUMANCER_SOURCE_DIR) / ".." / "shared" / "corpus" /
                  "libvirt-11.3.0";
    std::filesystem::path workplace = "/work/shared/corpus/libvirt-11.3.0";
    if (!std::filesystem::is_directory(beside) && std::filesystem::is_directory(workplace))
        return workplace;
    return beside;
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every *.xml of the corpus, sorted; empty when the corpus is absent (tests then fail on the
// count with a message naming corpus_dir()).
inline std::vector<std::filesystem::path> corpus_files() {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::is_directory(corpus_dir())) return out;
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir()))
        if (e.path().extension() == ".xml") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Runs a shell command; returns its stdout, `*status` its wait status (as pclose gives it).
inline std::string run_shell(const std::string& cmd, int* status) {
    std::string out;
    *status = -1;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    *status = pclose(p);
    return out;
}

struct CliRun {
    int rc = -1;     // exit code; -1 when the binary did not exit normally
    std::string out; // stdout and stderr
};

// Runs the virtumancer binary under test with `args`; `prefix` goes before it (e.g. setpriv to
// run it as another user).
inline CliRun run_cli(const std::string& args, const std::string& prefix = "") {
    int st = -1;
    CliRun r;
    r.out = run_shell(prefix + std::string(VIRTUMANCER_BINARY) + " " + args + " 2>&1", &st);
    r.rc = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

} // namespace virtumancer::testing_util
