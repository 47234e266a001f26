#include "plan_output.hpp"

#include <map>
#include <sstream>

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
        try {
            unsigned long long b = std::stoull(value);
            const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
            int u = 0;
            while (u < 4 && b >= 1024 && b % 1024 == 0) {
                b /= 1024;
                ++u;
            }
            return std::to_string(b) + " " + units[u];
        } catch (...) {
        }
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
    return os.str();
}

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
    } else if (p.changes.empty()) {
        os << "No changes. The hosts match the specs.\n";
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
