// Images for volumes filled from a `source`: checksums (digests: digest.hpp), the image format
// from its magic, the download cache on the machine running virtumancer and HTTP downloads
// (libcurl). An I/O layer of its own (cmake/layers.cmake): the planner never links it; the
// applier reaches it only through its ImageSource interface, which the cli implements with it.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "virtumancer/digest.hpp"

namespace virtumancer::image {

// A spec checksum "sha256:HEX" / "sha512:HEX" (hex lower-cased). std::nullopt for "";
// throws Error on anything else.
struct Checksum {
    std::string algo, hex;
    std::string text() const { return algo + ":" + hex; }
};
std::optional<Checksum> parse_checksum(const std::string& spec);

using virtumancer::Digest;
using virtumancer::digest_of;
using virtumancer::digest_of_file;

// The format an image's first bytes show: "qcow2", "qed", "vmdk", "vdi", "vhdx", or "raw"
// (anything else: an ISO, a disk image, a file system). `head`: at least 512 bytes when the
// file has them.
std::string detect_format(std::string_view head);
// The disk size a qcow2 header declares (bytes), 0 when `head` is not qcow2.
uint64_t qcow2_virtual_size(std::string_view head);

// A throttled progress line: "LABEL: 12.0 MiB of 40.0 MiB, 3.1 MiB/s" at most every
// `interval`, and once at the end (`done`). Writes to `out` (stderr by default); on a
// terminal it rewrites one line, otherwise it writes a line each time.
class ProgressLine {
  public:
    ProgressLine(std::string label, uint64_t total, std::FILE* out = stderr,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    void add(uint64_t n);
    void done();
    int lines_written() const { return lines_; }
    static std::string human(double bytes); // "12.0 MiB"

  private:
    void print(bool last);
    std::string label_;
    uint64_t total_, bytes_ = 0;
    std::FILE* out_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point start_, last_;
    bool tty_, finished_ = false;
    int lines_ = 0;
};

// The cache directory: $XDG_CACHE_HOME/virtumancer/images, else ~/.cache/virtumancer/images.
std::string default_cache_dir();

// Writes a URL's body into a file (the HTTP layer, behind an interface so the cache logic is
// tested without a network). `on_data` sees every piece as it is written.
class Downloader {
  public:
    virtual ~Downloader() = default;
    virtual void download(const std::string& url, std::FILE* out,
                          const std::function<void(const char*, size_t)>& on_data) = 0;
};
// libcurl: http and https only, redirects followed, fails on HTTP errors and on a transfer
// that stalls for 60 s.
std::unique_ptr<Downloader> curl_downloader();

// A local file holding the image of a source.
struct Fetched {
    std::string path;
    bool temporary = false; // a download without a checksum: remove it after use
    bool cache_hit = false; // found in the cache with the right digest: nothing downloaded
    bool downloaded = false;
};

struct FetchOptions {
    std::string cache_dir;                        // default_cache_dir() when empty
    Downloader* downloader = nullptr;             // curl_downloader() when null
    std::function<void(const std::string&)> warn; // warnings (stderr when empty)
    std::FILE* progress = stderr;                 // the progress line (null: none)
};

// The local file for `source` (an absolute path, file:// or http(s):// URL). A local file is
// used where it is (its digest is checked while it is uploaded). An http(s) source with a
// checksum goes to the cache as CACHE/ALGO-HEX: a cached file whose digest matches is used
// without downloading; otherwise it is downloaded (hashed as it arrives), and a digest other
// than the checksum is an error (nothing cached). Without a checksum the download is a
// temporary file in the cache directory, not kept (a warning says so): a URL's content can
// change, so only a digest can name it.
Fetched fetch(const std::string& source, const std::string& checksum, const FetchOptions& o);

// The local path of an absolute path or file:// URL ("" for http(s) URLs).
std::string local_path(const std::string& source);

} // namespace virtumancer::image
