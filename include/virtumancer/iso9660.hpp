// A small ISO 9660 image writer: one root directory of a few files, with Rock Ridge (RRIP 1.10)
// and Joliet names, enough for a cloud-init NoCloud seed (label `cidata`, files `user-data`,
// `meta-data`, `network-config`) that Linux mounts and reads by name.
#pragma once
#include <string>
#include <vector>

namespace virtumancer {

struct IsoFile {
    std::string name; // the file's name as Rock Ridge and Joliet show it (no '/', <= 64 chars)
    std::string data;
};

// The image's bytes (a whole number of 2048-byte sectors). Deterministic: every timestamp is
// derived from the label and the files, so the same content gives the same bytes (and Linux's
// blkid shows a UUID, made from the creation time, that differs between seeds).
// Throws Error for a name that is empty, too long or has '/', two files of one name, or more
// files than one directory sector holds.
std::string make_iso9660(const std::string& volume_label, const std::vector<IsoFile>& files);

// The 8.3 ISO 9660 level 1 name a file gets ("user-data" -> "USER_DAT.;1"), as readers without
// Rock Ridge or Joliet see it.
std::string iso9660_level1_name(const std::string& name);

} // namespace virtumancer
