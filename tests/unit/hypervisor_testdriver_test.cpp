// The libvirt adapter against libvirt's in-process test driver (test:///default): no daemon
// needed, fresh state per connection.
#include <gtest/gtest.h>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"

using namespace virtumancer;

namespace {

const char* kDomainXml = R"(<domain type='test'>
  <name>vmr-unit-hv</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>)";

TEST(HypervisorTestDriver, ObserveFindsTheDefaultObjects) {
    auto hv = connect_libvirt("test:///default");
    EXPECT_EQ(hv->uri(), "test:///default");
    for (int parallelism : {1, 4}) {
        ObservedHost host = hv->observe(parallelism);
        EXPECT_TRUE(host.reachable);
        const ObservedDomain* d = host.domain("test");
        ASSERT_NE(d, nullptr);
        EXPECT_EQ(d->state, "running");
        EXPECT_TRUE(d->persistent);
        EXPECT_FALSE(d->uuid.empty());
        EXPECT_NE(d->inactive_xml.find("<name>test</name>"), std::string::npos);
        EXPECT_NE(d->live_xml.find("<name>test</name>"), std::string::npos);
        EXPECT_EQ(d->live_xml.find(" id="), std::string::npos) << "id is stripped";
        const ObservedPool* p = host.pool("default-pool");
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(p->active);
        EXPECT_EQ(p->xml.find("<capacity"), std::string::npos) << "figures are stripped";
        const ObservedNetwork* n = host.network("default");
        ASSERT_NE(n, nullptr);
        EXPECT_TRUE(n->active);
        EXPECT_EQ(host.domain("nope"), nullptr);
    }
}

TEST(HypervisorTestDriver, DefineThenObserve) {
    auto hv = connect_libvirt("test:///default");
    hv->define_domain(kDomainXml);
    ObservedHost host = hv->observe(2);
    const ObservedDomain* d = host.domain("vmr-unit-hv");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->state, "shutoff");
    EXPECT_TRUE(d->live_xml.empty());
    EXPECT_EQ(hv->domain_state("vmr-unit-hv"), "shutoff");

    hv->start_domain("vmr-unit-hv");
    EXPECT_EQ(hv->domain_state("vmr-unit-hv"), "running");
    hv->suspend_domain("vmr-unit-hv");
    EXPECT_EQ(hv->observe_domain("vmr-unit-hv").state, "paused");
    hv->resume_domain("vmr-unit-hv");
    hv->set_domain_autostart("vmr-unit-hv", true);
    EXPECT_TRUE(hv->observe_domain("vmr-unit-hv").autostart);
    hv->create_snapshot("vmr-unit-hv", "<domainsnapshot><name>s1</name></domainsnapshot>");
    EXPECT_EQ(hv->observe_domain("vmr-unit-hv").snapshots, std::vector<std::string>{"s1"});
    hv->delete_snapshot("vmr-unit-hv", "s1");
    EXPECT_TRUE(hv->observe_domain("vmr-unit-hv").snapshots.empty());
    hv->destroy_domain("vmr-unit-hv");
    hv->undefine_domain("vmr-unit-hv", false, false);
    EXPECT_EQ(hv->observe(1).domain("vmr-unit-hv"), nullptr);
}

TEST(HypervisorTestDriver, ErrorsNameTheObjectAndLibvirtsReason) {
    auto hv = connect_libvirt("test:///default");
    try {
        hv->start_domain("vmr-no-such-domain");
        FAIL() << "expected Error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("domain 'vmr-no-such-domain'"), std::string::npos) << what;
        EXPECT_NE(what.find("not found"), std::string::npos) << what;
    }
    EXPECT_THROW(hv->define_domain("<domain><oops/>"), Error);
}

TEST(HypervisorTestDriver, BadUriIsAClearError) {
    try {
        connect_libvirt("nosuchdriver:///system");
        FAIL() << "expected Error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("cannot connect to libvirt at nosuchdriver:///system"),
                  std::string::npos)
            << what;
        EXPECT_GT(what.size(),
                  std::string("cannot connect to libvirt at nosuchdriver:///system: ").size())
            << "libvirt's own message follows";
        EXPECT_NE(e.remedy().find("scripts/testenv.sh start"), std::string::npos);
    }
}

TEST(HypervisorTestDriver, SshUriRemedyMentionsKeys) {
    try {
        // Port 1 on localhost: nothing listens, the connection fails at once.
        connect_libvirt("qemu+ssh://root@127.0.0.1:1/system?no_tty=1&no_verify=1");
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_NE(e.remedy().find("ssh keys"), std::string::npos) << e.remedy();
    }
}

} // namespace
