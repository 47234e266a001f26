// Digests (OpenSSL libcrypto's EVP interface), checksums of specs, image formats by magic.
#include <openssl/evp.h>

#include <cctype>
#include <fstream>
#include <vector>

#include "virtumancer/diag.hpp"
#include "virtumancer/image.hpp"

namespace virtumancer::image {
namespace {

const EVP_MD* md_of(const std::string& algo) {
    if (algo == "sha256") return EVP_sha256();
    if (algo == "sha512") return EVP_sha512();
    throw Error("unknown digest algorithm `" + algo + "`", "use sha256 or sha512");
}

std::string hex_of(const unsigned char* p, unsigned n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        s += d[p[i] >> 4];
        s += d[p[i] & 15];
    }
    return s;
}

} // namespace

std::optional<Checksum> parse_checksum(const std::string& spec) {
    if (spec.empty()) return std::nullopt;
    auto colon = spec.find(':');
    Checksum c;
    if (colon != std::string::npos) {
        c.algo = spec.substr(0, colon);
        c.hex = spec.substr(colon + 1);
    }
    size_t want = c.algo == "sha256" ? 64 : c.algo == "sha512" ? 128 : 0;
    if (want == 0)
        throw Error("checksum `" + spec + "` names no known algorithm",
                    "write it as sha256:HEX or sha512:HEX");
    for (auto& ch : c.hex) {
        if (!std::isxdigit(static_cast<unsigned char>(ch)))
            throw Error("checksum `" + spec + "` is not hexadecimal",
                        "copy the digest from `" + c.algo + "sum IMAGE`");
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    if (c.hex.size() != want)
        throw Error("checksum `" + spec + "`: " + c.algo + " needs " + std::to_string(want) +
                        " hex digits, got " + std::to_string(c.hex.size()),
                    "copy the digest from `" + c.algo + "sum IMAGE`");
    return c;
}

Digest::Digest(const std::string& algo) : algo_(algo), ctx_(nullptr) {
    const EVP_MD* md = md_of(algo);
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, md, nullptr) != 1) {
        EVP_MD_CTX_free(c);
        throw Error("cannot start a " + algo + " digest (OpenSSL)",
                    "check that OpenSSL's libcrypto is installed and not restricted (FIPS)");
    }
    ctx_ = c;
}

Digest::~Digest() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Digest::update(const void* data, size_t n) {
    if (n && EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n) != 1)
        throw Error("the " + algo_ + " digest failed (OpenSSL)", "apply again");
}

std::string Digest::text() const {
    // Finish a copy, so more bytes may still be added to this one.
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    bool ok = c && EVP_MD_CTX_copy_ex(c, static_cast<EVP_MD_CTX*>(ctx_)) == 1 &&
              EVP_DigestFinal_ex(c, out, &n) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) throw Error("the " + algo_ + " digest failed (OpenSSL)", "apply again");
    return algo_ + ":" + hex_of(out, n);
}

std::string digest_of(const std::string& algo, std::string_view data) {
    Digest d(algo);
    d.update(data.data(), data.size());
    return d.text();
}

std::string digest_of_file(const std::string& algo, const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error("cannot read " + path, "make it readable by the user running virtumancer");
    Digest d(algo);
    std::vector<char> buf(1 << 20);
    while (f) {
        f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        d.update(buf.data(), static_cast<size_t>(f.gcount()));
    }
    if (f.bad()) throw Error("cannot read " + path, "check the file and its disk");
    return d.text();
}

std::string detect_format(std::string_view h) {
    auto at = [&](size_t off, std::string_view magic) {
        return h.size() >= off + magic.size() && h.substr(off, magic.size()) == magic;
    };
    if (at(0, std::string_view("QFI\xfb", 4))) return "qcow2";
    if (at(0, std::string_view("QED\0", 4))) return "qed";
    if (at(0, "KDMV") || at(0, "# Disk DescriptorFile")) return "vmdk";
    if (at(0, "vhdxfile")) return "vhdx";
    if (at(0x40, std::string_view("\x7f\x10\xda\xbe", 4))) return "vdi";
    return "raw";
}

uint64_t qcow2_virtual_size(std::string_view h) {
    if (detect_format(h) != "qcow2" || h.size() < 32) return 0;
    uint64_t v = 0;
    for (size_t i = 24; i < 32; ++i) v = (v << 8) | static_cast<unsigned char>(h[i]);
    return v;
}

} // namespace virtumancer::image
