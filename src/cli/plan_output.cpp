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
        return "must be replaced";
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
       << n[Action::Replace] << " to replace, " << n[Action::Delete] << " to delete.";
    return os.str();
}

void print_plan(std::ostream& os, const Plan& p, bool color) {
    const char* reset = color ? "\033[0m" : "";
    const char* dim = color ? "\033[2m" : "";
    for (const auto& e : p.errors)
        os << severity_name(e.severity) << ": " << e.file << ": " << e.message << "\n";
    if (p.changes.empty()) {
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
    if (!p.unmanaged.empty()) {
        os << "Unmanaged objects (not changed, listed for information):\n";
        for (const auto& u : p.unmanaged) os << "  " << u << "\n";
    }
    os << plan_summary(p) << "\n";
}

} // namespace virtumancer::cli
