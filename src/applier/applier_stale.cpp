// Is a saved plan still what it was computed from? Compares the fingerprints it recorded
// with those of the hosts now, object by object, and the load revision.
#include <set>

#include "virtumancer/applier.hpp"

namespace virtumancer {

std::vector<std::string> plan_hosts(const Plan& plan) {
    std::set<std::string> hosts;
    for (const auto& s : plan.steps) hosts.insert(s.host);
    for (const auto& c : plan.changes) hosts.insert(c.host);
    for (const auto& [addr, fp] : plan.fingerprints) hosts.insert(addr.substr(0, addr.find('/')));
    hosts.erase("");
    return {hosts.begin(), hosts.end()};
}

std::vector<std::string> stale_reasons(const Plan& plan, const std::vector<ObservedHost>& now,
                                       long long latest_revision_id) {
    std::vector<std::string> out;
    if (latest_revision_id != plan.revision_id)
        out.push_back("the specs were loaded again (load revision " +
                      std::to_string(latest_revision_id) + ", the plan was made from revision " +
                      std::to_string(plan.revision_id) + ")");
    std::set<std::string> observed_hosts;
    for (const auto& h : now) {
        if (!h.reachable)
            out.push_back("host " + h.host + " is unreachable now (" + h.error +
                          "), so its objects cannot be checked");
        else
            observed_hosts.insert(h.host);
    }
    auto host_of = [](const std::string& addr) { return addr.substr(0, addr.find('/')); };
    std::map<std::string, std::string> current = fingerprints(now);
    for (const auto& [addr, fp] : plan.fingerprints) {
        if (!observed_hosts.count(host_of(addr))) continue;
        auto it = current.find(addr);
        if (it == current.end())
            out.push_back(addr + " disappeared since the plan was made");
        else if (it->second != fp)
            out.push_back(addr + " changed since the plan was made");
    }
    std::set<std::string> planned_hosts;
    for (const auto& [addr, fp] : plan.fingerprints) planned_hosts.insert(host_of(addr));
    for (const auto& [addr, fp] : current) {
        if (plan.fingerprints.count(addr)) continue;
        // A host the plan observed nothing on (unreachable then) counts as changed as a whole.
        if (!planned_hosts.count(host_of(addr))) {
            out.push_back("host " + host_of(addr) +
                          " was not observed when the plan was made (unreachable then)");
            planned_hosts.insert(host_of(addr));
            continue;
        }
        out.push_back(addr + " appeared since the plan was made");
    }
    return out;
}

} // namespace virtumancer
