// The corpus through the database: XML -> model -> save_desired -> load_desired -> XML, for
// every domain of libvirt's own test corpus. One host per file, because corpus files share
// MAC addresses and UUIDs (unique per host in the schema), and all VMs in one save. (Five
// domains give two NICs one MAC, a failover pair: allowed within one VM since migration 0003.)
#include <algorithm>
#include <chrono>
#include <map>

#include "store_test_util.hpp"
#include "test_support.hpp"

using namespace virtumancer;
using namespace virtumancer::testing_util;
using namespace store_test;

class StoreCorpus : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(StoreCorpus);

TEST_P(StoreCorpus, EveryCorpusDomainRoundTripsThroughTheDatabase) {
    VMR_REQUIRE_CORPUS();
    fs::path dir = corpus_dir();
    ASSERT_TRUE(fs::is_directory(dir))
        << "corpus not found: " << fs::absolute(dir) << " (set VIRTUMANCER_CORPUS)";
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".xml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    ASSERT_EQ(files.size(), 1145u);

    SpecLoadResult load;
    std::map<std::string, std::pair<fs::path, std::string>> input; // host -> file, xml
    for (size_t i = 0; i < files.size(); ++i) {
        std::string h = "h" + std::to_string(i);
        std::string xml = slurp(files[i]);
        load.state.hosts.push_back(host(h));
        load.state.vms.push_back(vm_from_xml(h, xml));
        input[h] = {files[i], xml};
    }
    auto db = Database::open(target("corpus.db"));
    Store store(*db);
    auto t0 = std::chrono::steady_clock::now();
    LoadSummary sum;
    try {
        sum = store.save_desired(load, "corpus", "test", {dir.string()});
    } catch (const Error& e) {
        FAIL() << e.what();
    }
    auto t1 = std::chrono::steady_clock::now();
    int n = static_cast<int>(load.state.vms.size());
    EXPECT_EQ(sum.inserted, 2 * n); // hosts + VMs
    EXPECT_EQ(sum.updated, 0);

    std::vector<std::string> pending;
    DesiredState out = store.load_desired(&pending);
    auto t2 = std::chrono::steady_clock::now();
    EXPECT_TRUE(pending.empty());
    ASSERT_EQ(out.vms.size(), files.size());
    int ok = 0;
    for (const auto& vm : out.vms) {
        const auto& [path, xml] = input.at(vm.host);
        std::string why;
        std::string rendered;
        try {
            rendered = render_xml(vm.obj);
        } catch (const std::exception& e) {
            ADD_FAILURE() << path.filename() << ": render failed: " << e.what();
            continue;
        }
        if (xml_equal(xml, rendered, &why))
            ++ok;
        else
            ADD_FAILURE() << path.filename() << ": " << why;
    }
    std::cout << "store corpus: " << files.size() << " files, " << ok
              << " identical after the database; save "
              << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()
              << " ms, load "
              << std::chrono::duration_cast<std::chrono::milliseconds>(t2 - t1).count() << " ms\n";
    EXPECT_EQ(ok, n);

    // The same specs again: nothing is written.
    auto again = store.save_desired(load, "corpus", "test", {dir.string()});
    EXPECT_EQ(again.inserted, 0);
    EXPECT_EQ(again.updated, 0);
    EXPECT_EQ(again.marked_for_deletion, 0);
    EXPECT_EQ(again.unchanged, 2 * n);
    EXPECT_TRUE(db->check().empty());
}
