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

// One comparison per kind below, shared by make_plan and detect_drift: what plan changes
// and what drift reports are the same diffs.

// A pool: the typed fields and residue the spec sets, `active` (always wanted) and
// `autostart` (spec default true).
std::vector<FieldDiff> diff_pool(const Object& desired, const ObservedPool& observed);

// A volume. `desired` is the volume as it would be created (backing_path and backing_format
// filled in from backing_volume). capacity (a grow is live, a shrink is classed replace),
// format, the backing file and its format (also when the spec has none and the volume has one),
// the other typed fields and the residue. allocation is compared only at creation.
std::vector<FieldDiff> diff_volume(const Object& desired, const Object& observed);

// A change libvirt makes to a defined network in place (virNetworkUpdate), live and in its
// config: DHCP ranges and hosts.
struct NetworkUpdate {
    std::string section;  // ip-dhcp-range | ip-dhcp-host
    std::string command;  // add-last | delete | modify
    int parent_index = 0; // index of the <ip> element among the network's <ip> elements
    std::string xml;      // the <range>/<host> element
};

struct NetworkComparison {
    std::vector<FieldDiff> diffs;
    std::vector<NetworkUpdate> updates; // the DHCP part of `diffs`, as in-place updates
    bool redefine = false; // some diff is not a DHCP range/host: the config must be redefined
};

// A network: typed fields, residue, DNS (both ways: libvirt adds none itself), each <ip>
// with its DHCP ranges and hosts (both ways), `active` and `autostart`.
NetworkComparison diff_network(const Object& desired, const ObservedNetwork& observed);

// A snapshot that exists: its description.
std::vector<FieldDiff> diff_snapshot(const SnapshotSpec& desired, const ObservedDomain& observed);

} // namespace virtumancer::planner
