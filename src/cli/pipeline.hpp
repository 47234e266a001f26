// Shared steps of plan, apply and drift: desired state from the database (loading spec paths
// first when given), observing every host in parallel, terminal helpers.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/model.hpp"

namespace virtumancer::cli {

struct Desired {
    DesiredState state;
    std::vector<std::string> pending_delete;
    long long revision_id = 0;
    std::string revision;
};

// Loads `paths` into the database first when given (exits via Error on spec errors, after
// printing every diagnostic), then reads the desired state from the database.
Desired desired_state(Database& db, const std::vector<std::string>& paths);

// plan --speculative: the desired state that loading `paths` would make, the database left
// exactly as it was (the load is read back inside its transaction and rolled back; see
// load_specs' LoadMode::speculative). Spec errors as desired_state. Needs no permission (it
// writes nothing). revision_id is the database's latest load revision.
Desired speculative_desired(Database& db, const std::vector<std::string>& paths);

// "NAME=URI" overrides of Host URIs (--host-uri).
std::map<std::string, std::string> parse_host_uris(const std::vector<std::string>& specs);

// Observes every host of the desired state in parallel; an unreachable host is reported in
// its ObservedHost (reachable=false, error) and does not stop the others.
// A host that does not answer within `timeouts.seconds` is unreachable ("no answer from URI
// within N s"); the others are observed all the same.
std::vector<ObservedHost> observe_hosts(const DesiredState& d,
                                        const std::map<std::string, std::string>& uri_override,
                                        int parallelism, const HostTimeouts& timeouts = {});

// The options of the commands that read desired state and observe hosts (plan, drift): spec
// paths to load first, Host URI overrides, how many objects are observed at once, how long a
// host may take to answer.
struct ObserveArgs {
    std::vector<std::string> paths, host_uris;
    int parallelism = 8;
    HostTimeouts timeouts;
};
void add_observe_options(CLI::App* cmd, ObserveArgs& a);
// --host-timeout and --keepalive-interval into `t` (plan, drift and apply).
void add_host_timeout_options(CLI::App* cmd, HostTimeouts& t);

// desired_state() and observe_hosts() together: the hosts are observed while the rest of the
// desired state is read from the database (the two overlap; the result is the same as calling
// one after the other).
struct PlanInputs {
    Desired desired;
    std::vector<ObservedHost> observed;
};
// speculative: speculative_desired() first, then the hosts are observed (the load's
// transaction is never held while a host is observed).
PlanInputs desired_and_observed(Database& db, const std::vector<std::string>& paths,
                                const std::map<std::string, std::string>& uri_override,
                                int parallelism, const HostTimeouts& timeouts = {},
                                bool speculative = false);

// Connects to one host by spec name (honouring overrides).
std::unique_ptr<Hypervisor> connect_host(const DesiredState& d, const std::string& host,
                                         const std::map<std::string, std::string>& uri_override,
                                         const HostTimeouts& timeouts = {});

bool use_color(); // stdout is a terminal and NO_COLOR is unset

// Writes a file atomically (temp file + rename).
void write_file_atomic(const std::string& path, const std::string& content);

} // namespace virtumancer::cli
