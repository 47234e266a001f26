// Placeholder until the store lands; replaced by src/store/store.cpp.
#include "virtumancer/store.hpp"

namespace virtumancer {
LoadSummary Store::save_desired(const SpecLoadResult&, const std::string&, const std::string&,
                                const std::vector<std::string>&) {
    throw Error("not implemented yet");
}
std::string Store::loaded_file_hash(const std::string&) { return {}; }
DesiredState Store::load_desired(std::vector<std::string>*) { throw Error("not implemented yet"); }
int64_t Store::latest_revision_id() { return 0; }
int64_t Store::task_begin(const std::string&, const std::string&, const std::string&,
                          const std::string&, const std::string&, const std::string&) {
    throw Error("not implemented yet");
}
void Store::task_progress(int64_t, int) {}
void Store::task_finish(int64_t, bool, const std::string&) {}
int Store::mark_interrupted_tasks() { return 0; }
std::vector<TaskRow> Store::tasks(int, const std::string&) { return {}; }
void Store::audit(const std::string&, const std::string&, const std::string&, const std::string&,
                  const std::string&) {}
std::vector<AuditRow> Store::audit_rows(const std::string&, const std::string&,
                                        const std::string&) {
    return {};
}
std::optional<LockHolder> Store::try_lock(const std::string&, bool*) { return std::nullopt; }
void Store::unlock() {}
} // namespace virtumancer
