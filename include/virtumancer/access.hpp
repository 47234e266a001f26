// Access control, the pure part: the permissions (generated from the plan's step vocabulary,
// `Op`, plus spec.load, db.admin and rbac.admin), the built-in roles, and the decision
// "may an actor holding these permissions run these plan steps". No I/O: the users and roles
// are read by the store (access_store.hpp), the commands wire both (docs/access-control.md).
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "virtumancer/plan_step.hpp"
#include "virtumancer/planner.hpp"

namespace virtumancer::access {

// Permissions that are not plan steps.
inline constexpr const char* kSpecLoad = "spec.load";   // change the desired state (load)
inline constexpr const char* kDbAdmin = "db.admin";     // db migrate, db copy
inline constexpr const char* kRbacAdmin = "rbac.admin"; // users and roles

struct Permission {
    std::string name;        // "vm.start"
    std::string description; // "start VMs (steps vm.start, vm.resume)"
};

// Every permission, sorted by name: one per (object kind, verb) a plan step can need, found by
// asking step_permission() about every Op in every context, plus the three above. Written once:
// a new Op gets its permission from step_permission()'s switch (the compiler checks it covers
// every Op).
const std::vector<Permission>& all_permissions();
bool is_permission(const std::string& name);

// The permission one step of `op` needs, given the action of the change it carries out
// (a step of a Delete change needs KIND.delete) and whether the plan stops and starts the same
// VM in that change (a restart: vm.restart).
std::string step_permission(Op op, Action change_action, bool restart);

// The built-in roles: admin (every permission), operator (start, stop, restart, update,
// snapshots, load; no create or delete, no rbac/db administration), viewer (nothing: the
// read-only commands need no permission). nullopt for any other name.
std::optional<std::set<std::string>> builtin_role(const std::string& role);
const std::vector<std::string>& builtin_role_names(); // admin, operator, viewer

struct StepDecision {
    int step = 0;           // Step::id
    std::string permission; // what the step needs
    bool allowed = false;
};

// The decision for each step of `plan` (in step order) for an actor holding `perms`.
std::vector<StepDecision> decide(const std::set<std::string>& perms, const Plan& plan);
// The permission each step of the plan needs (decide() without an actor).
std::vector<StepDecision> step_permissions(const Plan& plan);

} // namespace virtumancer::access
