// Shared helpers of the end-to-end tests (real libvirtd with the QEMU driver).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

namespace virtumancer::e2e {

inline constexpr const char* kUri = "qemu:///system";

inline bool libvirtd_required() {
    const char* v = std::getenv("VIRTUMANCER_REQUIRE_LIBVIRTD");
    return v && std::string(v) == "1";
}

// Connects to qemu:///system, or explains why not in *why.
inline std::unique_ptr<Hypervisor> try_connect(std::string* why) {
    try {
        return connect_libvirt(kUri);
    } catch (const Error& e) {
        *why = std::string(e.what()) + " (" + e.remedy() + ")";
        return nullptr;
    }
}

} // namespace virtumancer::e2e

// In a test body or SetUp: leaves `var` connected to qemu:///system, or skips the test (run
// `scripts/testenv.sh start`), or fails it when VIRTUMANCER_REQUIRE_LIBVIRTD=1.
#define VMR_E2E_CONNECT_OR_SKIP(var)                                                               \
    do {                                                                                           \
        std::string vmr_why_;                                                                      \
        var = ::virtumancer::e2e::try_connect(&vmr_why_);                                          \
        if (!var) {                                                                                \
            if (::virtumancer::e2e::libvirtd_required())                                           \
                FAIL() << "libvirtd at qemu:///system is required "                                \
                          "(VIRTUMANCER_REQUIRE_LIBVIRTD=1) but unreachable: "                     \
                       << vmr_why_;                                                                \
            GTEST_SKIP() << "libvirtd at qemu:///system unreachable; run `scripts/testenv.sh "     \
                            "start`: "                                                             \
                         << vmr_why_;                                                              \
        }                                                                                          \
    } while (0)
