#include "plan_output.hpp"

#include <map>
#include <sstream>

#include "virtumancer/parse_int.hpp"

namespace virtumancer::cli {
namespace {

const char* color_of(Action a) {
    switch (a) {
    case Action::Create:
        return "\033[32m";
    case Action::Update:
        return "\033[33m";
    case Action::Replace:
        return "\033[35m";
    case Action::Delete:
        return "\033[31m";
    default:
        return "";
    }
}

std::string verb(Action a) {
    switch (a) {
    case Action::Create:
        return "will be created";
    case Action::Update:
        return "will be updated";
    case Action::Replace:
        // Replace-class changes are a redefine of the same object (same UUID, same disks)
        // that takes effect at its next boot: nothing is destroyed (docs/safety.md).
        return "will be redefined in place (nothing is destroyed)";
    case Action::Delete:
        return "will be deleted";
    default:
        return "is unchanged";
    }
}

} // namespace

std::string display_value(const std::string& field, const std::string& value) {
    static const char* sizes[] = {"memory", "current_memory", "max_memory", "capacity",
                                  "allocation"};
    for (const char* s : sizes) {
        if (field != s || value.empty()) continue;
        auto parsed = parse_int<unsigned long long>(value);
        if (!parsed) continue;
        unsigned long long b = *parsed;
        const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (u < 4 && b >= 1024 && b % 1024 == 0) {
            b /= 1024;
            ++u;
        }
        return std::to_string(b) + " " + units[u];
    }
    if (value.size() > 60) return value.substr(0, 57) + "...";
    return value;
}

std::string plan_summary(const Plan& p) {
    std::map<Action, int> n;
    for (const auto& c : p.changes) n[c.action]++;
    std::ostringstream os;
    os << "Plan: " << n[Action::Create] << " to create, " << n[Action::Update] << " to update, "
       << n[Action::Replace] << " to redefine, " << n[Action::Delete] << " to delete";
    if (!p.blocked.empty()) os << ", " << p.blocked.size() << " BLOCKED (apply refuses the plan)";
    os << ".";
    int vms = 0, nets = 0;
    for (const auto& c : p.pending)
        if (!c.diffs.empty()) ++(c.kind == "network" ? nets : vms);
    if (vms) os << " " << vms << " running VM" << (vms == 1 ? "" : "s") << " with pending changes.";
    if (nets)
        os << " " << nets << " active network" << (nets == 1 ? "" : "s")
           << " with pending changes.";
    return os.str();
}

namespace {

void print_pending_diff(std::ostream& os, const FieldDiff& d, const char* dim, const char* reset) {
    os << "      ~ " << d.field << ": ";
    if (d.after == "(added)")
        os << "(absent in the running VM) -> (added)";
    else if (d.before == "(present)")
        os << "(present in the running VM) -> (removed)";
    else
        os << (d.before.empty() ? "(absent)" : display_value(d.field, d.before)) << " (running) -> "
           << (d.after.empty() ? "(absent)" : display_value(d.field, d.after));
    os << "  " << dim << "[" << change_class_name(d.cls) << "]" << reset << "\n";
}

// Running VMs that differ from their spec where their config does not (or will not after
// this plan): field, the running value, the desired value, and what makes it take effect.
void print_pending(std::ostream& os, const Plan& p, bool color) {
    const char* reset = color ? "\033[0m" : "";
    const char* dim = color ? "\033[2m" : "";
    const char* col = color ? "\033[36m" : "";
    bool header = false;
    for (const auto& c : p.pending) {
        if (!header) {
            os << "Pending changes (the config has them, the running VM or network does "
                  "not):\n\n";
            header = true;
        }
        os << "  # " << c.address() << " is pending\n";
        os << "  " << col << "~" << reset << " " << c.kind << " \"" << c.name << "\" on " << c.host
           << "\n";
        for (const auto& d : c.diffs) print_pending_diff(os, d, dim, reset);
        if (!c.after_apply.empty()) {
            os << "      " << dim
               << "after this apply (planned above, in the config only):" << reset << "\n";
            for (const auto& d : c.after_apply) print_pending_diff(os, d, dim, reset);
        }
        os << "      " << dim << "takes effect: " << c.effect << reset << "\n\n";
    }
}

} // namespace

void print_plan(std::ostream& os, const Plan& p, bool color) {
    const char* reset = color ? "\033[0m" : "";
    const char* dim = color ? "\033[2m" : "";
    for (const auto& e : p.errors) {
        // A blocked change's error is printed with it, below (its users and field changes).
        bool shown_below = false;
        for (const auto& bl : p.blocked) shown_below |= e.message.rfind(bl.reason, 0) == 0;
        if (shown_below) continue;
        os << severity_name(e.severity) << ": " << e.file
           << (e.line > 0 ? ":" + std::to_string(e.line) : std::string()) << ": " << e.message
           << "\n";
    }
    if (p.changes.empty() && !p.blocked.empty()) {
        os << "No change can be applied: every change below is BLOCKED.\n";
    } else if (p.settled()) {
        os << "No changes. The hosts match the specs.\n";
    } else if (p.changes.empty()) {
        os << "No changes to apply, but running VMs or networks differ from their specs until they "
              "restart.\n\n";
    } else {
        os << "virtumancer will perform the following actions:\n\n";
        for (const auto& c : p.changes) {
            const char* col = color ? color_of(c.action) : "";
            os << "  # " << c.address() << " " << verb(c.action) << " (" << change_class_name(c.cls)
               << ")\n";
            os << "  " << col << action_symbol(c.action) << reset << " " << c.kind << " \""
               << c.name << "\" on " << c.host << "\n";
            for (const auto& d : c.diffs) {
                std::string sym = d.before.empty() ? "+" : (d.after.empty() ? "-" : "~");
                os << "      " << sym << " " << d.field << ": ";
                if (d.before.empty())
                    os << display_value(d.field, d.after);
                else if (d.after.empty())
                    os << display_value(d.field, d.before) << " -> (removed)";
                else
                    os << display_value(d.field, d.before) << " -> "
                       << display_value(d.field, d.after);
                if (c.action == Action::Create || c.action == Action::Delete)
                    os << "\n";
                else
                    os << "  " << dim << "[" << change_class_name(d.cls) << "]" << reset << "\n";
            }
            if (!c.note.empty()) os << "      " << dim << "note: " << c.note << reset << "\n";
            os << "\n";
        }
    }
    print_pending(os, p, color);
    if (!p.blocked.empty()) {
        const char* red = color ? "\033[31;1m" : "";
        os << "\n"
           << red << "BLOCKED" << reset
           << " (apply refuses this whole plan until each is resolved):\n\n";
        for (const auto& bl : p.blocked) {
            os << "  # " << bl.address() << " BLOCKED";
            if (!bl.op.empty()) os << " (" << bl.op << ")";
            if (!bl.file.empty()) os << " at " << bl.file << ":" << bl.line;
            os << "\n  " << red << "!" << reset << " " << bl.kind << " \"" << bl.name << "\" on "
               << bl.host << "\n";
            for (const auto& u : bl.users) os << "      used by " << u << "\n";
            for (const auto& d : bl.diffs)
                os << "      ~ " << d.field << ": " << display_value(d.field, d.before) << " -> "
                   << display_value(d.field, d.after) << "\n";
            os << "      error: " << bl.reason << "\n\n";
        }
    }
    if (!p.unmanaged.empty()) {
        os << "Unmanaged objects (not changed, listed for information):\n";
        for (const auto& u : p.unmanaged) os << "  " << u << "\n";
    }
    os << plan_summary(p) << "\n";
}

} // namespace virtumancer::cli
