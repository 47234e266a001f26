// The image cache on the machine running virtumancer, fetching a source into it, and the
// progress line of downloads and uploads.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "virtumancer/diag.hpp"
#include "virtumancer/image.hpp"

namespace virtumancer::image {

namespace fs = std::filesystem;

ProgressLine::ProgressLine(std::string label, uint64_t total, std::FILE* out,
                           std::chrono::milliseconds interval)
    : label_(std::move(label)), total_(total), out_(out), interval_(interval),
      start_(std::chrono::steady_clock::now()), last_(start_),
      tty_(out && isatty(fileno(out)) != 0) {}

std::string ProgressLine::human(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
    return buf;
}

void ProgressLine::add(uint64_t n) {
    bytes_ += n;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ >= interval_) {
        last_ = now;
        print(false);
    }
}

void ProgressLine::done() {
    if (finished_) return;
    finished_ = true;
    print(true);
}

void ProgressLine::print(bool last) {
    if (!out_) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = secs > 0 ? static_cast<double>(bytes_) / secs : 0;
    std::string line = label_ + ": " + human(static_cast<double>(bytes_));
    if (total_ > 0) line += " of " + human(static_cast<double>(total_));
    line += ", " + human(rate) + "/s";
    if (last) {
        char t[32];
        std::snprintf(t, sizeof t, " (%.1f s)", secs);
        line += t;
    }
    if (tty_)
        std::fprintf(out_, "\r\033[K%s%s", line.c_str(), last ? "\n" : "");
    else
        std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
    ++lines_;
}

std::string default_cache_dir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg == '/') return std::string(xdg) + "/virtumancer/images";
    const char* home = std::getenv("HOME");
    if (!home || !*home)
        throw Error("cannot find a cache directory for downloaded images: neither "
                    "XDG_CACHE_HOME nor HOME is set",
                    "set XDG_CACHE_HOME (or HOME)");
    return std::string(home) + "/.cache/virtumancer/images";
}

std::string local_path(const std::string& source) {
    if (source.rfind("file://", 0) == 0) return source.substr(7);
    if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) return "";
    return source;
}

namespace {

// Downloads `url` into a new file of `dir` (hashed as it arrives with `algo`), returning its
// path and digest; the file is removed on failure.
std::pair<std::string, std::string> download_into(const std::string& dir, const std::string& url,
                                                  const std::string& algo, const FetchOptions& o,
                                                  Downloader& dl) {
    std::string tmpl = dir + "/.download-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = mkstemp(name.data());
    if (fd < 0)
        throw Error("cannot create a file in the image cache " + dir + ": " + std::strerror(errno),
                    "make the directory writable or set XDG_CACHE_HOME to another one");
    std::string path(name.data());
    std::FILE* f = fdopen(fd, "wb");
    if (!f) {
        ::close(fd);
        fs::remove(path);
        throw Error("cannot write " + path + ": " + std::strerror(errno),
                    "make the image cache writable or set XDG_CACHE_HOME to another directory");
    }
    Digest d(algo);
    ProgressLine line("downloading " + url, 0, o.progress);
    try {
        dl.download(url, f, [&](const char* p, size_t n) {
            d.update(p, n);
            line.add(n);
        });
        line.done();
        if (std::fflush(f) != 0 || std::ferror(f))
            throw Error("cannot write " + path + ": " + std::strerror(errno),
                        "free space in the image cache " + dir);
    } catch (...) {
        std::fclose(f);
        std::error_code ec;
        fs::remove(path, ec);
        throw;
    }
    std::fclose(f);
    return {path, d.text()};
}

} // namespace

Fetched fetch(const std::string& source, const std::string& checksum, const FetchOptions& o) {
    Fetched out;
    std::string local = local_path(source);
    if (!local.empty()) {
        std::error_code ec;
        if (!fs::is_regular_file(local, ec))
            throw Error("the image " + local + " does not exist or is not a regular file",
                        "fix the volume's source, or create the file");
        out.path = local;
        return out;
    }
    auto sum = parse_checksum(checksum);
    std::string dir = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create the image cache " + dir + ": " + ec.message(),
                    "make it writable or set XDG_CACHE_HOME to another directory");
    std::unique_ptr<Downloader> own;
    Downloader* dl = o.downloader;
    if (!dl) dl = (own = curl_downloader()).get();
    auto warn = [&](const std::string& m) {
        if (o.warn)
            o.warn(m);
        else
            std::fprintf(stderr, "warning: %s\n", m.c_str());
    };
    if (!sum) {
        warn("the image " + source +
             " has no checksum: it is downloaded for this upload only, not cached and not "
             "verified (add `checksum: sha256:HEX` to cache and verify it)");
        out.path = download_into(dir, source, "sha256", o, *dl).first;
        out.temporary = true;
        out.downloaded = true;
        return out;
    }
    std::string cached = dir + "/" + sum->algo + "-" + sum->hex;
    if (fs::is_regular_file(cached, ec)) {
        if (digest_of_file(sum->algo, cached) == sum->text()) {
            out.path = cached;
            out.cache_hit = true;
            return out;
        }
        warn("the cached image " + cached + " does not match its checksum; downloading it again");
        fs::remove(cached, ec);
    }
    auto [tmp, digest] = download_into(dir, source, sum->algo, o, *dl);
    if (digest != sum->text()) {
        fs::remove(tmp, ec);
        throw Error("the image downloaded from " + source + " has digest " + digest +
                        ", the spec's checksum is " + sum->text() + "; nothing was cached",
                    "check the URL and the checksum (the image may have been replaced upstream)");
    }
    fs::rename(tmp, cached, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error("cannot move the download into the image cache as " + cached + ": " +
                        ec.message(),
                    "make the image cache writable or set XDG_CACHE_HOME to another directory");
    }
    out.path = cached;
    out.downloaded = true;
    return out;
}

} // namespace virtumancer::image
