// Volumes filled from an image `source`: validation with file:line:col, digests, formats by
// magic, the download cache (with a fake downloader), the plan of a source (create step, a
// changed source is a plan error), the applier's upload/verify/delete with fakes, and the
// record in the store.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "fake_hypervisor.hpp"
#include "test_support.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/image.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"
#include "virtumancer/xml_codec.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;

namespace {

const char* kSha256Abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const char* kSha512Abc =
    "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
    "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

std::string volume_doc(const std::string& extra) {
    return "kind: Host\nname: local\nuri: qemu:///system\n---\n"
           "kind: StoragePool\nname: p\nhost: local\npath: /srv/p\n---\n"
           "kind: Volume\nname: v\nhost: local\npool: p\ncapacity: 1MiB\n" +
           extra;
}

// The diagnostics at line:col of t.yaml.
std::string diag_at(const SpecLoadResult& r, int line, int col) {
    std::string s;
    for (const auto& d : r.diags.items())
        if (d.file == "t.yaml" && d.line == line && d.column == col) s += d.to_string() + "\n";
    return s;
}

std::string all(const SpecLoadResult& r) {
    std::string s;
    for (const auto& d : r.diags.items()) s += d.to_string() + "\n";
    return s;
}

} // namespace

TEST(ImageSpec, ValidSourcesAndChecksumsLoad) {
    for (const std::string& extra :
         {std::string("source: /srv/images/a.qcow2\n"), std::string("source: file:///srv/a.img\n"),
          "source: https://example.org/a.qcow2\nchecksum: " + std::string(kSha256Abc) + "\n",
          "source: http://127.0.0.1:8080/a.img\nchecksum: " + std::string(kSha512Abc) + "\n"}) {
        auto r = load_spec_text("t.yaml", volume_doc(extra));
        EXPECT_FALSE(r.diags.has_errors()) << extra << all(r);
        ASSERT_EQ(r.state.volumes.size(), 1u);
        EXPECT_FALSE(r.state.volumes[0].obj.get("source").empty());
    }
}

TEST(ImageSpec, BadSourcesAndChecksumsAreErrorsAtTheirPlace) {
    // The Volume document starts at line 10; its first extra key is at line 15.
    struct Case {
        std::string extra;
        int line, col;
        std::string text;
    } cases[] = {
        {"source: ftp://h/a.img\n", 15, 9, "unsupported scheme `ftp`"},
        {"source: images/a.img\n", 15, 9, "is a relative path"},
        {"source: file://a.img\n", 15, 9, "needs an absolute path"},
        {"source: https:///a.img\n", 15, 9, "names no host"},
        {"source: /a.img\nchecksum: md5:abc\n", 16, 11, "unknown algorithm `md5`"},
        {"source: /a.img\nchecksum: abcdef\n", 16, 11, "names no algorithm"},
        {"source: /a.img\nchecksum: sha256:abc\n", 16, 11, "sha256 needs 64 hex digits, got 3"},
        {"source: /a.img\nchecksum: sha256:" + std::string(64, 'g') + "\n", 16, 11,
         "(not all hex)"},
        {"checksum: " + std::string(kSha256Abc) + "\n", 15, 11, "has a checksum but no source"},
    };
    for (const auto& c : cases) {
        auto r = load_spec_text("t.yaml", volume_doc(c.extra));
        EXPECT_TRUE(r.diags.has_errors()) << c.extra;
        EXPECT_NE(diag_at(r, c.line, c.col).find(c.text), std::string::npos)
            << c.extra << "expected at " << c.line << ":" << c.col << ": " << c.text << "\ngot:\n"
            << all(r);
        EXPECT_NE(all(r).find("\n  hint: "), std::string::npos) << all(r);
    }
}

TEST(ImageSpec, SourceWithABackingStoreIsAnError) {
    std::string text = volume_doc("source: /a.qcow2\nbacking_volume: base\n") +
                       "---\nkind: Volume\nname: base\nhost: local\npool: p\ncapacity: 1MiB\n";
    auto r = load_spec_text("t.yaml", text);
    EXPECT_NE(diag_at(r, 15, 9).find("has both a source and backing_volume"), std::string::npos)
        << all(r);
}

TEST(ImageDigest, KnownBuffers) {
    EXPECT_EQ(image::digest_of("sha256", "abc"), kSha256Abc);
    EXPECT_EQ(image::digest_of("sha512", "abc"), kSha512Abc);
    // In pieces: the same digest; text() may be asked in between.
    image::Digest d("sha256");
    d.update("a", 1);
    EXPECT_NE(d.text(), kSha256Abc);
    d.update("bc", 2);
    EXPECT_EQ(d.text(), kSha256Abc);
    EXPECT_THROW(image::Digest("md5"), Error);
}

