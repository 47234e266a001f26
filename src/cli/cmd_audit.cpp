// `virtumancer audit [--since TIME] [--target KIND/NAME] [--json]`: who changed what, when.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {

struct AuditOpts {
    std::string since, target;
    bool json = false;
};

// "30m", "24h", "7d", "2w" -> the UTC timestamp that long ago; a date or timestamp is kept
// (with a space between date and time read as 'T', the stored form).
std::string since_timestamp(const std::string& s) {
    if (s.empty()) return s;
    char unit = s.back();
    std::string num = s.substr(0, s.size() - 1);
    bool relative = !num.empty() && num.find_first_not_of("0123456789") == std::string::npos &&
                    std::string("smhdw").find(unit) != std::string::npos;
    if (!relative) {
        std::string out = s;
        if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
        if (out.size() < 4 || !std::isdigit(static_cast<unsigned char>(out[0])))
            throw Error("--since '" + s + "' is neither a duration nor a date",
                        "write e.g. --since 24h, --since 7d or --since 2025-01-31T12:00:00");
        return out;
    }
    long long unit_secs = unit == 's'   ? 1
                          : unit == 'm' ? 60
                          : unit == 'h' ? 3600
                          : unit == 'd' ? 86400
                                        : 604800;
    // digits only (checked above): nullopt means beyond 64 bits
    auto n = parse_int(num);
    if (!n || *n > 100LL * 366 * 86400 / unit_secs)
        throw Error("--since '" + s + "' is too far back",
                    "give at most 100 years (e.g. --since 5200w), or a date");
    long long secs = *n * unit_secs;
    std::time_t t = std::time(nullptr) - secs;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

int run_audit(const Globals& g, const AuditOpts& o) {
    if (!sql::is_postgres_uri(g.db_path) && !std::filesystem::exists(g.db_path))
        throw Error("database " + g.db_path + " does not exist",
                    "pass --db (or set VIRTUMANCER_DB), or run `virtumancer load` first");
    std::string type, id;
    if (!o.target.empty()) {
        auto slash = o.target.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == o.target.size())
            throw Error("--target '" + o.target + "' is not KIND/NAME",
                        "write e.g. --target vm/web1 or --target volume/default/web1-root");
        type = o.target.substr(0, slash);
        id = o.target.substr(slash + 1);
    }
    auto db = Database::open_for_reading(g.db_path);
    Store store(*db);
    auto rows = store.audit_rows(since_timestamp(o.since), type, id);
    if (o.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : rows) {
            nlohmann::json details = nlohmann::json::parse(r.details, nullptr, false);
            arr.push_back(
                {{"id", r.id},
                 {"timestamp", r.timestamp},
                 {"actor", r.actor},
                 {"action", r.action},
                 {"target_type", r.target_type},
                 {"target_id", r.target_id},
                 {"details", details.is_discarded() ? nlohmann::json(r.details) : details}});
        }
        std::cout << arr.dump(2) << "\n";
        return kExitOk;
    }
    if (rows.empty()) {
        std::cout << "no audit entries\n";
        return kExitOk;
    }
    auto col = [](const std::string& s, size_t w) {
        return s.size() >= w ? s.substr(0, w - 1) + " " : s + std::string(w - s.size(), ' ');
    };
    std::cout << col("TIME", 25) << col("ACTOR", 14) << col("ACTION", 22) << col("TARGET", 32)
              << "DETAILS\n";
    for (const auto& r : rows)
        std::cout << col(r.timestamp, 25) << col(r.actor, 14) << col(r.action, 22)
                  << col(r.target_type + "/" + r.target_id, 32) << r.details << "\n";
    return kExitOk;
}

} // namespace

void register_audit(CLI::App& app, Globals& g, Runner& run) {
    auto opts = std::make_shared<AuditOpts>();
    auto* cmd =
        app.add_subcommand("audit", "Show the audit log: who changed which object, when, and how");
    cmd->add_option("--since", opts->since,
                    "entries at or after TIME: a duration ago (30m, 24h, 7d, 2w) or a UTC date "
                    "or timestamp (2025-01-31, 2025-01-31T12:00:00)");
    cmd->add_option("--target", opts->target,
                    "only entries about KIND/NAME (vm/web1, network/lan, volume/POOL/NAME)");
    cmd->add_flag("--json", opts->json, "print the entries as JSON");
    cmd->callback([&run, &g, opts] { run = [&g, opts] { return run_audit(g, *opts); }; });
}

} // namespace virtumancer::cli
