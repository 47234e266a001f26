// apply_plan: runs the plan's step graph on worker threads. A step runs when every step it
// depends on completed; a failure skips its transitive dependents; the rest carries on.
#include "virtumancer/applier.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "applier_internal.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"

namespace virtumancer {

using namespace applier_detail;

const char* step_status_name(StepStatus s) {
    switch (s) {
    case StepStatus::Pending:
        return "PENDING";
    case StepStatus::Completed:
        return "COMPLETED";
    case StepStatus::Failed:
        return "FAILED";
    case StepStatus::Skipped:
        return "SKIPPED";
    case StepStatus::Interrupted:
        return "INTERRUPTED";
    case StepStatus::NotRun:
        return "NOT RUN";
    }
    return "?";
}

ObservedHost HostConnector::observe(const std::string& host) {
    ObservedHost oh;
    try {
        Hypervisor& hv = hypervisor(host);
        oh = hv.observe(4);
        oh.uri = hv.uri();
        oh.reachable = true;
    } catch (const std::exception& e) {
        oh.reachable = false;
        oh.error = e.what();
    }
    oh.host = host;
    return oh;
}

void check_step_graph(const Plan& plan) {
    std::map<int, const Step*> by_id;
    for (const auto& s : plan.steps)
        if (!by_id.emplace(s.id, &s).second)
            throw Error("the plan has two steps with id " + std::to_string(s.id),
                        "the plan is malformed; make a new one with virtumancer plan");
    for (const auto& s : plan.steps)
        for (int d : s.deps)
            if (!by_id.count(d))
                throw Error("step " + std::to_string(s.id) + " (" + op_name(s.op()) + " " +
                                s.change + ") depends on step " + std::to_string(d) +
                                ", which the plan "
                                "does not have",
                            "the plan is malformed; make a new one with virtumancer plan");
    // Depth-first search; a back edge is a cycle, reported as the path around it.
    std::map<int, int> color; // 0 new, 1 on the stack, 2 done
    std::vector<int> stack;
    std::function<void(int)> visit = [&](int id) {
        color[id] = 1;
        stack.push_back(id);
        for (int d : by_id[id]->deps) {
            if (color[d] == 1) {
                std::string path;
                auto it = std::find(stack.begin(), stack.end(), d);
                for (; it != stack.end(); ++it)
                    path += std::to_string(*it) + " (" + op_name(by_id[*it]->op()) + ") -> ";
                path += std::to_string(d);
                throw Error("the plan's steps depend on each other in a cycle: " + path +
                                "; nothing was executed",
                            "this is a bug in the planner; please report it with the plan "
                            "(virtumancer plan --json)");
            }
            if (color[d] == 0) visit(d);
        }
        stack.pop_back();
        color[id] = 2;
    };
    for (const auto& s : plan.steps)
        if (color[s.id] == 0) visit(s.id);
}

namespace {

std::string make_run_id() {
    std::random_device rd;
    char buf[48];
    auto now = std::chrono::system_clock::now().time_since_epoch();
    snprintf(buf, sizeof buf, "%llx-%d-%04x",
             static_cast<unsigned long long>(
                 std::chrono::duration_cast<std::chrono::milliseconds>(now).count()),
             static_cast<int>(getpid()), rd() & 0xffff);
    return buf;
}

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

ApplyEvent event_of(const char* type, const Step& s) {
    ApplyEvent e;
    e.type = type;
    e.step = s.id;
    e.op = op_name(s.op());
    e.host = s.host;
    e.kind = s.kind;
    e.name = s.name;
    e.address = s.change;
    return e;
}

class Runner {
  public:
    Runner(const Plan& plan, HostConnector& hosts, Store& store, const ApplyOptions& opts,
           EventSink& sink)
        : plan_(plan), hosts_(hosts), store_(store), opts_(opts), sink_(sink) {
        result_.run_id = opts.run_id.empty() ? make_run_id() : opts.run_id;
        result_.steps.resize(plan.steps.size());
        for (size_t i = 0; i < plan.steps.size(); ++i) {
            index_[plan.steps[i].id] = i;
            result_.steps[i].id = plan.steps[i].id;
        }
        waiting_.resize(plan.steps.size());
        dependents_.resize(plan.steps.size());
        for (size_t i = 0; i < plan.steps.size(); ++i) {
            waiting_[i] = plan.steps[i].deps.size();
            for (int d : plan.steps[i].deps) dependents_[index_[d]].push_back(i);
            if (waiting_[i] == 0) ready_.insert(i);
        }
    }

