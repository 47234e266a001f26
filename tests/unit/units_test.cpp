// Sizes without a unit attribute mean libvirt's default unit for that element (memory: KiB,
// volume capacity: bytes, <tseg>: MiB, ...): the codec's size rules (size_rules(), derived from
// the descriptors' SizeKiB/SizeBytes fields plus the sizes kept in residue XML) must make a
// document written without units give the same model as libvirt's own output.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <unistd.h>

#include "test_support.hpp"
#include "virtumancer/xml_codec.hpp"
#include "virtumancer/xml_string.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;
using namespace virtumancer::testing_util;

namespace {

std::vector<std::string> split(const std::string& path, std::string* attr) {
    std::vector<std::string> out;
    attr->clear();
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = std::min(path.find('/', i), path.size());
        std::string step = path.substr(i, j - i);
        if (!step.empty()) {
            if (step[0] == '@')
                *attr = step.substr(1);
            else
                out.push_back(step);
        }
        i = j + 1;
    }
    return out;
}

// Rewrites every size of `owner` (per the rules) without its unit attribute, the value
// converted into the default unit. Returns the rule paths rewritten.
void strip_units(pugi::xml_node owner, std::map<std::string, int>* done) {
    for (const auto& r : size_rules()) {
        if (r.owner != owner.name()) continue;
        std::string attr;
        std::vector<pugi::xml_node> level{owner};
        for (const auto& step : split(r.path, &attr)) {
            std::vector<pugi::xml_node> next;
            for (auto n : level)
                for (auto c : n.children(step.c_str())) next.push_back(c);
            level.swap(next);
        }
        for (auto n : level) {
            auto unit = n.attribute("unit");
            if (!unit) continue;
            std::string value = attr.empty() ? n.text().get() : n.attribute(attr.c_str()).value();
            unsigned long long bytes = 0;
            ASSERT_TRUE(size_to_bytes(value, unit.value(), r.default_scale, &bytes))
                << r.owner << "/" << r.path << ": " << value << " " << unit.value();
            if (bytes % r.default_scale != 0) continue; // not expressible without a unit
            std::string v = std::to_string(bytes / r.default_scale);
            if (attr.empty())
                n.text().set(v.c_str());
            else
                n.attribute(attr.c_str()).set_value(v.c_str());
            n.remove_attribute(unit);
            (*done)[r.owner + "/" + r.path]++;
        }
    }
}

void strip_document(pugi::xml_node root, std::map<std::string, int>* done) {
    strip_units(root, done);
    for (auto d : root.child("devices").children())
        if (d.type() == pugi::node_element) strip_units(d, done);
}

void expect_same(const Object& a, const Object& b, const std::string& where) {
    EXPECT_EQ(a.fields, b.fields) << where;
    EXPECT_EQ(a.extra_xml, b.extra_xml) << where;
    ASSERT_EQ(a.children.size(), b.children.size()) << where;
    for (size_t i = 0; i < a.children.size(); ++i)
        expect_same(a.children[i], b.children[i], where + "/" + std::to_string(i));
}

} // namespace

TEST(Units, ScaledIntegersFollowLibvirt) {
    unsigned long long b = 0;
    EXPECT_TRUE(size_to_bytes("262144", "", 1024, &b));
    EXPECT_EQ(b, 262144ULL * 1024);
    EXPECT_TRUE(size_to_bytes("4", "M", 1, &b));
    EXPECT_EQ(b, 4ULL << 20);
    EXPECT_TRUE(size_to_bytes("4", "mib", 1, &b));
    EXPECT_EQ(b, 4ULL << 20);
    EXPECT_TRUE(size_to_bytes("4", "MB", 1024, &b));
    EXPECT_EQ(b, 4000000ULL);
    EXPECT_TRUE(size_to_bytes("7", "byte", 1024, &b));
    EXPECT_EQ(b, 7ULL);
    EXPECT_TRUE(size_to_bytes("1", "e", 1, &b));
    EXPECT_EQ(b, 1ULL << 60);
    EXPECT_FALSE(size_to_bytes("16", "e", 1, &b)) << "2^64 overflows";
    EXPECT_FALSE(size_to_bytes("1", "KiBB", 1, &b));
    EXPECT_FALSE(size_to_bytes("1", "x", 1, &b));
    EXPECT_FALSE(size_to_bytes("-1", "", 1, &b));
    EXPECT_FALSE(size_to_bytes("99999999999999999999", "", 1, &b));
}

