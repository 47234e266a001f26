#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "access_cli.hpp"
#include "commands.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

void register_db(CLI::App& app, Globals& g, Runner& run) {
    auto* db =
        app.add_subcommand("db", "Manage the database: migrate, status, check, copy, targets");
    db->require_subcommand(1);
    db->add_subcommand("migrate",
                       "Create the database or migrate it to the newest schema "
                       "(an existing file is backed up to <db>.bak-v<old> first; needs db.admin)")
        ->callback([&] {
            run = [&g] {
                require_db_admin(g.db_path, "", "db migrate");
                MigrateResult r;
                auto d = Database::open(g.db_path, &r);
                if (r.from_version == r.to_version)
                    std::cout << d->path() << ": schema version " << r.to_version
                              << " (up to date)\n";
                else
                    std::cout << d->path() << ": migrated schema " << r.from_version << " -> "
                              << r.to_version << "\n";
                if (!r.backup_path.empty()) std::cout << "backup: " << r.backup_path << "\n";
                return kExitOk;
            };
        });
    db->add_subcommand("status", "Show schema version, file, size and row counts per table")
        ->callback([&] {
            run = [&g] {
                auto d = Database::open_for_reading(g.db_path);
                bool pg = d->backend() == sql::Backend::postgresql;
                std::cout << "database: "
                          << (pg ? d->path() : std::filesystem::absolute(g.db_path).string())
                          << "\n"
                          << "backend: " << d->db().server() << "\n"
                          << "schema version: " << d->version() << " (latest "
                          << Database::latest_version() << ")\n";
                if (!pg) {
                    std::error_code ec;
                    auto size = std::filesystem::file_size(g.db_path, ec);
                    std::cout << "size: " << (ec ? 0 : size) << " bytes\n";
                }
                try {
                    Identity who = resolve_identity(*d, "");
                    AccessStore s(*d);
                    std::cout << "access control: "
                              << (who.open ? std::string("off (open mode: no users)")
                                           : "on (" + std::to_string(s.users().size()) +
                                                 " users; admins: " + admins_text(s) + ")")
                              << "\n";
                } catch (const std::exception& e) {
                    std::cout << "access control: unknown (" << e.what() << ")\n";
                }
                std::cout << "tables:\n";
                for (const auto& [name, n] : d->table_counts())
                    std::cout << "  " << name
                              << std::string(name.size() < 30 ? 30 - name.size() : 1, ' ') << n
                              << "\n";
                return kExitOk;
            };
        });
    db->add_subcommand("check", "Run integrity_check and foreign_key_check; exit 1 on a problem")
        ->callback([&] {
            run = [&g] {
                auto d = Database::open_readonly(g.db_path);
                auto problems = d->check();
                for (const auto& p : problems) std::cout << p << "\n";
                if (problems.empty()) {
                    std::cout << d->path() << ": ok\n";
                    return kExitOk;
                }
                std::cout << problems.size() << " problem(s)\n";
                return kExitError;
            };
        });
    auto to = std::make_shared<std::string>();
    auto* copy = db->add_subcommand(
        "copy", "Copy the database of --db into an empty one (--to), SQLite or PostgreSQL either "
                "way: desired state, revisions, tasks, audit and the owner id, every table row for "
                "row; the counts are compared before the commit");
    copy->add_option("--to", *to,
                     "the target: a SQLite file or a PostgreSQL URI (created or migrated first; "
                     "refused when it holds data)")
        ->type_name("PATH") // completes file names
        ->required();
    copy->callback([&g, &run, to] {
        run = [&g, to] {
            // Everything of the source is copied (users and audit included): db.admin there.
            require_db_admin(g.db_path, "", "db copy");
            CopyResult r = copy_database(g.db_path, *to);
            std::cout << "copied " << r.source << " (" << r.source_server << ")\n"
                      << "    to " << r.target << " (" << r.target_server << ")\n"
                      << "schema version " << r.schema_version << ", owner id " << r.owner_id
                      << "\n";
            if (r.target_migration.to_version > r.target_migration.from_version)
                std::cout << "target migrated: schema " << r.target_migration.from_version << " -> "
                          << r.target_migration.to_version << "\n";
            std::cout << "rows per table (foreign-key order):\n";
            for (const auto& t : r.tables)
                std::cout << "  " << t.name
                          << std::string(t.name.size() < 30 ? 30 - t.name.size() : 1, ' ') << t.rows
                          << "\n";
            std::cout << "total: " << r.total_rows << " rows in " << r.tables.size()
                      << " tables; verified: the same row count in every table of both\n";
            return kExitOk;
        };
    });
    db->add_subcommand("targets", "List the KIND/NAME values --target accepts for the objects "
                                  "of the loaded specs, one per line (shell completion uses it)")
        ->callback([&] {
            run = [&g] {
                // Never creates a database (completion runs it in any directory).
                if (!sql::is_postgres_uri(g.db_path) && !std::filesystem::exists(g.db_path))
                    throw Error("no database at " + g.db_path,
                                "load specs first (virtumancer load), or name one with --db");
                auto d = Database::open_for_reading(g.db_path);
                Store store(*d);
                DesiredState want = store.load_desired();
                // The names as plan addresses spell them.
                std::set<std::string> out;
                for (const auto& v : want.vms) out.insert("vm/" + v.obj.name());
                for (const auto& p : want.pools) out.insert("pool/" + p.obj.name());
                for (const auto& v : want.volumes) out.insert("volume/" + volume_address_name(v));
                for (const auto& n : want.networks) out.insert("network/" + n.obj.name());
                for (const auto& s : want.snapshots)
                    out.insert("snapshot/" + snapshot_address_name(s));
                for (const auto& t : out) std::cout << t << "\n";
                return kExitOk;
            };
        });
}

} // namespace virtumancer::cli
