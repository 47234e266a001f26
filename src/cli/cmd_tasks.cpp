// `virtumancer tasks [--last N] [--status S] [--json]`: the task log written by apply.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {

struct TasksOpts {
    int last = 20;
    std::string status;
    bool json = false;
};

std::unique_ptr<Database> open_existing(const std::string& path) {
    if (!sql::is_postgres_uri(path) && !std::filesystem::exists(path))
        throw Error("database " + path + " does not exist",
                    "pass --db (or set VIRTUMANCER_DB), or run `virtumancer load` first");
    return Database::open_for_reading(path);
}

int run_tasks(const Globals& g, const TasksOpts& o) {
    auto db = open_existing(g.db_path);
    Store store(*db);
    auto rows = store.tasks(o.last, o.status);
    if (o.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& t : rows) {
            nlohmann::json details = nlohmann::json::parse(t.details, nullptr, false);
            arr.push_back(
                {{"id", t.id},
                 {"run_id", t.run_id},
                 {"actor", t.actor},
                 {"type", t.type},
                 {"target_type", t.target_type},
                 {"target_name", t.target_name},
                 {"status", t.status},
                 {"progress", t.progress},
                 {"details", details.is_discarded() ? nlohmann::json(t.details) : details},
                 {"created_at", t.created_at},
                 {"started_at", t.started_at},
                 {"finished_at", t.finished_at}});
        }
        std::cout << arr.dump(2) << "\n";
        return kExitOk;
    }
    if (rows.empty()) {
        std::cout << "no tasks" << (o.status.empty() ? "" : " with status " + o.status) << "\n";
        return kExitOk;
    }
    auto col = [](const std::string& s, size_t w) {
        return s.size() >= w ? s.substr(0, w - 1) + " " : s + std::string(w - s.size(), ' ');
    };
    std::cout << col("ID", 7) << col("STATUS", 12) << col("%", 5) << col("TYPE", 20)
              << col("TARGET", 30) << col("ACTOR", 14) << col("STARTED", 25) << "FINISHED\n";
    for (const auto& t : rows)
        std::cout << col(std::to_string(t.id), 7) << col(t.status, 12)
                  << col(std::to_string(t.progress), 5) << col(t.type, 20)
                  << col(t.target_type + "/" + t.target_name, 30) << col(t.actor, 14)
                  << col(t.started_at, 25) << t.finished_at << "\n";
    return kExitOk;
}

} // namespace

void register_tasks(CLI::App& app, Globals& g, Runner& run) {
    auto opts = std::make_shared<TasksOpts>();
    auto* cmd = app.add_subcommand(
        "tasks", "Show the task log of apply runs (one task per libvirt operation: RUNNING "
                 "before the call, COMPLETED/FAILED after, INTERRUPTED when its process died)");
    cmd->add_option("--last", opts->last, "show the newest N tasks (0: all)")
        ->capture_default_str();
    cmd->add_option("--status", opts->status, "only tasks with this status")
        ->check(CLI::IsMember({"PENDING", "RUNNING", "COMPLETED", "FAILED", "INTERRUPTED"}));
    cmd->add_flag("--json", opts->json, "print the tasks as JSON");
    cmd->callback([&run, &g, opts] { run = [&g, opts] { return run_tasks(g, *opts); }; });
}

} // namespace virtumancer::cli
