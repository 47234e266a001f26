// The cloud-init seed image: parsed back by the test's own reader (tests/support/iso_reader.hpp),
// by xorriso when it is installed, and by the Linux kernel (loop mount) when mounting is allowed.
#include <gtest/gtest.h>
#include <unistd.h>

#include "iso_reader.hpp"
#include "test_support.hpp"
#include "virtumancer/cloud_init.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/iso9660.hpp"

using namespace virtumancer;
using namespace virtumancer::testing_util;

namespace {

CloudInitFiles sample(bool net = true) {
    CloudInitFiles f;
    f.user_data =
        "#cloud-config\nusers:\n  - name: ops\n    ssh_authorized_keys: [ssh-ed25519 AAAA]\n";
    f.meta_data = "instance-id: iid-0123456789abcdef\nlocal-hostname: web1\n";
    f.network_config = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";
    f.has_network_config = net;
    return f;
}

} // namespace

TEST(Iso9660, SeedParsesBackWithLabelRockRidgeAndJolietNames) {
    std::string img = cloud_init_seed_image(sample());
    ASSERT_EQ(img.size() % 2048, 0u);
    IsoContents c = read_iso(img);
    ASSERT_EQ(c.error, "");
    EXPECT_EQ(c.label, "cidata");
    EXPECT_TRUE(c.joliet);
    EXPECT_EQ(c.joliet_label, "cidata");
    EXPECT_TRUE(c.rock_ridge);
    EXPECT_EQ(c.rr_extension, "RRIP_1991A");
    EXPECT_EQ(c.volume_sectors * 2048ULL, img.size());
    // busybox's findfs/blkid read 0x11000 bytes before probing: a smaller image has no label.
    EXPECT_GE(img.size(), 0x11000u);
    // Plain ISO 9660 names are 8.3; the names readers use come from Rock Ridge and Joliet.
    EXPECT_EQ(c.iso_names, (std::vector<std::string>{"META_DAT.;1", "NETWORK_.;1", "USER_DAT.;1"}));
    std::map<std::string, std::string> want = {{"user-data", sample().user_data},
                                               {"meta-data", sample().meta_data},
                                               {"network-config", sample().network_config}};
    EXPECT_EQ(c.rr_files, want);
    EXPECT_EQ(c.joliet_files, want);
}

TEST(Iso9660, WithoutNetworkConfigHasTwoFiles) {
    IsoContents c = read_iso(cloud_init_seed_image(sample(false)));
    ASSERT_EQ(c.error, "");
    EXPECT_EQ(c.rr_files.size(), 2u);
    EXPECT_EQ(c.rr_files.count("network-config"), 0u);
    EXPECT_EQ(c.rr_files.at("user-data"), sample().user_data);
}

TEST(Iso9660, SameContentSameBytesAndAnyChangeChangesThem) {
    std::string a = cloud_init_seed_image(sample());
    EXPECT_EQ(a, cloud_init_seed_image(sample()));
    CloudInitFiles other = sample();
    other.user_data += "# one more line\n";
    std::string b = cloud_init_seed_image(other);
    EXPECT_NE(a, b);
    // The volume descriptor's dates (blkid's UUID) are derived from the content.
    EXPECT_NE(a.substr(16 * 2048 + 813, 16), b.substr(16 * 2048 + 813, 16));
    EXPECT_EQ(cloud_init_hash(sample()), cloud_init_hash(sample()));
    EXPECT_NE(cloud_init_hash(sample()), cloud_init_hash(other));
    EXPECT_EQ(cloud_init_hash(sample()).rfind("sha256:", 0), 0u);
}

TEST(Iso9660, LargeAndEmptyFilesAndLongNames) {
    std::string big(5000, 'x');
    big[4999] = 'y';
    std::string img = make_iso9660(
        "cidata", {{"a-rather-long-file-name.yaml", big}, {"empty", ""}, {"user-data", "u"}});
    IsoContents c = read_iso(img);
    ASSERT_EQ(c.error, "");
    EXPECT_EQ(c.rr_files.at("a-rather-long-file-name.yaml"), big);
    EXPECT_EQ(c.rr_files.at("empty"), "");
    EXPECT_EQ(c.joliet_files.at("a-rather-long-file-name.yaml"), big);
    EXPECT_EQ(iso9660_level1_name("a-rather-long-file-name.yaml"), "A_RATHER.YAM;1");
}

TEST(Iso9660, RefusesBadNames) {
    EXPECT_THROW(make_iso9660("cidata", {{"a/b", "x"}}), Error);
    EXPECT_THROW(make_iso9660("cidata", {{"", "x"}}), Error);
    EXPECT_THROW(make_iso9660("cidata", {{"same", "x"}, {"same", "y"}}), Error);
    EXPECT_THROW(make_iso9660("cidata", {{"user-data-1", "x"}, {"user-data-2", "y"}}), Error);
}

