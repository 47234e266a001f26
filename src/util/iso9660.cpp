// ISO 9660 image writer (ECMA-119) with Rock Ridge (SUSP 1.10 / RRIP 1.10) and Joliet.
//
// Layout, in 2048-byte sectors:
//   0-15 system area (zeros)        16 primary volume descriptor   17 Joliet supplementary
//   18 terminator                    19/20 L/M path table (primary)  21/22 L/M path table (Joliet)
//   23 root directory (primary, with SUSP/RRIP entries)              24 root directory (Joliet)
//   25 continuation area of the root's "." (the RRIP ER entry)       26... file data
//   then 150 sectors of zeros (padding, as mkisofs writes)
// Both directory trees point at the same file extents.
#include "virtumancer/iso9660.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "virtumancer/diag.hpp"
#include "virtumancer/hash.hpp"

namespace virtumancer {
namespace {

constexpr size_t kSector = 2048;
constexpr uint32_t kPvd = 16, kSvd = 17, kTerm = 18, kPathL = 19, kPathM = 20, kJPathL = 21,
                   kJPathM = 22, kRoot = 23, kJRoot = 24, kCont = 25, kFirstData = 26,
                   kPadSectors = 150;

void put16le(std::string& b, size_t at, uint16_t v) {
    b[at] = static_cast<char>(v & 0xff);
    b[at + 1] = static_cast<char>(v >> 8);
}
void put16be(std::string& b, size_t at, uint16_t v) {
    b[at] = static_cast<char>(v >> 8);
    b[at + 1] = static_cast<char>(v & 0xff);
}
void put32le(std::string& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put32be(std::string& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}
void put16both(std::string& b, size_t at, uint16_t v) {
    put16le(b, at, v);
    put16be(b, at + 2, v);
}
void put32both(std::string& b, size_t at, uint32_t v) {
    put32le(b, at, v);
    put32be(b, at + 4, v);
}
// Bytes appended in both byte orders (for SUSP entries built by appending).
void app32both(std::string& s, uint32_t v) {
    std::string t(8, '\0');
    put32both(t, 0, v);
    s += t;
}
void put_text(std::string& b, size_t at, size_t len, const std::string& text, char pad = ' ') {
    for (size_t i = 0; i < len; ++i) b[at + i] = i < text.size() ? text[i] : pad;
}
// UCS-2 big endian, padded with UCS-2 spaces (Joliet identifiers).
void put_ucs2(std::string& b, size_t at, size_t len, const std::string& text) {
    for (size_t i = 0; i + 1 < len; i += 2) {
        size_t c = i / 2;
        b[at + i] = 0;
        b[at + i + 1] = c < text.size() ? text[c] : ' ';
    }
}
std::string ucs2(const std::string& ascii_or_utf8) {
    // Names are checked to be printable ASCII, so each byte is one code point.
    std::string out;
    for (char c : ascii_or_utf8) {
        out += '\0';
        out += c;
    }
    return out;
}

struct Stamp {
    int year, month, day, hour, minute, second;
};
Stamp stamp_of(time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}
// 7-byte directory record date (ECMA-119 9.1.5), GMT.
std::string date7(const Stamp& s) {
    std::string d(7, '\0');
    d[0] = static_cast<char>(s.year - 1900);
    d[1] = static_cast<char>(s.month);
    d[2] = static_cast<char>(s.day);
    d[3] = static_cast<char>(s.hour);
    d[4] = static_cast<char>(s.minute);
    d[5] = static_cast<char>(s.second);
    return d;
}
// 17-byte volume descriptor date (8.4.26.1): "YYYYMMDDHHMMSScc" and the GMT offset.
std::string date17(const Stamp& s) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d00", s.year, s.month, s.day, s.hour,
                  s.minute, s.second);
    std::string d(buf, 16);
    d += '\0';
    return d;
}

// A directory record (9.1) with identifier `id` and system use `su`.
std::string dir_record(uint32_t extent, uint32_t size, const Stamp& when, bool dir,
                       const std::string& id, const std::string& su) {
    size_t len = 33 + id.size();
    if (len % 2) ++len; // padding field after an even-length identifier
    len += su.size();
    if (len % 2) ++len;
    std::string r(len, '\0');
    r[0] = static_cast<char>(len);
    put32both(r, 2, extent);
    put32both(r, 10, size);
    std::string d = date7(when);
    r.replace(18, 7, d);
    r[25] = dir ? 0x02 : 0x00;
    put16both(r, 28, 1);
    r[32] = static_cast<char>(id.size());
    r.replace(33, id.size(), id);
    size_t su_at = 33 + id.size() + ((33 + id.size()) % 2 ? 1 : 0);
    r.replace(su_at, su.size(), su);
    return r;
}

// SUSP/RRIP entries.
std::string sue(const char* sig, const std::string& body) {
    std::string e = sig;
    e += static_cast<char>(4 + body.size());
    e += '\x01';
    return e + body;
}
std::string rrip_px(uint32_t mode, uint32_t links) {
    std::string b;
    app32both(b, mode);
    app32both(b, links);
    app32both(b, 0); // uid root
    app32both(b, 0); // gid root
    return sue("PX", b);
}
std::string rrip_tf(const Stamp& s) {
    // modify, access, attributes (7-byte dates)
    return sue("TF", std::string(1, '\x0e') + date7(s) + date7(s) + date7(s));
}
std::string rrip_rr(bool with_nm) { // RRIP 1.09 "RR": which entries follow (PX, TF, NM)
    return sue("RR", std::string(1, static_cast<char>(0x01 | 0x80 | (with_nm ? 0x08 : 0))));
}

std::string level1(const std::string& name) {
    auto clean = [](std::string s, size_t n) {
        std::string out;
        for (char c : s) {
            if (out.size() == n) break;
            unsigned char u = static_cast<unsigned char>(c);
            if (std::isalnum(u))
                out += static_cast<char>(std::toupper(u));
            else
                out += '_';
        }
        return out;
    };
    size_t dot = name.rfind('.');
    std::string base = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot + 1);
    return clean(base, 8) + "." + clean(ext, 3) + ";1";
}

} // namespace

