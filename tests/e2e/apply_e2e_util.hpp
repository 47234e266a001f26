// Helpers of the apply e2e tests: libvirtd availability, running the real binary, virsh,
// temporary spec directories and databases, cleanup of vmr-e2e-ap-* objects.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "e2e_util.hpp"
#include "test_support.hpp"

namespace apply_e2e {

namespace fs = std::filesystem;

inline const char* kUri = "qemu:///system";

struct Result {
    int code = -1;
    std::string out; // stdout and stderr together
};

// Runs a shell command, capturing stdout+stderr.
inline Result sh(const std::string& cmd) {
    Result r;
    int st = -1;
    r.out = virtumancer::testing_util::run_shell(cmd + " 2>&1", &st);
    r.code = virtumancer::testing_util::exit_code(st);
    return r;
}

inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

inline std::string virsh(const std::string& args) {
    return sh(std::string("virsh -c ") + kUri + " " + args).out;
}

// True when libvirtd answers; otherwise the test is skipped (or fails when
// VIRTUMANCER_REQUIRE_LIBVIRTD=1).
inline bool libvirtd_available() {
    return sh(std::string("timeout 10 virsh -c ") + kUri + " list >/dev/null").code == 0;
}

#define APPLY_E2E_REQUIRE_LIBVIRTD()                                                               \
    do {                                                                                           \
        if (!apply_e2e::libvirtd_available()) {                                                    \
            if (::virtumancer::e2e::libvirtd_required())                                           \
                FAIL() << "libvirtd at qemu:///system is unreachable and "                         \
                          "VIRTUMANCER_REQUIRE_LIBVIRTD=1";                                        \
            GTEST_SKIP() << "libvirtd at qemu:///system is unreachable; run "                      \
                            "`scripts/testenv.sh start`";                                          \
        }                                                                                          \
    } while (0)

// Removes every domain, volume, pool and network whose name starts with `prefix`.
inline void cleanup(const std::string& prefix) {
    auto names = [](const std::string& out) {
        std::vector<std::string> v;
        std::istringstream is(out);
        std::string line;
        while (std::getline(is, line))
            if (!line.empty()) v.push_back(line);
        return v;
    };
    for (const auto& d : names(virsh("list --all --name"))) {
        if (d.rfind(prefix, 0) != 0) continue;
        virsh("destroy " + d);
        virsh("undefine --nvram --snapshots-metadata " + d);
        virsh("undefine " + d);
    }
    for (const auto& p : names(virsh("pool-list --all --name"))) {
        if (p.rfind(prefix, 0) != 0) continue;
        virsh("pool-start " + p);
        for (const auto& line : names(virsh("vol-list " + p + " | tail -n +3"))) {
            std::string vol = line.substr(line.find_first_not_of(' '));
            vol = vol.substr(0, vol.find(' '));
            if (!vol.empty()) virsh("vol-delete --pool " + p + " " + vol);
        }
        virsh("pool-destroy " + p);
        virsh("pool-undefine " + p);
    }
    for (const auto& n : names(virsh("net-list --all --name"))) {
        if (n.rfind(prefix, 0) != 0) continue;
        virsh("net-destroy " + n);
        virsh("net-undefine " + n);
    }
}

// A temporary directory (specs, database, saved plans), removed at the end.
// A temporary directory of these tests (tests/support).
struct TempDir : virtumancer::testing_util::TempDir {
    TempDir() : virtumancer::testing_util::TempDir("vmr-e2e-ap-") {}
};

// The virtumancer binary with a database, returning exit code and output.
inline Result vm(const std::string& db, const std::string& args) {
    return sh(std::string(VIRTUMANCER_BINARY) + " --db " + quote(db) + " " + args + " </dev/null");
}

// Starts the binary in the background (stdout+stderr to `log`); returns its pid.
inline pid_t vm_background(const std::string& db, const std::string& args, const std::string& log) {
    pid_t pid = fork();
    if (pid == 0) {
        std::string cmd = std::string("exec ") + VIRTUMANCER_BINARY + " --db " + quote(db) + " " +
                          args + " </dev/null >" + quote(log) + " 2>&1";
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return pid;
}

// Rows of a query through the sqlite3 command-line shell ("a|b|c" per row).
inline std::string sql(const std::string& db, const std::string& query) {
    return sh("sqlite3 " + quote(db) + " " + quote(query)).out;
}

inline bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

// A test owning every libvirt object whose name starts with `prefix` and a pool directory:
// both removed before and after it; a temporary directory holding its database (`db_`). On
// failure the tasks the database recorded are printed.
class OwnedObjectsTest : public ::testing::Test {
  protected:
    OwnedObjectsTest(std::string prefix, std::string pool_dir)
        : prefix_(std::move(prefix)), pool_dir_(std::move(pool_dir)) {}
    void SetUp() override {
        APPLY_E2E_REQUIRE_LIBVIRTD();
        cleanup(prefix_);
        sh("rm -rf " + quote(pool_dir_));
        db_ = dir_.file("v.db");
    }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "tasks:\n"
                      << sql(db_, "SELECT id,type,target_name,status,details FROM tasks") << "\n";
        cleanup(prefix_);
        sh("rm -rf " + quote(pool_dir_));
    }

    std::string prefix_, pool_dir_;
    TempDir dir_;
    std::string db_;
};

} // namespace apply_e2e
