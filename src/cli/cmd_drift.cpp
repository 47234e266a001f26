#include <chrono>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "pipeline.hpp"
#include "plan_output.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {
struct DriftArgs {
    ObserveArgs obs;
    bool json = false, fail_on_unmanaged = false;
    std::string junit, prometheus;
};

// Records what was found per VM spec in virtual_machines.sync_status. Best effort: a
// database that cannot be written (read-only copy in a CI job) only gets a warning.
void record_vm_statuses(Database& db, const std::vector<DriftItem>& items) {
    std::vector<Store::SyncStatus> st;
    for (const auto& it : items) {
        if (it.kind != "vm") continue;
        std::optional<VmSyncStatus> s;
        switch (it.status) {
        case DriftStatus::InSync:
            s = VmSyncStatus::InSync;
            break;
        case DriftStatus::Drifted:
            s = VmSyncStatus::Drifted;
            break;
        case DriftStatus::Missing:
            s = VmSyncStatus::Pending;
            break;
        case DriftStatus::Pending:
            s = VmSyncStatus::PendingRestart;
            break;
        case DriftStatus::Conflict:
            s = VmSyncStatus::Error;
            break;
        case DriftStatus::Unmanaged: // no VM spec: no status to record
        case DriftStatus::Orphaned:
        case DriftStatus::Unreachable:
        case DriftStatus::Error:
            break;
        }
        if (s) st.push_back({it.host, it.name, *s});
    }
    try {
        Store(db).record_sync_status(st);
    } catch (const std::exception& e) {
        std::cerr << "warning: could not record the VMs' sync status in " << db.path() << ": "
                  << e.what() << "\n";
    }
}

bool counts_as_drift(const DriftItem& it, bool fail_on_unmanaged) {
    if (it.status == DriftStatus::InSync) return false;
    if (it.status == DriftStatus::Unmanaged) return fail_on_unmanaged;
    return true;
}

std::string xml_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
        case '<':
            o += "&lt;";
            break;
        case '>':
            o += "&gt;";
            break;
        case '&':
            o += "&amp;";
            break;
        case '"':
            o += "&quot;";
            break;
        case '\'':
            o += "&apos;";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
                o += ' ';
            else
                o += c;
        }
    }
    return o;
}

std::string junit_report(const std::vector<DriftItem>& items, bool fail_on_unmanaged,
                         double seconds) {
    int failures = 0;
    for (const auto& it : items) failures += counts_as_drift(it, fail_on_unmanaged);
    std::ostringstream os;
    os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuites name=\"virtumancer drift\" tests=\"" << items.size() << "\" failures=\""
       << failures << "\" time=\"" << seconds << "\">\n"
       << "  <testsuite name=\"drift\" tests=\"" << items.size() << "\" failures=\"" << failures
       << "\">\n";
    for (const auto& it : items) {
        os << "    <testcase classname=\"" << xml_escape(it.host + "." + it.kind) << "\" name=\""
           << xml_escape(it.name) << "\"";
        if (!counts_as_drift(it, fail_on_unmanaged)) {
            os << "/>\n";
            continue;
        }
        std::ostringstream body;
        for (const auto& d : it.diffs)
            body << d.field << ": expected '" << d.after << "', actual '" << d.before << "'\n";
        for (const auto& d : it.pending)
            body << d.field << ": expected '" << d.after << "', running '" << d.before
                 << "' (pending: the config matches, the running " << it.kind << " does not)\n";
        os << ">\n      <failure message=\"" << xml_escape(drift_status_name(it.status)) << "\">"
           << xml_escape(body.str()) << "</failure>\n    </testcase>\n";
    }
    os << "  </testsuite>\n</testsuites>\n";
    return os.str();
}

std::string prometheus_report(const std::vector<DriftItem>& items, bool fail_on_unmanaged,
                              double seconds) {
    std::map<std::pair<std::string, std::string>, int> drifted, total, pending;
    for (const auto& it : items) {
        total[{it.host, it.kind}]++;
        if (counts_as_drift(it, fail_on_unmanaged)) drifted[{it.host, it.kind}]++;
        if (!it.pending.empty()) pending[{it.host, it.kind}]++;
    }
    std::ostringstream os;
    os << "# HELP virtumancer_drift_objects Managed objects that differ from their spec.\n"
       << "# TYPE virtumancer_drift_objects gauge\n";
    for (const auto& [k, n] : total)
        os << "virtumancer_drift_objects{host=\"" << k.first << "\",kind=\"" << k.second << "\"} "
           << (drifted.count(k) ? drifted[k] : 0) << "\n";
    os << "# HELP virtumancer_drift_pending_objects Running VMs whose config matches the spec "
          "but that run something else until restarted (pending).\n"
       << "# TYPE virtumancer_drift_pending_objects gauge\n";
    for (const auto& [k, n] : total)
        os << "virtumancer_drift_pending_objects{host=\"" << k.first << "\",kind=\"" << k.second
           << "\"} " << (pending.count(k) ? pending[k] : 0) << "\n";
    os << "# HELP virtumancer_drift_objects_checked Objects compared.\n"
       << "# TYPE virtumancer_drift_objects_checked gauge\n";
    for (const auto& [k, n] : total)
        os << "virtumancer_drift_objects_checked{host=\"" << k.first << "\",kind=\"" << k.second
           << "\"} " << n << "\n";
    os << "# HELP virtumancer_drift_last_run_timestamp_seconds When the last drift check ran.\n"
       << "# TYPE virtumancer_drift_last_run_timestamp_seconds gauge\n"
       << "virtumancer_drift_last_run_timestamp_seconds " << std::time(nullptr) << "\n"
       << "# HELP virtumancer_drift_last_run_duration_seconds How long it took.\n"
       << "# TYPE virtumancer_drift_last_run_duration_seconds gauge\n"
       << "virtumancer_drift_last_run_duration_seconds " << seconds << "\n";
    return os.str();
}

} // namespace

