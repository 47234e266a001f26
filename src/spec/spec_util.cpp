// Small helpers of the spec loader: hashing, names, MACs, sizes, suggestions.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>

#include "spec_internal.hpp"
#include "virtumancer/digest.hpp"
#include "virtumancer/parse_int.hpp"
#include "virtumancer/spec.hpp"

namespace virtumancer {
namespace spec {

namespace {

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
    std::string h = sha256_hex(host + '\0' + vm + '\0' + std::to_string(index));
    return "52:54:00:" + h.substr(0, 2) + ":" + h.substr(2, 2) + ":" + h.substr(4, 2);
}

std::string mac_seed(const Object& vm) {
    if (!vm.has("uuid")) return vm.name();
    std::string u = vm.get("uuid");
    for (auto& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "uuid:" + u;
}

} // namespace virtumancer
