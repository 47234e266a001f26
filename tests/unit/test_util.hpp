// Shared helpers of the unit tests: where the libvirt corpus is, reading files.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace virtumancer::testing_util {

// $VIRTUMANCER_CORPUS, else ../shared/corpus/libvirt-11.3.0 beside the project, else the
// workplace's /work/shared copy (a clone made elsewhere, e.g. in /tmp).
inline std::filesystem::path corpus_dir() {
    if (const char* env = std::getenv("VIRTUMANCER_CORPUS")) return env;
    auto beside = std::filesystem::path(VIRTUMANCER_SOURCE_DIR) / ".." / "shared" / "corpus" /
                  "libvirt-11.3.0";
    std::filesystem::path workplace = "/work/shared/corpus/libvirt-11.3.0";
    if (!std::filesystem::is_directory(beside) && std::filesystem::is_directory(workplace))
        return workplace;
    return beside;
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every *.xml of the corpus, sorted; empty when the corpus is absent (tests then fail on the
// count with a message naming corpus_dir()).
inline std::vector<std::filesystem::path> corpus_files() {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::is_directory(corpus_dir())) return out;
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir()))
        if (e.path().extension() == ".xml") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace virtumancer::testing_util
