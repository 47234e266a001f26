// Volumes filled from an image on the real libvirtd: an image served over HTTP by a tiny
// HTTP/1.0 server on 127.0.0.1 (in this process) and a local qcow2 file are uploaded with
// virStorageVolUpload, verified, grown to capacity and read back equal; the download cache
// is hit the second time; a wrong checksum leaves no volume; a second apply has nothing to do;
// a changed source is a plan error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <random>

#include "apply_e2e_util.hpp"
#include "virtumancer/image.hpp"

namespace {

using namespace apply_e2e;
using virtumancer::image::digest_of;

const std::string kPrefix = "vmr-e2e-img-";
const std::string kPool = "vmr-e2e-img-pool";
const std::string kPoolDir = "/var/lib/libvirt/images/vmr-e2e-img-pool";

// Serves files by path ("/a.raw" -> bytes) over HTTP/1.0 on 127.0.0.1, one connection at a
// time, and counts the requests for each path.
class TinyHttpServer {
  public:
    std::map<std::string, std::string> files;

    TinyHttpServer() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 8) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~TinyHttpServer() { stop(); }
    void start() {
        thread_ = std::thread([this] { loop(); });
    }
    void stop() {
        if (stopping_.exchange(true)) return;
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        if (thread_.joinable()) thread_.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int requests(const std::string& path) {
        std::lock_guard<std::mutex> l(mu_);
        return hits_[path];
    }

  private:
    void loop() {
        while (!stopping_) {
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) {
                if (stopping_) return;
                continue;
            }
            std::string req;
            char buf[1024];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                req.append(buf, static_cast<size_t>(n));
            }
            std::string path;
            if (req.rfind("GET ", 0) == 0) path = req.substr(4, req.find(' ', 4) - 4);
            {
                std::lock_guard<std::mutex> l(mu_);
                ++hits_[path];
            }
            auto it = files.find(path);
            std::string resp;
            if (it == files.end())
                resp = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            else
                resp = "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: " +
                       std::to_string(it->second.size()) + "\r\n\r\n" + it->second;
            size_t off = 0;
            while (off < resp.size()) {
                ssize_t n = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
                if (n <= 0) break;
                off += static_cast<size_t>(n);
            }
            close(c);
        }
    }
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::mutex mu_;
    std::map<std::string, int> hits_;
};

std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

std::string pseudo_random(size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(g() & 0xff);
    return s;
}

std::string volume_yaml(const std::string& name, const std::string& format,
                        const std::string& source, const std::string& checksum,
                        const std::string& capacity = "8MiB") {
    std::string y = "---\nkind: Volume\nname: " + name + "\nhost: local\npool: " + kPool +
                    "\ncapacity: " + capacity + "\nformat: " + format + "\nsource: " + source +
                    "\n";
    if (!checksum.empty()) y += "checksum: " + checksum + "\n";
    return y;
}

class ImageVolumes : public OwnedObjectsTest {
  protected:
    ImageVolumes() : OwnedObjectsTest(kPrefix, kPoolDir) {}
    void SetUp() override {
        OwnedObjectsTest::SetUp();
        if (IsSkipped()) return;
        const char* old = std::getenv("XDG_CACHE_HOME");
        had_cache_ = old != nullptr;
        if (old) old_cache_ = old;
        setenv("XDG_CACHE_HOME", dir_.file("cache").c_str(), 1); // inherited by the binary
    }
    void TearDown() override {
        if (had_cache_)
            setenv("XDG_CACHE_HOME", old_cache_.c_str(), 1);
        else
            unsetenv("XDG_CACHE_HOME");
        OwnedObjectsTest::TearDown();
    }
    void write(const std::string& volumes) {
        dir_.write("specs/infra.yaml",
                   "kind: Host\nname: local\nuri: qemu:///system\n---\nkind: StoragePool\n"
                   "name: " +
                       kPool + "\nhost: local\ntype: dir\npath: " + kPoolDir + "\n" + volumes);
    }
    Result apply() { return vm(db_, "apply --auto-approve " + quote(dir_.file("specs"))); }
    std::string download(const std::string& vol) {
        std::string out = dir_.file("back-" + vol);
        Result r = sh("virsh -c qemu:///system vol-download --pool " + kPool + " " + vol + " " +
                      quote(out));
        EXPECT_EQ(r.code, 0) << r.out;
        return out;
    }
    unsigned long long capacity(const std::string& vol) {
        std::string x = virsh("vol-dumpxml --pool " + kPool + " " + vol);
        auto b = x.find("<capacity unit='bytes'>");
        if (b == std::string::npos) return 0;
        return std::stoull(x.substr(b + 23));
    }
    bool in_pool(const std::string& vol) {
        return contains(virsh("vol-list --pool " + kPool), vol);
    }
    bool had_cache_ = false;
    std::string old_cache_;
};

