#include "test_support.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace virtumancer::testing_util {

TempDir::TempDir(const std::string& prefix) {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed: " + tmpl);
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
}

void TempDir::remove(const std::string& name) const {
    fs::remove(path_ / name);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path source_dir() {
    return VIRTUMANCER_SOURCE_DIR;
}

std::string run_shell(const std::string& cmd, int* status) {
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

int exit_code(int status) {
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string binary() {
    return VIRTUMANCER_BINARY;
}

CliRun run_cli(const std::string& args, const std::string& prefix) {
    int st = -1;
    CliRun r;
    r.out = run_shell(prefix + binary() + " " + args + " 2>&1", &st);
    r.rc = exit_code(st);
    return r;
}

fs::path corpus_dir() {
    if (const char* env = std::getenv("VIRTUMANCER_CORPUS"); env && *env) return env;
    const fs::path rel = fs::path("shared") / "corpus" / "libvirt-11.3.0";
    fs::path root = fs::weakly_canonical(source_dir());
    fs::path beside = root.parent_path() / rel;
    for (fs::path d = root.parent_path(); !d.empty(); d = d.parent_path()) {
        if (fs::is_directory(d / rel)) return d / rel;
        if (d == d.root_path()) break;
    }
    // Last: where the development machines keep it (as scripts/fuzz.sh), so a clone made
    // elsewhere on such a machine (a CI checkout in /tmp) still runs the corpus tests.
    const fs::path shared = fs::path("/work") / rel;
    if (fs::is_directory(shared)) return shared;
    return beside;
}

std::string corpus_missing() {
    fs::path d = corpus_dir();
    if (fs::is_directory(d)) return "";
    return "libvirt XML corpus not found at " + d.string() +
           " (set VIRTUMANCER_CORPUS to the libvirt-11.3.0 directory of the corpus)";
}

std::vector<fs::path> corpus_files() {
    std::vector<fs::path> out;
    fs::path dir = corpus_dir();
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".xml") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace virtumancer::testing_util
