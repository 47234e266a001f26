// Helpers shared by the store and migration tests: a temporary directory and small specs.
#pragma once
#include "test_support.hpp"
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "virtumancer/database.hpp"
#include "virtumancer/sql.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

namespace store_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the test.
using virtumancer::testing_util::TempDir;

using virtumancer::testing_util::slurp;

// Spec files for the tests that load from disk: host h1 on test:///default, a small VM on it.
inline const char* const kH1HostYaml = "kind: Host\nname: h1\nuri: test:///default\n";
inline std::string h1_vm_yaml(const std::string& name, int vcpus) {
    return "kind: VirtualMachine\nname: " + name + "\nhost: h1\nvcpus: " + std::to_string(vcpus) +
           "\nmemory: 512MiB\nstate: shutoff\n";
}
// Writes `text` to the file at `path`, replacing it.
inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

inline virtumancer::HostSpec host(const std::string& name) {
    virtumancer::HostSpec h;
    h.name = name;
    h.uri = "test:///default";
    return h;
}

inline virtumancer::Spec vm_from_xml(const std::string& host, const std::string& xml) {
    virtumancer::Spec s;
    s.host = host;
    s.obj = virtumancer::parse_xml(xml, virtumancer::domain_kind());
    return s;
}

inline virtumancer::Spec spec_from_xml(const std::string& host, const std::string& xml,
                                       const virtumancer::KindDesc& kind) {
    virtumancer::Spec s;
    s.host = host;
    s.obj = virtumancer::parse_xml(xml, kind);
    return s;
}

// The test PostgreSQL (scripts/testenv.sh start): VIRTUMANCER_TEST_PG_URI, else the URI file
// testenv writes. "" when neither is there.
inline std::string pg_test_uri() {
    if (const char* e = std::getenv("VIRTUMANCER_TEST_PG_URI"); e && *e) return e;
    std::ifstream f("/var/tmp/virtumancer-pg/uri");
    std::string uri;
    std::getline(f, uri);
    return uri;
}

inline bool pg_required() {
    const char* e = std::getenv("VIRTUMANCER_REQUIRE_PG");
    return e && std::string(e) == "1";
}

// `uri` with its search_path set to `schema`: a database of its own on the test server.
inline std::string pg_schema_uri(const std::string& uri, const std::string& schema) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
}

// Connects `conn` to the test PostgreSQL at `uri`: "" when it answers, else why not (for the
// caller's FAIL or GTEST_SKIP).
inline std::string pg_open_admin(const std::string& uri,
                                 std::unique_ptr<virtumancer::sql::Connection>& conn) {
    if (uri.empty())
        return "no test PostgreSQL: set VIRTUMANCER_TEST_PG_URI or run scripts/testenv.sh start";
    try {
        conn = virtumancer::sql::open_postgres_connection(uri, 5);
    } catch (const std::exception& e) {
        return std::string("the test PostgreSQL does not answer: ") + e.what();
    }
    return "";
}

// `conn` = a connection to the test PostgreSQL at `uri`, or the test fails
// (VIRTUMANCER_REQUIRE_PG=1) or is skipped, saying why.
#define VMR_PG_CONNECT_OR_SKIP(conn, uri)                                                          \
    do {                                                                                           \
        std::string vmr_pg_why_ = store_test::pg_open_admin(uri, conn);                            \
        if (!vmr_pg_why_.empty()) {                                                                \
            if (store_test::pg_required()) FAIL() << vmr_pg_why_ << " (VIRTUMANCER_REQUIRE_PG=1)"; \
            GTEST_SKIP() << vmr_pg_why_;                                                           \
        }                                                                                          \
    } while (0)

// A test run on both backends: target(name) is a database of its own for this test, a file in
// a temporary directory (SQLite) or a fresh schema on the test PostgreSQL, dropped at the end.
// Without a PostgreSQL server the PostgreSQL run is skipped, or fails when
// VIRTUMANCER_REQUIRE_PG=1 (scripts/test.sh).
class BackendTest : public ::testing::TestWithParam<virtumancer::sql::Backend> {
  protected:
    void SetUp() override {
        if (!pg()) return;
        admin_uri_ = pg_test_uri();
        VMR_PG_CONNECT_OR_SKIP(admin_, admin_uri_);
    }
    void TearDown() override {
        for (const auto& [name, schema] : schemas_) try {
                admin_->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            } catch (...) {
            }
    }
    bool pg() const { return GetParam() == virtumancer::sql::Backend::postgresql; }
    // The same name gives the same database within one test.
    std::string target(const std::string& name) {
        if (!pg()) return tmp.file(name);
        auto it = schemas_.find(name);
        if (it == schemas_.end()) {
            static int n = 0;
            std::string schema = "vmt_" + std::to_string(getpid()) + "_" + std::to_string(++n);
            admin_->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            admin_->exec("CREATE SCHEMA " + schema);
            it = schemas_.emplace(name, schema).first;
        }
        return pg_schema_uri(admin_uri_, it->second);
    }
    TempDir tmp;

  private:
    std::string admin_uri_;
    std::unique_ptr<virtumancer::sql::Connection> admin_;
    std::map<std::string, std::string> schemas_;
};

inline std::string backend_name(const ::testing::TestParamInfo<virtumancer::sql::Backend>& i) {
    return i.param == virtumancer::sql::Backend::sqlite ? "sqlite" : "postgresql";
}

#define VIRTUMANCER_ON_BOTH_BACKENDS(Suite)                                                        \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                      \
                             ::testing::Values(virtumancer::sql::Backend::sqlite,                  \
                                               virtumancer::sql::Backend::postgresql),             \
                             store_test::backend_name)

inline long long count(virtumancer::Database& db, const std::string& table,
                       const std::string& where = "1=1") {
    return db.db().execAndGet("SELECT count(*) FROM " + table + " WHERE " + where).getInt64();
}

} // namespace store_test
