// Descriptors of the top-level objects: domain, storage pool, volume, network.
#include "virtumancer/descriptors.hpp"

#include "descriptor_builder.hpp"

namespace virtumancer {
namespace {

using namespace descriptor_builder;

KindDesc make_domain() {
    KindDesc k;
    k.kind = "domain";
    k.yaml_list = "";
    k.element = "domain";
    k.table = "virtual_machines";
    k.add_remove = C::Replace;
    k.identity = {"name"};
    k.container = "devices";
    k.children = device_kinds();
    k.catch_all = true;
    k.doc = "a virtual machine";
    k.fields = {
        F("domain_type", "@type", T::String, "domain_type", C::Replace,
          "hypervisor type (kvm, or qemu for software emulation)",
          {"kvm", "qemu", "test", "xen", "lxc", "hvf", "bhyve", "vmware", "vbox", "kqemu", "kvm",
           "openvz", "uml", "phyp", "hyperv", "vz"},
          "kvm"),
        F("name", "name", T::String, "name", C::Replace, "domain name"),
        F("uuid", "uuid", T::String, "uuid", C::Replace,
          "libvirt UUID (libvirt picks one when unset; virtumancer then keeps it)"),
        F("genid", "genid", T::String, "", C::NextBoot, "VM generation ID"),
        F("title", "title", T::String, "", C::NextBoot, "short title"),
        F("description", "description", T::String, "description", C::NextBoot, "free text"),
        F("memory", "memory", T::SizeKiB, "memory_bytes", C::Restart,
          "maximum memory of the VM (e.g. 2GiB)"),
        F("memory_dump_core", "memory/@dumpCore", T::OnOff, "", C::NextBoot, ""),
        F("current_memory", "currentMemory", T::SizeKiB, "current_memory_bytes", C::Live,
          "memory given to the guest now (balloon); defaults to memory"),
        F("max_memory", "maxMemory", T::SizeKiB, "", C::Restart, "memory hotplug ceiling"),
        F("max_memory_slots", "maxMemory/@slots", T::Int, "", C::Restart, ""),
        F("vcpus", "vcpu", T::Int, "vcpu_count", C::Restart, "maximum vCPUs"),
        F("vcpus_current", "vcpu/@current", T::Int, "vcpu_current", C::Live,
          "vCPUs online now (hot-plugged up to vcpus)"),
        F("vcpu_placement", "vcpu/@placement", T::String, "", C::NextBoot, "", {"static", "auto"}),
        F("vcpu_cpuset", "vcpu/@cpuset", T::String, "", C::NextBoot, "host CPUs allowed"),
        F("iothreads", "iothreads", T::Int, "", C::NextBoot, "number of IOThreads"),
        F("os_type", "os/type", T::String, "os_type", C::Replace, "OS type", {}, "hvm"),
        F("arch", "os/type/@arch", T::String, "arch", C::Replace, "guest architecture"),
        F("machine", "os/type/@machine", T::String, "machine", C::Restart,
          "machine type (libvirt expands pc/q35 to a versioned one; not a change)"),
        F("firmware", "os/@firmware", T::String, "boot_configs.firmware", C::Restart,
          "automatic firmware selection", {"bios", "efi"}),
        F("loader", "os/loader", T::String, "boot_configs.loader_path", C::Restart,
          "firmware image"),
        F("loader_readonly", "os/loader/@readonly", T::Bool, "", C::Restart, ""),
        F("loader_type", "os/loader/@type", T::String, "", C::Restart, "", {"rom", "pflash"}),
        F("loader_secure", "os/loader/@secure", T::Bool, "boot_configs.secure_boot", C::Restart,
          "secure boot"),
        F("loader_stateless", "os/loader/@stateless", T::Bool, "", C::Restart, ""),
        F("loader_format", "os/loader/@format", T::String, "", C::Restart, ""),
        F("nvram", "os/nvram", T::String, "boot_configs.nvram_path", C::Restart,
          "NVRAM file (kept on redefine)"),
        F("nvram_template", "os/nvram/@template", T::String, "", C::Restart, ""),
        F("nvram_format", "os/nvram/@format", T::String, "", C::Restart, ""),
        F("boot", "os/boot/@dev", T::List, "boot_configs.boot_devices", C::NextBoot,
          "boot device order (hd, cdrom, network, fd)"),
        F("bootmenu", "os/bootmenu/@enable", T::Bool, "", C::NextBoot, "boot menu"),
        F("bootmenu_timeout", "os/bootmenu/@timeout", T::Int, "", C::NextBoot, "ms"),
        F("kernel", "os/kernel", T::String, "boot_configs.kernel", C::Restart,
          "direct kernel boot"),
        F("initrd", "os/initrd", T::String, "boot_configs.initrd", C::Restart, ""),
        F("cmdline", "os/cmdline", T::String, "boot_configs.cmdline", C::Restart, ""),
        F("dtb", "os/dtb", T::String, "", C::Restart, ""),
        F("init", "os/init", T::String, "", C::Restart, "container init"),
        F("smbios_mode", "os/smbios/@mode", T::String, "", C::Restart, ""),
        F("bios_useserial", "os/bios/@useserial", T::Bool, "", C::Restart, ""),
        F("bios_reboot_timeout", "os/bios/@rebootTimeout", T::Int, "", C::Restart, ""),
        F("acpi", "features/acpi", T::Presence, "", C::Restart, "ACPI (needed for hotplug)"),
        F("apic", "features/apic", T::Presence, "", C::Restart, "APIC"),
        F("pae", "features/pae", T::Presence, "", C::Restart, "PAE"),
        F("hap", "features/hap", T::Presence, "", C::Restart, ""),
        F("viridian", "features/viridian", T::Presence, "", C::Restart, ""),
        F("privnet", "features/privnet", T::Presence, "", C::Restart, ""),
        F("pvspinlock", "features/pvspinlock/@state", T::OnOff, "", C::Restart, ""),
        F("vmport", "features/vmport/@state", T::OnOff, "", C::Restart, ""),
        F("smm", "features/smm/@state", T::OnOff, "", C::Restart, "SMM (secure boot)"),
        F("gic_version", "features/gic/@version", T::String, "", C::Restart, ""),
        F("ioapic_driver", "features/ioapic/@driver", T::String, "", C::Restart, ""),
        F("hyperv_mode", "features/hyperv/@mode", T::String, "", C::Restart, ""),
        F("hyperv_relaxed", "features/hyperv/relaxed/@state", T::OnOff, "", C::Restart, ""),
        F("hyperv_vapic", "features/hyperv/vapic/@state", T::OnOff, "", C::Restart, ""),
        F("hyperv_spinlocks", "features/hyperv/spinlocks/@state", T::OnOff, "", C::Restart, ""),
        F("hyperv_spinlocks_retries", "features/hyperv/spinlocks/@retries", T::Int, "", C::Restart,
          ""),
        F("kvm_hidden", "features/kvm/hidden/@state", T::OnOff, "", C::Restart, ""),
        F("vmcoreinfo", "features/vmcoreinfo/@state", T::OnOff, "", C::Restart, ""),
        F("htm", "features/htm/@state", T::OnOff, "", C::Restart, ""),
        F("cpu_mode", "cpu/@mode", T::String, "cpu_mode", C::Restart, "CPU mode",
          {"custom", "host-model", "host-passthrough", "maximum"}),
        F("cpu_match", "cpu/@match", T::String, "", C::Restart, "", {"minimum", "exact", "strict"}),
        F("cpu_check", "cpu/@check", T::String, "", C::Restart, "", {"none", "partial", "full"}),
        F("cpu_migratable", "cpu/@migratable", T::OnOff, "", C::Restart, ""),
        F("cpu_model", "cpu/model", T::String, "cpu_model", C::Restart, "CPU model"),
        F("cpu_model_fallback", "cpu/model/@fallback", T::String, "", C::Restart, "",
          {"allow", "forbid"}),
        F("cpu_vendor_id", "cpu/model/@vendor_id", T::String, "", C::Restart, ""),
        F("cpu_vendor", "cpu/vendor", T::String, "", C::Restart, ""),
        F("cpu_sockets", "cpu/topology/@sockets", T::Int, "", C::Restart, "topology"),
        F("cpu_dies", "cpu/topology/@dies", T::Int, "", C::Restart, "topology"),
        F("cpu_clusters", "cpu/topology/@clusters", T::Int, "", C::Restart, "topology"),
        F("cpu_cores", "cpu/topology/@cores", T::Int, "", C::Restart, "topology"),
        F("cpu_threads", "cpu/topology/@threads", T::Int, "", C::Restart, "topology"),
        F("cpu_cache_mode", "cpu/cache/@mode", T::String, "", C::Restart, ""),
        F("cpu_cache_level", "cpu/cache/@level", T::Int, "", C::Restart, ""),
        F("cpu_maxphysaddr_mode", "cpu/maxphysaddr/@mode", T::String, "", C::Restart, ""),
        F("cpu_maxphysaddr_bits", "cpu/maxphysaddr/@bits", T::Int, "", C::Restart, ""),
        F("clock_offset", "clock/@offset", T::String, "", C::Restart, "",
          {"utc", "localtime", "timezone", "variable", "absolute"}),
        F("clock_timezone", "clock/@timezone", T::String, "", C::Restart, ""),
        F("clock_adjustment", "clock/@adjustment", T::String, "", C::Restart, ""),
        F("clock_basis", "clock/@basis", T::String, "", C::Restart, ""),
        F("on_poweroff", "on_poweroff", T::String, "", C::NextBoot, "",
          {"destroy", "restart", "preserve", "rename-restart"}),
        F("on_reboot", "on_reboot", T::String, "", C::NextBoot, "",
          {"destroy", "restart", "preserve", "rename-restart"}),
        F("on_crash", "on_crash", T::String, "", C::NextBoot, "",
          {"destroy", "restart", "preserve", "rename-restart", "coredump-destroy",
           "coredump-restart"}),
        F("on_lockfailure", "on_lockfailure", T::String, "", C::NextBoot, ""),
        F("pm_suspend_to_mem", "pm/suspend-to-mem/@enabled", T::Bool, "", C::NextBoot, ""),
        F("pm_suspend_to_disk", "pm/suspend-to-disk/@enabled", T::Bool, "", C::NextBoot, ""),
        F("cputune_shares", "cputune/shares", T::Int, "cpu_tunings.shares", C::Live, "CPU shares"),
        F("cputune_period", "cputune/period", T::Int, "cpu_tunings.period", C::Live, ""),
        F("cputune_quota", "cputune/quota", T::Int, "cpu_tunings.quota", C::Live, ""),
        F("cputune_global_period", "cputune/global_period", T::Int, "", C::Live, ""),
        F("cputune_global_quota", "cputune/global_quota", T::Int, "", C::Live, ""),
        F("cputune_emulator_period", "cputune/emulator_period", T::Int, "", C::Live, ""),
        F("cputune_emulator_quota", "cputune/emulator_quota", T::Int, "", C::Live, ""),
        F("cputune_iothread_period", "cputune/iothread_period", T::Int, "", C::Live, ""),
        F("cputune_iothread_quota", "cputune/iothread_quota", T::Int, "", C::Live, ""),
        F("cputune_emulatorpin", "cputune/emulatorpin/@cpuset", T::String,
          "cpu_tunings.emulator_cpuset", C::Live, ""),
        F("memtune_hard_limit", "memtune/hard_limit", T::SizeKiB, "", C::Live, ""),
        F("memtune_soft_limit", "memtune/soft_limit", T::SizeKiB, "", C::Live, ""),
        F("memtune_swap_hard_limit", "memtune/swap_hard_limit", T::SizeKiB, "", C::Live, ""),
        F("memtune_min_guarantee", "memtune/min_guarantee", T::SizeKiB, "", C::Live, ""),
        F("blkiotune_weight", "blkiotune/weight", T::Int, "", C::Live, ""),
        F("hugepages", "memoryBacking/hugepages", T::Presence, "", C::Restart, "hugepages"),
        F("nosharepages", "memoryBacking/nosharepages", T::Presence, "", C::Restart, ""),
        F("locked", "memoryBacking/locked", T::Presence, "", C::Restart, ""),
        F("memory_source", "memoryBacking/source/@type", T::String, "", C::Restart, "",
          {"file", "anonymous", "memfd"}),
        F("memory_access", "memoryBacking/access/@mode", T::String, "", C::Restart, "",
          {"shared", "private"}),
        F("memory_allocation", "memoryBacking/allocation/@mode", T::String, "", C::Restart, ""),
        F("memory_discard", "memoryBacking/discard", T::Presence, "", C::Restart, ""),
        F("numatune_mode", "numatune/memory/@mode", T::String, "", C::Restart, ""),
        F("numatune_nodeset", "numatune/memory/@nodeset", T::String, "", C::Restart, ""),
        F("numatune_placement", "numatune/memory/@placement", T::String, "", C::Restart, ""),
        F("resource_partition", "resource/partition", T::String, "", C::Restart, ""),
        F("emulator", "devices/emulator", T::String, "emulator", C::Restart,
          "emulator binary (libvirt picks one when unset)"),
        F("seclabel_type", "seclabel/@type", T::String, "", C::Restart, ""),
        F("seclabel_model", "seclabel/@model", T::String, "", C::Restart, ""),
        F("seclabel_relabel", "seclabel/@relabel", T::Bool, "", C::Restart, ""),
        F("keywrap_aes", "keywrap/cipher/@state", T::OnOff, "", C::Restart, ""),
        F("launch_security_type", "launchSecurity/@type", T::String, "", C::Restart, ""),
    };
    return k;
}

KindDesc make_pool() {
    KindDesc k;
    k.kind = "pool";
    k.element = "pool";
    k.table = "storage_pools";
    k.add_remove = C::Replace;
    k.identity = {"name"};
    k.doc = "a storage pool";
    k.fields = {
        F("type", "@type", T::String, "type", C::Replace, "pool type",
          {"dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath", "rbd",
           "sheepdog", "gluster", "zfs", "vstorage"},
          "dir"),
        F("name", "name", T::String, "name", C::Replace, "pool name"),
        F("uuid", "uuid", T::String, "uuid", C::Replace, "libvirt UUID"),
        F("path", "target/path", T::String, "path", C::Replace, "target path"),
        F("permissions_mode", "target/permissions/mode", T::String, "", C::NextBoot, ""),
        F("permissions_owner", "target/permissions/owner", T::Int, "", C::NextBoot, ""),
        F("permissions_group", "target/permissions/group", T::Int, "", C::NextBoot, ""),
        F("source_dir", "source/dir/@path", T::String, "", C::Replace, "netfs export"),
        F("source_host", "source/host/@name", T::String, "", C::Replace, "server"),
        F("source_device", "source/device/@path", T::String, "", C::Replace, "device"),
        F("source_name", "source/name", T::String, "", C::Replace, "VG or RBD pool name"),
        F("source_format", "source/format/@type", T::String, "", C::Replace, "format"),
        F("autostart", "", T::Bool, "autostart", C::Live, "start with the host", {}, "true"),
    };
    return k;
}

KindDesc make_volume() {
    KindDesc k;
    k.kind = "volume";
    k.element = "volume";
    k.table = "volumes";
    k.add_remove = C::Replace;
    k.identity = {"pool", "name"};
    k.doc = "a storage volume";
    k.fields = {
        F("vol_type", "@type", T::String, "type", C::Replace, "",
          {"file", "block", "dir", "network", "netdir", "ploop"}),
        F("name", "name", T::String, "name", C::Replace, "volume name"),
        F("capacity", "capacity", T::SizeBytes, "capacity_bytes", C::Live,
          "size (grows live with resize; shrinking is refused)"),
        F("allocation", "allocation", T::SizeBytes, "allocation_bytes", C::Live,
          "space to preallocate at creation (not compared afterwards)"),
        F("format", "target/format/@type", T::String, "format", C::Replace, "image format", {},
          "qcow2"),
        F("permissions_mode", "target/permissions/mode", T::String, "", C::NextBoot, ""),
        F("backing_path", "backingStore/path", T::String, "", C::Replace, "backing image"),
        F("backing_format", "backingStore/format/@type", T::String, "", C::Replace, ""),
        F("pool", "", T::String, "", C::Replace, "the StoragePool spec holding it"),
        F("backing_volume", "", T::String, "", C::Replace,
          "a Volume in the same pool this one is an overlay of"),
    };
    return k;
}

KindDesc make_dhcp_range() {
    KindDesc k;
    k.kind = "dhcp_range";
    k.yaml_list = "dhcp_ranges";
    k.element = "range";
    k.table = "";
    k.identity = {"start"};
    k.fields = {F("start", "@start", T::String, "", C::Live, "first address"),
                F("end", "@end", T::String, "", C::Live, "last address")};
    return k;
}

KindDesc make_dhcp_host() {
    KindDesc k;
    k.kind = "dhcp_host";
    k.yaml_list = "hosts";
    k.element = "host";
    k.table = "";
    k.identity = {"mac"};
    k.fields = {F("mac", "@mac", T::String, "", C::Live, "client MAC"),
                F("host_name", "@name", T::String, "", C::Live, "client name"),
                F("ip", "@ip", T::String, "", C::Live, "fixed address")};
    return k;
}

KindDesc make_ip(const KindDesc* range, const KindDesc* host) {
    KindDesc k;
    k.kind = "ip";
    k.yaml_list = "ips";
    k.element = "ip";
    k.table = "";
    k.identity = {"address"};
    k.container = "dhcp";
    k.children = {range, host};
    k.fields = {F("family", "@family", T::String, "", C::Replace, "", {"ipv4", "ipv6"}),
                F("address", "@address", T::String, "", C::Replace, "host-side address"),
                F("netmask", "@netmask", T::String, "", C::Replace, "IPv4 netmask"),
                F("prefix", "@prefix", T::Int, "", C::Replace, "prefix length"),
                F("tftp_root", "tftp/@root", T::String, "", C::NextBoot, ""),
                F("bootp_file", "dhcp/bootp/@file", T::String, "", C::NextBoot, "")};
    return k;
}

KindDesc make_network(const KindDesc* ip) {
    KindDesc k;
    k.kind = "network";
    k.element = "network";
    k.table = "networks";
    k.add_remove = C::Replace;
    k.identity = {"name"};
    k.container = "";
    k.children = {ip};
    k.doc = "a virtual network";
    k.fields = {
        F("name", "name", T::String, "name", C::Replace, "network name"),
        F("uuid", "uuid", T::String, "uuid", C::Replace, "libvirt UUID"),
        F("mode", "forward/@mode", T::String, "mode", C::Replace, "forwarding (absent: isolated)",
          {"nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"}),
        F("forward_dev", "forward/@dev", T::String, "", C::Replace, ""),
        F("bridge", "bridge/@name", T::String, "bridge_name", C::Replace, "bridge device"),
        F("stp", "bridge/@stp", T::OnOff, "", C::Replace, ""),
        F("delay", "bridge/@delay", T::Int, "", C::Replace, ""),
        F("mtu", "mtu/@size", T::Int, "mtu", C::Replace, "MTU"),
        F("mac", "mac/@address", T::String, "", C::Replace, "bridge MAC"),
        F("domain", "domain/@name", T::String, "", C::Replace, "DNS domain"),
        F("domain_local_only", "domain/@localOnly", T::Bool, "", C::Replace, ""),
        F("autostart", "", T::Bool, "autostart", C::Live, "start with the host", {}, "true"),
    };
    return k;
}

} // namespace

const KindDesc& domain_kind() {
    static const KindDesc k = make_domain();
    return k;
}
const KindDesc& pool_kind() {
    static const KindDesc k = make_pool();
    return k;
}
const KindDesc& volume_kind() {
    static const KindDesc k = make_volume();
    return k;
}
const KindDesc& network_kind() {
    static const KindDesc range = make_dhcp_range();
    static const KindDesc host = make_dhcp_host();
    static const KindDesc ip = make_ip(&range, &host);
    static const KindDesc k = make_network(&ip);
    return k;
}

} // namespace virtumancer
