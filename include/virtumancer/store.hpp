// Desired state, tasks, audit and the apply lock in the canonical SQLite schema.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "virtumancer/database.hpp"
#include "virtumancer/model.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer {

struct LoadSummary {
    int64_t revision_id = 0;
    std::string revision;
    int inserted = 0, updated = 0, unchanged = 0, marked_for_deletion = 0;
    int files_skipped = 0; // unchanged files (same content hash as the last load)
    bool nothing_changed() const {
        return inserted == 0 && updated == 0 && marked_for_deletion == 0;
    }
};

// A load written and read back but not kept (Store::preview_desired, plan --speculative).
struct LoadPreview {
    LoadSummary summary; // what the load would have written (revision_id 0: none was kept)
    DesiredState state;  // as load_desired would read it after the load
    std::vector<std::string> pending_delete; // as load_desired lists them after the load
};

// What the latest load, drift check, apply or import found for a VM spec, recorded in
// virtual_machines.sync_status:
// pending: loaded (new or changed) but not applied or checked yet, or not defined on its host;
// in_sync: the host matches the spec; drifted: the host differs from it;
// pending_restart: the config matches, the running VM does not yet;
// error: apply failed, or another database's domain has its name;
// adopted: an existing domain taken over by `import --host`.
enum class VmSyncStatus { Pending, InSync, Drifted, PendingRestart, Error, Adopted };
// The word stored and shown for each: "pending", "in_sync", "drifted", "pending_restart",
// "error", "adopted".
const char* vm_sync_status_name(VmSyncStatus s);

struct TaskRow {
    int64_t id = 0;
    std::string run_id, actor, type, target_type, target_name, status, details;
    int progress = 0;
    std::string created_at, started_at, finished_at;
};

struct AuditRow {
    int64_t id = 0;
    std::string actor, timestamp, action, target_type, target_id, details;
};

struct LockHolder {
    std::string actor, hostname, since;
    int pid = 0;
};

class Store {
  public:
    explicit Store(Database& db) : db_(db) {}

    // Writes a validated load into the database in one BEGIN IMMEDIATE transaction:
    // new specs inserted, changed ones updated, ones no longer in the specs marked
    // pending_delete. Records a load revision. Nothing is written on error (throws Error).
    LoadSummary save_desired(const SpecLoadResult& load, const std::string& revision,
                             const std::string& actor, const std::vector<std::string>& paths);
    // save_desired's load, not kept (plan --speculative): written in the same one write
    // transaction, the desired state read back inside it, then the transaction rolled back, so
    // the result is what save_desired followed by load_desired would give while the database
    // keeps exactly the rows it held (PostgreSQL's id sequences move on: ids are never
    // reused). Throws Error as save_desired does.
    LoadPreview preview_desired(const SpecLoadResult& load, const std::string& revision,
                                const std::string& actor, const std::vector<std::string>& paths);

    // True when `files` (path, content hash) are exactly the files of the latest load, that
    // load was given the same `paths` and was written by this same virtumancer executable
    // (defaults live in code): loading them again would change nothing.
    bool same_as_last_load(const std::vector<SpecFile>& files,
                           const std::vector<std::string>& paths);

    // Content hash of a spec file as last loaded ("" when never loaded).
    std::string loaded_file_hash(const std::string& path);

    // Reads the desired state back (objects marked pending_delete are excluded, and listed
    // in *pending_delete as "host/kind/name" when given).
    DesiredState load_desired(std::vector<std::string>* pending_delete = nullptr);
    // Only the Host specs (not pending delete), as load_desired would list them: cheap, so
    // observing the hosts can start while the rest of the desired state is read.
    std::vector<HostSpec> load_hosts();
    // Latest load revision id (0 when nothing was loaded).
    int64_t latest_revision_id();

    // Tasks: written RUNNING before the libvirt call and finished after.
    int64_t task_begin(const std::string& run_id, const std::string& actor, const std::string& type,
                       const std::string& target_type, const std::string& target_name,
                       const std::string& details_json);
    void task_progress(int64_t id, int progress);
    void task_finish(int64_t id, bool ok, const std::string& details_json);
    // A task whose step stopped because the apply was interrupted (SIGINT/SIGTERM).
    void task_interrupt(int64_t id, const std::string& details_json);
    // Marks tasks left RUNNING by a dead process INTERRUPTED; returns how many. Without the
    // server's apply lock, a task of this machine whose pid is dead (or unrecorded); tasks of
    // other machines are left alone. While this Store holds the server's apply lock
    // (PostgreSQL, after try_lock), every RUNNING task not of this process: the lock is free
    // only when the session of the apply that wrote them has ended, on any machine.
    int mark_interrupted_tasks();
    std::vector<TaskRow> tasks(int last, const std::string& status);

    void audit(const std::string& actor, const std::string& action, const std::string& target_type,
               const std::string& target_id, const std::string& details_json);
    std::vector<AuditRow> audit_rows(const std::string& since, const std::string& target_type,
                                     const std::string& target_id);

    // The apply lock. Returns std::nullopt when taken, else the current holder.
    // A holder whose pid is dead on this machine is taken over (with *took_over set).
    std::optional<LockHolder> try_lock(const std::string& actor, bool* took_over = nullptr);
    void unlock();
    // For an immediate exit from another thread while this process's connection may be busy:
    // through a connection of its own, releases this process's apply lock and marks its
    // RUNNING tasks INTERRUPTED. Best effort (short busy timeout); throws on failure.
    static void abandon(const std::string& db_path);

    // Adopted domains (import --host): recorded with sync_status 'adopted'.
    // Marks the VM spec `vm` on `host` adopted; false when the database holds no such VM.
    bool mark_adopted(const std::string& host, const std::string& vm);

    // What the latest drift check or apply found for a VM spec (virtual_machines.sync_status,
    // see VmSyncStatus). One transaction; VMs without a row are ignored.
    struct SyncStatus {
        std::string host, vm;
        VmSyncStatus status = VmSyncStatus::Pending;
    };
    void record_sync_status(const std::vector<SyncStatus>& statuses);
    // The recorded status of one VM spec (nullopt when the database holds no such VM; throws
    // on a word that is no VmSyncStatus).
    std::optional<VmSyncStatus> sync_status(const std::string& host, const std::string& vm);
    // What a volume created from an image was filled with (table volume_sources): recorded
    // when the upload step succeeds (replacing an older row), forgotten when virtumancer
    // deletes the volume. load_desired reads them into DesiredState::volume_sources.
    void record_volume_source(const std::string& host, const std::string& pool,
                              const std::string& volume, const VolumeSourceRecord& r);
    void forget_volume_source(const std::string& host, const std::string& pool,
                              const std::string& volume);
    // The spec paths of the latest load (empty when nothing was loaded).
    std::vector<std::string> last_load_paths();
    Database& database() { return db_; }

  private:
    // save_desired's transaction; when `then_rollback` is given it runs inside it after the
    // load is written, and the transaction is rolled back instead of committed.
    LoadSummary write_load(const SpecLoadResult& load, const std::string& revision,
                           const std::string& actor, const std::vector<std::string>& paths,
                           const std::function<void()>& then_rollback);
    // load_desired inside the caller's transaction.
    DesiredState read_desired(std::vector<std::string>* pending_delete);
    Database& db_;
    bool server_lock_ = false; // this Store's session holds the server's apply lock
};

} // namespace virtumancer