void register_drift(CLI::App& app, Globals& g, Runner& run) {
    auto a = std::make_shared<DriftArgs>();
    auto* cmd = app.add_subcommand(
        "drift", "Report every difference between managed objects and their specs (field, "
                 "expected, actual), missing objects and power state; exit 0 clean, 2 drift, "
                 "1 error");
    add_observe_options(cmd, a->obs);
    cmd->add_flag("--json", a->json, "print the report as JSON");
    cmd->add_option("--junit", a->junit, "write a JUnit XML report (one test case per object)");
    cmd->add_option("--prometheus", a->prometheus,
                    "write node_exporter textfile metrics (atomically)");
    cmd->add_flag("--fail-on-unmanaged", a->fail_on_unmanaged,
                  "count unmanaged objects on the hosts as drift");
    cmd->callback([&g, &run, a] {
        run = [&g, a] {
            auto t0 = std::chrono::steady_clock::now();
            auto db = Database::open_for_reading(g.db_path);
            auto [d, observed] =
                desired_and_observed(*db, a->obs.paths, parse_host_uris(a->obs.host_uris),
                                     a->obs.parallelism, a->obs.timeouts);
            auto items = detect_drift(d.state, observed);
            record_vm_statuses(*db, items);
            double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            int drifted = 0, pending = 0;
            bool unreachable = false;
            for (const auto& it : items) {
                drifted += counts_as_drift(it, a->fail_on_unmanaged);
                pending += !it.pending.empty();
                unreachable |= it.status == DriftStatus::Unreachable;
            }
            if (!a->junit.empty())
                write_file_atomic(a->junit, junit_report(items, a->fail_on_unmanaged, secs));
            if (!a->prometheus.empty())
                write_file_atomic(a->prometheus,
                                  prometheus_report(items, a->fail_on_unmanaged, secs));
            if (a->json) {
                nlohmann::json arr = nlohmann::json::array();
                for (const auto& it : items) {
                    nlohmann::json diffs = nlohmann::json::array();
                    for (const auto& df : it.diffs)
                        diffs.push_back(
                            {{"field", df.field}, {"expected", df.after}, {"actual", df.before}});
                    nlohmann::json pending = nlohmann::json::array();
                    for (const auto& df : it.pending)
                        pending.push_back({{"field", df.field},
                                           {"expected", df.after},
                                           {"running", df.before},
                                           {"class", change_class_name(df.cls)}});
                    arr.push_back({{"host", it.host},
                                   {"kind", it.kind},
                                   {"name", it.name},
                                   {"status", drift_status_name(it.status)},
                                   {"drift", counts_as_drift(it, a->fail_on_unmanaged)},
                                   {"diffs", diffs},
                                   {"pending", pending}});
                    if (!it.error.empty()) arr.back()["error"] = it.error;
                }
                std::cout << nlohmann::json{{"format_version", 1},
                                            {"objects", arr},
                                            {"drifted", drifted},
                                            {"pending", pending},
                                            {"duration_seconds", secs}}
                                 .dump(2)
                          << "\n";
            } else {
                for (const auto& it : items) {
                    if (it.status == DriftStatus::InSync) continue;
                    std::cout << it.host << "/" << it.kind << "/" << it.name << ": "
                              << drift_status_name(it.status)
                              << (counts_as_drift(it, a->fail_on_unmanaged) ? "" : " (information)")
                              << "\n";
                    if (!it.error.empty()) std::cout << "    " << it.error << "\n";
                    // "    field: expected X, <seen> Y<suffix>"
                    auto diff_line = [](const FieldDiff& df, const char* seen, const char* suffix) {
                        auto shown = [&](const std::string& v) {
                            return v.empty() ? std::string("(absent)") : display_value(df.field, v);
                        };
                        std::cout << "    " << df.field << ": expected " << shown(df.after) << ", "
                                  << seen << " " << shown(df.before) << suffix << "\n";
                    };
                    for (const auto& df : it.diffs) diff_line(df, "actual", "");
                    const char* takes_effect =
                        it.kind == "network" ? " (pending: the config matches; takes effect when "
                                               "the network is restarted)"
                                             : " (pending: the config matches; takes effect when "
                                               "the VM restarts, or with apply --restart-pending)";
                    for (const auto& df : it.pending) diff_line(df, "running", takes_effect);
                }
                std::cout << items.size() << " object(s) checked, " << drifted << " drifted";
                if (pending) std::cout << " (" << pending << " with pending changes)";
                std::cout << "\n";
            }
            // The reason, as plan gives it (the report above only says "unreachable").
            for (const auto& h : observed)
                if (!h.reachable)
                    std::cerr << "error: host " << h.host << " (" << h.uri
                              << ") is unreachable: " << h.error << "; its objects were not "
                              << "checked\n";
            if (unreachable) return kExitError;
            return drifted ? kExitChanges : kExitOk;
        };
    });
}

} // namespace virtumancer::cli
