// Store: what virtumancer uploaded into volumes created from an image `source` (table
// volume_sources, migration 0006), so the next plan can tell a changed source.
#include "virtumancer/store.hpp"

namespace virtumancer {
namespace {
void delete_source(sql::Connection& c, const std::string& host, const std::string& pool,
                   const std::string& volume) {
    sql::Statement q(c, "DELETE FROM volume_sources WHERE host=? AND pool=? AND volume=?");
    q.bind(1, host);
    q.bind(2, pool);
    q.bind(3, volume);
    q.exec();
}
} // namespace

void Store::record_volume_source(const std::string& host, const std::string& pool,
                                 const std::string& volume, const VolumeSourceRecord& r) {
    db_.write([&] {
        delete_source(db_.db(), host, pool, volume); // the older row, if any
        sql::Statement q(db_.db(),
                         "INSERT INTO volume_sources (host, pool, volume, source, checksum, "
                         "digest, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, "
                         "strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
        q.bind(1, host);
        q.bind(2, pool);
        q.bind(3, volume);
        q.bind(4, r.source);
        q.bind(5, r.checksum);
        q.bind(6, r.digest);
        q.exec();
    });
}

void Store::forget_volume_source(const std::string& host, const std::string& pool,
                                 const std::string& volume) {
    db_.write([&] { delete_source(db_.db(), host, pool, volume); });
}

} // namespace virtumancer
