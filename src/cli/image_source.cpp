// ImageSource for apply: fetch (cache or download), then read the local file hashed as it is
// uploaded, with a throttled progress line on stderr.
#include "image_source.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "virtumancer/diag.hpp"
#include "virtumancer/image.hpp"

namespace virtumancer::cli {
namespace {

namespace fs = std::filesystem;

class FileImage : public ImageReader {
  public:
    FileImage(image::Fetched f, const std::string& algo, const std::string& label)
        : fetched_(std::move(f)), digest_(algo) {
        std::error_code ec;
        size_ = fs::file_size(fetched_.path, ec);
        if (ec)
            throw Error("cannot read the size of " + fetched_.path + ": " + ec.message(),
                        "make it readable by the user running virtumancer");
        file_ = std::fopen(fetched_.path.c_str(), "rb");
        if (!file_)
            throw Error("cannot open the image " + fetched_.path + ": " + std::strerror(errno),
                        "make it readable by the user running virtumancer");
        std::string head(4096, '\0');
        head.resize(std::fread(head.data(), 1, head.size(), file_));
        std::rewind(file_);
        format_ = image::detect_format(head);
        vsize_ = format_ == "qcow2" ? image::qcow2_virtual_size(head) : size_;
        line_ = std::make_unique<image::ProgressLine>("uploading into " + label, size_);
    }
    ~FileImage() override {
        if (file_) std::fclose(file_);
        if (fetched_.temporary) {
            std::error_code ec;
            fs::remove(fetched_.path, ec);
        }
    }
    unsigned long long size() const override { return size_; }
    std::string format() const override { return format_; }
    unsigned long long virtual_size() const override { return vsize_; }
    size_t read(char* buf, size_t n) override {
        size_t got = std::fread(buf, 1, n, file_);
        if (got == 0 && std::ferror(file_))
            throw Error("cannot read the image " + fetched_.path + ": " + std::strerror(errno),
                        "check the file and its disk, then apply again");
        digest_.update(buf, got);
        line_->add(got);
        if (got == 0) line_->done();
        return got;
    }
    std::string digest() const override { return digest_.text(); }

  private:
    image::Fetched fetched_;
    image::Digest digest_;
    std::FILE* file_ = nullptr;
    unsigned long long size_ = 0, vsize_ = 0;
    std::string format_;
    std::unique_ptr<image::ProgressLine> line_;
};

class LocalImageSource : public ImageSource {
  public:
    std::unique_ptr<ImageReader> open(const std::string& source, const std::string& checksum,
                                      const std::string& label) override {
        auto sum = image::parse_checksum(checksum);
        image::Fetched f = image::fetch(source, checksum, {});
        if (f.cache_hit)
            std::fprintf(stderr, "%s: using the cached image %s (digest matches, not downloaded)\n",
                         label.c_str(), f.path.c_str());
        std::string path = f.path;
        bool temporary = f.temporary;
        try {
            return std::make_unique<FileImage>(std::move(f), sum ? sum->algo : "sha256", label);
        } catch (...) {
            std::error_code ec;
            if (temporary) fs::remove(path, ec);
            throw;
        }
    }
};

} // namespace

std::unique_ptr<ImageSource> local_image_source() {
    return std::make_unique<LocalImageSource>();
}

} // namespace virtumancer::cli