TEST_F(ImageVolumes, HttpAndFileUploadedVerifiedGrownCachedAndNeverReuploaded) {
    if (sh("command -v qemu-img").code != 0) GTEST_SKIP() << "qemu-img (qemu-utils) is missing";
    const size_t kRaw = 3u << 20; // 3 MiB
    std::string raw = pseudo_random(kRaw, 7);
    std::string raw_sum = digest_of("sha256", raw);
    TinyHttpServer http;
    http.files["/a.raw"] = raw;
    http.files["/b.raw"] = pseudo_random(kRaw, 8);
    http.start();

    // A qcow2 image (2 MiB of data in a 4 MiB disk), made by qemu-img from a raw file.
    std::string qsrc = dir_.write("q-src.raw", pseudo_random(2u << 20, 9));
    ASSERT_EQ(sh("truncate -s 4M " + quote(qsrc)).code, 0);
    std::string qimg = dir_.file("q.qcow2");
    Result qi = sh("qemu-img convert -f raw -O qcow2 " + quote(qsrc) + " " + quote(qimg));
    ASSERT_EQ(qi.code, 0) << qi.out;
    std::string q_sum = digest_of("sha512", slurp(qimg));

    const std::string vh = kPrefix + "http.raw", vf = kPrefix + "file.qcow2";
    const std::string vols = volume_yaml(vh, "raw", http.url("/a.raw"), raw_sum) +
                             volume_yaml(vf, "qcow2", "file://" + qimg, q_sum);
    write(vols);
    Result r = apply();
    ASSERT_EQ(r.code, 0) << r.out;
    // Progress lines with bytes and rate.
    EXPECT_TRUE(
        contains(r.out, "uploading into volume " + kPool + "/" + vh + ": 3.0 MiB of 3.0 MiB"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "MiB/s")) << r.out;
    EXPECT_EQ(http.requests("/a.raw"), 1);

    // The raw volume: the image's bytes, then zeros up to its capacity.
    EXPECT_EQ(capacity(vh), 8u << 20);
    std::string back = slurp(download(vh));
    ASSERT_EQ(back.size(), 8u << 20);
    EXPECT_EQ(digest_of("sha256", back.substr(0, kRaw)), raw_sum);
    EXPECT_EQ(back.find_first_not_of('\0', kRaw), std::string::npos);
    // The qcow2 volume: the same guest-visible content, grown to 8 MiB.
    EXPECT_EQ(capacity(vf), 8u << 20);
    std::string qback = download(vf);
    Result cmp = sh("qemu-img compare -f qcow2 -F qcow2 " + quote(qimg) + " " + quote(qback));
    EXPECT_EQ(cmp.code, 0) << cmp.out;
    EXPECT_TRUE(contains(sh("qemu-img info " + quote(qback)).out, "virtual size: 8 MiB"));
    // Recorded with what was uploaded; cached by checksum.
    std::string rows = sql(db_, "SELECT volume, digest FROM volume_sources ORDER BY volume");
    EXPECT_TRUE(contains(rows, vf + "|" + q_sum)) << rows;
    EXPECT_TRUE(contains(rows, vh + "|" + raw_sum)) << rows;
    EXPECT_TRUE(fs::exists(dir_.file("cache") + "/virtumancer/images/sha256-" + raw_sum.substr(7)));

    // The law: nothing left to do.
    Result p = vm(db_, "plan --detailed-exitcode");
    EXPECT_EQ(p.code, 0) << p.out;
    Result again = apply();
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_FALSE(contains(again.out, "uploading")) << again.out;

    // A wrong checksum: refused, and no volume is left in the pool.
    const std::string vbad = kPrefix + "bad.raw";
    std::string local = dir_.write("local.raw", pseudo_random(1u << 20, 10));
    write(vols + volume_yaml(vbad, "raw", local, "sha256:" + std::string(64, '0')));
    Result bad = apply();
    EXPECT_NE(bad.code, 0) << bad.out;
    EXPECT_TRUE(contains(bad.out, "checksum mismatch for volume " + kPool + "/" + vbad)) << bad.out;
    EXPECT_TRUE(contains(bad.out, digest_of("sha256", slurp(local)))) << bad.out;
    EXPECT_FALSE(in_pool(vbad)) << virsh("vol-list --pool " + kPool);
    EXPECT_FALSE(contains(sql(db_, "SELECT volume FROM volume_sources"), vbad));
    // The volumes made before are untouched.
    EXPECT_EQ(digest_of("sha256", slurp(download(vh)).substr(0, kRaw)), raw_sum);

    // Another volume from the same URL and checksum: from the cache, no new request.
    const std::string vh2 = kPrefix + "http2.raw";
    write(vols + volume_yaml(vh2, "raw", http.url("/a.raw"), raw_sum, "4MiB"));
    Result cached = apply();
    ASSERT_EQ(cached.code, 0) << cached.out;
    EXPECT_TRUE(contains(cached.out, "using the cached image")) << cached.out;
    EXPECT_EQ(http.requests("/a.raw"), 1);
    EXPECT_EQ(digest_of("sha256", slurp(download(vh2)).substr(0, kRaw)), raw_sum);

    // A changed source of an existing volume: a plan error, never a re-upload.
    write(volume_yaml(vh, "raw", http.url("/b.raw"), "") +
          volume_yaml(vf, "qcow2", "file://" + qimg, q_sum) +
          volume_yaml(vh2, "raw", http.url("/a.raw"), raw_sum, "4MiB"));
    Result changed = vm(db_, "plan " + quote(dir_.file("specs")));
    EXPECT_NE(changed.code, 0) << changed.out;
    EXPECT_TRUE(contains(changed.out, "was filled from `" + http.url("/a.raw") + "`"))
        << changed.out;
    EXPECT_TRUE(contains(changed.out, "give the volume a new name")) << changed.out;
    Result refused = apply();
    EXPECT_NE(refused.code, 0) << refused.out;
    EXPECT_EQ(http.requests("/b.raw"), 0);
    EXPECT_EQ(digest_of("sha256", slurp(download(vh)).substr(0, kRaw)), raw_sum); // data kept
}

} // namespace