TEST(CloudInitSeed, MetaDataDefaultsFollowTheContent) {
    std::string m = cloud_init_meta_data("", false, false, "web1", "#cloud-config\n", "");
    EXPECT_EQ(m.rfind("instance-id: iid-", 0), 0u) << m;
    EXPECT_NE(m.find("\nlocal-hostname: web1\n"), std::string::npos) << m;
    std::string m2 = cloud_init_meta_data("", false, false, "web1", "#cloud-config\nx: 1\n", "");
    EXPECT_NE(m.substr(0, 33), m2.substr(0, 33)) << "a user-data change gives a new instance-id";
    std::string given = "instance-id: mine\nlocal-hostname: h\n";
    EXPECT_EQ(cloud_init_meta_data(given, true, true, "web1", "x", ""), given);
}

// xorriso (Debian xorriso, scripts/testenv.sh) lists the Rock Ridge names.
TEST(Iso9660, XorrisoListsTheNames) {
    int st = 0;
    run_shell("command -v xorriso", &st);
    if (exit_code(st) != 0) GTEST_SKIP() << "xorriso is not installed (scripts/testenv.sh start)";
    TempDir dir("vmr-iso-");
    std::string img = cloud_init_seed_image(sample());
    std::string path = dir.write("seed.iso", img);
    std::string out = run_shell("xorriso -indev " + path + " -find / -exec lsdl 2>&1", &st);
    ASSERT_EQ(exit_code(st), 0) << out;
    for (const char* n : {"'/user-data'", "'/meta-data'", "'/network-config'"})
        EXPECT_NE(out.find(n), std::string::npos) << n << " in:\n" << out;
    EXPECT_EQ(out.find("USER_DAT"), std::string::npos) << out;
    out = run_shell("xorriso -indev " + path + " -pvd_info 2>&1", &st);
    EXPECT_NE(out.find("Volume Id    : cidata"), std::string::npos) << out;
    // The Joliet tree alone (Rock Ridge not read): the same names.
    out = run_shell("xorriso -read_fs norock -indev " + path + " -find / -exec lsdl 2>&1", &st);
    ASSERT_EQ(exit_code(st), 0) << out;
    EXPECT_NE(out.find("'/network-config'"), std::string::npos) << out;
    // And xorriso extracts the bytes we wrote.
    out = run_shell("xorriso -osirrox on -indev " + path + " -extract /user-data " +
                        dir.file("ud") + " >/dev/null 2>&1; cat " + dir.file("ud"),
                    &st);
    EXPECT_EQ(out, sample().user_data);
}

// The kernel's iso9660 driver (Rock Ridge names) reads the files by name from a loop mount.
TEST(Iso9660, LoopMountReadsFilesByName) {
    if (geteuid() != 0) GTEST_SKIP() << "loop mounting needs root (run the unit tests as root)";
    TempDir dir("vmr-iso-");
    std::string path = dir.write("seed.iso", cloud_init_seed_image(sample()));
    std::string mnt = dir.file("mnt");
    int st = 0;
    std::string out =
        run_shell("mkdir -p " + mnt + " && mount -o loop,ro " + path + " " + mnt + " 2>&1", &st);
    if (exit_code(st) != 0)
        GTEST_SKIP() << "mount -o loop is not permitted here (" << out
                     << "); the e2e test reads the seed by name from libvirt instead";
    std::string ud = slurp(mnt + "/user-data");
    std::string md = slurp(mnt + "/meta-data");
    std::string nc = slurp(mnt + "/network-config");
    std::string ls = run_shell("ls " + mnt, &st);
    std::string label = run_shell("blkid -o value -s LABEL " + path + " 2>&1", &st);
    run_shell("umount " + mnt, &st);
    EXPECT_EQ(ud, sample().user_data);
    EXPECT_EQ(md, sample().meta_data);
    EXPECT_EQ(nc, sample().network_config);
    EXPECT_EQ(ls, "meta-data\nnetwork-config\nuser-data\n");
    EXPECT_EQ(label, "cidata\n");
}

// busybox (what a small initramfs has) finds the seed by its label on a loop device.
TEST(Iso9660, BusyboxFindsTheLabelOnALoopDevice) {
    if (geteuid() != 0) GTEST_SKIP() << "losetup needs root";
    int st = 0;
    run_shell("command -v busybox && command -v losetup", &st);
    if (exit_code(st) != 0) GTEST_SKIP() << "busybox or losetup is not installed";
    TempDir dir("vmr-iso-");
    std::string path = dir.write("seed.iso", cloud_init_seed_image(sample()));
    std::string dev = run_shell("losetup -f --show -r " + path + " 2>/dev/null", &st);
    if (exit_code(st) != 0 || dev.empty()) GTEST_SKIP() << "no loop device available";
    dev.erase(dev.find_last_not_of('\n') + 1);
    std::string found = run_shell("busybox findfs LABEL=cidata 2>&1", &st);
    int rc = exit_code(st);
    run_shell("losetup -d " + dev, &st);
    EXPECT_EQ(rc, 0) << found;
    EXPECT_EQ(found, dev + "\n");
}