TEST(ImageDigest, ParseChecksum) {
    EXPECT_FALSE(image::parse_checksum(""));
    auto c = image::parse_checksum(std::string("sha256:") + std::string(64, 'A'));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->hex, std::string(64, 'a'));
    EXPECT_THROW(image::parse_checksum("sha256:abc"), Error);
    EXPECT_THROW(image::parse_checksum("crc32:" + std::string(64, 'a')), Error);
}

TEST(ImageFormat, DetectedByMagic) {
    std::string q("QFI\xfb\0\0\0\3", 8);
    q += std::string(16, '\0');
    q += std::string("\0\0\0\0\x04\0\0\0", 8); // 64 MiB, big-endian at offset 24
    EXPECT_EQ(image::detect_format(q), "qcow2");
    EXPECT_EQ(image::qcow2_virtual_size(q), 64ull << 20);
    EXPECT_EQ(image::detect_format(std::string(512, '\0')), "raw");
    EXPECT_EQ(image::qcow2_virtual_size(std::string(512, '\0')), 0u);
    EXPECT_EQ(image::detect_format("KDMV...."), "vmdk");
    EXPECT_EQ(image::detect_format("QFI"), "raw"); // too short to be qcow2
}

namespace {

// Serves bodies by URL and counts downloads.
class FakeDownloader : public image::Downloader {
  public:
    std::map<std::string, std::string> bodies;
    int downloads = 0;
    void download(const std::string& url, std::FILE* out,
                  const std::function<void(const char*, size_t)>& on_data) override {
        ++downloads;
        auto it = bodies.find(url);
        if (it == bodies.end()) throw Error("404 " + url);
        std::fwrite(it->second.data(), 1, it->second.size(), out);
        on_data(it->second.data(), it->second.size());
    }
};

std::string read_file(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

size_t files_in(const fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

} // namespace

TEST(ImageCache, MissDownloadsHitDoesNotAndADamagedEntryIsReplaced) {
    testing_util::TempDir tmp("vmr-image-cache-");
    FakeDownloader dl;
    dl.bodies["http://h/a.img"] = "abc";
    std::vector<std::string> warnings;
    image::FetchOptions o;
    o.cache_dir = tmp.file("cache");
    o.downloader = &dl;
    o.progress = nullptr;
    o.warn = [&](const std::string& w) { warnings.push_back(w); };

    auto f = image::fetch("http://h/a.img", kSha256Abc, o);
    EXPECT_EQ(dl.downloads, 1);
    EXPECT_TRUE(f.downloaded);
    EXPECT_FALSE(f.cache_hit);
    EXPECT_FALSE(f.temporary);
    EXPECT_EQ(f.path, tmp.file("cache") + "/sha256-" + std::string(kSha256Abc).substr(7));
    EXPECT_EQ(read_file(f.path), "abc");

    // Hit: the same checksum (any URL) is not downloaded again.
    auto g = image::fetch("http://h/a.img", kSha256Abc, o);
    EXPECT_EQ(dl.downloads, 1);
    EXPECT_TRUE(g.cache_hit);
    EXPECT_EQ(g.path, f.path);

    // A cached file that no longer matches is downloaded again (with a warning).
    std::ofstream(f.path, std::ios::binary) << "abX";
    auto h = image::fetch("http://h/a.img", kSha256Abc, o);
    EXPECT_EQ(dl.downloads, 2);
    EXPECT_FALSE(h.cache_hit);
    EXPECT_EQ(read_file(h.path), "abc");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("does not match"), std::string::npos);
    EXPECT_EQ(files_in(tmp.file("cache")), 1u);
}

TEST(ImageCache, WrongChecksumCachesNothingAndNoChecksumIsNotCached) {
    testing_util::TempDir tmp("vmr-image-cache-");
    FakeDownloader dl;
    dl.bodies["http://h/a.img"] = "abd";
    image::FetchOptions o;
    o.cache_dir = tmp.file("cache");
    o.downloader = &dl;
    o.progress = nullptr;
    std::vector<std::string> warnings;
    o.warn = [&](const std::string& w) { warnings.push_back(w); };
    try {
        image::fetch("http://h/a.img", kSha256Abc, o);
        ADD_FAILURE() << "a wrong checksum was accepted";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("has digest sha256:"), std::string::npos) << m;
        EXPECT_NE(m.find(kSha256Abc), std::string::npos) << m;
    }
    EXPECT_EQ(files_in(tmp.file("cache")), 0u); // no partial file, nothing cached

