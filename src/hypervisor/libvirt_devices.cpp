// Attaching and detaching devices, each confirmed against what the domain holds afterwards.
// A live detach is only a request: libvirt returns once QEMU was asked (after waiting up to 5 s
// for it inside the call), and a PCI device is released only when the guest OS acknowledges
// the unplug. The step is done when the device is gone from the running domain: the
// DEVICE_REMOVED event (via the adapter's event loop) wakes the wait, the live XML decides.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>

#include "device_match.hpp"
#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {

struct LibvirtHypervisor::RemovalWatch {
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::string> removed, failed; // aliases from DEVICE_REMOVED / _REMOVAL_FAILED
    int events = 0;
};

namespace {

std::string q(const std::string& name) {
    return "domain '" + name + "'";
}

unsigned affect(bool live, bool config) {
    return (live ? unsigned{VIR_DOMAIN_AFFECT_LIVE} : 0u) |
           (config ? unsigned{VIR_DOMAIN_AFFECT_CONFIG} : 0u);
}

using Watch = std::shared_ptr<LibvirtHypervisor::RemovalWatch>;

void note(void* opaque, const char* alias, bool failed) {
    Watch& w = *static_cast<Watch*>(opaque);
    {
        std::lock_guard<std::mutex> lock(w->mu);
        (failed ? w->failed : w->removed).insert(alias ? alias : "");
        ++w->events;
    }
    w->cv.notify_all();
}
void on_removed(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
    note(opaque, alias, false);
}
void on_removal_failed(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
    note(opaque, alias, true);
}
void free_watch(void* opaque) {
    delete static_cast<Watch*>(opaque);
}

// Domain event callbacks for the duration of one detach. Without them (a driver without
// events) the wait polls the live XML only.
class EventRegistration {
  public:
    EventRegistration(virConnectPtr c, virDomainPtr d, const Watch& w) : conn_(c) {
        add(d, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_removed), w);
        add(d, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
            VIR_DOMAIN_EVENT_CALLBACK(on_removal_failed), w);
        virResetLastError();
    }
    ~EventRegistration() {
        for (int id : ids_) virConnectDomainEventDeregisterAny(conn_, id);
    }
    EventRegistration(const EventRegistration&) = delete;
    EventRegistration& operator=(const EventRegistration&) = delete;

  private:
    void add(virDomainPtr d, int event, virConnectDomainEventGenericCallback cb, const Watch& w) {
        auto* opaque = new Watch(w);
        int id = virConnectDomainEventRegisterAny(conn_, d, event, cb, opaque, free_watch);
        if (id < 0)
            delete opaque; // libvirt keeps (and frees) the opaque only on success
        else
            ids_.push_back(id);
    }
    virConnectPtr conn_;
    std::vector<int> ids_;
};

// The domain's XML: running (live) or persistent (config); "" when it cannot be read.
std::string xml_of(virDomainPtr d, bool live) {
    char* x = virDomainGetXMLDesc(d, live ? 0 : VIR_DOMAIN_XML_INACTIVE);
    if (!x) virResetLastError();
    return lv::take(x);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string seconds_text(double s) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

} // namespace

void LibvirtHypervisor::attach_device(const std::string& dom, const std::string& xml, bool live,
                                      bool config) {
    auto d = domain(dom);
    if (virDomainAttachDeviceFlags(d.get(), xml.c_str(), affect(live, config)) == 0) return;
    std::string why = lv::last_message();
    // Already attached (a re-run after a killed apply): every definition the call was to
    // change holds a device that is this one. Otherwise libvirt's error stands.
    bool running = virDomainIsActive(d.get()) == 1;
    std::vector<bool> defs; // live?
    if (live) defs.push_back(true);
    if (config) defs.push_back(false);
    if (!live && !config) defs.push_back(running);
    bool there = !defs.empty();
    for (bool l : defs)
        there = there && (!l || running) && devmatch::has_same_device(xml_of(d.get(), l), xml);
    if (there) return;
    throw Error("cannot attach a device to " + q(dom) + ": " + why,
                "check the device XML and that the VM supports hot-plug of this device; plan again "
                "after fixing the spec");
}

