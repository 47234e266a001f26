// Only the hypervisor adapter includes libvirt.
#include <libvirt/libvirt.h>
#include <string>
