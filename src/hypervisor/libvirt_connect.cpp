// Opening a libvirt connection, and the error plumbing shared by the adapter.
#include <mutex>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {
namespace lv {

namespace {
// libvirt's default handler prints every error to stderr; we report errors our way only.
void silent_error_handler(void*, virErrorPtr) {}
} // namespace

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        virInitialize(); // required before using libvirt from several threads
        virSetErrorFunc(nullptr, silent_error_handler);
    });
}

void fail(const std::string& what, const std::string& remedy) {
    throw Error(what + ": " + last_message(), remedy);
}

} // namespace lv

namespace {

bool is_ssh_uri(const std::string& uri) {
    return uri.find("+ssh://") != std::string::npos || uri.find("+libssh") != std::string::npos;
}

} // namespace

std::unique_ptr<Hypervisor> connect_libvirt(const std::string& uri) {
    lv::init_library();
    virConnectPtr raw = is_ssh_uri(uri)
                            ? virConnectOpenAuth(uri.c_str(), virConnectAuthPtrDefault, 0)
                            : virConnectOpen(uri.c_str());
    if (!raw) {
        std::string remedy =
            is_ssh_uri(uri)
                ? "check that the host is reachable, that `ssh` to it works without a password "
                  "(ssh keys, known_hosts) and that libvirtd runs there"
                : "is libvirtd running? for the test environment run scripts/testenv.sh start";
        lv::fail("cannot connect to libvirt at " + uri, remedy);
    }
    return std::make_unique<LibvirtHypervisor>(lv::Conn(raw), uri);
}

std::string state_name(int state) {
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: // running, waiting on a resource
        return "running";
    case VIR_DOMAIN_SHUTOFF:
        return "shutoff";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    default: // nostate, shutdown in progress, crashed, pmsuspended
        return "other";
    }
}

} // namespace virtumancer
