// The test-support library (tests/support, target virtumancer_test_support) shared by the unit
// and e2e tests: temporary directories, running commands and the virtumancer binary, reading
// files, and where the libvirt XML corpus is.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace virtumancer::testing_util {

// ------------------------------------------------------------------ temporary directories
// A fresh directory under the system's temporary directory (mkdtemp, `prefix` + 6 random
// characters), removed with everything in it when the object goes.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "vmr-test-");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // The path of `name` inside the directory (nothing is created).
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    // Writes `text` to `name` (parent directories created); returns its path.
    std::string write(const std::string& name, const std::string& text) const;
    void remove(const std::string& name) const;

  private:
    std::filesystem::path path_;
};

// ------------------------------------------------------------------ files
std::string slurp(const std::filesystem::path& p);
// The source tree (VIRTUMANCER_SOURCE_DIR of the build).
std::filesystem::path source_dir();

// ------------------------------------------------------------------ commands
// Runs a shell command; returns its stdout, `*status` its wait status (as pclose gives it; -1
// when it could not be started).
std::string run_shell(const std::string& cmd, int* status);
// The exit code of a wait status; -1 when the command did not exit normally.
int exit_code(int status);

struct CliRun {
    int rc = -1;     // exit code; -1 when the binary did not exit normally
    std::string out; // stdout and stderr
};

// The virtumancer binary under test (VIRTUMANCER_BINARY of the build).
std::string binary();
// Runs the binary with `args`; `prefix` goes before it (e.g. setpriv to run it as another user).
CliRun run_cli(const std::string& args, const std::string& prefix = "");

// ------------------------------------------------------------------ the libvirt XML corpus
// $VIRTUMANCER_CORPUS when set, else shared/corpus/libvirt-11.3.0 beside the repository (in
// its parent directory, or the nearest ancestor holding one), else /work/shared/corpus/...
// (the development machines' copy; scripts/fuzz.sh looks in the same places). The path is
// returned even when no such directory exists.
std::filesystem::path corpus_dir();
// "" when corpus_dir() is a directory, else why not (for GTEST_SKIP).
std::string corpus_missing();
// Every *.xml of the corpus, sorted; empty when the corpus is absent.
std::vector<std::filesystem::path> corpus_files();

// Seconds since `t0` (steady clock), for tests that bound how long something took.
inline double secs_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace virtumancer::testing_util

// In a test body: skips the test, saying why and how to point at the corpus, when it is absent.
#define VMR_REQUIRE_CORPUS()                                                                       \
    do {                                                                                           \
        std::string vmr_corpus_missing_ = ::virtumancer::testing_util::corpus_missing();           \
        if (!vmr_corpus_missing_.empty()) GTEST_SKIP() << vmr_corpus_missing_;                     \
    } while (0)
