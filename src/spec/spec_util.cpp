// Small helpers of the spec loader: hashing, names, MACs, sizes, suggestions.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>

#include "spec_internal.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer {
namespace spec {

namespace {

constexpr std::array<uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void sha_block(std::array<uint32_t, 8>& h, const unsigned char* p) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 |
               uint32_t(p[4 * i + 2]) << 8 | uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + kK[i] + w[i];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

struct Unit {
    const char* name;
    unsigned long long mult;
};
const Unit kSizeUnits[] = {{"B", 1ULL},
                           {"KiB", 1ULL << 10},
                           {"MiB", 1ULL << 20},
                           {"GiB", 1ULL << 30},
                           {"TiB", 1ULL << 40},
                           {"PiB", 1ULL << 50},
                           {"KB", 1000ULL},
                           {"MB", 1000000ULL},
                           {"GB", 1000000000ULL},
                           {"TB", 1000000000000ULL},
                           {"PB", 1000000000000000ULL}};

} // namespace

std::string sha256_hex(const std::string& data) {
    std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t n = data.size();
    size_t full = n / 64;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    for (size_t i = 0; i < full; ++i) sha_block(h, p + 64 * i);
    unsigned char tail[128] = {};
    size_t rem = n - full * 64;
    std::copy(p + full * 64, p + n, tail);
    tail[rem] = 0x80;
    size_t tlen = rem + 1 + 8 <= 64 ? 64 : 128;
    unsigned long long bits = static_cast<unsigned long long>(n) * 8;
    for (int i = 0; i < 8; ++i) tail[tlen - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    sha_block(h, tail);
    if (tlen == 128) sha_block(h, tail + 64);
    char out[65];
    for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
    return std::string(out, 64);
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    if (word.size() > 64) return "";
    std::string best;
    size_t best_d = ~size_t(0);
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    size_t limit = std::max<size_t>(2, word.size() / 3);
    if (best.empty() || best_d > limit) return "";
    return " (did you mean `" + best + "`?)";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

bool parse_size(const std::string& text, unsigned long long* bytes, std::string* err) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0) {
        *err = "a size must start with a whole number, e.g. `2GiB`, `512MiB` or `1048576` (bytes)";
        return false;
    }
    std::string num = text.substr(0, i);
    size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    std::string unit = text.substr(j);
    if (i < text.size() && text[i] == '.') {
        *err = "fractional sizes are not accepted; use a smaller unit (e.g. `1536MiB`)";
        return false;
    }
    unsigned long long mult = 0;
    if (unit.empty()) mult = 1;
    for (const auto& u : kSizeUnits)
        if (unit == u.name) mult = u.mult;
    if (mult == 0) {
        static const std::vector<std::string> ambiguous = {"K", "M", "G", "T", "P",
                                                           "k", "m", "g", "t", "p"};
        if (std::find(ambiguous.begin(), ambiguous.end(), unit) != ambiguous.end()) {
            std::string up(1, static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
            *err = "ambiguous size unit `" + unit + "`: write `" + num + up +
                   "iB` (powers of 1024) or `" + num + up + "B` (powers of 1000)";
        } else {
            std::vector<std::string> names;
            for (const auto& u : kSizeUnits) names.push_back(u.name);
            *err = "unknown size unit `" + unit + "`" + did_you_mean(unit, names) +
                   "; units: B, KiB, MiB, GiB, TiB, PiB (1024) and KB, MB, GB, TB, PB (1000)";
        }
        return false;
    }
    if (num.size() > 19) {
        *err = "size too large";
        return false;
    }
    auto parsed = parse_int<unsigned long long>(num);
    unsigned long long v = parsed.value_or(0);
    if (!parsed || (v != 0 && mult > ~0ULL / v)) {
        *err = "size too large";
        return false;
    }
    *bytes = v * mult;
    return true;
}

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_len(const std::string& s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xc0) != 0x80) return 0;
    if (n == 2 && c < 0xc2) return 0;                      // overlong
    if (n == 3 && c == 0xe0 && b(i + 1) < 0xa0) return 0;  // overlong
    if (n == 3 && c == 0xed && b(i + 1) >= 0xa0) return 0; // surrogate
    if (n == 4 && (c > 0xf4 || (c == 0xf0 && b(i + 1) < 0x90) || (c == 0xf4 && b(i + 1) >= 0x90)))
        return 0;
    return n;
}
} // namespace

std::string excerpt(const std::string& s, size_t max) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        size_t n = utf8_len(s, i);
        if (n == 0) {
            if (out.size() + 4 > max) break;
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
            out += buf;
            ++i;
            continue;
        }
        if (out.size() + n > max) break;
        out.append(s, i, n);
        i += n;
    }
    if (i < s.size()) out += "...";
    return out;
}

std::string format_size(unsigned long long bytes) {
    static const Unit bin[] = {{"PiB", 1ULL << 50},
                               {"TiB", 1ULL << 40},
                               {"GiB", 1ULL << 30},
                               {"MiB", 1ULL << 20},
                               {"KiB", 1ULL << 10}};
    if (bytes == 0) return "0";
    for (const auto& u : bin)
        if (bytes % u.mult == 0) return std::to_string(bytes / u.mult) + u.name;
    return std::to_string(bytes);
}

std::string canonical(const Object& o) {
    std::string out = "{" + (o.kind ? o.kind->kind : std::string("?"));
    for (const auto& [k, v] : o.fields)
        out += ";" + std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":" + v;
    out += ";xml=" + std::to_string(o.extra_xml.size()) + ":" + o.extra_xml;
    for (const auto& c : o.children) out += canonical(c);
    return out + "}";
}

} // namespace spec

bool is_safe_name(const std::string& name, std::string* why) {
    auto fail = [&](const std::string& m) {
        if (why)
            *why = m + "; names are 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter "
                       "or digit, without `..`";
        return false;
    };
    if (name.empty()) return fail("the name is empty");
    if (name.size() > 64)
        return fail("the name is " + std::to_string(name.size()) + " characters long");
    if (!std::isalnum(static_cast<unsigned char>(name[0])))
        return fail("the name must start with a letter or digit");
    for (unsigned char c : name) {
        if (std::isalnum(c) || c == '.' || c == '_' || c == '-') continue;
        std::string shown;
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            shown = std::string("control character ") + buf;
        } else if (c >= 0x80) {
            shown = "non-ASCII character";
        } else {
            shown = std::string("character `") + static_cast<char>(c) + "`";
        }
        return fail("the name contains a " + shown);
    }
    if (name.find("..") != std::string::npos) return fail("the name contains `..`");
    return true;
}

std::string derived_mac(const std::string& host, const std::string& vm, int index) {
    std::string h = spec::sha256_hex(host + '\0' + vm + '\0' + std::to_string(index));
    return "52:54:00:" + h.substr(0, 2) + ":" + h.substr(2, 2) + ":" + h.substr(4, 2);
}

std::string mac_seed(const Object& vm) {
    if (!vm.has("uuid")) return vm.name();
    std::string u = vm.get("uuid");
    for (auto& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "uuid:" + u;
}

} // namespace virtumancer
