// Filling a volume from an image: virStorageVolUpload with a libvirt stream, which carries the
// bytes over the connection itself (so it works on qemu+ssh:// hosts), and the volume's size.
#include <libvirt/libvirt.h>
#include <memory>
#include <vector>

#include "libvirt_hypervisor.hpp"
#include "virtumancer/diag.hpp"

namespace virtumancer {
namespace {

struct StreamFree {
    void operator()(virStreamPtr s) const { virStreamFree(s); }
};
using Stream = std::unique_ptr<virStream, StreamFree>;

lv::Vol lookup(virStoragePoolPtr p, const std::string& pool, const std::string& name) {
    virStorageVolPtr v = virStorageVolLookupByName(p, name.c_str());
    if (!v) lv::fail("volume '" + name + "' in pool '" + pool + "'");
    return lv::Vol(v);
}

} // namespace

void LibvirtHypervisor::upload_volume(const std::string& pool_name, const std::string& name,
                                      unsigned long long length,
                                      const std::function<size_t(char*, size_t)>& read) {
    auto p = pool(pool_name);
    auto v = lookup(p.get(), pool_name, name);
    const std::string what = "volume '" + name + "' in pool '" + pool_name + "'";
    Stream st(virStreamNew(conn_.get(), 0));
    if (!st) lv::fail("cannot open a stream to upload into " + what);
    if (virStorageVolUpload(v.get(), st.get(), 0, length, 0) < 0)
        lv::fail("cannot upload into " + what);
    std::vector<char> buf(1 << 20);
    unsigned long long sent = 0;
    try {
        while (true) {
            size_t n = read(buf.data(), buf.size());
            if (n == 0) break;
            if (sent + n > length)
                throw Error("the image is longer than the " + std::to_string(length) +
                                " bytes announced for " + what,
                            "the image changed while it was read; apply again");
            size_t off = 0;
            while (off < n) {
                int w = virStreamSend(st.get(), buf.data() + off, n - off);
                if (w < 0)
                    lv::fail("upload into " + what + " failed after " + std::to_string(sent + off) +
                             " bytes");
                off += static_cast<size_t>(w);
            }
            sent += n;
        }
        if (sent != length)
            throw Error("the image ended after " + std::to_string(sent) + " of " +
                            std::to_string(length) + " bytes while uploading into " + what,
                        "the image changed while it was read; apply again");
    } catch (...) {
        virStreamAbort(st.get());
        throw;
    }
    if (virStreamFinish(st.get()) < 0) lv::fail("cannot finish the upload into " + what);
}

unsigned long long LibvirtHypervisor::volume_capacity(const std::string& pool_name,
                                                      const std::string& name) {
    auto p = pool(pool_name);
    auto v = lookup(p.get(), pool_name, name);
    virStorageVolInfo info{};
    if (virStorageVolGetInfo(v.get(), &info) < 0)
        lv::fail("cannot read the size of volume '" + name + "' in pool '" + pool_name + "'");
    return info.capacity;
}

} // namespace virtumancer
