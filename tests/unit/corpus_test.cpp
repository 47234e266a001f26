// Round-trip over libvirt's own canonical domain XML corpus: XML -> model -> XML.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

fs::path corpus_dir() {
    if (const char* env = std::getenv("VIRTUMANCER_CORPUS")) return env;
    return fs::path(VIRTUMANCER_SOURCE_DIR) / ".." / "shared" / "corpus" / "libvirt-11.3.0";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

TEST(Corpus, XmlModelXmlIsLossless) {
    fs::path dir = corpus_dir();
    ASSERT_TRUE(fs::is_directory(dir))
        << "corpus not found: looked in " << fs::absolute(dir)
        << " (set VIRTUMANCER_CORPUS to the libvirt-11.3.0 directory)";
    int files = 0, failed = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".xml") continue;
        ++files;
        std::string in = slurp(e.path());
        std::string why;
        try {
            Object o = parse_xml(in, domain_kind());
            std::string out = render_xml(o);
            if (!xml_equal(in, out, &why)) {
                ++failed;
                ADD_FAILURE() << e.path().filename() << ": " << why;
            }
        } catch (const std::exception& ex) {
            ++failed;
            ADD_FAILURE() << e.path().filename() << ": " << ex.what();
        }
    }
    std::cout << "corpus: " << files << " files, " << files - failed << " round-trip\n";
    EXPECT_EQ(files, 1145);
    EXPECT_EQ(failed, 0);
}