    auto f = image::fetch("http://h/a.img", "", o);
    EXPECT_TRUE(f.temporary);
    EXPECT_EQ(read_file(f.path), "abd");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("not cached"), std::string::npos);
    auto g = image::fetch("http://h/a.img", "", o);
    EXPECT_EQ(dl.downloads, 3); // no checksum: downloaded each time
    EXPECT_NE(f.path, g.path);

    // Local files are used where they are; a missing one is an error.
    std::string local = tmp.write("img.raw", "abc");
    EXPECT_EQ(image::fetch(local, "", o).path, local);
    EXPECT_EQ(image::fetch("file://" + local, "", o).path, local);
    EXPECT_THROW(image::fetch(tmp.file("missing.raw"), "", o), Error);
    EXPECT_EQ(dl.downloads, 3);
}

TEST(ImageCache, DefaultDirFollowsXdgCacheHome) {
    const char* old = std::getenv("XDG_CACHE_HOME");
    std::string keep = old ? old : "";
    setenv("XDG_CACHE_HOME", "/tmp/xdg-x", 1);
    EXPECT_EQ(image::default_cache_dir(), "/tmp/xdg-x/virtumancer/images");
    unsetenv("XDG_CACHE_HOME");
    if (const char* home = std::getenv("HOME")) {
        EXPECT_EQ(image::default_cache_dir(), std::string(home) + "/.cache/virtumancer/images");
    }
    if (old) setenv("XDG_CACHE_HOME", keep.c_str(), 1);
}

TEST(ImageProgress, ThrottledNotPerChunk) {
    std::FILE* f = std::tmpfile();
    image::ProgressLine line("uploading", 1000, f, std::chrono::milliseconds(60000));
    for (int i = 0; i < 1000; ++i) line.add(1);
    line.done();
    EXPECT_EQ(line.lines_written(), 1); // only the final line within the interval
    std::rewind(f);
    char buf[256] = {0};
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string s(buf, n);
    EXPECT_NE(s.find("uploading: 1000 B of 1000 B, "), std::string::npos) << s;
    EXPECT_NE(s.find("/s"), std::string::npos) << s;
}

// ---- plan ----

namespace {

DesiredState desired_with_source(const std::string& source, const std::string& checksum = "") {
    DesiredState d;
    d.hosts.push_back({"local", "qemu:///system", "", {}});
    Spec p;
    p.host = "local";
    p.obj = parse_xml("<pool type='dir'><name>p</name><target><path>/var/lib/libvirt/images/p"
                      "</path></target></pool>",
                      pool_kind());
    d.pools.push_back(p);
    Spec v;
    v.host = "local";
    v.obj.kind = &volume_kind();
    v.obj.fields = {{"name", "v.qcow2"},
                    {"pool", "p"},
                    {"capacity", "1048576"},
                    {"format", "qcow2"},
                    {"source", source}};
    if (!checksum.empty()) v.obj.fields["checksum"] = checksum;
    d.volumes.push_back(v);
    return d;
}

ObservedHost observed(bool with_volume) {
    ObservedHost h;
    h.host = "local";
    h.uri = "qemu:///system";
    h.reachable = true;
    h.pools.push_back({"p",
                       "<pool type='dir'><name>p</name><target><path>/var/lib/libvirt/images/p"
                       "</path></target></pool>",
                       true,
                       true,
                       {}});
    if (with_volume)
        h.pools[0].volumes.push_back(
            {"p", "v.qcow2",
             "<volume type='file'><name>v.qcow2</name><capacity unit='bytes'>1048576</capacity>"
             "<target><path>/var/lib/libvirt/images/p/v.qcow2</path><format type='qcow2'/>"
             "</target></volume>",
             ""});
    return h;
}

} // namespace

TEST(ImagePlan, CreateCarriesTheSourceAndShowsIt) {
    Plan p = make_plan(desired_with_source("http://h/a.qcow2", kSha256Abc), {observed(false)}, {});
    ASSERT_EQ(p.steps.size(), 1u);
    const auto& c = std::get<VolumeCreate>(p.steps[0].payload);
    EXPECT_EQ(c.source, "http://h/a.qcow2");
    EXPECT_EQ(c.checksum, kSha256Abc);
    EXPECT_EQ(c.volume, "v.qcow2");
    EXPECT_EQ(c.format, "qcow2");
    EXPECT_EQ(c.capacity, 1048576u);
    EXPECT_EQ(c.xml.find("source"), std::string::npos) << c.xml; // not libvirt XML
    bool shown = false;
    for (const auto& df : p.changes.at(0).diffs)
        shown |= df.field == "source" && df.after == c.source;
    EXPECT_TRUE(shown);
    // The saved plan keeps it.
    Plan back = plan_from_json(plan_to_json(p));
    const auto& b = std::get<VolumeCreate>(back.steps[0].payload);
    EXPECT_EQ(b.source, c.source);
    EXPECT_EQ(b.checksum, c.checksum);
    EXPECT_EQ(b.capacity, c.capacity);
}

