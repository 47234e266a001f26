// Digests of bytes and files: sha256 and sha512 through OpenSSL's libcrypto, "ALGO:HEX".
// One implementation for images (their checksums) and cloud-init seeds (their content hash).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace virtumancer {

// An incremental digest (sha256 or sha512) of bytes given in pieces.
class Digest {
  public:
    explicit Digest(const std::string& algo); // throws Error on an unknown algorithm
    ~Digest();
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
    void update(const void* data, size_t n);
    // "ALGO:HEX" of everything given so far (the digest itself is not ended).
    std::string text() const;
    const std::string& algo() const { return algo_; }

  private:
    std::string algo_;
    void* ctx_; // EVP_MD_CTX
};
std::string digest_of(const std::string& algo, std::string_view data); // "ALGO:HEX"
// Of a whole file; throws Error when it cannot be read.
std::string digest_of_file(const std::string& algo, const std::string& path);

// The sha256 of `data` as 64 lower-case hex digits (no "sha256:" prefix).
std::string sha256_hex(std::string_view data);

} // namespace virtumancer
