// Which device of a domain XML a device XML names, for confirming attach and detach calls
// against what libvirt reports afterwards. Pure (no libvirt). Private to src/hypervisor.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace virtumancer::devmatch {

struct DeviceRef {
    std::string element;     // interface, disk, hostdev, input, ...
    std::string alias;       // <alias name=> in the domain XML ("" when it has none)
    std::string description; // for messages: "interface (MAC 52:54:..., model virtio, alias net1)"
};

// The device of `domain_xml` (/domain/devices/*) that `device_xml` names, matched the way
// libvirt picks a device to detach: by alias when the device XML has one; an interface by
// MAC, a disk by target dev, a filesystem by target dir, a controller by type and index, a
// host device by its source; anything else by its address when given; otherwise the first
// device of the same element whose attributes and text include all of the device XML's
// (alias and address aside). nullopt when none matches or either XML does not parse.
std::optional<DeviceRef> find_device(const std::string& domain_xml, const std::string& device_xml);

// True when `domain_xml` holds a device that find_device() names AND that states everything
// `device_xml` states (alias and address aside): the attach of `device_xml` has happened.
bool has_same_device(const std::string& domain_xml, const std::string& device_xml);

// The aliases of the devices in `domain_xml` (in document order; devices without one are
// skipped), of one element only when `element` is given.
std::vector<std::string> device_aliases(const std::string& domain_xml,
                                        const std::string& element = {});

// The root element's name of a device XML ("" when it does not parse).
std::string element_of(const std::string& device_xml);

// "interface (MAC 52:54:00:00:00:01, model virtio)" for a device XML on its own.
std::string describe_device(const std::string& device_xml);

} // namespace virtumancer::devmatch
