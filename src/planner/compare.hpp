// Field-level comparison of a desired object with an observed one (planner-internal).
#pragma once
#include <string>
#include <vector>

#include "virtumancer/model.hpp"
#include "virtumancer/planner.hpp"

namespace virtumancer::planner {

// Values equal under the field's type (integers and sizes by value, machine aliases, ...).
bool field_equal(const FieldDesc& f, const std::string& desired, const std::string& observed);

// The observed value a field is compared against, with libvirt's implied values filled in
// (current_memory defaults to memory, vcpus_current to vcpus).
std::string observed_value(const Object& desired, const Object& observed, const FieldDesc& f);

// Does every attribute and element of `want` (a residue) appear in `have`?
bool residue_contained(const std::string& want, const std::string& have, std::string* why);

// One device matched across desired and observed (either side may be missing).
struct DevicePair {
    const Object* desired = nullptr;
    const Object* observed = nullptr;
    std::string label; // "disk[vdb]", "interface[52:54:00:..]", "video[0]"
};
std::vector<DevicePair> match_devices(const Object& desired, const Object& observed);

// Kinds whose observed extras libvirt adds by itself (not a change when the spec has fewer).
bool libvirt_adds_kind(const KindDesc& k);

// Diffs of fields the desired object sets (explicitly or through documented defaults).
void diff_fields(const Object& desired, const Object& observed, const std::string& prefix,
                 std::vector<FieldDiff>* out);

// Full comparison of a VM: domain fields, residue, devices.
std::vector<FieldDiff> diff_domain(const Object& desired, const Object& observed);

} // namespace virtumancer::planner
