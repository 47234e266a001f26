// Private to src/applier: executing one step, task/audit details, verification.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "virtumancer/applier.hpp"

namespace virtumancer::applier_detail {

// Reports progress (0-100) and what the step waits for; may be called many times.
using Progress = std::function<void(int percent, const std::string& message)>;

// Thrown by a step that stopped waiting because the apply was interrupted (ApplyOptions::
// interrupted); the message says how far it got and what may still happen.
struct StepInterrupted : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a step did that the applier records besides its task (a volume filled from an image).
struct StepOutput {
    std::string uploaded_digest; // VolumeCreate with a source: "ALGO:HEX" of what was uploaded
};

// Executes one step against its host. Throws (Error with libvirt's message) on failure.
void run_step(const Step& s, Hypervisor& hv, const ApplyOptions& opts, const Progress& progress,
              StepOutput* out = nullptr);

// A volume filled from an image (VolumeCreate with a source): fetch, format check, create at
// the image's size, upload hashed, verify the checksum, grow to capacity. Any failure after
// the volume was created deletes it. Returns the uploaded digest.
std::string create_volume_from_image(const Step& s, const VolumeCreate& a, Hypervisor& hv,
                                     const ApplyOptions& opts, const Progress& progress);

// Sets passwd on the graphics elements `passwords` name (by index among the XML's <graphics>
// elements), reading the file or the environment now. Returns the XML unchanged when there
// are none. `s`: the step, for messages.
std::string inject_graphics_passwords(const std::string& xml,
                                      const std::vector<GraphicsPassword>& passwords,
                                      const Step& s);

// The diffs of `plan` that the step carries out (its change's diffs of Step::fields).
std::vector<FieldDiff> step_diffs(const Plan& plan, const Step& s);

// JSON for a task row (before the call) and an audit entry; secrets redacted.
nlohmann::json task_details(const Step& s, const std::vector<FieldDiff>& diffs);
nlohmann::json audit_details(const Step& s, const std::vector<FieldDiff>& diffs,
                             const std::string& run_id);

// Post-apply verification (see ApplyOptions::desired). `vm_status` gets, for every VM the plan
// created or changed: Error when one of its steps did not complete, Drifted when the re-plan
// still finds a change, PendingRestart when only the running VM differs, InSync otherwise.
std::vector<std::string> verify(const Plan& plan, const std::vector<StepResult>& results,
                                HostConnector& hosts, const ApplyOptions& opts,
                                std::vector<Store::SyncStatus>* vm_status);

} // namespace virtumancer::applier_detail