std::string iso9660_level1_name(const std::string& name) {
    return level1(name);
}

std::string make_iso9660(const std::string& volume_label, const std::vector<IsoFile>& in) {
    std::set<std::string> names, short_names;
    for (const auto& f : in) {
        if (f.name.empty() || f.name.size() > 64 || f.name.find('/') != std::string::npos)
            throw Error("ISO image: file name `" + f.name +
                            "` is empty, longer than 64 "
                            "characters or has a '/'",
                        "name each file of the image with 1 to 64 characters, no '/'");
        for (char c : f.name)
            if (c < 0x20 || c > 0x7e)
                throw Error("ISO image: file name `" + f.name + "` is not printable ASCII",
                            "use ASCII letters, digits, '-', '_' and '.' in file names");
        if (!names.insert(f.name).second)
            throw Error("ISO image: two files named `" + f.name + "`", "name each file once");
        if (!short_names.insert(level1(f.name)).second)
            throw Error("ISO image: two files get the 8.3 name " + level1(f.name),
                        "make the first 8 characters of the file names differ");
    }
    // Files in ISO 9660 directory order (by level-1 identifier). The Joliet directory is
    // ordered by its UCS-2 names, which for these ASCII names is the same order as by name.
    std::vector<const IsoFile*> iso_order, joliet_order;
    for (const auto& f : in) iso_order.push_back(&f), joliet_order.push_back(&f);
    std::sort(iso_order.begin(), iso_order.end(),
              [](const IsoFile* a, const IsoFile* b) { return level1(a->name) < level1(b->name); });
    std::sort(joliet_order.begin(), joliet_order.end(),
              [](const IsoFile* a, const IsoFile* b) { return a->name < b->name; });

    // One timestamp for everything, derived from the content: 2020-01-01 plus up to ten years.
    std::string all = volume_label;
    for (const auto& f : iso_order) all += '\0' + f->name + '\0' + f->data;
    uint64_t h = std::stoull(fnv1a_hex(all), nullptr, 16);
    Stamp when = stamp_of(static_cast<time_t>(1577836800ULL + h % (3650ULL * 86400ULL)));

    // File extents.
    std::map<const IsoFile*, uint32_t> extent;
    uint32_t next = kFirstData;
    for (const auto* f : iso_order) {
        extent[f] = next;
        next += static_cast<uint32_t>((f->data.size() + kSector - 1) / kSector);
    }
    // 150 zero sectors at the end, as mkisofs pads by default: readers probe past the data
    // (busybox's blkid/findfs reads the first 0x11000 bytes of a device and finds no label on a
    // smaller one; Linux read-ahead at the end of a cdrom).
    const uint32_t total = next + kPadSectors;

    // Continuation area of the root "." record: the ER entry naming RRIP 1.10.
    const std::string er_id = "RRIP_1991A";
    const std::string er_des = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX "
                               "FILE SYSTEM SEMANTICS";
    const std::string er_src = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE "
                               "PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT "
                               "INFORMATION.";
    std::string er_body;
    er_body += static_cast<char>(er_id.size());
    er_body += static_cast<char>(er_des.size());
    er_body += static_cast<char>(er_src.size());
    er_body += '\x01';
    er_body += er_id + er_des + er_src;
    std::string er = sue("ER", er_body);
    std::string ce_body;
    app32both(ce_body, kCont);
    app32both(ce_body, 0);
    app32both(ce_body, static_cast<uint32_t>(er.size()));
    std::string ce = sue("CE", ce_body);

    // Primary root directory with Rock Ridge entries.
    const uint32_t dir_mode = 040555, file_mode = 0100444;
    const uint32_t root_links = 2;
    std::string root_dir;
    std::string sp = sue("SP", std::string("\xbe\xef\x00", 3));
    root_dir +=
        dir_record(kRoot, kSector, when, true, std::string(1, '\0'),
                   sp + rrip_rr(false) + rrip_px(dir_mode, root_links) + rrip_tf(when) + ce);
    root_dir += dir_record(kRoot, kSector, when, true, std::string(1, '\1'),
                           rrip_rr(false) + rrip_px(dir_mode, root_links) + rrip_tf(when));
    for (const auto* f : iso_order) {
        std::string nm = sue("NM", std::string(1, '\0') + f->name);
        root_dir +=
            dir_record(extent[f], static_cast<uint32_t>(f->data.size()), when, false,
                       level1(f->name), rrip_rr(true) + rrip_px(file_mode, 1) + rrip_tf(when) + nm);
    }
    std::string jroot_dir;
    jroot_dir += dir_record(kJRoot, kSector, when, true, std::string(1, '\0'), "");
    jroot_dir += dir_record(kJRoot, kSector, when, true, std::string(1, '\1'), "");
    for (const auto* f : joliet_order)
        jroot_dir += dir_record(extent[f], static_cast<uint32_t>(f->data.size()), when, false,
                                ucs2(f->name + ";1"), "");
    if (root_dir.size() > kSector || jroot_dir.size() > kSector)
        throw Error("ISO image: " + std::to_string(in.size()) +
                        " files do not fit in one directory sector",
                    "put fewer files (or shorter names) in the image");

    std::string img(static_cast<size_t>(total) * kSector, '\0');
    auto sector = [&](uint32_t n) { return static_cast<size_t>(n) * kSector; };

    // Path tables: one record, the root (9.4).
    auto path_table = [&](uint32_t at, uint32_t root, bool big) {
        size_t o = sector(at);
        img[o] = 1; // identifier length
        if (big)
            put32be(img, o + 2, root);
        else
            put32le(img, o + 2, root);
        if (big)
            put16be(img, o + 6, 1);
        else
            put16le(img, o + 6, 1);
        img[o + 8] = 0; // root identifier, then one padding byte
    };
    path_table(kPathL, kRoot, false);
    path_table(kPathM, kRoot, true);
    path_table(kJPathL, kJRoot, false);
    path_table(kJPathM, kJRoot, true);

    auto descriptor = [&](uint32_t at, bool joliet) {
        size_t o = sector(at);
        img[o] = joliet ? 2 : 1;
        img.replace(o + 1, 5, "CD001");
        img[o + 6] = 1;
        if (joliet) {
            put_ucs2(img, o + 8, 32, "");
            put_ucs2(img, o + 40, 32, volume_label);
            img.replace(o + 88, 3, "%/E"); // UCS-2 level 3
        } else {
            put_text(img, o + 8, 32, "LINUX");
            put_text(img, o + 40, 32, volume_label);
        }
        put32both(img, o + 80, total);
        put16both(img, o + 120, 1);
        put16both(img, o + 124, 1);
        put16both(img, o + 128, static_cast<uint16_t>(kSector));
        put32both(img, o + 132, 10);
        put32le(img, o + 140, joliet ? kJPathL : kPathL);
        put32be(img, o + 148, joliet ? kJPathM : kPathM);
        std::string root =
            dir_record(joliet ? kJRoot : kRoot, kSector, when, true, std::string(1, '\0'), "");
        img.replace(o + 156, 34, root);
        for (size_t field : {190u, 318u, 446u, 574u}) { // volume set .. application id
            if (joliet)
                put_ucs2(img, o + field, 128, "");
            else
                put_text(img, o + field, 128, "");
        }
        for (size_t field : {702u, 739u, 776u}) { // copyright, abstract, bibliographic file ids
            if (joliet)
                put_ucs2(img, o + field, 37, "");
            else
                put_text(img, o + field, 37, "");
        }
        std::string d = date17(when);
        img.replace(o + 813, 17, d);
        img.replace(o + 830, 17, d);
        img.replace(o + 847, 17, std::string(16, '0') + '\0'); // no expiration
        img.replace(o + 864, 17, d);
        img[o + 881] = 1; // file structure version
    };
    descriptor(kPvd, false);
    descriptor(kSvd, true);
    size_t t = sector(kTerm);
    img[t] = static_cast<char>(255);
    img.replace(t + 1, 5, "CD001");
    img[t + 6] = 1;

    img.replace(sector(kRoot), root_dir.size(), root_dir);
    img.replace(sector(kJRoot), jroot_dir.size(), jroot_dir);
    img.replace(sector(kCont), er.size(), er);
    for (const auto* f : iso_order) img.replace(sector(extent[f]), f->data.size(), f->data);
    return img;
}

} // namespace virtumancer
