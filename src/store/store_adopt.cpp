// Store: what `import` records (adopted VMs) and reads (the paths of the latest load); the
// sync status drift and apply record per VM.
#include <nlohmann/json.hpp>

#include "virtumancer/diag.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer {

bool Store::mark_adopted(const std::string& host, const std::string& vm) {
    int changed = 0;
    db_.write([&] {
        sql::Statement q(db_.db(),
                         "UPDATE virtual_machines SET sync_status='adopted', "
                         "updated_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name=? AND "
                         "host_id=(SELECT id FROM hosts WHERE name=?)");
        q.bind(1, vm);
        q.bind(2, host);
        changed = q.exec();
    });
    return changed > 0;
}

void Store::record_sync_status(const std::vector<SyncStatus>& statuses) {
    if (statuses.empty()) return;
    db_.write([&] {
        sql::Statement q(db_.db(), "UPDATE virtual_machines SET sync_status=? WHERE name=? AND "
                                   "host_id=(SELECT id FROM hosts WHERE name=?)");
        for (const auto& s : statuses) {
            q.bind(1, s.status);
            q.bind(2, s.vm);
            q.bind(3, s.host);
            q.exec();
            q.reset();
        }
    });
}

std::string Store::sync_status(const std::string& host, const std::string& vm) {
    sql::Statement q(db_.db(), "SELECT sync_status FROM virtual_machines WHERE name=? AND "
                               "host_id=(SELECT id FROM hosts WHERE name=?)");
    q.bind(1, vm);
    q.bind(2, host);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

std::vector<std::string> Store::last_load_paths() {
    sql::Statement q(db_.db(), "SELECT spec_paths FROM load_revisions ORDER BY id DESC LIMIT 1");
    if (!q.executeStep()) return {};
    std::vector<std::string> out;
    try {
        auto j = nlohmann::json::parse(q.getColumn(0).getString());
        for (const auto& p : j) out.push_back(p.get<std::string>());
    } catch (const std::exception& e) {
        throw Error(std::string("load_revisions.spec_paths of the latest load is not a JSON list "
                                "of paths: ") +
                        e.what(),
                    "load the specs again: virtumancer load PATH...");
    }
    return out;
}

} // namespace virtumancer
