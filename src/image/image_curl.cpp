// HTTP(S) downloads with libcurl (the only file of virtumancer that includes curl).
#include <curl/curl.h>

#include <mutex>

#include "virtumancer/diag.hpp"
#include "virtumancer/image.hpp"

namespace virtumancer::image {
namespace {

struct Sink {
    std::FILE* out;
    const std::function<void(const char*, size_t)>* on_data;
    std::string error;
};

size_t write_cb(char* p, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t len = size * n;
    try {
        if (std::fwrite(p, 1, len, s->out) != len) {
            s->error = "cannot write the download to disk";
            return 0;
        }
        if (*s->on_data) (*s->on_data)(p, len);
    } catch (const std::exception& e) {
        s->error = e.what();
        return 0;
    }
    return len;
}

class CurlDownloader : public Downloader {
  public:
    void download(const std::string& url, std::FILE* out,
                  const std::function<void(const char*, size_t)>& on_data) override {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        CURL* c = curl_easy_init();
        if (!c)
            throw Error("cannot start an HTTP transfer (libcurl)",
                        "check that libcurl is installed and memory is available");
        Sink sink{out, &on_data, {}};
        char err[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "virtumancer");
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (rc == CURLE_OK) return;
        std::string why = !sink.error.empty() ? sink.error
                          : *err              ? std::string(err)
                                              : std::string(curl_easy_strerror(rc));
        throw Error("cannot download " + url + ": " + why +
                        (status >= 400 ? " (HTTP " + std::to_string(status) + ")" : ""),
                    "check the URL and that this machine can reach it");
    }
};

} // namespace

std::unique_ptr<Downloader> curl_downloader() {
    return std::make_unique<CurlDownloader>();
}

} // namespace virtumancer::image
