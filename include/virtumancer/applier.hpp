// The applier: executes a plan's step graph on the hosts, with tasks, audit and verification.
// Hosts come through a HostConnector and output goes to an EventSink, so the scheduling,
// failure propagation and bookkeeping are tested with fakes (tests/unit/applier_test.cpp).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "virtumancer/hypervisor.hpp"
#include "virtumancer/model.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer {

// Gives the applier a Hypervisor per spec host name. Called from several worker threads.
class HostConnector {
  public:
    virtual ~HostConnector() = default;
    // The connection to `host` (connects on first use). Throws Error when unreachable.
    virtual Hypervisor& hypervisor(const std::string& host) = 0;
    // Observes one host (reachable=false and error set when it cannot be reached).
    virtual ObservedHost observe(const std::string& host);
};

// An image opened for a volume created from a `source`: its bytes, hashed as they are read.
class ImageReader {
  public:
    virtual ~ImageReader() = default;
    virtual unsigned long long size() const = 0; // bytes to upload
    // "qcow2", "raw", ... as its first bytes show (not its name).
    virtual std::string format() const = 0;
    // The disk size it gives a guest: a qcow2 header's size, else size().
    virtual unsigned long long virtual_size() const = 0;
    // Fills `buf` with up to `n` next bytes; 0 at the end.
    virtual size_t read(char* buf, size_t n) = 0;
    // "ALGO:HEX" of the bytes read so far (ALGO: the checksum's, sha256 without one).
    virtual std::string digest() const = 0;
};

// Fetches images for VolumeCreate steps with a source (the cli's implementation downloads
// into a cache on this machine, src/image; tests give a fake). Called from worker threads.
class ImageSource {
  public:
    virtual ~ImageSource() = default;
    // `label` names the volume for progress output. Throws Error (no such file, download
    // failed, a downloaded image not matching `checksum`).
    virtual std::unique_ptr<ImageReader>
    open(const std::string& source, const std::string& checksum, const std::string& label) = 0;
};

struct ApplyEvent {
    std::string type; // apply_start | apply_progress | apply_complete | apply_errored |
                      // apply_interrupted | summary
    int step = 0;
    std::string op, host, kind, name, address;
    int progress = 0;    // apply_progress: 0-100
    double elapsed = 0;  // seconds since the step started (or the apply, for summary)
    std::string message; // apply_errored: the error; apply_progress: what it waits for
    int succeeded = 0, failed = 0, skipped = 0; // summary
    std::vector<std::string> skipped_steps;     // summary: "id op address (reason)"
    // summary of an interrupted apply: the signal ("SIGINT"), the steps stopped while running
    // and the steps never started ("id op address")
    std::string interrupted_by;
    std::vector<std::string> interrupted_steps, not_run_steps;
    std::vector<std::string> differences; // summary: post-apply verification
};

// Receives events; calls are serialized by the applier.
class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void event(const ApplyEvent& e) = 0;
};

struct ApplyOptions {
    int parallelism = 4;
    std::string actor;
    std::string run_id; // generated when empty
    // Post-apply verification: the hosts touched are observed again and planned with the same
    // desired state and options; what is still to change on an object whose steps all
    // succeeded is a difference. Skipped when `desired` is null.
    const DesiredState* desired = nullptr;
    PlanOptions plan_options;
    double poll_interval = 0.5; // seconds between domain state polls while shutting down
    // Polled between steps and while waiting: nonzero (the signal number) stops the apply.
    // No step starts after that; running calls finish, waits (shutdown) stop early.
    std::function<int()> interrupted;
    // Images for volumes with a source (null: such a step fails, naming why).
    ImageSource* images = nullptr;
};

// Interrupted: it was running when the apply was interrupted and stopped waiting (its task is
// INTERRUPTED); NotRun: never started because the apply was interrupted (no task row).
enum class StepStatus { Pending, Completed, Failed, Skipped, Interrupted, NotRun };
const char* step_status_name(StepStatus s);

struct StepResult {
    int id = 0;
    StepStatus status = StepStatus::Pending;
    std::string error; // Failed: libvirt's message; Skipped: which dependency failed
    double seconds = 0;
    int64_t task_id = 0;
};

