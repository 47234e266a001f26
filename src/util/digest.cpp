// Digests (OpenSSL libcrypto's EVP interface): sha256/sha512 of images and cloud-init seeds.
#include "virtumancer/digest.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "virtumancer/diag.hpp"

namespace virtumancer {
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

std::string sha256_hex(std::string_view data) {
    return digest_of("sha256", data).substr(7);
}

} // namespace virtumancer
