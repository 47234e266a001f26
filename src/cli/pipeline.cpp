#include "pipeline.hpp"

#include "access_cli.hpp"
#include "load_specs.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "virtumancer/actor.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer::cli {

namespace {
void load_paths(Database& db, const std::vector<std::string>& paths) {
    if (!paths.empty()) {
        if (db.read_only())
            throw Error("database " + db.path() +
                            " is read-only: the spec paths given cannot be loaded into it",
                        "run without spec paths to use the specs the database holds, or make "
                        "it writable");
        Identity who = resolve_identity(db, command_actor());
        require_permission(db, who, access::kSpecLoad, "load", "specs", paths.front());
        SpecsLoaded l = load_specs(db, paths, who.name);
        if (!l.ok)
            throw Error(std::to_string(l.errors) + " error(s) in the specs; nothing was loaded",
                        "fix them (virtumancer validate shows the same list)");
        std::cerr << l.line() << "\n";
    }
}

Desired read_desired(Database& db) {
    Store store(db);
    Desired out;
    out.state = store.load_desired(&out.pending_delete);
    out.revision_id = store.latest_revision_id();
    out.revision = out.state.revision;
    if (out.state.hosts.empty())
        throw Error(
            "the database " + db.path() + " holds no specs",
            "load some first: virtumancer load specs/ (or pass spec paths to this command)");
    return out;
}
} // namespace

Desired desired_state(Database& db, const std::vector<std::string>& paths) {
    load_paths(db, paths);
    return read_desired(db);
}

Desired speculative_desired(Database& db, const std::vector<std::string>& paths) {
    if (paths.empty())
        throw Error("--speculative plans the spec PATHs given without loading them, and none "
                    "were given",
                    "name them: virtumancer plan --speculative specs/ (without --speculative, "
                    "plan compares the database's specs with the hosts)");
    if (db.read_only())
        throw Error("database " + db.path() +
                        " is read-only: a speculative plan writes the specs in a transaction it "
                        "rolls back, which needs write access (nothing is kept)",
                    "make it writable, or plan without spec paths to use the specs the database "
                    "holds");
    // No permission: nothing is written (the same as plan without spec paths).
    SpecsLoaded l =
        load_specs(db, paths, resolve_identity(db, command_actor()).name, LoadMode::speculative);
    if (!l.ok)
        throw Error(std::to_string(l.errors) + " error(s) in the specs; nothing was planned "
                                               "and the database is unchanged",
                    "fix them (virtumancer validate shows the same list)");
    std::cerr << l.line() << "\n";
    if (!l.preview) return read_desired(db); // unchanged since the latest load: it holds them
    Desired out;
    out.state = std::move(l.preview->state);
    out.pending_delete = std::move(l.preview->pending_delete);
    out.revision = out.state.revision;
    out.revision_id = Store(db).latest_revision_id();
    if (out.state.hosts.empty())
        throw Error("the specs given hold no Host spec: there is nothing to plan",
                    "add a Host spec (kind: Host) to the spec paths");
    return out;
}

std::map<std::string, std::string> parse_host_uris(const std::vector<std::string>& specs) {
    std::map<std::string, std::string> out;
    for (const auto& s : specs) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
            throw Error("--host-uri '" + s + "' is not NAME=URI",
                        "write it as --host-uri local=test:///default");
        out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
}

namespace {
std::string uri_for(const DesiredState& d, const std::string& host,
                    const std::map<std::string, std::string>& over) {
    auto it = over.find(host);
    if (it != over.end()) return it->second;
    for (const auto& h : d.hosts)
        if (h.name == host) return h.uri;
    throw Error("no Host spec named " + host, "add a Host spec or fix the host: key");
}
} // namespace

std::unique_ptr<Hypervisor> connect_host(const DesiredState& d, const std::string& host,
                                         const std::map<std::string, std::string>& over,
                                         const HostTimeouts& timeouts) {
    return connect_libvirt(uri_for(d, host, over), timeouts);
}

std::vector<ObservedHost> observe_hosts(const DesiredState& d,
                                        const std::map<std::string, std::string>& over,
                                        int parallelism, const HostTimeouts& timeouts) {
    std::vector<ObservedHost> out(d.hosts.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < d.hosts.size(); ++i) {
        threads.emplace_back([&, i] {
            const auto& h = d.hosts[i];
            ObservedHost& oh = out[i];
            try {
                oh.uri = uri_for(d, h.name, over);
                // Returns within the timeout even when the host never answers.
                oh = observe_libvirt(oh.uri, parallelism, timeouts);
            } catch (const std::exception& e) {
                oh.reachable = false;
                oh.error = e.what();
            }
            oh.host = h.name;
            if (oh.uri.empty()) oh.uri = h.uri;
        });
    }
    for (auto& t : threads) t.join();
    return out;
}

void add_observe_options(CLI::App* cmd, ObserveArgs& a) {
    cmd->add_option("paths", a.paths, "spec files or directories to load first");
    cmd->add_option("--host-uri", a.host_uris, "NAME=URI: override a Host's URI (repeatable)");
    cmd->add_option("--parallelism", a.parallelism, "objects observed at once per host")
        ->check(CLI::Range(1, 64));
    add_host_timeout_options(cmd, a.timeouts);
}

void add_host_timeout_options(CLI::App* cmd, HostTimeouts& t) {
    cmd->add_option("--host-timeout", t.seconds,
                    "seconds a host may take to answer (connect, observe; once connected, "
                    "keepalive closes a connection silent that long); a host that does not "
                    "answer is reported unreachable and the others carry on")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str();
    cmd->add_option("--keepalive-interval", t.keepalive_interval,
                    "seconds between keepalive probes on a connection (0: off)")
        ->check(CLI::Range(0, 3600))
        ->capture_default_str();
}

PlanInputs desired_and_observed(Database& db, const std::vector<std::string>& paths,
                                const std::map<std::string, std::string>& over, int parallelism,
                                const HostTimeouts& timeouts, bool speculative) {
    if (speculative) { // rolled back before any host is observed
        PlanInputs in;
        in.desired = speculative_desired(db, paths);
        in.observed = observe_hosts(in.desired.state, over, parallelism, timeouts);
        return in;
    }
    load_paths(db, paths);
    DesiredState hosts_only;
    hosts_only.hosts = Store(db).load_hosts();
    PlanInputs in;
    std::thread observer(
        [&] { in.observed = observe_hosts(hosts_only, over, parallelism, timeouts); });
    try {
        in.desired = read_desired(db);
    } catch (...) { // safe: rethrown once the observer thread is joined
        observer.join();
        throw;
    }
    observer.join();
    // A load between the two reads changed the hosts: observe again what the desired state
    // names (rare; correctness over speed).
    auto same = [](const HostSpec& a, const HostSpec& b) {
        return a.name == b.name && a.uri == b.uri;
    };
    const auto& want = in.desired.state.hosts;
    if (!std::equal(want.begin(), want.end(), hosts_only.hosts.begin(), hosts_only.hosts.end(),
                    same))
        in.observed = observe_hosts(in.desired.state, over, parallelism, timeouts);
    return in;
}

bool use_color() {
    return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
}

void write_file_atomic(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw Error("cannot write " + tmp, "check the directory exists and is writable");
        f << content;
        f.flush();
        if (!f) throw Error("cannot write " + tmp, "check free disk space");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error("cannot rename " + tmp + " to " + path, "check permissions");
    }
}

} // namespace virtumancer::cli
