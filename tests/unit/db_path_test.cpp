// What `--db` says when the path is unusable (a directory, a missing directory, not SQLite, a
// read-only file or directory), and that commands which only read work on a read-only database.
// Read-only cases need a user whose permissions are checked: as root (which ignores file
// modes) the binary runs as nobody through setpriv.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

using virtumancer::testing_util::CliRun;
using virtumancer::testing_util::run_cli;
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

class DbPath : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = tmp_.path();
        // nobody must reach the files (as root the tests run the binary as nobody)
        fs::permissions(dir_, fs::perms::all);
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(dir_, fs::perms::all, ec);
        if (fs::exists(dir_ / "ro", ec)) fs::permissions(dir_ / "ro", fs::perms::all, ec);
    }
    std::string error_of(const std::string& path) {
        try {
            Database::open(path);
        } catch (const Error& e) {
            return std::string(e.what()) + " | hint: " + e.remedy();
        } catch (const std::exception& e) {
            return std::string("raw: ") + e.what();
        }
        return "(opened)";
    }
    // A loaded database with one Host on the in-process test driver (plan needs no daemon).
    std::string make_db(const fs::path& db) {
        fs::create_directories(dir_ / "specs");
        std::ofstream(dir_ / "specs" / "host.yaml")
            << "kind: Host\nname: local\nuri: test:///default\n---\nkind: VirtualMachine\n"
               "name: vmr-dbpath\nhost: local\nmemory: 64MiB\nvcpus: 1\nstate: shutoff\n";
        CliRun r = run_cli("--db " + db.string() + " load " + (dir_ / "specs").string());
        EXPECT_EQ(r.rc, 0) << r.out;
        return db.string();
    }
    // Runs as a user whose file permissions are checked.
    static std::string unprivileged() {
        if (geteuid() != 0) return "";
        return "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    }
    virtumancer::testing_util::TempDir tmp_{"vm-dbpath-"};
    fs::path dir_;
};

TEST_F(DbPath, DirectoryIsNamedNotARawFilesystemError) {
    std::string e = error_of(dir_.string());
    EXPECT_NE(e.find("is a directory, not a database file"), std::string::npos) << e;
    EXPECT_NE(e.find("virtumancer.db"), std::string::npos) << e;
    CliRun r = run_cli("--db " + dir_.string() + " plan");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("is a directory"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("filesystem error"), std::string::npos) << r.out;
}

TEST_F(DbPath, MissingParentDirectory) {
    std::string p = (dir_ / "no" / "such" / "v.db").string();
    std::string e = error_of(p);
    EXPECT_NE(e.find("the directory " + (dir_ / "no" / "such").string() + " of database"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
    EXPECT_NE(e.find("mkdir -p"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(dir_ / "no")) << "nothing may be created";
    CliRun r = run_cli("--db " + p + " tasks");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
}

TEST_F(DbPath, NotASqliteFileIsLeftUntouched) {
    fs::path p = dir_ / "notes.db";
    std::ofstream(p) << "these are my notes, not a database\n";
    std::string e = error_of(p.string());
    EXPECT_NE(e.find("is not a SQLite database file"), std::string::npos) << e;
    EXPECT_EQ(testing_util::slurp(p), "these are my notes, not a database\n");
    EXPECT_FALSE(fs::exists(dir_ / "notes.db-wal"));
    CliRun r = run_cli("--db " + p.string() + " load " + dir_.string());
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("not a SQLite database"), std::string::npos) << r.out;
}

TEST_F(DbPath, ReadOnlyFileRefusesWritesAndServesReads) {
    std::string db = make_db(dir_ / "v.db");
    fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    std::string as = unprivileged();
    std::string before = testing_util::slurp(db);

    CliRun load = run_cli("--db " + db + " load " + (dir_ / "specs").string(), as);
    EXPECT_EQ(load.rc, 1) << load.out;
    EXPECT_NE(load.out.find("database " + db + " is read-only"), std::string::npos) << load.out;
    EXPECT_EQ(load.out.find("duplicate"), std::string::npos) << load.out;
    EXPECT_EQ(load.out.find("attempt to write a readonly database"), std::string::npos) << load.out;

    for (const char* cmd : {"tasks", "audit", "db status"}) {
        CliRun r = run_cli("--db " + db + " " + cmd, as);
        EXPECT_EQ(r.rc, 0) << cmd << ": " << r.out;
    }
    CliRun st = run_cli("--db " + db + " db status", as);
    EXPECT_NE(st.out.find("schema version"), std::string::npos) << st.out;
    CliRun plan = run_cli("--db " + db + " plan", as);
    EXPECT_EQ(plan.rc, 0) << plan.out;
    EXPECT_NE(plan.out.find("vmr-dbpath"), std::string::npos) << plan.out;
    CliRun drift = run_cli("--db " + db + " drift", as);
    EXPECT_EQ(drift.rc, 2) << drift.out; // the VM is missing on the test driver: drift
    EXPECT_NE(drift.out.find("could not record the VMs' sync status"), std::string::npos)
        << drift.out;
    CliRun withpaths = run_cli("--db " + db + " plan " + (dir_ / "specs").string(), as);
    EXPECT_EQ(withpaths.rc, 1);
    EXPECT_NE(withpaths.out.find("is read-only"), std::string::npos) << withpaths.out;
    EXPECT_EQ(testing_util::slurp(db), before) << "the read-only database changed";
}

TEST_F(DbPath, ReadOnlyDirectoryRefusesWritesAndServesReads) {
    fs::create_directories(dir_ / "ro");
    fs::permissions(dir_ / "ro", fs::perms::all);
    std::string db = make_db(dir_ / "ro" / "v.db");
    ASSERT_FALSE(fs::exists(db + "-wal")) << "the WAL is removed when the last connection closes";
    std::string as = unprivileged();
    if (!as.empty()) {
        ASSERT_EQ(chown(db.c_str(), 65534, 65534), 0); // writable file
    }
    fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec |
                                     fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);

    CliRun load = run_cli("--db " + db + " load " + (dir_ / "specs").string(), as);
    EXPECT_EQ(load.rc, 1) << load.out;
    EXPECT_NE(load.out.find("the directory " + (dir_ / "ro").string() + " of database " + db +
                            " is read-only"),
              std::string::npos)
        << load.out;
    EXPECT_NE(load.out.find("v.db-wal"), std::string::npos) << load.out;

    CliRun st = run_cli("--db " + db + " db status", as);
    EXPECT_EQ(st.rc, 0) << st.out;
    EXPECT_NE(st.out.find("virtual_machines"), std::string::npos) << st.out;
    CliRun plan = run_cli("--db " + db + " plan", as);
    EXPECT_EQ(plan.rc, 0) << plan.out;
    EXPECT_NE(plan.out.find("vmr-dbpath"), std::string::npos) << plan.out;
    CliRun tasks = run_cli("--db " + db + " tasks", as);
    EXPECT_EQ(tasks.rc, 0) << tasks.out;

    // A new database in a read-only directory.
    CliRun create = run_cli("--db " + (dir_ / "ro" / "new.db").string() + " db migrate", as);
    EXPECT_EQ(create.rc, 1);
    EXPECT_NE(create.out.find("cannot create database"), std::string::npos) << create.out;
}

} // namespace