TEST(Units, RulesCoverTypedAndResidueSizes) {
    std::set<std::string> have;
    for (const auto& r : size_rules()) have.insert(r.owner + "/" + r.path);
    for (const char* p :
         {"domain/memory", "domain/currentMemory", "domain/maxMemory", "domain/memtune/hard_limit",
          "domain/cpu/numa/cell/@memory", "domain/memoryBacking/hugepages/page/@size",
          "domain/features/smm/tseg", "memory/target/size", "memory/source/pagesize", "shmem/size",
          "controller/pcihole64", "disk/driver/metadata_cache/max_size", "volume/capacity",
          "volume/allocation", "filesystem/space_hard_limit"})
        EXPECT_TRUE(have.count(p)) << p;
    for (const auto& r : size_rules()) {
        if (r.path == "capacity" || r.path == "allocation" || r.owner == "shmem") {
            EXPECT_EQ(r.default_scale, 1u) << r.owner << "/" << r.path;
        }
        if (r.owner == "domain" && r.path.find("memory") != std::string::npos) {
            EXPECT_EQ(r.default_scale, 1024u) << r.path;
        }
    }
}

TEST(Units, MissingUnitIsLibvirtsDefault) {
    Object d = parse_xml("<domain type='kvm'><name>a</name><memory>262144</memory>"
                         "<currentMemory>131072</currentMemory><maxMemory slots='4'>1048576"
                         "</maxMemory><cpu><numa><cell id='0' cpus='0' memory='262144'/></numa>"
                         "</cpu><features><smm state='on'><tseg>48</tseg></smm></features>"
                         "<devices><shmem name='s'><size>4194304</size></shmem>"
                         "<controller type='pci' index='0' model='pci-root'><pcihole64>1048576"
                         "</pcihole64></controller></devices></domain>",
                         domain_kind());
    EXPECT_EQ(d.get("memory"), std::to_string(262144ULL * 1024));
    EXPECT_EQ(d.get("current_memory"), std::to_string(131072ULL * 1024));
    EXPECT_EQ(d.get("max_memory"), std::to_string(1048576ULL * 1024));
    EXPECT_NE(d.extra_xml.find("memory=\"262144\" unit=\"KiB\""), std::string::npos) << d.extra_xml;
    EXPECT_NE(d.extra_xml.find("<tseg unit=\"MiB\">48</tseg>"), std::string::npos) << d.extra_xml;
    ASSERT_EQ(d.children.size(), 2u);
    EXPECT_EQ(d.children[0].extra_xml, "<shmem><size unit=\"bytes\">4194304</size></shmem>");
    EXPECT_EQ(d.children[1].get("pcihole64"), std::to_string(1ULL << 30));

    // other units are converted, not left in the residue
    Object g = parse_xml("<domain><name>a</name><memory unit='GiB'>2</memory><devices><shmem "
                         "name='s'><size unit='M'>4</size></shmem></devices></domain>",
                         domain_kind());
    EXPECT_EQ(g.get("memory"), std::to_string(2ULL << 30));
    EXPECT_EQ(g.extra_xml, "");
    EXPECT_EQ(g.children[0].extra_xml, d.children[0].extra_xml);

    Object v = parse_xml("<volume><name>v</name><capacity>1073741824</capacity>"
                         "<allocation unit='k'>4</allocation></volume>",
                         volume_kind());
    EXPECT_EQ(v.get("capacity"), "1073741824");
    EXPECT_EQ(v.get("allocation"), "4096");

    // the spec's `xml:` fragments get the same treatment
    std::string r = merge_xml_fragment("", "shmem", "<size unit='M'>4</size>");
    EXPECT_EQ(r, d.children[0].extra_xml);

    // and the semantic comparison compares sizes by value
    EXPECT_TRUE(xml_equal("<domain><memory unit='MiB'>1</memory></domain>",
                          "<domain><memory>1024</memory></domain>"));
    EXPECT_FALSE(xml_equal("<domain><memory unit='MiB'>1</memory></domain>",
                           "<domain><memory>1025</memory></domain>"));
}

