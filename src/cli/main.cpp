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
    cli::Globals g;
    if (const char* env = std::getenv("VIRTUMANCER_DB")) g.db_path = env;
    cli::Runner run;
    auto app_ptr = cli::make_app(g, run);
    CLI::App& app = *app_ptr;

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
    Database::set_connect_timeout(g.db_connect_timeout);
    Database::set_query_timeout(g.db_timeout);
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
