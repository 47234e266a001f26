// Output of `apply`: lines on a terminal (with elapsed times and colour), plain lines in CI,
// or a stream of JSON events (one object per line).
#pragma once
#include <memory>
#include <ostream>

#include "virtumancer/applier.hpp"

namespace virtumancer::cli {

enum class ApplyOutputMode { Terminal, Plain, Json };

std::unique_ptr<EventSink> make_apply_output(std::ostream& os, ApplyOutputMode mode, int steps);

// One JSON event line ({"type": ..., ...}) for events outside the applier (plan, notices).
std::string json_event_line(const std::string& type, const std::string& key,
                            const std::string& json_value);

} // namespace virtumancer::cli