void LibvirtHypervisor::detach_device(const std::string& dom, const std::string& xml, bool live,
                                      bool config) {
    auto d = domain(dom);
    bool running = virDomainIsActive(d.get()) == 1;
    bool live_part = (live || (!live && !config)) && running;
    std::string before;
    auto watch = std::make_shared<RemovalWatch>();
    std::unique_ptr<EventRegistration> events;
    if (live_part) {
        before = xml_of(d.get(), true);
        events = std::make_unique<EventRegistration>(conn_.get(), d.get(), watch);
    }
    auto start = std::chrono::steady_clock::now(); // libvirt itself waits up to 5 s inside
    if (virDomainDetachDeviceFlags(d.get(), xml.c_str(), affect(live, config)) < 0) {
        std::string why = lv::last_message();
        // Already detached: no definition the call was to change holds the device (a domain
        // that is not running holds nothing live).
        auto absent = [&](bool from_live) { // an XML that cannot be read proves nothing
            std::string now = xml_of(d.get(), from_live);
            return !now.empty() && !devmatch::find_device(now, xml);
        };
        bool gone = true;
        if (live_part) gone = absent(true);
        if (config || (!live && !running)) gone = gone && absent(false);
        if (gone) return;
        throw Error("cannot detach a device from " + q(dom) + ": " + why,
                    "the guest may not have released the device yet; retry, or stop the VM and "
                    "apply again");
    }
    if (live_part) wait_removed(d.get(), dom, xml, before, watch, start);
}

void LibvirtHypervisor::wait_removed(virDomainPtr d, const std::string& dom, const std::string& xml,
                                     const std::string& before,
                                     const std::shared_ptr<RemovalWatch>& w,
                                     std::chrono::steady_clock::time_point start) {
    auto target = devmatch::find_device(before, xml);
    // When the device cannot be told apart beforehand (libvirt matched it where we could not),
    // the removal of any device of the same element that was there counts.
    std::vector<std::string> watched;
    if (target && !target->alias.empty())
        watched.push_back(target->alias);
    else
        watched = devmatch::device_aliases(before, devmatch::element_of(xml));
    std::string what = target ? target->description : devmatch::describe_device(xml);
    auto gone = [&](const std::string& live) {
        if (live.empty()) return false; // could not read: keep waiting
        auto now = devmatch::device_aliases(live);
        for (const auto& a : watched)
            if (!contains(now, a)) return true;
        return watched.empty(); // nothing to tell by: libvirt's word
    };

    const auto deadline =
        start + std::chrono::milliseconds(static_cast<long long>(timeouts_.detach_seconds * 1000));
    int seen = -1;
    while (true) {
        if (gone(xml_of(d, true))) return;
        if (virDomainIsActive(d) == 0) return; // stopped meanwhile: nothing runs it any more
        virResetLastError();
        std::unique_lock<std::mutex> lock(w->mu);
        for (const auto& a : w->failed)
            if (contains(watched, a) && watched.size() == 1)
                throw Error("the guest refused to release " + what + " of " + q(dom) +
                                " (DEVICE_REMOVAL_FAILED): it is still attached to the running VM",
                            "retry when the guest is idle, or apply the change with a restart "
                            "(restart_policy: allowed), or detach it in the config only and "
                            "restart the VM");
        if (std::chrono::steady_clock::now() >= deadline) break;
        seen = w->events;
        // Woken by an event, or every half second to read the live XML again.
        auto next =
            std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
        w->cv.wait_until(lock, next, [&] { return w->events != seen; });
    }
    // libvirt itself waits up to 5 s inside the call: say how long it really was.
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    throw Error("the guest did not release " + what + " of " + q(dom) + " within " +
                    seconds_text(std::round(std::max(waited, timeouts_.detach_seconds) * 10) / 10) +
                    " s: it is still attached to the running VM (libvirt only asked the guest "
                    "to unplug it)",
                "a live detach needs a guest OS that acknowledges hot-unplug (e.g. a booted "
                "Linux); otherwise apply the change with a restart (restart_policy: allowed), or "
                "detach it in the config only and restart the VM");
}

} // namespace virtumancer
