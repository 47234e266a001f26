// Helpers shared by the store and migration tests: a temporary directory and small specs.
#pragma once
#include "test_support.hpp"
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "virtumancer/database.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

namespace store_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the test.
using virtumancer::testing_util::TempDir;

using virtumancer::testing_util::slurp;

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

inline long long count(virtumancer::Database& db, const std::string& table,
                       const std::string& where = "1") {
    return db.db().execAndGet("SELECT count(*) FROM " + table + " WHERE " + where).getInt64();
}

} // namespace store_test
