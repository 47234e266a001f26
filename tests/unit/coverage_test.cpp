// measure_coverage counts items exactly: attributes, leaf text, presence elements.
#include <gtest/gtest.h>

#include "virtumancer/coverage.hpp"
#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

TEST(Coverage, CountsAttributesTextAndPresence) {
    auto items = count_xml_items(
        "<domain xmlns:q='urn:q' type='kvm'><name>a</name><features><acpi/></features>"
        "<devices><disk type='file'><driver cache='none'/></disk><disk type='block'/>"
        "</devices><os>\n  </os></domain>");
    EXPECT_EQ(items["@type"], 1);
    EXPECT_EQ(items["name"], 1);
    EXPECT_EQ(items["features/acpi"], 1);
    EXPECT_EQ(items["devices/disk/@type"], 2);
    EXPECT_EQ(items["devices/disk/driver/@cache"], 1);
    EXPECT_EQ(items["os"], 1); // blank text: an empty element, counted as presence
    EXPECT_EQ(items.count("@xmlns:q"), 0u);
    EXPECT_EQ(items.size(), 6u);
}

TEST(Coverage, TypedAndUntypedAreExact) {
    const char* xml = "<domain type='kvm'><name>a</name><frobnicate level='3'/>"
                      "<metadata><app:x xmlns:app='urn:app' k='v'/></metadata>"
                      "<devices><disk type='file' weird='1'><target dev='vda'/></disk>"
                      "<hub type='usb'/></devices></domain>";
    Object o = parse_xml(xml, domain_kind());
    Coverage c = measure_coverage(xml, o);
    // items: @type, name, frobnicate/@level, disk/@type, disk/@weird, disk/target/@dev,
    // hub/@type = 7; metadata: app:x/@k = 1 (kept apart)
    EXPECT_EQ(c.total(), 7);
    EXPECT_EQ(c.metadata_items, 1);
    EXPECT_EQ(c.untyped["frobnicate/@level"], 1);
    EXPECT_EQ(c.untyped["devices/disk/@weird"], 1);
    EXPECT_EQ(c.untyped["devices/hub/@type"], 1); // catch-all device: all residue
    EXPECT_EQ(c.untyped_total(), 3);
    EXPECT_EQ(c.typed(), 4);
    EXPECT_TRUE(c.surplus().empty());
}