TEST(ImagePlan, RecordedSourceIsNoChangeAndAChangedOneIsAPlanError) {
    DesiredState d = desired_with_source("http://h/a.qcow2", kSha256Abc);
    d.volume_sources[volume_source_key("local", "p", "v.qcow2")] = {"http://h/a.qcow2", kSha256Abc,
                                                                    kSha256Abc};
    Plan same = make_plan(d, {observed(true)}, {});
    EXPECT_TRUE(same.steps.empty());
    EXPECT_TRUE(same.blocked.empty());
    EXPECT_TRUE(same.changes.empty());

    DesiredState moved = d;
    moved.volumes[0].obj.fields["source"] = "http://h/b.qcow2";
    Plan p = make_plan(moved, {observed(true)}, {});
    EXPECT_TRUE(p.steps.empty()); // never a re-upload
    ASSERT_EQ(p.blocked.size(), 1u);
    EXPECT_NE(p.blocked[0].reason.find("was filled from `http://h/a.qcow2`"), std::string::npos)
        << p.blocked[0].reason;
    EXPECT_NE(p.blocked[0].reason.find("Remedy: give the volume a new name"), std::string::npos);

    DesiredState resummed = d;
    resummed.volumes[0].obj.fields["checksum"] = std::string("sha256:") + std::string(64, '0');
    Plan q = make_plan(resummed, {observed(true)}, {});
    ASSERT_EQ(q.blocked.size(), 1u);
    EXPECT_NE(q.blocked[0].reason.find("the spec's checksum is sha256:000"), std::string::npos);

    // A volume virtumancer did not fill: a source cannot be claimed for it.
    DesiredState unknown = desired_with_source("http://h/a.qcow2");
    Plan u = make_plan(unknown, {observed(true)}, {});
    ASSERT_EQ(u.blocked.size(), 1u);
    EXPECT_NE(u.blocked[0].reason.find("was not filled from"), std::string::npos);

    // The source dropped from the spec: the data stays, nothing to do.
    DesiredState dropped = d;
    dropped.volumes[0].obj.fields.erase("source");
    dropped.volumes[0].obj.fields.erase("checksum");
    Plan n = make_plan(dropped, {observed(true)}, {});
    EXPECT_TRUE(n.blocked.empty());
    EXPECT_TRUE(n.steps.empty());
}

// ---- apply (fakes) and the record in the store ----

namespace {

class BufferImage : public ImageReader {
  public:
    BufferImage(std::string data, std::string format, unsigned long long vsize)
        : data_(std::move(data)), format_(std::move(format)), vsize_(vsize), digest_("sha256") {}
    unsigned long long size() const override { return data_.size(); }
    std::string format() const override { return format_; }
    unsigned long long virtual_size() const override { return vsize_ ? vsize_ : data_.size(); }
    size_t read(char* buf, size_t n) override {
        size_t k = std::min(n, data_.size() - pos_);
        std::memcpy(buf, data_.data() + pos_, k);
        pos_ += k;
        digest_.update(buf, k);
        return k;
    }
    std::string digest() const override { return digest_.text(); }

  private:
    std::string data_, format_;
    unsigned long long vsize_;
    size_t pos_ = 0;
    image::Digest digest_;
};

class FakeImages : public ImageSource {
  public:
    std::string data = "abc", format = "raw";
    std::unique_ptr<ImageReader> open(const std::string&, const std::string&,
                                      const std::string&) override {
        return std::make_unique<BufferImage>(data, format, 0);
    }
};

struct ApplyFixture {
    testing_util::TempDir tmp{"vmr-image-apply-"};
    std::unique_ptr<Database> db = Database::open(tmp.file("t.db"));
    Store store{*db};
    virtumancer::testing::FakeHypervisor hv;
    virtumancer::testing::FakeConnector conn{hv};
    virtumancer::testing::EventLog log;
    FakeImages images;
    ApplyOptions opts;

