// virtumancer: declarative configuration reconciler for libvirt virtual machines.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "../cli/commands.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/interrupt.hpp"

using namespace virtumancer;

int main(int argc, char** argv) {
    install_interrupt_handling(); // before any thread starts: they inherit the blocked signals
    CLI::App app{"virtumancer: declarative configuration reconciler for libvirt virtual machines.\n"
                 "Specs (YAML) are loaded into a database (a SQLite file or PostgreSQL); plan "
                 "compares them with what "
                 "libvirt holds, apply makes it so, drift reports what changed behind our back."};
    app.set_version_flag("--version", std::string("virtumancer ") + VIRTUMANCER_VERSION);
    app.require_subcommand(1);
    cli::Globals g;
    if (const char* env = std::getenv("VIRTUMANCER_DB")) g.db_path = env;
    app.add_option("--db", g.db_path,
                   "SQLite database file, or a PostgreSQL URI postgresql://user@host:port/dbname "
                   "(password from PGPASSWORD or ~/.pgpass; env VIRTUMANCER_DB)")
        ->default_str(sql::redact(g.db_path));
    int connect_timeout = 10;
    app.add_option("--db-connect-timeout", connect_timeout,
                   "seconds to wait for a PostgreSQL server to answer (connect_timeout= in the "
                   "URI wins)")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    app.add_flag("-v,--verbose", g.verbose, "more logging (repeat for debug)");
    app.add_option("--log-level", g.log_level, "trace|debug|info|warn|error|off (to stderr)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    cli::Runner run;
    cli::register_validate(app, g, run);
    cli::register_load(app, g, run);
    cli::register_plan(app, g, run);
    cli::register_apply(app, g, run);
    cli::register_drift(app, g, run);
    cli::register_import(app, g, run);
    cli::register_render(app, g, run);
    cli::register_tasks(app, g, run);
    cli::register_audit(app, g, run);
    cli::register_db(app, g, run);
    cli::register_schema(app, g, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitError;
    }
    auto logger = spdlog::stderr_color_mt("virtumancer");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%^%l%$: %v");
    spdlog::level::level_enum lvl = spdlog::level::warn;
    if (g.verbose == 1) lvl = spdlog::level::info;
    if (g.verbose >= 2) lvl = spdlog::level::debug;
    if (!g.log_level.empty()) lvl = spdlog::level::from_str(g.log_level);
    spdlog::set_level(lvl);
    Database::set_connect_timeout(connect_timeout);
    int rc = kExitError;
    try {
        rc = run ? run() : kExitError;
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        if (!e.remedy().empty()) std::cerr << "  hint: " << e.remedy() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
    }
    if (abandoned_host_calls() > 0) {
        // A worker still waits on a host that never answered: end without running static
        // destructors, which it could otherwise wake up into.
        std::cout.flush();
        std::cerr.flush();
        spdlog::default_logger()->flush();
        std::fflush(nullptr);
        _exit(rc);
    }
    return rc;
}