    ApplyResult run() {
        auto start = std::chrono::steady_clock::now();
        int n = std::max(1, opts_.parallelism);
        std::vector<std::thread> workers;
        for (int i = 0; i < n; ++i) workers.emplace_back([this] { work(); });
        for (auto& w : workers) w.join();
        result_.signal = stopped();
        for (auto& r : result_.steps) {
            if (r.status == StepStatus::Pending && result_.signal) {
                r.status = StepStatus::NotRun;
                r.error =
                    "not started: the apply was interrupted (" + signal_name(result_.signal) + ")";
            }
            if (r.status == StepStatus::Pending) { // unreachable with a DAG; be safe
                r.status = StepStatus::Skipped;
                r.error = "never became ready";
            }
            if (r.status == StepStatus::Completed) ++result_.succeeded;
            if (r.status == StepStatus::Failed) ++result_.failed;
            if (r.status == StepStatus::Skipped) ++result_.skipped;
            if (r.status == StepStatus::Interrupted) ++result_.interrupted;
            if (r.status == StepStatus::NotRun) ++result_.not_run;
        }
        // Interrupted: leave at once; verifying would observe the hosts again.
        if (opts_.desired && result_.succeeded > 0 && !result_.signal) {
            try {
                // Verify against the desired state as it is now: with the image sources this
                // apply recorded (the plan compares them with the spec).
                DesiredState now;
                ApplyOptions vopts = opts_;
                if (!uploaded_.empty()) {
                    now = *opts_.desired;
                    for (const auto& [k, rec] : uploaded_) now.volume_sources[k] = rec;
                    vopts.desired = &now;
                }
                result_.differences = verify(plan_, result_.steps, hosts_, vopts, &vm_status_);
            } catch (const std::exception& e) {
                result_.differences.push_back(
                    std::string("could not verify the result after applying: ") + e.what());
            }
            try { // the status column is information: a failure to write it fails nothing
                store_.record_sync_status(vm_status_);
            } catch (const std::exception& e) {
                spdlog::warn("could not record the VMs' sync status: {}", e.what());
            }
        }
        ApplyEvent sum;
        sum.type = "summary";
        sum.elapsed = since(start);
        sum.succeeded = result_.succeeded;
        sum.failed = result_.failed;
        sum.skipped = result_.skipped;
        for (size_t i = 0; i < plan_.steps.size(); ++i) {
            const Step& st = plan_.steps[i];
            std::string what = std::to_string(st.id) + " " + op_name(st.op()) + " " + st.change;
            const StepResult& r = result_.steps[i];
            if (r.status == StepStatus::Skipped)
                sum.skipped_steps.push_back(what + " (" + r.error + ")");
            if (r.status == StepStatus::Interrupted)
                sum.interrupted_steps.push_back(what + " (" + r.error + ")");
            if (r.status == StepStatus::NotRun) sum.not_run_steps.push_back(what);
        }
        if (result_.signal) sum.interrupted_by = signal_name(result_.signal);
        sum.differences = result_.differences;
        emit(sum);
        return result_;
    }

  private:
    void emit(const ApplyEvent& e) {
        std::lock_guard<std::mutex> lock(sink_mu_);
        sink_.event(e);
    }

    // The signal that interrupted the apply (0: none): no step starts after it.
    int stopped() const { return opts_.interrupted ? opts_.interrupted() : 0; }

    void work() {
        while (true) {
            size_t i;
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [this] { return !ready_.empty() || running_ == 0 || stopped(); });
                if (ready_.empty() || stopped()) {
                    cv_.notify_all();
                    return;
                }
                i = *ready_.begin();
                ready_.erase(ready_.begin());
                ++running_;
            }
            Outcome out = execute(i);
            {
                std::lock_guard<std::mutex> lock(mu_);
                --running_;
                if (out == Outcome::Ok) {
                    for (size_t d : dependents_[i])
                        if (--waiting_[d] == 0 && result_.steps[d].status == StepStatus::Pending)
                            ready_.insert(d);
                } else if (out == Outcome::Failed) {
                    skip_dependents(i);
                } // Interrupted: its dependents stay pending and end up NotRun
            }
            cv_.notify_all();
        }
    }

    // Marks every transitive dependent of step i skipped (called with mu_ held).
    void skip_dependents(size_t i) {
        std::vector<size_t> todo = dependents_[i];
        const Step& failed = plan_.steps[i];
        while (!todo.empty()) {
            size_t d = todo.back();
            todo.pop_back();
            StepResult& r = result_.steps[d];
            if (r.status != StepStatus::Pending) continue;
            r.status = StepStatus::Skipped;
            r.error = "step " + std::to_string(failed.id) + " (" + op_name(failed.op()) + " " +
                      failed.change + ") did not complete";
            ready_.erase(d);
            for (size_t dd : dependents_[d]) todo.push_back(dd);
        }
    }

    enum class Outcome { Ok, Failed, Interrupted };