    ApplyResult apply(const std::string& checksum, unsigned long long capacity = 1048576) {
        Plan p;
        Step s;
        s.id = 1;
        s.host = "local";
        s.kind = "volume";
        s.name = "p/v.raw";
        s.change = "local/volume/p/v.raw";
        s.payload = VolumeCreate{"p",
                                 "<volume><name>v.raw</name><capacity unit='bytes'>1048576"
                                 "</capacity><target><format type='raw'/></target></volume>",
                                 "/img/a.raw",
                                 checksum,
                                 "v.raw",
                                 "raw",
                                 capacity};
        p.steps.push_back(s);
        opts.actor = "t";
        opts.images = &images;
        return apply_plan(p, conn, store, opts, log);
    }
    std::vector<std::string> calls() {
        std::vector<std::string> out;
        for (const auto& c : hv.calls()) out.push_back(c.what);
        return out;
    }
};

} // namespace

TEST(ImageApply, UploadsVerifiesGrowsAndRecords) {
    ApplyFixture f;
    ApplyResult r = f.apply(kSha256Abc);
    ASSERT_TRUE(r.ok()) << r.steps[0].error;
    EXPECT_EQ(f.calls(), (std::vector<std::string>{"create_volume p", "upload_volume p/v.raw",
                                                   "resize_volume p/v.raw"}));
    EXPECT_EQ(f.hv.uploaded["p/v.raw"], "abc");
    // Created at the image's size, then grown.
    EXPECT_NE(f.hv.calls()[0].arg.find(">3</capacity>"), std::string::npos) << f.hv.calls()[0].arg;
    EXPECT_EQ(f.hv.calls()[2].arg, "1048576");
    DesiredState d = f.store.load_desired();
    auto it = d.volume_sources.find(volume_source_key("local", "p", "v.raw"));
    ASSERT_NE(it, d.volume_sources.end());
    EXPECT_EQ(it->second.source, "/img/a.raw");
    EXPECT_EQ(it->second.digest, kSha256Abc);
    // Forgotten when the volume is deleted.
    f.store.forget_volume_source("local", "p", "v.raw");
    EXPECT_TRUE(f.store.load_desired().volume_sources.empty());
}

TEST(ImageApply, ChecksumMismatchFailsNamesBothDigestsAndDeletesTheVolume) {
    ApplyFixture f;
    std::string wrong = std::string("sha256:") + std::string(64, 'f');
    ApplyResult r = f.apply(wrong);
    ASSERT_FALSE(r.ok());
    const std::string& e = r.steps[0].error;
    EXPECT_NE(e.find("checksum mismatch for volume p/v.raw"), std::string::npos) << e;
    EXPECT_NE(e.find(kSha256Abc), std::string::npos) << e;
    EXPECT_NE(e.find(wrong), std::string::npos) << e;
    EXPECT_NE(e.find("was deleted"), std::string::npos) << e;
    EXPECT_EQ(f.calls(), (std::vector<std::string>{"create_volume p", "upload_volume p/v.raw",
                                                   "delete_volume p/v.raw"}));
    EXPECT_TRUE(f.hv.uploaded.empty());
    EXPECT_TRUE(f.store.load_desired().volume_sources.empty()); // nothing recorded
}

TEST(ImageApply, FormatMismatchAndTooSmallCapacityCreateNothing) {
    ApplyFixture f;
    f.images.format = "qcow2";
    ApplyResult r = f.apply("");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.steps[0].error.find("is qcow2 but volume p/v.raw is raw"), std::string::npos)
        << r.steps[0].error;
    EXPECT_NE(r.steps[0].error.find("set `format: qcow2`"), std::string::npos);
    EXPECT_TRUE(f.calls().empty());

    ApplyFixture g;
    ApplyResult s = g.apply("", 2);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.steps[0].error.find("raise the volume's capacity to at least 3"), std::string::npos)
        << s.steps[0].error;
    EXPECT_TRUE(g.calls().empty());
}

TEST(ImageApply, DeletingTheVolumeForgetsWhatWasUploaded) {
    ApplyFixture f;
    ASSERT_TRUE(f.apply(kSha256Abc).ok());
    ASSERT_EQ(f.store.load_desired().volume_sources.size(), 1u);
    Plan p;
    Step s;
    s.id = 1;
    s.host = "local";
    s.kind = "volume";
    s.name = "p/v.raw";
    s.change = "local/volume/p/v.raw";
    s.payload = VolumeDelete{"p", "v.raw"};
    p.steps.push_back(s);
    ApplyResult r = apply_plan(p, f.conn, f.store, f.opts, f.log);
    ASSERT_TRUE(r.ok()) << r.steps[0].error;
    EXPECT_TRUE(f.store.load_desired().volume_sources.empty());
}
