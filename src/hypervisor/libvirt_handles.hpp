// RAII owners for libvirt object pointers and the error helpers of the libvirt adapter.
// Private to src/hypervisor.
#pragma once
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace virtumancer::lv {

struct ConnFree {
    void operator()(virConnectPtr p) const { virConnectClose(p); }
};
struct DomainFree {
    void operator()(virDomainPtr p) const { virDomainFree(p); }
};
struct PoolFree {
    void operator()(virStoragePoolPtr p) const { virStoragePoolFree(p); }
};
struct VolFree {
    void operator()(virStorageVolPtr p) const { virStorageVolFree(p); }
};
struct NetFree {
    void operator()(virNetworkPtr p) const { virNetworkFree(p); }
};
struct SnapFree {
    void operator()(virDomainSnapshotPtr p) const { virDomainSnapshotFree(p); }
};

using Conn = std::unique_ptr<virConnect, ConnFree>;
using Domain = std::unique_ptr<virDomain, DomainFree>;
using Pool = std::unique_ptr<virStoragePool, PoolFree>;
using Vol = std::unique_ptr<virStorageVol, VolFree>;
using Net = std::unique_ptr<virNetwork, NetFree>;
using Snap = std::unique_ptr<virDomainSnapshot, SnapFree>;

// Takes ownership of an array returned by a virConnectListAll* call (n entries).
template <typename Owner, typename Raw> std::vector<Owner> adopt(Raw* arr, int n) {
    std::vector<Owner> out;
    for (int i = 0; i < n; ++i) out.emplace_back(arr[i]);
    free(arr); // NOLINT: libvirt allocates with malloc
    return out;
}

// Facts about every domain of a host, from one flag-filtered virConnectListAllDomains
// each (keyed by UUID string).
struct DomainFacts {
    std::unordered_set<std::string> active, running, paused, transient, autostart, has_snapshot;
};

// A libvirt string the caller must free, as std::string ("" for NULL).
inline std::string take(char* s) {
    if (!s) return {};
    std::string out(s);
    free(s); // NOLINT
    return out;
}

// libvirt's message for the last error of this thread.
inline std::string last_message() {
    const char* m = virGetLastErrorMessage();
    return m ? m : "unknown libvirt error";
}

// The virErrorNumber of the last error of this thread (VIR_ERR_OK when none).
inline int last_code() {
    virErrorPtr e = virGetLastError();
    return e ? e->code : VIR_ERR_OK;
}

// Throws virtumancer::Error "<what>: <libvirt message>".
[[noreturn]] void fail(const std::string& what, const std::string& remedy = {});

// Once per process: libvirt initialised for threads, its default error printer silenced.
void init_library();
// Once per process: libvirt's default event loop registered and run by a thread of its own.
// Only connections opened afterwards use it (for domain events and keepalive); each call on
// such a connection also wakes that thread, which costs observation about half again its CPU
// (docs/performance.md), so only connections that need events start it (HostTimeouts::events).
void start_event_loop();

} // namespace virtumancer::lv
