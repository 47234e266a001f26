// observe() takes state, persistence, autostart and snapshots of all domains from
// flag-filtered list calls (one RPC each per host); observe_domain() still asks each fact of
// the one domain. Both must agree, on libvirt's test driver, for every kind of domain.
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include <memory>

#include "virtumancer/hypervisor.hpp"

using namespace virtumancer;

namespace {

std::string domain_xml(const std::string& name) {
    return "<domain type='test'><name>" + name +
           "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
           "</domain>";
}

TEST(HypervisorBulkObserve, ListFactsEqualPerDomainCalls) {
    auto hv = connect_libvirt("test:///default");
    // A second connection to the same shared test driver, for a transient domain (the
    // Hypervisor interface only defines persistent ones).
    std::unique_ptr<virConnect, int (*)(virConnectPtr)> raw(virConnectOpen("test:///default"),
                                                            virConnectClose);
    ASSERT_NE(raw, nullptr);

    hv->define_domain(domain_xml("vmr-bulk-off"));
    hv->set_domain_autostart("vmr-bulk-off", true);
    hv->create_snapshot("vmr-bulk-off", "<domainsnapshot><name>s-off</name></domainsnapshot>");
    hv->define_domain(domain_xml("vmr-bulk-run"));
    hv->start_domain("vmr-bulk-run");
    hv->define_domain(domain_xml("vmr-bulk-pause"));
    hv->start_domain("vmr-bulk-pause");
    hv->suspend_domain("vmr-bulk-pause");
    hv->create_snapshot("vmr-bulk-pause", "<domainsnapshot><name>b</name></domainsnapshot>");
    hv->create_snapshot("vmr-bulk-pause", "<domainsnapshot><name>a</name></domainsnapshot>");
    virDomainPtr t = virDomainCreateXML(raw.get(), domain_xml("vmr-bulk-transient").c_str(), 0);
    ASSERT_NE(t, nullptr);
    virDomainFree(t);

    for (int parallelism : {1, 4}) {
        ObservedHost host = hv->observe(parallelism);
        auto get = [&](const std::string& n) {
            const ObservedDomain* d = host.domain(n);
            EXPECT_NE(d, nullptr) << n;
            return d ? *d : ObservedDomain{};
        };
        ObservedDomain off = get("vmr-bulk-off"), run = get("vmr-bulk-run"),
                       pause = get("vmr-bulk-pause"), tr = get("vmr-bulk-transient");
        EXPECT_EQ(off.state, "shutoff");
        EXPECT_TRUE(off.autostart);
        EXPECT_TRUE(off.persistent);
        EXPECT_TRUE(off.live_xml.empty());
        EXPECT_EQ(off.snapshots, std::vector<std::string>{"s-off"});
        EXPECT_EQ(run.state, "running");
        EXPECT_FALSE(run.autostart);
        EXPECT_FALSE(run.live_xml.empty());
        EXPECT_TRUE(run.snapshots.empty());
        EXPECT_EQ(pause.state, "paused");
        EXPECT_FALSE(pause.live_xml.empty());
        EXPECT_EQ(pause.snapshots, (std::vector<std::string>{"a", "b"}));
        EXPECT_EQ(tr.state, "running");
        EXPECT_FALSE(tr.persistent);

        ASSERT_GE(host.domains.size(), 5u); // and the driver's own "test"
        for (const auto& d : host.domains) {
            ObservedDomain one = hv->observe_domain(d.name); // per-domain calls
            EXPECT_EQ(d.uuid, one.uuid) << d.name;
            EXPECT_EQ(d.state, one.state) << d.name;
            EXPECT_EQ(d.persistent, one.persistent) << d.name;
            EXPECT_EQ(d.autostart, one.autostart) << d.name;
            EXPECT_EQ(d.snapshots, one.snapshots) << d.name;
            EXPECT_EQ(d.inactive_xml, one.inactive_xml) << d.name;
            EXPECT_EQ(d.live_xml, one.live_xml) << d.name;
        }
    }

    virDomainPtr td = virDomainLookupByName(raw.get(), "vmr-bulk-transient");
    if (td) {
        virDomainDestroy(td);
        virDomainFree(td);
    }
    hv->destroy_domain("vmr-bulk-run");
    hv->destroy_domain("vmr-bulk-pause");
    for (const char* n : {"vmr-bulk-off", "vmr-bulk-run", "vmr-bulk-pause"}) {
        for (const auto& s : hv->observe_domain(n).snapshots) hv->delete_snapshot(n, s);
        hv->undefine_domain(n, false, false);
    }
}

} // namespace
