// The command tree: global options and every subcommand, as `main` parses it. The man page and
// the shell completion are generated from the same tree (docgen.hpp), so they cannot drift.
#include "virtumancer_version.hpp"

#include "commands.hpp"
#include "virtumancer/sql.hpp"

namespace virtumancer::cli {

std::unique_ptr<CLI::App> make_app(Globals& g, Runner& run) {
    auto app = std::make_unique<CLI::App>(
        "virtumancer: declarative configuration reconciler for libvirt virtual machines.\n"
        "Specs (YAML) are loaded into a database (a SQLite file or PostgreSQL); plan "
        "compares them with what "
        "libvirt holds, apply makes it so, drift reports what changed behind our back.");
    app->set_version_flag("--version", std::string("virtumancer ") + VIRTUMANCER_VERSION);
    app->require_subcommand(1);
    app->add_option("--db", g.db_path,
                    "SQLite database file, or a PostgreSQL URI postgresql://user@host:port/dbname "
                    "(password from PGPASSWORD or ~/.pgpass; env VIRTUMANCER_DB)")
        ->default_str(sql::redact(g.db_path));
    app->add_option("--db-connect-timeout", g.db_connect_timeout,
                    "seconds to wait for a PostgreSQL server to answer (connect_timeout= in the "
                    "URI wins)")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    app->add_option("--db-timeout", g.db_timeout,
                    "seconds a PostgreSQL server may stay silent while a statement waits for it; "
                    "then the command fails naming host and port (the wait for the apply lock "
                    "is --lock-timeout's)")
        ->envname("VIRTUMANCER_DB_TIMEOUT")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app->add_flag("-v,--verbose", g.verbose, "more logging (repeat for debug)");
    app->add_option("--log-level", g.log_level, "trace|debug|info|warn|error|off (to stderr)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    register_validate(*app, g, run);
    register_load(*app, g, run);
    register_plan(*app, g, run);
    register_apply(*app, g, run);
    register_drift(*app, g, run);
    register_status(*app, g, run);
    register_import(*app, g, run);
    register_render(*app, g, run);
    register_tasks(*app, g, run);
    register_audit(*app, g, run);
    register_db(*app, g, run);
    register_schema(*app, g, run);
    register_user(*app, g, run);
    register_role(*app, g, run);
    register_rbac(*app, g, run);
    return app;
}

} // namespace virtumancer::cli
