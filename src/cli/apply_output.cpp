#include "apply_output.hpp"
#include "pipeline.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace virtumancer::cli {
namespace {

using nlohmann::json;

std::string seconds(double s) {
    char buf[32];
    if (s < 60)
        snprintf(buf, sizeof buf, "%.1fs", s);
    else
        snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    return buf;
}

std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
    return out;
}

class LineOutput : public EventSink {
  public:
    // Colour follows the same rule as plan output (a terminal, NO_COLOR unset).
    LineOutput(std::ostream& os, bool tty, int steps)
        : os_(os), tty_(tty), color_(tty && use_color()), steps_(steps) {}
    void event(const ApplyEvent& e) override {
        const char* green = color_ ? "\033[32m" : "";
        const char* red = color_ ? "\033[31m" : "";
        const char* dim = color_ ? "\033[2m" : "";
        const char* reset = color_ ? "\033[0m" : "";
        std::string what = e.op + " " + e.address;
        if (e.type == "apply_start") {
            ++started_;
            os_ << dim << "[" << started_ << "/" << steps_ << "]" << reset << " " << what
                << ": starting" << std::endl;
        } else if (e.type == "apply_progress") {
            // Long actions: a line per 10% on a terminal, per 25% otherwise.
            int step = tty_ ? 10 : 25;
            int& last = progress_[e.step];
            if (e.progress / step == last / step && last != 0) return;
            last = std::max(e.progress, 1);
            os_ << "      " << what << ": " << e.progress << "% " << dim << e.message << reset
                << std::endl;
        } else if (e.type == "apply_complete") {
            os_ << green << "      done" << reset << " " << what << " after " << seconds(e.elapsed)
                << std::endl;
        } else if (e.type == "apply_errored") {
            os_ << red << "    FAILED" << reset << " " << what << " after " << seconds(e.elapsed)
                << ": " << e.message << std::endl;
        } else if (e.type == "apply_interrupted") {
            os_ << red << "  STOPPED" << reset << " " << what << " after " << seconds(e.elapsed)
                << ": " << e.message << std::endl;
        } else if (e.type == "summary") {
            os_ << "\n";
            for (const auto& s : e.skipped_steps) os_ << "skipped: " << s << "\n";
            for (const auto& s : e.interrupted_steps) os_ << "interrupted: " << s << "\n";
            for (const auto& s : e.not_run_steps) os_ << "not run: " << s << "\n";
            if (!e.interrupted_by.empty()) {
                os_ << red << "Apply interrupted by " << e.interrupted_by << " after "
                    << seconds(e.elapsed) << reset << ": " << e.succeeded << " succeeded, "
                    << e.failed << " failed, " << e.skipped << " skipped, "
                    << e.interrupted_steps.size() << " interrupted, " << e.not_run_steps.size()
                    << " not run." << std::endl;
                return;
            }
            for (const auto& d : e.differences) os_ << red << "error: " << reset << d << "\n";
            os_ << (e.failed || e.skipped || !e.differences.empty() ? red : green)
                << "Apply finished in " << seconds(e.elapsed) << ": " << e.succeeded
                << " succeeded, " << e.failed << " failed, " << e.skipped << " skipped" << reset;
            if (!e.differences.empty())
                os_ << ", " << e.differences.size() << " difference(s) after applying";
            os_ << "." << std::endl;
        }
    }

  private:
    std::ostream& os_;
    bool tty_;
    bool color_;
    int steps_, started_ = 0;
    std::map<int, int> progress_;
};

class JsonOutput : public EventSink {
  public:
    explicit JsonOutput(std::ostream& os) : os_(os) {}
    void event(const ApplyEvent& e) override {
        json j = {{"type", e.type}, {"time", utc_now()}};
        if (e.type == "summary") {
            j["succeeded"] = e.succeeded;
            j["failed"] = e.failed;
            j["skipped"] = e.skipped;
            j["skipped_steps"] = e.skipped_steps;
            j["differences"] = e.differences;
            j["elapsed"] = e.elapsed;
            if (!e.interrupted_by.empty()) {
                j["interrupted_by"] = e.interrupted_by;
                j["interrupted_steps"] = e.interrupted_steps;
                j["not_run_steps"] = e.not_run_steps;
            }
        } else {
            j["step"] = e.step;
            j["op"] = e.op;
            j["host"] = e.host;
            j["kind"] = e.kind;
            j["name"] = e.name;
            j["address"] = e.address;
            if (e.type != "apply_start") j["elapsed"] = e.elapsed;
            if (e.type == "apply_progress") j["progress"] = e.progress;
            if (!e.message.empty()) j["message"] = e.message;
        }
        os_ << j.dump() << std::endl;
    }

  private:
    std::ostream& os_;
};

} // namespace

std::unique_ptr<EventSink> make_apply_output(std::ostream& os, ApplyOutputMode mode, int steps) {
    if (mode == ApplyOutputMode::Json) return std::make_unique<JsonOutput>(os);
    return std::make_unique<LineOutput>(os, mode == ApplyOutputMode::Terminal, steps);
}

std::string json_event_line(const std::string& type, const std::string& key,
                            const std::string& json_value) {
    json j = {{"type", type}, {"time", utc_now()}};
    if (!key.empty()) j[key] = json::parse(json_value);
    return j.dump();
}

} // namespace virtumancer::cli
