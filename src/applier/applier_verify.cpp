// After applying: observe the hosts again and plan with the same desired state. Whatever is
// still to change on an object whose steps all succeeded is a result libvirt produced
// differently than planned (it normalised a value, ignored a setting, ...).
#include <map>
#include <set>
#include <thread>

#include "applier_internal.hpp"

namespace virtumancer::applier_detail {

std::vector<std::string> verify(const Plan& plan, const std::vector<StepResult>& results,
                                HostConnector& hosts, const ApplyOptions& opts,
                                std::vector<Store::SyncStatus>* vm_status) {
    // Objects whose every step completed.
    std::map<std::string, bool> clean;
    std::set<std::string> touched_hosts;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        const Step& s = plan.steps[i];
        bool ok = results[i].status == StepStatus::Completed;
        auto it = clean.find(s.change);
        clean[s.change] = (it == clean.end() ? true : it->second) && ok;
        if (ok) touched_hosts.insert(s.host);
    }
    std::vector<std::string> host_list(touched_hosts.begin(), touched_hosts.end());
    std::vector<ObservedHost> observed(host_list.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < host_list.size(); ++i)
        threads.emplace_back([&, i] { observed[i] = hosts.observe(host_list[i]); });
    for (auto& t : threads) t.join();

    std::vector<std::string> out;
    for (const auto& oh : observed)
        if (!oh.reachable)
            out.push_back("could not observe host " + oh.host + " after applying: " + oh.error);
    Plan again = make_plan(*opts.desired, observed, opts.plan_options);
    if (vm_status) {
        std::set<std::string> remaining, pending;
        for (const auto& c : again.changes) remaining.insert(c.address());
        for (const auto& c : again.pending)
            if (!c.diffs.empty()) pending.insert(c.address());
        for (const auto& c : plan.changes) {
            if (c.kind != "vm" || c.action == Action::Delete) continue;
            auto it = clean.find(c.address());
            bool ok = it != clean.end() && it->second;
            vm_status->push_back({c.host, c.name,
                                  !ok                                ? VmSyncStatus::Error
                                  : remaining.count(c.address()) > 0 ? VmSyncStatus::Drifted
                                  : pending.count(c.address()) > 0   ? VmSyncStatus::PendingRestart
                                                                     : VmSyncStatus::InSync});
        }
    }
    for (const auto& c : again.changes) {
        auto it = clean.find(c.address());
        if (it == clean.end() || !it->second) continue;
        if (c.diffs.empty())
            out.push_back("libvirt produced a different result than planned: " + c.address() +
                          ": still to " + action_name(c.action));
        for (const auto& d : c.diffs) {
            bool secret = is_secret_name(d.field);
            out.push_back("libvirt produced a different result than planned: " + c.address() + " " +
                          d.field + ": planned " +
                          (secret            ? "(redacted)"
                           : d.after.empty() ? "(absent)"
                                             : d.after) +
                          ", actual " +
                          (secret             ? "(redacted)"
                           : d.before.empty() ? "(absent)"
                                              : d.before));
        }
    }
    return out;
}

} // namespace virtumancer::applier_detail