    Outcome execute(size_t i) {
        const Step& s = plan_.steps[i];
        StepResult& r = result_.steps[i];
        auto start = std::chrono::steady_clock::now();
        std::vector<FieldDiff> diffs = step_diffs(plan_, s);
        nlohmann::json details = task_details(s, diffs);
        {
            std::lock_guard<std::mutex> lock(store_mu_);
            try {
                r.task_id = store_.task_begin(result_.run_id, opts_.actor, op_name(s.op()), s.kind,
                                              s.name, details.dump());
            } catch (const std::exception& e) {
                // Without a task row the action would be unrecorded: do not run it.
                r.status = StepStatus::Failed;
                r.error = std::string("cannot record the task in the database: ") + e.what();
            }
        }
        if (r.status == StepStatus::Failed) {
            ApplyEvent e = event_of("apply_errored", s);
            e.message = r.error;
            emit(e);
            return Outcome::Failed;
        }
        emit(event_of("apply_start", s));
        std::string error, interrupted;
        StepOutput output;
        try {
            Hypervisor& hv = hosts_.hypervisor(s.host);
            run_step(
                s, hv, opts_,
                [&](int pct, const std::string& msg) {
                    {
                        std::lock_guard<std::mutex> lock(store_mu_);
                        try {
                            store_.task_progress(r.task_id, pct);
                        } catch (...) { // safe: progress is informative; the step's outcome is
                        }               // recorded by task_finish after it
                    }
                    ApplyEvent e = event_of("apply_progress", s);
                    e.progress = pct;
                    e.message = msg;
                    e.elapsed = since(start);
                    emit(e);
                },
                &output);
        } catch (const StepInterrupted& e) {
            interrupted = e.what();
        } catch (const Error& e) {
            error = e.what();
            if (!e.remedy().empty()) error += " (hint: " + e.remedy() + ")";
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "unknown error";
        }
        r.seconds = since(start);
        details["seconds"] = r.seconds;
        if (!interrupted.empty()) {
            details["interrupted"] = interrupted;
            {
                std::lock_guard<std::mutex> lock(store_mu_);
                try {
                    store_.task_interrupt(r.task_id, details.dump());
                } catch (const std::exception& e) {
                    spdlog::warn("could not mark task {} INTERRUPTED: {}", r.task_id, e.what());
                }
            }
            ApplyEvent e = event_of("apply_interrupted", s);
            e.elapsed = r.seconds;
            e.message = interrupted;
            r.error = interrupted;
            r.status = StepStatus::Interrupted;
            emit(e);
            return Outcome::Interrupted;
        }
        if (error.empty())
            details["result"] = "ok";
        else
            details["error"] = error;
        {
            std::lock_guard<std::mutex> lock(store_mu_);
            try {
                if (error.empty()) record_volume_source(s, output);
                store_.task_finish(r.task_id, error.empty(), details.dump());
                if (error.empty())
                    store_.audit(opts_.actor, op_name(s.op()), s.kind, s.name,
                                 audit_details(s, diffs, result_.run_id).dump());
            } catch (const std::exception& e) {
                if (error.empty())
                    error =
                        std::string("the action succeeded but recording it failed: ") + e.what();
            }
        }
        ApplyEvent e = event_of(error.empty() ? "apply_complete" : "apply_errored", s);
        e.elapsed = r.seconds;
        e.message = error;
        r.error = error;
        r.status = error.empty() ? StepStatus::Completed : StepStatus::Failed;
        emit(e);
        return error.empty() ? Outcome::Ok : Outcome::Failed;
    }

    const Plan& plan_;
    HostConnector& hosts_;
    Store& store_;
    const ApplyOptions& opts_;
    EventSink& sink_;
    ApplyResult result_;
    std::vector<Store::SyncStatus> vm_status_; // from the post-apply verification
    std::map<int, size_t> index_;
    std::vector<size_t> waiting_;
    std::vector<std::vector<size_t>> dependents_;
    std::set<size_t> ready_;
    int running_ = 0;
    std::mutex mu_, store_mu_, sink_mu_;
    // Image sources recorded by this apply (volume_source_key -> record), for verify().
    std::map<std::string, VolumeSourceRecord> uploaded_;

    // After a volume step succeeded (store_mu_ held): what was uploaded into a new volume is
    // recorded, a deleted volume's record is forgotten.
    void record_volume_source(const Step& s, const StepOutput& output) {
        if (const auto* c = std::get_if<VolumeCreate>(&s.payload); c && !c->source.empty()) {
            VolumeSourceRecord rec{c->source, c->checksum, output.uploaded_digest};
            store_.record_volume_source(s.host, c->pool, c->volume, rec);
            uploaded_[volume_source_key(s.host, c->pool, c->volume)] = rec;
        } else if (const auto* d = std::get_if<VolumeDelete>(&s.payload)) {
            store_.forget_volume_source(s.host, d->pool, d->volume);
        }
    }
    std::condition_variable cv_;
};

} // namespace

ApplyResult apply_plan(const Plan& plan, HostConnector& hosts, Store& store,
                       const ApplyOptions& opts, EventSink& sink) {
    check_step_graph(plan);
    if (!plan.blocked.empty()) {
        std::string what;
        for (const auto& bl : plan.blocked) what += (what.empty() ? "" : ", ") + bl.address();
        throw Error("the plan has " + std::to_string(plan.blocked.size()) + " blocked change(s) (" +
                        what + "); nothing was executed",
                    "resolve each as the plan says, then plan and apply again");
    }
    Runner r(plan, hosts, store, opts, sink);
    return r.run();
}

} // namespace virtumancer
