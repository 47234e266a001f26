// A plan step as a typed value: one operation (Op) and its payload (one struct per operation).
// The planner makes them, src/planner/plan_json.cpp reads and writes them (the only place that
// knows their JSON form and op names), the applier executes them by their type.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace virtumancer {

// A graphics password the applier reads at apply time (never in the plan): from a file or an
// environment variable, for the graphics device `index` among the step XML's <graphics>.
struct GraphicsPassword {
    int index = 0;
    std::string file; // password_file (set: read the file)
    std::string env;  // password_env (set when file is empty)
};

struct VmDefine {
    std::string xml;
    std::vector<GraphicsPassword> passwords;
};
struct VmStart {};
struct VmShutdown {
    long long timeout = 0; // seconds the ACPI shutdown may take
    bool force = false;    // then force it off (force_stop: true)
};
struct VmDestroy {};
struct VmUndefine {
    bool keep_nvram = true, keep_tpm = true;
};
struct VmAttachDevice {
    std::string xml;
    bool live = false, config = false;
    std::vector<GraphicsPassword> passwords;
};
struct VmDetachDevice {
    std::string xml;
    bool live = false, config = false;
};
struct VmUpdateDevice {
    std::string xml;
    bool live = false, config = false;
    std::vector<GraphicsPassword> passwords;
};
struct VmSetVcpus {
    int count = 0;
    bool live = false, config = false;
};
struct VmSetMemory {
    unsigned long long kib = 0;
    bool live = false, config = false;
};
struct VmRename {
    std::string new_name;
};
struct VmAutostart {
    bool autostart = false;
};
struct VmSuspend {};
struct VmResume {};
struct PoolDefine {
    std::string xml;
    bool build = false, start = false, autostart = false;
};
struct PoolStart {};
struct PoolAutostart {
    bool autostart = false;
};
struct PoolUndefine {};
struct VolumeCreate {
    std::string pool, xml;
    // A volume filled from an image (spec `source`; empty: an empty volume). The applier
    // fetches it, creates the volume at the image's size with `format`, uploads it, checks
    // `checksum` ("sha256:HEX", "sha512:HEX" or empty), then grows it to `capacity` bytes.
    std::string source = {}, checksum = {}, volume = {}, format = {};
    unsigned long long capacity = 0;
};
struct VolumeResize {
    std::string pool, volume;
    unsigned long long bytes = 0;
};
struct VolumeDelete {
    std::string pool, volume;
};
// A VM's cloud-init seed: the applier builds the image (reading user_data_file or
// user_data_env at apply time: never part of the plan), checks its content hash against the
// one loaded, and (re)creates the raw volume `pool`/`volume` with it (virStorageVolUpload).
struct VolumeCloudInitSeed {
    std::string pool, volume, vm;
    std::string user_data; // inline user_data only ("" with a file or variable)
    std::string user_data_file, user_data_env;
    std::string meta_data, network_config;
    bool has_network_config = false;
    std::string hash;    // cloud_init_hash() of the files, as loaded
    bool exists = false; // the volume exists (deleted first)
};
struct NetworkDefine {
    std::string xml;
    bool start = false, autostart = false;
};
struct NetworkStart {};
struct NetworkAutostart {
    bool autostart = false;
};
struct NetworkUpdate {
    std::string section, command; // virNetworkUpdate section and command names
    int parent_index = -1;
    std::string xml;
    bool live = false, config = false;
};
struct NetworkUndefine {};
struct SnapshotCreate {
    std::string domain, xml;
    bool memory = false;
};
struct SnapshotSetDescription {
    std::string domain, snapshot, description;
};
struct SnapshotDelete {
    std::string domain, snapshot;
};

// The operations, in the order of StepPayload's alternatives (Op == payload.index()).
enum class Op {
    VmDefine,
    VmStart,
    VmShutdown,
    VmDestroy,
    VmUndefine,
    VmAttachDevice,
    VmDetachDevice,
    VmUpdateDevice,
    VmSetVcpus,
    VmSetMemory,
    VmRename,
    VmAutostart,
    VmSuspend,
    VmResume,
    PoolDefine,
    PoolStart,
    PoolAutostart,
    PoolUndefine,
    VolumeCreate,
    VolumeResize,
    VolumeDelete,
    NetworkDefine,
    NetworkStart,
    NetworkAutostart,
    NetworkUpdate,
    NetworkUndefine,
    SnapshotCreate,
    SnapshotSetDescription,
    SnapshotDelete,
    VolumeCloudInitSeed,
};

using StepPayload =
    std::variant<VmDefine, VmStart, VmShutdown, VmDestroy, VmUndefine, VmAttachDevice,
                 VmDetachDevice, VmUpdateDevice, VmSetVcpus, VmSetMemory, VmRename, VmAutostart,
                 VmSuspend, VmResume, PoolDefine, PoolStart, PoolAutostart, PoolUndefine,
                 VolumeCreate, VolumeResize, VolumeDelete, NetworkDefine, NetworkStart,
                 NetworkAutostart, NetworkUpdate, NetworkUndefine, SnapshotCreate,
                 SnapshotSetDescription, SnapshotDelete, VolumeCloudInitSeed>;

static_assert(std::variant_size_v<StepPayload> == static_cast<size_t>(Op::VolumeCloudInitSeed) + 1,
              "one payload per Op, in the same order");

// The op's name in plans, tasks and audit entries ("vm.set_memory"); op_from_name is its inverse.
const char* op_name(Op op);
std::optional<Op> op_from_name(const std::string& name);

// One executable step. The applier never looks at ResourceChange, only at steps.
struct Step {
    int id = 0;
    std::string host, kind, name;
    StepPayload payload;
    std::vector<int> deps; // step ids that must succeed first
    std::string change;    // address() of the ResourceChange it implements
    // The fields of that change's diffs this step carries out (what tasks and audit entries
    // show it planned); chosen by the planner, matched as opaque keys.
    std::vector<std::string> fields;

    Op op() const { return static_cast<Op>(payload.index()); }
    // The object or device XML the op sends ("" when it sends none).
    const std::string& xml() const;
};

// The payload's arguments as the saved plan has them (besides the XML), e.g.
// {"kib": 262144, "live": true, "config": false}; plan_from_json reads them back.
nlohmann::json step_args_json(const StepPayload& p);

} // namespace virtumancer
