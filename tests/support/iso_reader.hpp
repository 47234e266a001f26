// A minimal ISO 9660 reader for tests: volume labels, the root directory's files by their
// ISO 9660, Rock Ridge (NM) and Joliet names, and their contents. Independent of the writer
// (src/util/iso9660.cpp) so a test of one checks the other.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace virtumancer::testing_util {

struct IsoContents {
    std::string error;                  // "" when the image parsed
    std::string label;                  // primary volume descriptor's volume identifier, trimmed
    std::string joliet_label;           // the Joliet descriptor's (UCS-2 decoded), "" none
    bool joliet = false;                // a supplementary descriptor with a UCS-2 escape sequence
    bool rock_ridge = false;            // SP entry in the root's "." record and an RRIP ER entry
    std::string rr_extension;           // the ER entry's identifier ("RRIP_1991A")
    uint32_t volume_sectors = 0;        // volume space size
    std::vector<std::string> iso_names; // level-1 identifiers ("USER_DAT.;1")
    std::map<std::string, std::string> rr_files;     // Rock Ridge name -> content
    std::map<std::string, std::string> joliet_files; // Joliet name (";1" removed) -> content
};

inline uint32_t iso_le32(const std::string& b, size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
           static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

inline std::string iso_trim(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

inline std::string iso_ucs2_ascii(const std::string& s) {
    std::string out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) out += s[i + 1];
    return out;
}

inline IsoContents read_iso(const std::string& img) {
    IsoContents out;
    const size_t S = 2048;
    if (img.size() < 17 * S || img.size() % S) {
        out.error = "size " + std::to_string(img.size()) + " is not a whole number of sectors";
        return out;
    }
    uint32_t root = 0, root_size = 0, jroot = 0, jroot_size = 0;
    for (size_t n = 16;; ++n) {
        if ((n + 1) * S > img.size()) {
            out.error = "no volume descriptor set terminator";
            return out;
        }
        size_t o = n * S;
        if (img.compare(o + 1, 5, "CD001") != 0) {
            out.error = "sector " + std::to_string(n) + " is not a volume descriptor";
            return out;
        }
        unsigned char type = static_cast<unsigned char>(img[o]);
        if (type == 255) break;
        if (type == 1) {
            out.label = iso_trim(img.substr(o + 40, 32));
            out.volume_sectors = iso_le32(img, o + 80);
            root = iso_le32(img, o + 156 + 2);
            root_size = iso_le32(img, o + 156 + 10);
        } else if (type == 2 && img[o + 88] == '%' && img[o + 89] == '/' &&
                   (img[o + 90] == '@' || img[o + 90] == 'C' || img[o + 90] == 'E')) {
            out.joliet = true;
            out.joliet_label = iso_trim(iso_ucs2_ascii(img.substr(o + 40, 32)));
            jroot = iso_le32(img, o + 156 + 2);
            jroot_size = iso_le32(img, o + 156 + 10);
        }
    }
    if (!root) {
        out.error = "no primary volume descriptor";
        return out;
    }
    auto file_data = [&](const std::string& rec) -> std::string {
        uint32_t ext = iso_le32(rec, 2), len = iso_le32(rec, 10);
        if (static_cast<size_t>(ext) * S + len > img.size()) return "<extent out of image>";
        return img.substr(static_cast<size_t>(ext) * S, len);
    };
    // SUSP entries of a system use area; CE continuations followed.
    auto susp = [&](std::string area) {
        std::vector<std::pair<std::string, std::string>> entries;
        for (int hops = 0; hops < 8; ++hops) {
            std::string next;
            for (size_t i = 0; i + 4 <= area.size();) {
                size_t len = static_cast<unsigned char>(area[i + 2]);
                if (len < 4 || i + len > area.size()) break;
                std::string sig = area.substr(i, 2), body = area.substr(i + 4, len - 4);
                if (sig == "CE") {
                    uint32_t blk = iso_le32(body, 0), off = iso_le32(body, 8),
                             clen = iso_le32(body, 16);
                    if (static_cast<size_t>(blk) * S + off + clen <= img.size())
                        next = img.substr(static_cast<size_t>(blk) * S + off, clen);
                } else if (sig == "ST") {
                    break;
                } else {
                    entries.emplace_back(sig, body);
                }
                i += len;
            }
            if (next.empty()) break;
            area = next;
        }
        return entries;
    };
    auto records = [&](uint32_t ext, uint32_t size) {
        std::vector<std::string> recs;
        size_t o = static_cast<size_t>(ext) * S, end = o + size;
        if (end > img.size()) return recs;
        while (o < end) {
            size_t len = static_cast<unsigned char>(img[o]);
            if (len == 0) { // rest of the sector is padding
                o = (o / S + 1) * S;
                continue;
            }
            recs.push_back(img.substr(o, len));
            o += len;
        }
        return recs;
    };
    for (const auto& rec : records(root, root_size)) {
        size_t idlen = static_cast<unsigned char>(rec[32]);
        std::string id = rec.substr(33, idlen);
        size_t su = 33 + idlen + ((33 + idlen) % 2 ? 1 : 0);
        auto entries = susp(su < rec.size() ? rec.substr(su) : std::string());
        if (idlen == 1 && id[0] == '\0') { // "."
            for (const auto& [sig, body] : entries) {
                if (sig == "SP" && body.size() >= 2 &&
                    static_cast<unsigned char>(body[0]) == 0xbe &&
                    static_cast<unsigned char>(body[1]) == 0xef)
                    out.rock_ridge = true;
                if (sig == "ER" && body.size() >= 4)
                    out.rr_extension = body.substr(4, static_cast<unsigned char>(body[0]));
            }
            continue;
        }
        if (idlen == 1 && id[0] == '\1') continue;
        out.iso_names.push_back(id);
        std::string name;
        for (const auto& [sig, body] : entries)
            if (sig == "NM" && !body.empty()) name += body.substr(1);
        if (!name.empty()) out.rr_files[name] = file_data(rec);
    }
    if (out.rr_extension.empty()) out.rock_ridge = false;
    if (jroot)
        for (const auto& rec : records(jroot, jroot_size)) {
            size_t idlen = static_cast<unsigned char>(rec[32]);
            if (idlen == 1) continue; // "." and ".."
            std::string name = iso_ucs2_ascii(rec.substr(33, idlen));
            if (name.size() > 2 && name.compare(name.size() - 2, 2, ";1") == 0)
                name.resize(name.size() - 2);
            out.joliet_files[name] = file_data(rec);
        }
    return out;
}

} // namespace virtumancer::testing_util
