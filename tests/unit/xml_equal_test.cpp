// xml_equal follows the comparison rules of ../shared/corpus/README.md, and it catches a
// render that loses something (so the corpus round-trip test can fail).
#include <gtest/gtest.h>

#include "virtumancer/xml_codec.hpp"

using namespace virtumancer;

namespace {

const char* kDomain = R"(<domain type='kvm'>
  <name>vm1</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <frobnicate level='3'/>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/a.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
    <hub type='usb'/>
  </devices>
</domain>)";

} // namespace

TEST(XmlEqual, AttributeOrderDoesNotMatter) {
    EXPECT_TRUE(xml_equal("<a x='1' y='2'/>", "<a y='2' x='1'/>"));
    EXPECT_FALSE(xml_equal("<a x='1' y='2'/>", "<a y='2' x='3'/>"));
    EXPECT_FALSE(xml_equal("<a x='1' y='2'/>", "<a x='1'/>"));
    EXPECT_FALSE(xml_equal("<a x='1'/>", "<a x='1' y='2'/>"));
}

TEST(XmlEqual, SameNameChildrenKeepTheirOrder) {
    EXPECT_TRUE(xml_equal("<a><b n='1'/><b n='2'/></a>", "<a><b n='1'/><b n='2'/></a>"));
    std::string why;
    EXPECT_FALSE(xml_equal("<a><b n='1'/><b n='2'/></a>", "<a><b n='2'/><b n='1'/></a>", &why));
    EXPECT_NE(why.find("b[0]"), std::string::npos) << why;
    EXPECT_FALSE(xml_equal("<a><b/><b/></a>", "<a><b/></a>"));
}

TEST(XmlEqual, OrderAcrossDifferentNamesDoesNotMatter) {
    EXPECT_TRUE(xml_equal("<a><b/><c/><b n='2'/></a>", "<a><c/><b/><b n='2'/></a>"));
    EXPECT_FALSE(xml_equal("<a><b/><c/></a>", "<a><b/><d/></a>"));
}

TEST(XmlEqual, WhitespaceAndCommentsAreIgnored) {
    EXPECT_TRUE(xml_equal("<a>\n  <b>x</b>\n  <!-- note -->\n</a>", "<a><b>x</b></a>"));
    EXPECT_TRUE(xml_equal("<a><b>  x \n</b></a>", "<a><b>x</b></a>"));
    EXPECT_FALSE(xml_equal("<a><b>x</b></a>", "<a><b>y</b></a>"));
    EXPECT_FALSE(xml_equal("<a><b>x y</b></a>", "<a><b>xy</b></a>"));
}

TEST(XmlEqual, NumbersCompareByValue) {
    EXPECT_TRUE(xml_equal("<a slot='0x00'/>", "<a slot='0'/>"));
    EXPECT_TRUE(xml_equal("<a slot='0x1f'/>", "<a slot='31'/>"));
    EXPECT_TRUE(xml_equal("<a><b>0x10</b></a>", "<a><b>16</b></a>"));
    EXPECT_FALSE(xml_equal("<a slot='0x01'/>", "<a slot='0'/>"));
    EXPECT_FALSE(xml_equal("<a v='abc'/>", "<a v='0'/>"));
}

TEST(XmlEqual, NamespacePrefixIsIrrelevantButTheUriIsNot) {
    EXPECT_TRUE(xml_equal("<a xmlns:p='urn:x'><p:b p:k='1'/></a>",
                          "<a xmlns:q='urn:x'><q:b q:k='1'/></a>"));
    EXPECT_TRUE(xml_equal("<a xmlns:p='urn:x'><p:b/></a>", "<a><b xmlns='urn:x'/></a>"));
    EXPECT_FALSE(xml_equal("<a xmlns:p='urn:x'><p:b/></a>", "<a xmlns:p='urn:y'><p:b/></a>"));
    EXPECT_FALSE(xml_equal("<a xmlns:p='urn:x'><p:b/></a>", "<a><b/></a>"));
}

TEST(XmlEqual, RejectsMalformedInput) {
    std::string why;
    EXPECT_FALSE(xml_equal("<a>", "<a/>", &why));
    EXPECT_FALSE(why.empty());
}

// The round trip is only evidence if a broken render is caught. Break it in several ways.
TEST(XmlEqual, DetectsADeliberatelyBrokenRender) {
    Object o = parse_xml(kDomain, domain_kind());
    ASSERT_TRUE(xml_equal(kDomain, render_xml(o)));

    { // dropping a typed domain field
        Object b = o;
        ASSERT_EQ(b.fields.erase("vcpu_placement"), 1u);
        std::string why;
        EXPECT_FALSE(xml_equal(kDomain, render_xml(b), &why));
        EXPECT_NE(why.find("placement"), std::string::npos) << why;
    }
    { // dropping a typed device field
        Object b = o;
        ASSERT_FALSE(b.children.empty());
        ASSERT_EQ(b.children[0].kind->kind, "disk");
        ASSERT_EQ(b.children[0].fields.erase("cache"), 1u);
        std::string why;
        EXPECT_FALSE(xml_equal(kDomain, render_xml(b), &why));
        EXPECT_NE(why.find("cache"), std::string::npos) << why;
    }
    { // changing a value (hex address compared by value: 0x04 -> 5)
        Object b = o;
        b.children[0].fields["address_slot"] = "0x05";
        EXPECT_FALSE(xml_equal(kDomain, render_xml(b)));
    }
    { // dropping a whole device
        Object b = o;
        b.children.pop_back();
        EXPECT_FALSE(xml_equal(kDomain, render_xml(b)));
    }
    { // losing the residue of an object
        Object b = o;
        ASSERT_NE(b.extra_xml.find("frobnicate"), std::string::npos);
        b.extra_xml.clear();
        std::string why;
        EXPECT_FALSE(xml_equal(kDomain, render_xml(b), &why));
        EXPECT_NE(why.find("frobnicate"), std::string::npos) << why;
    }
}
