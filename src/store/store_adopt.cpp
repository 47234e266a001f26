// Store: what `import` records (adopted VMs) and reads (the paths of the latest load); the
// sync status drift and apply record per VM.
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "virtumancer/diag.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer {

const char* vm_sync_status_name(VmSyncStatus s) {
    switch (s) {
    case VmSyncStatus::Pending:
        return "pending";
    case VmSyncStatus::InSync:
        return "in_sync";
    case VmSyncStatus::Drifted:
        return "drifted";
    case VmSyncStatus::PendingRestart:
        return "pending_restart";
    case VmSyncStatus::Error:
        return "error";
    case VmSyncStatus::Adopted:
        return "adopted";
    }
    return "?";
}

bool Store::mark_adopted(const std::string& host, const std::string& vm) {
    int changed = 0;
    db_.write([&] {
        sql::Statement q(db_.db(),
                         "UPDATE virtual_machines SET sync_status=?, "
                         "updated_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name=? AND "
                         "host_id=(SELECT id FROM hosts WHERE name=?)");
        q.bind(1, vm_sync_status_name(VmSyncStatus::Adopted));
        q.bind(2, vm);
        q.bind(3, host);
        changed = q.exec();
    });
    return changed > 0;
}

void Store::record_sync_status(const std::vector<SyncStatus>& statuses) {
    if (statuses.empty()) return;
    db_.write([&] {
        sql::Connection& c = db_.db();
        // A bounded number of statements for any number of VMs (drift records every VM): the
        // ids in one query, the statuses into a temporary table in one insert_rows (COPY on
        // PostgreSQL), one UPDATE.
        std::unordered_map<std::string, int64_t> ids; // host '\x1f' vm -> id
        {
            sql::Statement q(c, "SELECT m.id, h.name, m.name FROM virtual_machines m JOIN hosts "
                                "h ON h.id = m.host_id");
            while (q.executeStep())
                ids.emplace(q.getColumn(1).getString() + '\x1f' + q.getColumn(2).getString(),
                            q.getColumn(0).getInt64());
        }
        std::map<int64_t, std::string> status; // the last one given for a VM wins
        for (const auto& s : statuses) {
            auto it = ids.find(s.host + '\x1f' + s.vm);
            if (it != ids.end())
                status[it->second] = vm_sync_status_name(s.status); // VMs without a row: ignored
        }
        if (status.empty()) return;
        c.exec("CREATE TEMP TABLE IF NOT EXISTS vmr_sync_status (id BIGINT PRIMARY KEY, status "
               "TEXT NOT NULL)");
        c.exec("DELETE FROM vmr_sync_status");
        std::vector<sql::Row> rows;
        rows.reserve(status.size());
        for (const auto& [id, st] : status) rows.push_back({std::to_string(id), st});
        c.insert_rows("vmr_sync_status", {"id", "status"}, rows);
        c.exec("UPDATE virtual_machines SET sync_status = (SELECT s.status FROM vmr_sync_status s "
               "WHERE s.id = virtual_machines.id) WHERE id IN (SELECT id FROM vmr_sync_status)");
    });
}

std::optional<VmSyncStatus> Store::sync_status(const std::string& host, const std::string& vm) {
    sql::Statement q(db_.db(), "SELECT sync_status FROM virtual_machines WHERE name=? AND "
                               "host_id=(SELECT id FROM hosts WHERE name=?)");
    q.bind(1, vm);
    q.bind(2, host);
    if (!q.executeStep()) return std::nullopt;
    std::string word = q.getColumn(0).getString();
    for (auto s : {VmSyncStatus::Pending, VmSyncStatus::InSync, VmSyncStatus::Drifted,
                   VmSyncStatus::PendingRestart, VmSyncStatus::Error, VmSyncStatus::Adopted})
        if (word == vm_sync_status_name(s)) return s;
    throw Error("virtual_machines.sync_status of VM " + host + "/" + vm + " is `" + word +
                    "`, which this virtumancer does not know",
                "run `virtumancer drift` to record it again, or upgrade virtumancer");
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
