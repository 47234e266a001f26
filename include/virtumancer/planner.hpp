// The planner: desired state vs observed libvirt state -> an ordered, classified plan.
// A pure function: no I/O, no clock. Table-tested in tests/unit/planner_test.cpp.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "virtumancer/descriptors.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/model.hpp"
#include "virtumancer/plan_step.hpp"

namespace virtumancer {

enum class Action { NoOp, Create, Update, Replace, Delete };
const char* action_symbol(Action a); // "+", "~", "~!" (redefine in place), "-"
const char* action_name(Action a);   // "create", "update", "replace", "delete", "no-op"

struct FieldDiff {
    std::string field;  // "memory", "disk[vdb].cache", "interface[52:54:00:..].model"
    std::string before; // observed ("" when absent)
    std::string after;  // desired ("" when removed)
    ChangeClass cls = ChangeClass::NextBoot;
};

// One object's change, for people (plan output, drift report).
struct ResourceChange {
    std::string host, kind, name; // kind: vm | pool | volume | network | snapshot
    Action action = Action::NoOp;
    ChangeClass cls = ChangeClass::Live; // the most disruptive class among its diffs
    std::vector<FieldDiff> diffs;
    std::string note; // e.g. "VM keeps running the old config until restarted (pending)"
    std::string address() const { return host + "/" + kind + "/" + name; }
};

// A running VM that differs from its spec where its persistent config does not (the config
// already holds the spec's value, or gets it from this plan's vm.define): the difference takes
// effect only when the VM is next started (docs/pending.md). A shut-off VM has nothing pending.
struct PendingChange {
    std::string host, kind, name; // kind: vm
    // Pending now: the config matches the spec, the running VM does not (before: the running
    // VM's value, after: the spec's; a whole device: "(present)" / "(added)" as in FieldDiff).
    std::vector<FieldDiff> diffs;
    // Planned now (vm.define) but not applied to the running VM: pending after this apply.
    std::vector<FieldDiff> after_apply;
    std::string effect; // what makes it take effect
    std::string address() const { return host + "/" + kind + "/" + name; }
};

// A change the planner refuses to plan: a deletion of an object something on the host still
// uses after the plan's own steps, or a change no step can make without losing data (a volume
// shrink or format change, a pool path change, a snapshot libvirt refuses, two Host specs for
// one libvirt). Each is also an Error in Plan::errors; apply refuses a plan that has any,
// before executing any of its steps (docs/safety.md).
struct Blocked {
    std::string host, kind, name;   // the object
    std::string op;                 // the step it would have been (volume.delete, ...) or ""
    std::string reason;             // what is refused, why, and the remedy
    std::vector<std::string> users; // a deletion's users: "domain web (disk vdb)", ...
    std::vector<FieldDiff> diffs;   // the refused field changes
    std::string file;               // the spec asking for it (or the object) and its line
    int line = 0;
    std::string address() const { return host + "/" + kind + "/" + name; }
};

// What a plan was made with that changes what apply may do; recorded in a saved plan so that
// `apply --plan` verifies with the options the plan was made with.
struct PlanScope {
    bool prune = false;               // deletions of objects whose spec was removed
    std::vector<std::string> targets; // "kind/name" (empty: everything)
    bool restart_pending = false;     // restarts of running VMs with pending changes
};

// The saved plan format this virtumancer writes and reads (plan_from_json refuses others).
constexpr int kPlanFormatVersion = 3; // 3: volume.create with an image source

struct Plan {
    int format_version = kPlanFormatVersion;
    PlanScope options;                               // the options it was made with
    std::vector<ResourceChange> changes;             // actionable changes, in plan order
    std::vector<Step> steps;                         // topologically ordered
    std::vector<Blocked> blocked;                    // refused changes (apply refuses the plan)
    std::vector<std::string> unmanaged;              // "host/kind/name" present without our marker
    std::vector<Diagnostic> errors;                  // e.g. an unreachable host (its objects only)
    std::map<std::string, std::string> fingerprints; // observed object -> hash it was seen with
    long long revision_id = 0;                       // load revision the desired state came from
    // plan --speculative: made from spec paths that were not loaded into the database (its
    // revision_id is the database's latest load, which does not hold them); apply refuses it.
    bool speculative = false;
    std::vector<PendingChange> pending;            // running VMs that differ from their config
    bool empty() const { return changes.empty(); } // nothing to apply
    // Nothing to apply and no running VM differs from its spec ("The hosts match the specs").
    bool settled() const {
        for (const auto& p : pending)
            if (!p.diffs.empty()) return false;
        return changes.empty() && blocked.empty();
    }
};

// The planner's invariant: every Update/Replace change has a step or is blocked. Returns the
// addresses of the changes that break it (empty: the plan is sound). Tests check it.
std::vector<std::string> changes_without_steps(const Plan& p);

struct PlanOptions {
    bool prune = false;                      // delete managed objects whose spec was removed
    std::vector<std::string> targets;        // "kind/name" (empty: everything)
    std::vector<std::string> pending_delete; // "host/kind/name" removed from the specs
    std::string revision;                    // stamped into the ownership marker
    // Restart running VMs to apply their pending changes (apply --restart-pending), as
    // restart_policy: allowed does; limited by `targets` like everything else.
    bool restart_pending = false;
};

// Records on each step the fields of its change's diffs it carries out (Step::fields, what
// its task and audit entry show): a power step the state, an autostart step the autostart, a
// device step its device's fields, ...; all of them for a step serving the change as a whole
// (an undefine, the shutdown of a restart). make_plan calls it; for plans made otherwise.
void assign_step_fields(Plan& p);

// The name of an object in plan addresses, `--target KIND/NAME` and drift reports: a volume
// is named pool/volume, a snapshot vm/snapshot.
std::string volume_address_name(const Spec& volume);
std::string snapshot_address_name(const SnapshotSpec& snapshot);

// Desired domain XML for a VM spec (what `render` prints and apply defines).
std::string desired_domain_xml(const Spec& vm, const std::string& revision);

Plan make_plan(const DesiredState& desired, const std::vector<ObservedHost>& observed,
               const PlanOptions& opts);

// Hash of every observed object of the reachable hosts ("host/kind/name" -> hash), as
// recorded in Plan::fingerprints; `apply --plan` recomputes it to refuse a stale plan.
std::map<std::string, std::string> fingerprints(const std::vector<ObservedHost>& observed);

// Drift: every difference between managed objects and their specs (same comparison as the
// planner, reported as found rather than as actions).
// pending: the config matches the spec, the running VM does not (see DriftItem::pending).
// error: libvirt returned XML virtumancer cannot parse (see DriftItem::error).
enum class DriftStatus {
    InSync,
    Drifted,
    Pending,
    Missing,
    Unmanaged,
    Unreachable,
    Conflict,
    Orphaned,
    Error,
};
// "in_sync", "drifted", "pending", "missing", "unmanaged", "unreachable", "conflict",
// "orphaned", "error": the words of drift's output and JSON.
const char* drift_status_name(DriftStatus s);

struct DriftItem {
    std::string host, kind, name;
    DriftStatus status = DriftStatus::InSync;
    std::vector<FieldDiff> diffs;
    // The running VM's differences from the spec where its config matches (before: the
    // running value). Reported with status pending, or alongside diffs when drifted.
    std::vector<FieldDiff> pending = {};
    std::string error = {}; // status error: what failed, where, and the remedy
};
std::vector<DriftItem> detect_drift(const DesiredState& desired,
                                    const std::vector<ObservedHost>& observed);

// Plan <-> JSON (stable, versioned; the --out file and --json output).
std::string plan_to_json(const Plan& p);
Plan plan_from_json(const std::string& text);

} // namespace virtumancer
