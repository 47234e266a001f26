// The command tree. Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

namespace virtumancer::cli {

struct Globals {
    std::string db_path = "virtumancer.db";
    int verbose = 0;
    std::string log_level;
    int db_connect_timeout = 10; // seconds (PostgreSQL)
    int db_timeout = 60;         // seconds a PostgreSQL statement waits for the server
};

// A registered subcommand sets `run` to the action executed after parsing; it returns the
// process exit code.
using Runner = std::function<int()>;

// The whole command tree (global options, --version, every subcommand) as `main` parses it;
// the man page and the shell completion are generated from it (docgen.hpp). `g` and `run`
// must outlive the App.
std::unique_ptr<CLI::App> make_app(Globals& g, Runner& run);

void register_validate(CLI::App& app, Globals& g, Runner& run);
void register_load(CLI::App& app, Globals& g, Runner& run);
void register_plan(CLI::App& app, Globals& g, Runner& run);
void register_apply(CLI::App& app, Globals& g, Runner& run);
void register_drift(CLI::App& app, Globals& g, Runner& run);
void register_import(CLI::App& app, Globals& g, Runner& run);
void register_render(CLI::App& app, Globals& g, Runner& run);
void register_tasks(CLI::App& app, Globals& g, Runner& run);
void register_audit(CLI::App& app, Globals& g, Runner& run);
void register_db(CLI::App& app, Globals& g, Runner& run);
void register_schema(CLI::App& app, Globals& g, Runner& run);
void register_user(CLI::App& app, Globals& g, Runner& run);
void register_role(CLI::App& app, Globals& g, Runner& run);
void register_rbac(CLI::App& app, Globals& g, Runner& run);
void register_status(CLI::App& app, Globals& g, Runner& run);

} // namespace virtumancer::cli
