// A volume filled from an image `source`: fetched through ApplyOptions::images, uploaded with
// the hypervisor's volume upload (hashed as it streams), verified, grown. Nothing is left
// behind on failure: the volume this step created is deleted.
#include <cctype>
#include <pugixml.hpp>

#include "applier_internal.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/interrupt.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer::applier_detail {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The volume XML with the capacity the image needs (the volume grows to the spec's after the
// upload) and no preallocation (the upload writes every byte).
std::string xml_with_capacity(const std::string& xml, unsigned long long bytes, const Step& s) {
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single))
        throw Error("step " + std::to_string(s.id) + " has malformed XML",
                    "make a new plan with virtumancer plan");
    pugi::xml_node root = doc.document_element();
    root.remove_child("allocation");
    pugi::xml_node cap = root.child("capacity");
    if (!cap) cap = root.append_child("capacity");
    cap.remove_attribute("unit");
    cap.append_attribute("unit").set_value("bytes");
    cap.text().set(std::to_string(bytes).c_str());
    return xml_document_string(doc);
}

} // namespace

std::string create_volume_from_image(const Step& s, const VolumeCreate& a, Hypervisor& hv,
                                     const ApplyOptions& opts, const Progress& progress) {
    const std::string vol = a.pool + "/" + a.volume;
    if (!opts.images)
        throw Error("volume " + vol + " is to be filled from " + a.source +
                        ", but this apply has no image source",
                    "run it with the virtumancer command line");
    progress(0, "fetching the image " + a.source);
    std::unique_ptr<ImageReader> img = opts.images->open(a.source, a.checksum, "volume " + vol);
    std::string want = a.format.empty() ? "raw" : a.format;
    if (img->format() != want)
        throw Error("the image " + a.source + " is " + img->format() + " but volume " + vol +
                        " is " + want + "; nothing was created",
                    "set `format: " + img->format() + "` on the volume, or convert the image (" +
                        "qemu-img convert -O " + want + " IMAGE NEW-IMAGE) and use that");
    const unsigned long long vsize = img->virtual_size();
    if (a.capacity > 0 && a.capacity < vsize)
        throw Error("the image " + a.source + " is a disk of " + std::to_string(vsize) +
                        " bytes, more than volume " + vol + "'s capacity of " +
                        std::to_string(a.capacity) + "; nothing was created",
                    "raise the volume's capacity to at least " + std::to_string(vsize));
    progress(2, "creating the volume (" + std::to_string(vsize) + " bytes, " + want + ")");
    hv.create_volume(a.pool, xml_with_capacity(a.xml, vsize, s));
    // From here on a failure deletes the volume: nothing half-written is left to be used.
    auto discard = [&](const std::string& why) {
        try {
            hv.delete_volume(a.pool, a.volume);
            return why + "; volume " + vol + " was deleted";
        } catch (const std::exception& e) {
            return why + "; deleting volume " + vol + " failed too (" + e.what() +
                   "): delete it by hand";
        }
    };
    std::string digest;
    try {
        progress(5, "uploading " + std::to_string(img->size()) + " bytes");
        hv.upload_volume(a.pool, a.volume, img->size(), [&](char* buf, size_t n) -> size_t {
            if (int sig = opts.interrupted ? opts.interrupted() : 0)
                throw StepInterrupted("stopped uploading into volume " + vol + " (" +
                                      signal_name(sig) + ")");
            return img->read(buf, n);
        });
        digest = img->digest();
        if (!a.checksum.empty() && lower(digest) != lower(a.checksum))
            throw Error("checksum mismatch for volume " + vol + ": the image " + a.source +
                            " has digest " + digest + ", the spec expects " + a.checksum,
                        "check the source and the checksum (the file may have changed or be "
                        "damaged), then apply again");
        if (a.capacity > vsize) {
            progress(95, "growing the volume to " + std::to_string(a.capacity) + " bytes");
            hv.resize_volume(a.pool, a.volume, a.capacity);
        }
    } catch (const StepInterrupted& e) {
        throw StepInterrupted(discard(e.what()));
    } catch (const Error& e) {
        throw Error(discard(e.what()), e.remedy());
    } catch (const std::exception& e) {
        throw Error(discard(e.what()), "fix the cause above, then apply again");
    }
    progress(100, "filled from " + a.source + " (" + digest + ")");
    return digest;
}

} // namespace virtumancer::applier_detail