struct ApplyResult {
    std::string run_id;
    std::vector<StepResult> steps; // in plan order
    int succeeded = 0, failed = 0, skipped = 0, interrupted = 0, not_run = 0;
    int signal = 0; // the signal that interrupted the apply (0: ran to its end)
    // "libvirt produced a different result than planned: <address> <field>: planned <after>,
    // actual <before>"
    std::vector<std::string> differences;
    bool ok() const {
        return failed == 0 && skipped == 0 && signal == 0 && interrupted == 0 && not_run == 0 &&
               differences.empty();
    }
};

// Throws Error before running anything when the steps' dependencies are not a DAG (a cycle,
// an unknown step id). Otherwise runs every step it can and reports each one's outcome.
ApplyResult apply_plan(const Plan& plan, HostConnector& hosts, Store& store,
                       const ApplyOptions& opts, EventSink& sink);

// Checks the step graph; throws Error naming the cycle or the unknown dependency.
void check_step_graph(const Plan& plan);

// Saved plans (`apply --plan`): the hosts a plan touches (its steps, changes and observed
// objects), and why it is stale against a fresh observation of those hosts and the latest
// load revision: every observed object that changed, appeared or disappeared since, an
// unreachable host, a newer load. Empty: the plan may run.
std::vector<std::string> plan_hosts(const Plan& plan);
std::vector<std::string> stale_reasons(const Plan& plan, const std::vector<ObservedHost>& now,
                                       long long latest_revision_id);

// ---- Addresses (wait_for_ip, `virtumancer status`; src/applier/applier_addresses.cpp)

// One NIC of a running domain (its live XML) and the addresses found for it, matched by MAC.
struct NicAddresses {
    std::string mac;
    std::string type;   // the <interface type>: network | bridge | direct | user | ...
    std::string source; // the libvirt network or bridge it is on ("" none)
    // "family address/prefix source" items: ipv4 192.168.122.5/24 from lease, ...; link-local
    // addresses are left out.
    struct Address {
        std::string family, address, from;
        int prefix = 0;
    };
    std::vector<Address> addresses;
};
// The NICs as JSON, for apply's and status's --json: [{mac, type, source, addresses: [{family,
// address, prefix, source}]}].
nlohmann::json nics_json(const std::vector<NicAddresses>& nics);

// Reads the addresses of a running domain's NICs once. `source`: lease | agent | arp | any
// (any: each source that can work for the domain, lease and agent first; a source that cannot
// answer is skipped). `why_not` gets one line per source that could not be asked and why.
// Throws Error when libvirt fails otherwise.
std::vector<NicAddresses> read_addresses(Hypervisor& hv, const std::string& vm,
                                         const std::string& live_xml, const std::string& source,
                                         std::vector<std::string>* why_not = nullptr);

struct WaitIpResult {
    std::string host, vm;
    bool ok = false;
    bool interrupted = false;
    std::string error; // why it failed: names the VM, the NIC and the remedy
    std::vector<NicAddresses> nics;
    double seconds = 0;
    int64_t task_id = 0;
};

// wait_for_ip: for every VM of `vms` ("host/name") whose spec in `desired` has wait_for_ip
// and whose domain is running, polls its addresses (backoff 0.5 s to 5 s) until each NIC has
// one of every family the spec asks for, or its timeout passes, or `opts.interrupted`. Fails
// fast when the source cannot work: `agent` on a domain without a guest-agent channel,
// `lease` on a NIC not on a libvirt network with DHCP (`networks`: "host/name" -> whether the
// network serves DHCP, from the desired and observed networks). One task per VM (type
// vm.wait_ip). `progress` gets one line when the wait starts and one per result.
std::vector<WaitIpResult> wait_for_ips(const DesiredState& desired,
                                       const std::vector<std::string>& vms,
                                       const std::map<std::string, bool>& networks,
                                       HostConnector& hosts, Store& store, const ApplyOptions& opts,
                                       const std::function<void(const std::string&)>& progress);

// "host/name" -> whether the libvirt network serves DHCP (an <ip> with <dhcp>), from the
// desired networks, else as observed.
std::map<std::string, bool> dhcp_networks(const DesiredState& desired,
                                          const std::vector<ObservedHost>& observed);

// True for names of secrets (passwd, password, secret; any case): their values are never
// written to tasks, audit entries or output.
bool is_secret_name(const std::string& name);
// The XML with every secret-named attribute's value replaced by "(redacted)".
std::string redact_xml(const std::string& xml);

} // namespace virtumancer