// Every corpus file rewritten without its unit attributes (values converted into the default
// unit) gives the same model as the original.
TEST(Units, CorpusWithoutUnitsGivesTheSameModel) {
    VMR_REQUIRE_CORPUS();
    auto files = corpus_files();
    ASSERT_EQ(files.size(), 1145u) << "corpus not found in " << fs::absolute(corpus_dir());
    std::map<std::string, int> done;
    int changed_files = 0;
    for (const auto& f : files) {
        std::string in = slurp(f);
        pugi::xml_document doc;
        ASSERT_TRUE(doc.load_string(in.c_str())) << f;
        size_t before = 0;
        for (auto& [k, n] : done) before += n;
        strip_document(doc.document_element(), &done);
        size_t after = 0;
        for (auto& [k, n] : done) after += n;
        if (after == before) continue;
        ++changed_files;
        std::string stripped = xml_string(doc.document_element());
        // every unit left is not a size's: a SCSI address unit, a NUMA interconnect bandwidth
        for (auto n : doc.select_nodes("//*[@unit]")) {
            std::string name = n.node().name(), parent = n.node().parent().name();
            EXPECT_TRUE(name == "address" || (parent == "interconnects" && name == "bandwidth"))
                << f.filename() << ": a size the rules miss: <" << parent << "><" << name << ">";
        }
        Object a = parse_xml(in, domain_kind());
        Object b = parse_xml(stripped, domain_kind());
        expect_same(a, b, f.filename().string());
        if (::testing::Test::HasFailure()) {
            ADD_FAILURE() << "first failing file: " << f.filename();
            return;
        }
    }
    for (auto& [k, n] : done) std::cout << "  rewritten without unit: " << n << "  " << k << "\n";
    EXPECT_GT(changed_files, 1000);
    for (const char* p :
         {"domain/memory", "domain/currentMemory", "domain/maxMemory",
          "domain/cpu/numa/cell/@memory", "domain/memoryBacking/hugepages/page/@size",
          "memory/target/size", "shmem/size", "controller/pcihole64"})
        EXPECT_GT(done[p], 0) << p << " never occurred with a unit in the corpus";
}

// virt-install and hand-written XML: import, validate and render without any unit attribute.
TEST(Units, ImportWithoutUnitsValidatesAndRendersTheRightSizes) {
    TempDir tmp_dir("vm-units-test-");
    fs::path tmp = tmp_dir.path();
    fs::path xml = tmp / "vi.xml";
    {
        std::ofstream o(xml);
        o << R"(<domain type="kvm">
  <name>vi-guest</name>
  <memory>262144</memory>
  <currentMemory>262144</currentMemory>
  <vcpu>1</vcpu>
  <os><type arch="x86_64" machine="pc">hvm</type><boot dev="hd"/></os>
  <cpu><numa><cell id="0" cpus="0" memory="262144"/></numa></cpu>
  <devices>
    <disk type="file" device="disk"><driver name="qemu" type="qcow2"/>
      <source file="/var/lib/libvirt/images/vi.qcow2"/><target dev="vda" bus="virtio"/></disk>
    <video><model type="qxl" ram="65536" vram="65536" vgamem="16384" heads="1"/></video>
    <shmem name="ivshmem0"><model type="ivshmem-plain"/><size>4194304</size></shmem>
  </devices>
</domain>
)";
    }
    fs::path out = tmp / "specs";
    int st = 0;
    std::string bin = VIRTUMANCER_BINARY;
    std::string log = run_shell(
        bin + " import --from-xml '" + xml.string() + "' --out '" + out.string() + "' 2>&1", &st);
    ASSERT_EQ(st, 0) << log;
    std::string yaml = slurp(out / "vi-guest.yaml");
    EXPECT_NE(yaml.find("memory: 256MiB"), std::string::npos) << yaml;
    log = run_shell(bin + " validate '" + out.string() + "' 2>&1", &st);
    EXPECT_EQ(st, 0) << log;
    std::string db = (tmp / "v.db").string();
    std::string rendered =
        run_shell(bin + " --db '" + db + "' render '" + out.string() + "' vi-guest 2>&1", &st);
    ASSERT_EQ(st, 0) << rendered;
    EXPECT_NE(rendered.find("<memory unit=\"KiB\">262144</memory>"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("<currentMemory unit=\"KiB\">262144</currentMemory>"),
              std::string::npos);
    EXPECT_NE(rendered.find("memory=\"262144\" unit=\"KiB\""), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("<size unit=\"bytes\">4194304</size>"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("vram=\"65536\""), std::string::npos) << rendered;
}
