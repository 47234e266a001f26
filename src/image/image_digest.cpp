// Checksums of specs, image formats by magic.
#include <cctype>

#include "virtumancer/diag.hpp"
#include "virtumancer/image.hpp"

namespace virtumancer::image {

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
