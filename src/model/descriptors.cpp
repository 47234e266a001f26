// The field descriptor tables: every typed field of every kind, in one place.
// Column "table.column" stores a domain field in another table of the VM's family;
// an empty column stores the field in the row's props_json.
#include "virtumancer/descriptors.hpp"

#include "descriptor_builder.hpp"

#include <map>

namespace virtumancer {

const char* change_class_name(ChangeClass c) {
    switch (c) {
    case ChangeClass::Live:
        return "live";
    case ChangeClass::NextBoot:
        return "next-boot";
    case ChangeClass::Restart:
        return "restart";
    case ChangeClass::Replace:
        return "replace";
    }
    return "?";
}

const FieldDesc* KindDesc::field(std::string_view key) const {
    for (const auto& f : fields)
        if (f.key == key) return &f;
    return nullptr;
}

namespace {

using namespace descriptor_builder;

// <address> and <alias> and <boot order> are shared by most devices.
void add_common_device_fields(std::vector<FieldDesc>& v, bool bootable = false) {
    const char* addr_attrs[] = {"type",          "domain",     "bus",    "slot",  "function",
                                "multifunction", "controller", "target", "unit",  "port",
                                "reg",           "cssid",      "ssid",   "devno", "iobase",
                                "irq",           "base",       "zpci"};
    for (const char* a : addr_attrs) {
        std::string key = std::string("address_") + a;
        v.push_back(F(key, std::string("address/@") + a, T::String, "", C::Replace,
                      std::string("device address: ") + a + " (libvirt assigns it when unset)"));
    }
    v.push_back(
        F("alias", "alias/@name", T::String, "", C::NextBoot, "user alias (must start with ua-)"));
    v.push_back(
        F("address_zpci_uid", "address/zpci/@uid", T::String, "", C::Replace, "s390 zPCI user id"));
    v.push_back(F("address_zpci_fid", "address/zpci/@fid", T::String, "", C::Replace,
                  "s390 zPCI function id"));
    v.push_back(F("acpi_index", "acpi/@index", T::Int, "", C::NextBoot,
                  "ACPI index the guest names the device by"));
    if (bootable) {
        v.push_back(F("boot_order", "boot/@order", T::Int, "boot_order", C::NextBoot,
                      "per-device boot order (1 first)"));
        v.push_back(
            F("boot_loadparm", "boot/@loadparm", T::String, "", C::NextBoot, "s390 boot loadparm"));
    }
}

// The virtio options (<driver iommu= ats= packed= page_per_vq=>), where not already there.
void add_virtio_driver_fields(std::vector<FieldDesc>& v) {
    const char* opts[][2] = {{"iommu", "virtio IOMMU platform"},
                             {"ats", "virtio ATS"},
                             {"packed", "virtio packed ring"},
                             {"page_per_vq", "virtio page per virtqueue"}};
    for (auto& o : opts) {
        std::string key = std::string("driver_") + o[0];
        bool have = false;
        for (const auto& f : v) have = have || f.key == key;
        if (!have)
            v.push_back(F(key, std::string("driver/@") + o[0], FieldType::OnOff, "",
                          ChangeClass::NextBoot, o[1]));
    }
}

std::map<std::string, KindDesc>& registry() {
    static std::map<std::string, KindDesc> r;
    return r;
}

KindDesc make_disk() {
    KindDesc k;
    k.kind = "disk";
    k.yaml_list = "disks";
    k.element = "disk";
    k.table = "volume_attachments";
    k.add_remove = C::Live;
    k.identity = {"target"};
    k.doc = "a disk, cdrom, floppy or lun: from a Volume, a file, a block device or the network";
    k.fields = {
        F("type", "@type", T::String, "source_type", C::NextBoot, "source kind",
          {"file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa"}),
        F("device", "@device", T::String, "device_type", C::Replace, "what the guest sees",
          {"disk", "cdrom", "floppy", "lun"}, "disk"),
        F("snapshot", "@snapshot", T::String, "", C::NextBoot, "default snapshot mode"),
        F("model", "@model", T::String, "", C::NextBoot, "virtio model variant"),
        F("driver_name", "driver/@name", T::String, "driver_name", C::NextBoot, "driver (qemu)"),
        F("format", "driver/@type", T::String, "driver_format", C::NextBoot, "image format"),
        F("cache", "driver/@cache", T::String, "driver_cache", C::NextBoot, "host cache mode",
          {"default", "none", "writethrough", "writeback", "directsync", "unsafe"}),
        F("io", "driver/@io", T::String, "driver_io", C::NextBoot, "I/O mode",
          {"threads", "native", "io_uring"}),
        F("discard", "driver/@discard", T::String, "driver_discard", C::NextBoot,
          "discard requests", {"unmap", "ignore"}),
        F("detect_zeroes", "driver/@detect_zeroes", T::String, "driver_detect_zeroes", C::NextBoot,
          "zero write detection", {"off", "on", "unmap"}),
        F("queues", "driver/@queues", T::Int, "driver_queues", C::NextBoot, "virtio queues"),
        F("queue_size", "driver/@queue_size", T::Int, "", C::NextBoot, "virtio queue size"),
        F("iothread", "driver/@iothread", T::Int, "", C::NextBoot, "IOThread to use"),
        F("error_policy", "driver/@error_policy", T::String, "", C::NextBoot, "on write error"),
        F("rerror_policy", "driver/@rerror_policy", T::String, "", C::NextBoot, "on read error"),
        F("copy_on_read", "driver/@copy_on_read", T::OnOff, "", C::NextBoot, "copy on read"),
        F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, "virtio IOMMU platform"),
        F("driver_ats", "driver/@ats", T::OnOff, "", C::NextBoot, "virtio ATS"),
        F("driver_packed", "driver/@packed", T::OnOff, "", C::NextBoot, "virtio packed ring"),
        F("file", "source/@file", T::String, "source_path", C::Live,
          "image file (type file); change = media change for cdroms"),
        F("dev", "source/@dev", T::String, "source_dev", C::Live, "block device (type block)"),
        F("dir", "source/@dir", T::String, "", C::NextBoot, "directory (type dir)"),
        F("pool", "source/@pool", T::String, "source_pool", C::NextBoot, "storage pool name"),
        F("volume", "source/@volume", T::String, "source_volume", C::NextBoot,
          "volume name within the pool (a Volume spec)"),
        F("source_mode", "source/@mode", T::String, "", C::NextBoot, "iSCSI source mode"),
        F("protocol", "source/@protocol", T::String, "", C::NextBoot, "network protocol"),
        F("source_name", "source/@name", T::String, "", C::NextBoot, "network source name"),
        F("source_index", "source/@index", T::Int, "", C::NextBoot, "source index"),
        F("source_host", "source/host/@name", T::String, "", C::NextBoot, "network host"),
        F("source_port", "source/host/@port", T::String, "", C::NextBoot, "network port"),
        F("startup_policy", "source/@startupPolicy", T::String, "", C::NextBoot,
          "when the source is missing", {"mandatory", "requisite", "optional"}),
        F("target", "target/@dev", T::String, "target_dev", C::Replace, "guest device name"),
        F("bus", "target/@bus", T::String, "target_bus", C::Replace, "guest bus",
          {"virtio", "scsi", "sata", "ide", "usb", "fdc", "xen", "sd", "nvme"}),
        F("tray", "target/@tray", T::String, "", C::Live, "cdrom tray", {"open", "closed"}),
        F("removable", "target/@removable", T::OnOff, "", C::NextBoot, "usb removable"),
        F("rotation_rate", "target/@rotation_rate", T::Int, "", C::NextBoot, "rotation rate"),
        F("serial", "serial", T::String, "serial", C::NextBoot, "disk serial number"),
        F("wwn", "wwn", T::String, "", C::NextBoot, "world wide name"),
        F("vendor", "vendor", T::String, "", C::NextBoot, "SCSI vendor"),
        F("product", "product", T::String, "", C::NextBoot, "SCSI product"),
        F("readonly", "readonly", T::Presence, "readonly", C::NextBoot, "read-only disk"),
        F("shareable", "shareable", T::Presence, "shareable", C::NextBoot, "shared disk"),
        F("transient_share_backing", "transient/@shareBacking", T::Bool, "", C::NextBoot,
          "transient disk sharing its backing image"),
        F("transient", "transient", T::Presence, "", C::NextBoot, "discard changes at shutdown"),
        F("geometry_cyls", "geometry/@cyls", T::Int, "", C::NextBoot, "BIOS geometry"),
        F("geometry_heads", "geometry/@heads", T::Int, "", C::NextBoot, "BIOS geometry"),
        F("geometry_secs", "geometry/@secs", T::Int, "", C::NextBoot, "BIOS geometry"),
        F("geometry_trans", "geometry/@trans", T::String, "", C::NextBoot, "BIOS geometry"),
        F("logical_block_size", "blockio/@logical_block_size", T::Int, "", C::NextBoot,
          "logical block size"),
        F("physical_block_size", "blockio/@physical_block_size", T::Int, "", C::NextBoot,
          "physical block size"),
        F("discard_granularity", "blockio/@discard_granularity", T::Int, "", C::NextBoot,
          "discard granularity"),
        F("rawio", "@rawio", T::Bool, "", C::NextBoot, "raw I/O (lun)"),
        F("backenddomain", "backenddomain/@name", T::String, "", C::NextBoot, "Xen backend"),
        F("driver_discard_no_unref", "driver/@discard_no_unref", T::OnOff, "", C::NextBoot,
          "keep discarded clusters allocated"),
        F("driver_event_idx", "driver/@event_idx", T::OnOff, "", C::NextBoot, "virtio event_idx"),
        F("driver_ioeventfd", "driver/@ioeventfd", T::OnOff, "", C::NextBoot, "ioeventfd"),
        F("driver_metadata_cache_max_size", "driver/metadata_cache/max_size", T::SizeBytes, "",
          C::NextBoot, "qcow2 metadata cache size"),
        F("auth_username", "auth/@username", T::String, "", C::NextBoot,
          "network disk user (old place)"),
        F("auth_secret_type", "auth/secret/@type", T::String, "", C::NextBoot,
          "libvirt secret type (old place)"),
        F("auth_secret_usage", "auth/secret/@usage", T::String, "", C::NextBoot,
          "libvirt secret usage (old place)"),
        F("auth_secret_uuid", "auth/secret/@uuid", T::String, "", C::NextBoot,
          "libvirt secret UUID (old place)"),
        F("encryption_engine", "encryption/@engine", T::String, "", C::NextBoot,
          "encryption engine (old place)"),
        F("encryption_format", "encryption/@format", T::String, "", C::NextBoot,
          "encryption format (old place)"),
        F("encryption_secret_type", "encryption/secret/@type", T::String, "", C::NextBoot, ""),
        F("encryption_secret_usage", "encryption/secret/@usage", T::String, "", C::NextBoot, ""),
        F("encryption_secret_uuid", "encryption/secret/@uuid", T::String, "", C::NextBoot, ""),
        F("source_type", "source/@type", T::String, "", C::NextBoot, "nvme/vhostuser type"),
        F("source_path", "source/@path", T::String, "", C::NextBoot, "vhost-user socket"),
        F("source_fdgroup", "source/@fdgroup", T::String, "", C::NextBoot,
          "passed file descriptor group"),
        F("source_managed", "source/@managed", T::Bool, "", C::NextBoot, "nvme: managed"),
        F("source_namespace", "source/@namespace", T::Int, "", C::NextBoot, "nvme namespace"),
        F("source_query", "source/@query", T::String, "", C::NextBoot, "http query string"),
        F("source_tls", "source/@tls", T::Bool, "", C::NextBoot, "TLS to the server"),
        F("source_tls_hostname", "source/@tlsHostname", T::String, "", C::NextBoot,
          "TLS host name override"),
        F("source_address_domain", "source/address/@domain", T::String, "", C::NextBoot,
          "nvme PCI address"),
        F("source_address_bus", "source/address/@bus", T::String, "", C::NextBoot, ""),
        F("source_address_slot", "source/address/@slot", T::String, "", C::NextBoot, ""),
        F("source_address_function", "source/address/@function", T::String, "", C::NextBoot, ""),
        F("source_auth_username", "source/auth/@username", T::String, "", C::NextBoot,
          "network disk user"),
        F("source_auth_secret_type", "source/auth/secret/@type", T::String, "", C::NextBoot,
          "libvirt secret type (ceph, iscsi)"),
        F("source_auth_secret_usage", "source/auth/secret/@usage", T::String, "", C::NextBoot,
          "libvirt secret usage name"),
        F("source_auth_secret_uuid", "source/auth/secret/@uuid", T::String, "", C::NextBoot,
          "libvirt secret UUID"),
        F("source_config_file", "source/config/@file", T::String, "", C::NextBoot,
          "ceph config file"),
        F("source_host_socket", "source/host/@socket", T::String, "", C::NextBoot,
          "unix socket of the server"),
        F("source_host_transport", "source/host/@transport", T::String, "", C::NextBoot,
          "tcp, unix or rdma"),
        F("source_identity_user", "source/identity/@user", T::String, "", C::NextBoot, ""),
        F("source_identity_group", "source/identity/@group", T::String, "", C::NextBoot, ""),
        F("source_identity_username", "source/identity/@username", T::String, "", C::NextBoot,
          "ssh user"),
        F("source_identity_keyfile", "source/identity/@keyfile", T::String, "", C::NextBoot,
          "ssh key file"),
        F("source_identity_agentsock", "source/identity/@agentsock", T::String, "", C::NextBoot,
          "ssh agent socket"),
        F("source_initiator_iqn", "source/initiator/iqn/@name", T::String, "", C::NextBoot,
          "iSCSI initiator IQN"),
        F("source_known_hosts", "source/knownHosts/@path", T::String, "", C::NextBoot,
          "ssh known_hosts"),
        F("source_readahead_size", "source/readahead/@size", T::Int, "", C::NextBoot,
          "curl readahead"),
        F("source_timeout_seconds", "source/timeout/@seconds", T::Int, "", C::NextBoot,
          "curl timeout"),
        F("source_ssl_verify", "source/ssl/@verify", T::Bool, "", C::NextBoot,
          "verify the server certificate"),
        F("source_snapshot_name", "source/snapshot/@name", T::String, "", C::NextBoot,
          "rbd snapshot"),
        F("source_reconnect_delay", "source/reconnect/@delay", T::Int, "", C::NextBoot,
          "nbd reconnect delay"),
        F("source_reconnect_enabled", "source/reconnect/@enabled", T::Bool, "", C::NextBoot,
          "vhost-user reconnect"),
        F("source_reconnect_timeout", "source/reconnect/@timeout", T::Int, "", C::NextBoot,
          "vhost-user reconnect timeout"),
        F("source_reservations_managed", "source/reservations/@managed", T::Bool, "", C::NextBoot,
          "persistent reservations helper managed by libvirt"),
        F("source_reservations_source_type", "source/reservations/source/@type", T::String, "",
          C::NextBoot, ""),
        F("source_reservations_source_path", "source/reservations/source/@path", T::String, "",
          C::NextBoot, ""),
        F("source_reservations_source_mode", "source/reservations/source/@mode", T::String, "",
          C::NextBoot, ""),
        F("source_encryption_engine", "source/encryption/@engine", T::String, "", C::NextBoot,
          "encryption engine (qemu, librbd)"),
        F("source_encryption_format", "source/encryption/@format", T::String, "", C::NextBoot,
          "encryption format (luks, luks2)"),
        F("source_encryption_secret_type", "source/encryption/secret/@type", T::String, "",
          C::NextBoot, ""),
        F("source_encryption_secret_usage", "source/encryption/secret/@usage", T::String, "",
          C::NextBoot, ""),
        F("source_encryption_secret_uuid", "source/encryption/secret/@uuid", T::String, "",
          C::NextBoot, "libvirt secret holding the passphrase"),
        F("source_seclabel_model", "source/seclabel/@model", T::String, "", C::NextBoot, ""),
        F("source_seclabel_relabel", "source/seclabel/@relabel", T::Bool, "", C::NextBoot, ""),
        F("source_seclabel_label", "source/seclabel/label", T::String, "", C::NextBoot, ""),
        F("source_slice_type", "source/slices/slice/@type", T::String, "", C::NextBoot,
          "storage slice"),
        F("source_slice_offset", "source/slices/slice/@offset", T::Int, "", C::NextBoot,
          "slice offset (bytes)"),
        F("source_slice_size", "source/slices/slice/@size", T::Int, "", C::NextBoot,
          "slice size (bytes)"),
        F("source_data_store_type", "source/dataStore/@type", T::String, "", C::NextBoot,
          "qcow2 external data file"),
        F("source_data_store_format", "source/dataStore/format/@type", T::String, "", C::NextBoot,
          ""),
        F("source_data_store_file", "source/dataStore/source/@file", T::String, "", C::NextBoot,
          ""),
        F("source_data_store_dev", "source/dataStore/source/@dev", T::String, "", C::NextBoot, ""),
        F("throttle_groups", "throttlefilters/throttlefilter/@group", T::List, "", C::Live,
          "throttle groups this disk is filtered by"),
    };
    const char* iotune[] = {"total_bytes_sec",     "read_bytes_sec",     "write_bytes_sec",
                            "total_iops_sec",      "read_iops_sec",      "write_iops_sec",
                            "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
                            "total_iops_sec_max",  "read_iops_sec_max",  "write_iops_sec_max",
                            "size_iops_sec",       "group_name"};
    for (const char* a :
         {"total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
          "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length"}) {
        std::string n = a;
        k.fields.push_back(F("iotune_" + n, "iotune/" + n, T::Int, "", C::Live,
                             "I/O throttling: " + n + " (applied live)"));
    }
    for (const char* a : iotune) {
        std::string n = a;
        k.fields.push_back(F("iotune_" + n, "iotune/" + n, n == "group_name" ? T::String : T::Int,
                             "", C::Live, "I/O throttling: " + n + " (applied live)"));
    }
    add_common_device_fields(k.fields, true);
    add_virtio_driver_fields(k.fields);
    return k;
}

KindDesc make_interface() {
    KindDesc k;
    k.kind = "interface";
    k.yaml_list = "interfaces";
    k.element = "interface";
    k.table = "ports";
    k.add_remove = C::Live;
    k.identity = {"mac"};
    k.doc = "a network interface";
    k.fields = {
        F("type", "@type", T::String, "source_type", C::NextBoot, "how it connects",
          {"network", "bridge", "direct", "user", "hostdev", "vhostuser", "ethernet", "mcast",
           "server", "client", "udp", "vdpa", "null", "internal"}),
        F("trust_guest_rx_filters", "@trustGuestRxFilters", T::Bool, "", C::NextBoot,
          "trust guest rx filters"),
        F("managed", "@managed", T::Bool, "", C::NextBoot, "hostdev: managed by libvirt"),
        F("mac", "mac/@address", T::String, "mac_address", C::Replace,
          "MAC address (derived from host, VM and index when omitted)"),
        F("mac_type", "mac/@type", T::String, "", C::NextBoot, "MAC address type"),
        F("network", "source/@network", T::String, "source_network", C::NextBoot,
          "libvirt network (type network)"),
        F("portgroup", "source/@portgroup", T::String, "", C::NextBoot, "network port group"),
        F("bridge", "source/@bridge", T::String, "source_bridge", C::NextBoot,
          "host bridge (type bridge)"),
        F("source_dev", "source/@dev", T::String, "source_dev", C::NextBoot,
          "host device (type direct)"),
        F("source_mode", "source/@mode", T::String, "source_mode", C::NextBoot,
          "macvtap mode (type direct) or vhostuser socket mode"),
        F("source_type", "source/@type", T::String, "", C::NextBoot, "vhostuser socket type"),
        F("source_path", "source/@path", T::String, "", C::NextBoot, "vhostuser socket path"),
        F("source_address", "source/@address", T::String, "", C::NextBoot, "mcast/udp address"),
        F("source_port", "source/@port", T::String, "", C::NextBoot, "mcast/udp port"),
        F("model", "model/@type", T::String, "model", C::NextBoot, "NIC model", {}, "virtio"),
        F("driver_name", "driver/@name", T::String, "", C::NextBoot, "backend driver"),
        F("queues", "driver/@queues", T::Int, "queues", C::NextBoot, "multiqueue"),
        F("rx_queue_size", "driver/@rx_queue_size", T::Int, "", C::NextBoot, "rx queue size"),
        F("tx_queue_size", "driver/@tx_queue_size", T::Int, "", C::NextBoot, "tx queue size"),
        F("txmode", "driver/@txmode", T::String, "", C::NextBoot, "tx mode"),
        F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, "virtio IOMMU platform"),
        F("target_dev", "target/@dev", T::String, "", C::NextBoot,
          "host-side tap name (libvirt names it vnetN when unset; that name is never stored)"),
        F("target_managed", "target/@managed", T::Bool, "", C::NextBoot, "tap managed"),
        F("mtu", "mtu/@size", T::Int, "mtu", C::NextBoot, "MTU"),
        F("link_state", "link/@state", T::String, "", C::Live, "link state", {"up", "down"}),
        F("filterref", "filterref/@filter", T::String, "filterref", C::Live, "nwfilter name"),
        F("virtualport_type", "virtualport/@type", T::String, "virtualport_type", C::NextBoot,
          "virtual port type", {"802.1Qbg", "802.1Qbh", "openvswitch", "midonet"}),
        F("virtualport_interfaceid", "virtualport/parameters/@interfaceid", T::String, "",
          C::NextBoot, "openvswitch interface id"),
        F("virtualport_profileid", "virtualport/parameters/@profileid", T::String, "", C::NextBoot,
          "port profile id"),
        F("vlan", "vlan/tag/@id", T::Int, "vlan_tags", C::NextBoot, "VLAN tag"),
        F("vlan_trunk", "vlan/@trunk", T::Bool, "", C::NextBoot, "VLAN trunk"),
        F("inbound_average", "bandwidth/inbound/@average", T::Int, "", C::Live,
          "inbound average rate (KiB/s)"),
        F("inbound_peak", "bandwidth/inbound/@peak", T::Int, "", C::Live, "inbound peak"),
        F("inbound_burst", "bandwidth/inbound/@burst", T::Int, "", C::Live, "inbound burst"),
        F("outbound_average", "bandwidth/outbound/@average", T::Int, "", C::Live,
          "outbound average rate (KiB/s)"),
        F("outbound_peak", "bandwidth/outbound/@peak", T::Int, "", C::Live, "outbound peak"),
        F("outbound_burst", "bandwidth/outbound/@burst", T::Int, "", C::Live, "outbound burst"),
        F("rom_bar", "rom/@bar", T::OnOff, "", C::NextBoot, "option ROM BAR"),
        F("rom_file", "rom/@file", T::String, "", C::NextBoot, "option ROM file"),
        F("rom_enabled", "rom/@enabled", T::Bool, "", C::NextBoot, "option ROM enabled"),
        F("script", "script/@path", T::String, "", C::NextBoot, "ethernet script"),
        F("backend_tap", "backend/@tap", T::String, "", C::NextBoot, "tap device path"),
        F("backend_vhost", "backend/@vhost", T::String, "", C::NextBoot, "vhost device path"),
        F("coalesce_rx_frames", "coalesce/rx/frames/@max", T::Int, "", C::NextBoot,
          "rx coalesce frames"),
        F("inbound_floor", "bandwidth/inbound/@floor", T::Int, "", C::Live,
          "guaranteed inbound rate (KiB/s)"),
        F("backend_type", "backend/@type", T::String, "", C::NextBoot, "user backend (passt)"),
        F("backend_log_file", "backend/@logFile", T::String, "", C::NextBoot, "passt log file"),
        F("backenddomain", "backenddomain/@name", T::String, "", C::NextBoot, "Xen backend"),
        F("downscript", "downscript/@path", T::String, "", C::NextBoot, "ethernet down script"),
        F("driver_event_idx", "driver/@event_idx", T::OnOff, "", C::NextBoot, ""),
        F("driver_ioeventfd", "driver/@ioeventfd", T::OnOff, "", C::NextBoot, ""),
        F("driver_rss", "driver/@rss", T::OnOff, "", C::NextBoot, "receive side scaling"),
        F("driver_rss_hash_report", "driver/@rss_hash_report", T::OnOff, "", C::NextBoot, ""),
        F("driver_host_csum", "driver/host/@csum", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_gso", "driver/host/@gso", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_tso4", "driver/host/@tso4", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_tso6", "driver/host/@tso6", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_ecn", "driver/host/@ecn", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_ufo", "driver/host/@ufo", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_host_mrg_rxbuf", "driver/host/@mrg_rxbuf", T::OnOff, "", C::NextBoot, ""),
        F("driver_guest_csum", "driver/guest/@csum", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_guest_tso4", "driver/guest/@tso4", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_guest_tso6", "driver/guest/@tso6", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_guest_ecn", "driver/guest/@ecn", T::OnOff, "", C::NextBoot, "offload"),
        F("driver_guest_ufo", "driver/guest/@ufo", T::OnOff, "", C::NextBoot, "offload"),
        F("mac_check", "mac/@check", T::Bool, "", C::NextBoot, "check the MAC is not reserved"),
        F("port_isolated", "port/@isolated", T::Bool, "", C::NextBoot, "isolated port"),
        F("tune_sndbuf", "tune/sndbuf", T::Int, "", C::NextBoot, "tap send buffer"),
        F("teaming_type", "teaming/@type", T::String, "", C::NextBoot, "failover teaming role",
          {"persistent", "transient"}),
        F("teaming_persistent", "teaming/@persistent", T::String, "", C::NextBoot,
          "alias of the persistent team member"),
        F("virtualport_instanceid", "virtualport/parameters/@instanceid", T::String, "",
          C::NextBoot, "802.1Qbh instance id"),
        F("virtualport_managerid", "virtualport/parameters/@managerid", T::String, "", C::NextBoot,
          "802.1Qbg manager id"),
        F("virtualport_typeid", "virtualport/parameters/@typeid", T::String, "", C::NextBoot,
          "802.1Qbg type id"),
        F("virtualport_typeidversion", "virtualport/parameters/@typeidversion", T::String, "",
          C::NextBoot, "802.1Qbg type id version"),
        F("source_address_type", "source/address/@type", T::String, "", C::NextBoot,
          "hostdev interface: host address type"),
        F("source_address_domain", "source/address/@domain", T::String, "", C::NextBoot, ""),
        F("source_address_bus", "source/address/@bus", T::String, "", C::NextBoot, ""),
        F("source_address_slot", "source/address/@slot", T::String, "", C::NextBoot, ""),
        F("source_address_function", "source/address/@function", T::String, "", C::NextBoot, ""),
        F("source_local_address", "source/local/@address", T::String, "", C::NextBoot,
          "udp local address"),
        F("source_local_port", "source/local/@port", T::String, "", C::NextBoot, "udp local port"),
        F("source_reconnect_enabled", "source/reconnect/@enabled", T::Bool, "", C::NextBoot,
          "vhost-user reconnect"),
        F("source_reconnect_timeout", "source/reconnect/@timeout", T::Int, "", C::NextBoot, ""),
        F("source_ip_address", "source/ip/@address", T::String, "", C::NextBoot,
          "ethernet: host-side address"),
        F("source_ip_family", "source/ip/@family", T::String, "", C::NextBoot, ""),
        F("source_ip_prefix", "source/ip/@prefix", T::Int, "", C::NextBoot, ""),
        F("source_ip_peer", "source/ip/@peer", T::String, "", C::NextBoot, ""),
        F("source_route_family", "source/route/@family", T::String, "", C::NextBoot,
          "ethernet: host-side route"),
        F("source_route_address", "source/route/@address", T::String, "", C::NextBoot, ""),
        F("source_route_prefix", "source/route/@prefix", T::Int, "", C::NextBoot, ""),
        F("source_route_gateway", "source/route/@gateway", T::String, "", C::NextBoot, ""),
        F("ip_address", "ip/@address", T::String, "", C::NextBoot,
          "guest-side address (passt, lxc)"),
        F("ip_family", "ip/@family", T::String, "", C::NextBoot, ""),
        F("ip_prefix", "ip/@prefix", T::Int, "", C::NextBoot, ""),
    };
    add_common_device_fields(k.fields, true);
    add_virtio_driver_fields(k.fields);
    return k;
}

KindDesc simple_kind(std::string kind, std::string list, std::string element, std::string table,
                     std::string attach, C add_remove, std::vector<std::string> identity,
                     std::vector<FieldDesc> fields, std::string doc, bool bootable = false,
                     std::string discriminator = {}) {
    KindDesc k;
    k.kind = std::move(kind);
    k.yaml_list = std::move(list);
    k.element = std::move(element);
    k.table = std::move(table);
    k.attach_table = std::move(attach);
    k.add_remove = add_remove;
    k.identity = std::move(identity);
    k.fields = std::move(fields);
    k.doc = std::move(doc);
    k.discriminator = std::move(discriminator);
    add_common_device_fields(k.fields, bootable);
    return k;
}

std::vector<FieldDesc> chardev_fields() {
    return {
        F("type", "@type", T::String, "type", C::NextBoot, "character device backend",
          {"pty", "dev", "file", "pipe", "unix", "tcp", "udp", "null", "stdio", "vc", "spicevmc",
           "spiceport", "nmdm", "qemu-vdagent", "dbus"}),
        F("source_path", "source/@path", T::String, "source_path", C::NextBoot, "path"),
        F("source_mode", "source/@mode", T::String, "", C::NextBoot, "bind or connect"),
        F("source_host", "source/@host", T::String, "", C::NextBoot, "tcp/udp host"),
        F("source_service", "source/@service", T::String, "", C::NextBoot, "tcp/udp port"),
        F("source_append", "source/@append", T::OnOff, "", C::NextBoot, "append to file"),
        F("source_channel", "source/@channel", T::String, "", C::NextBoot, "spiceport channel"),
        F("source_tls", "source/@tls", T::Bool, "", C::NextBoot, "TLS"),
        F("protocol", "protocol/@type", T::String, "", C::NextBoot, "tcp protocol"),
        F("target_type", "target/@type", T::String, "target_type", C::NextBoot, "target type"),
        F("target_port", "target/@port", T::Int, "target_port", C::NextBoot, "target port"),
        F("target_name", "target/@name", T::String, "target_name", C::NextBoot,
          "channel name (org.qemu.guest_agent.0)"),
        F("target_address", "target/@address", T::String, "", C::NextBoot, "guestfwd address"),
        F("target_model", "target/model/@name", T::String, "", C::NextBoot, "target model"),
        F("log_file", "log/@file", T::String, "", C::NextBoot, "log file"),
        F("log_append", "log/@append", T::OnOff, "", C::NextBoot, "append to log"),
        F("source_reconnect_enabled", "source/reconnect/@enabled", T::Bool, "", C::NextBoot,
          "reconnect a client socket"),
        F("source_reconnect_timeout", "source/reconnect/@timeout", T::Int, "", C::NextBoot,
          "seconds between reconnects"),
        F("source_clipboard_copypaste", "source/clipboard/@copypaste", T::Bool, "", C::NextBoot,
          "qemu-vdagent clipboard"),
        F("source_mouse_mode", "source/mouse/@mode", T::String, "", C::NextBoot,
          "qemu-vdagent mouse mode"),
        F("source_seclabel_model", "source/seclabel/@model", T::String, "", C::NextBoot,
          "socket label model"),
        F("source_seclabel_relabel", "source/seclabel/@relabel", T::Bool, "", C::NextBoot,
          "relabel the socket"),
        F("bind_host", "source[@mode='bind']/@host", T::String, "", C::NextBoot,
          "udp: local address (with connect_host)"),
        F("bind_service", "source[@mode='bind']/@service", T::String, "", C::NextBoot,
          "udp: local port"),
        F("connect_host", "source[@mode='connect']/@host", T::String, "", C::NextBoot,
          "udp: remote address (with bind_host)"),
        F("connect_service", "source[@mode='connect']/@service", T::String, "", C::NextBoot,
          "udp: remote port"),
    };
}

// <audio>: the backend's own attributes, then those of its <input> and <output> (the same
// list, per direction; each element is unique, so every attribute has a typed path).
std::vector<FieldDesc> audio_fields() {
    std::vector<FieldDesc> v = {
        F("id", "@id", T::Int, "audio_id", C::NextBoot,
          "audio backend id (1..255); sound cards and graphics refer to it as audio_id"),
        F("type", "@type", T::String, "type", C::NextBoot, "audio backend",
          {"none", "alsa", "coreaudio", "dbus", "jack", "oss", "pulseaudio", "sdl", "spice", "file",
           "pipewire"}),
        F("timer_period", "@timerPeriod", T::Int, "", C::NextBoot, "timer period (microseconds)"),
        F("runtime_dir", "@runtimeDir", T::String, "", C::NextBoot, "pipewire: runtime directory"),
        F("server_name", "@serverName", T::String, "", C::NextBoot, "pulseaudio: server"),
        F("driver", "@driver", T::String, "", C::NextBoot, "sdl: audio driver",
          {"esd", "alsa", "arts", "pulseaudio"}),
        F("path", "@path", T::String, "", C::NextBoot, "file: the wav file written"),
        F("try_mmap", "@tryMMap", T::Bool, "", C::NextBoot, "oss: try mmap"),
        F("exclusive", "@exclusive", T::Bool, "", C::NextBoot, "oss: exclusive access"),
        F("dsp_policy", "@dspPolicy", T::Int, "", C::NextBoot, "oss: DSP policy"),
    };
    for (const char* dir : {"input", "output"}) {
        std::string d = dir, p = d + "/@", s = d + "/settings/@";
        auto add = [&](const std::string& key, const std::string& path, T type,
                       const std::string& doc, std::vector<std::string> allowed = {}) {
            v.push_back(
                F(d + "_" + key, path, type, "", C::NextBoot, d + ": " + doc, std::move(allowed)));
        };
        add("mixing_engine", p + "mixingEngine", T::Bool, "QEMU mixing engine");
        add("fixed_settings", p + "fixedSettings", T::Bool, "fixed stream settings");
        add("voices", p + "voices", T::Int, "number of voices");
        add("buffer_length", p + "bufferLength", T::Int, "buffer length (microseconds)");
        add("buffer_count", p + "bufferCount", T::Int, "coreaudio/oss/sdl: buffer count");
        add("dev", p + "dev", T::String, "alsa/oss: device");
        add("try_poll", p + "tryPoll", T::Bool, "oss: try polling");
        add("server_name", p + "serverName", T::String, "jack: server");
        add("client_name", p + "clientName", T::String, "jack: client name");
        add("connect_ports", p + "connectPorts", T::String, "jack: ports to connect (regex)");
        add("exact_name", p + "exactName", T::Bool, "jack: exact client name");
        add("name", p + "name", T::String, "pulseaudio/pipewire: sink or source name");
        add("stream_name", p + "streamName", T::String, "pulseaudio/pipewire: stream name");
        add("latency", p + "latency", T::Int, "pulseaudio/pipewire: latency (microseconds)");
        add("frequency", s + "frequency", T::Int, "fixed settings: frequency (Hz)");
        add("channels", s + "channels", T::Int, "fixed settings: channels");
        add("format", s + "format", T::String, "fixed settings: sample format",
            {"s8", "u8", "s16", "u16", "s32", "u32", "f32"});
    }
    return v;
}

// <memory model=...>: sizes are in bytes in the model, rendered in KiB (as libvirt writes them).
std::vector<FieldDesc> memory_fields() {
    return {
        F("model", "@model", T::String, "model", C::NextBoot, "memory device model",
          {"dimm", "nvdimm", "virtio-pmem", "virtio-mem", "sgx-epc"}),
        F("access", "@access", T::String, "", C::NextBoot, "memory access mode",
          {"shared", "private"}),
        F("discard", "@discard", T::Bool, "", C::NextBoot, "discard the memory on shutdown"),
        F("uuid", "uuid", T::String, "", C::NextBoot, "ppc64 nvdimm UUID"),
        F("source_path", "source/path", T::String, "source_path", C::NextBoot,
          "nvdimm/virtio-pmem: backing file or device"),
        F("source_alignsize", "source/alignsize", T::SizeKiB, "", C::NextBoot,
          "nvdimm: alignment of the backing file"),
        F("source_pmem", "source/pmem", T::Presence, "", C::NextBoot,
          "nvdimm: the backing file is persistent memory"),
        F("source_pagesize", "source/pagesize", T::SizeKiB, "", C::NextBoot,
          "dimm/virtio-mem: host page size backing it"),
        F("source_nodemask", "source/nodemask", T::String, "", C::NextBoot,
          "host NUMA nodes to allocate from"),
        F("target_dynamic_memslots", "target/@dynamicMemslots", T::Bool, "", C::NextBoot,
          "virtio-mem: dynamic memory slots"),
        F("target_size", "target/size", T::SizeKiB, "target_size_bytes", C::NextBoot,
          "size (a size with unit in YAML, bytes in the model)"),
        F("target_node", "target/node", T::Int, "target_node", C::NextBoot, "guest NUMA node"),
        F("target_block", "target/block", T::SizeKiB, "", C::NextBoot, "virtio-mem: block size"),
        // virtio-mem grows and shrinks the guest's memory through <requested> on a running VM
        // (libvirt's update-device); the only memory-device field classified live.
        F("target_requested", "target/requested", T::SizeKiB, "", C::Live,
          "virtio-mem: memory plugged into the guest (changed live)"),
        F("target_label_size", "target/label/size", T::SizeKiB, "", C::NextBoot,
          "nvdimm: label size"),
        F("target_readonly", "target/readonly", T::Presence, "", C::NextBoot, "nvdimm: read-only"),
        F("target_address_base", "target/address/@base", T::String, "", C::NextBoot,
          "virtio-mem/virtio-pmem: guest physical base address"),
    };
}

void build_registry() {
    auto& r = registry();
    auto add = [&](KindDesc k) { r[k.kind] = std::move(k); };
    add(make_disk());
    add(make_interface());
    add(simple_kind(
        "controller", "controllers", "controller", "controllers", "controller_attachments",
        C::NextBoot, {"type", "index"},
        {
            F("type", "@type", T::String, "type", C::Replace, "controller type",
              {"ide", "fdc", "scsi", "sata", "usb", "ccid", "virtio-serial", "pci", "xenbus", "isa",
               "nvme"}),
            F("index", "@index", T::Int, "idx", C::Replace, "controller index"),
            F("model", "@model", T::String, "model", C::NextBoot, "model"),
            F("ports", "@ports", T::Int, "", C::NextBoot, "ports"),
            F("vectors", "@vectors", T::Int, "", C::NextBoot, "MSI vectors"),
            F("max_grant_frames", "@maxGrantFrames", T::Int, "", C::NextBoot, ""),
            F("max_event_channels", "@maxEventChannels", T::Int, "", C::NextBoot, ""),
            F("driver_queues", "driver/@queues", T::Int, "", C::NextBoot, "queues"),
            F("driver_iothread", "driver/@iothread", T::Int, "", C::NextBoot, ""),
            F("driver_cmd_per_lun", "driver/@cmd_per_lun", T::Int, "", C::NextBoot, ""),
            F("driver_max_sectors", "driver/@max_sectors", T::Int, "", C::NextBoot, ""),
            F("driver_ioeventfd", "driver/@ioeventfd", T::OnOff, "", C::NextBoot, ""),
            F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
            F("model_name", "model/@name", T::String, "", C::NextBoot, "PCI controller model name"),
            F("target_chassis_nr", "target/@chassisNr", T::Int, "", C::NextBoot, ""),
            F("target_chassis", "target/@chassis", T::Int, "", C::NextBoot, ""),
            F("target_port", "target/@port", T::String, "", C::NextBoot, ""),
            F("target_bus_nr", "target/@busNr", T::Int, "", C::NextBoot, ""),
            F("target_index", "target/@index", T::Int, "", C::NextBoot, ""),
            F("target_hotplug", "target/@hotplug", T::OnOff, "", C::NextBoot, ""),
            F("target_node", "target/node", T::Int, "", C::NextBoot, "NUMA node"),
            F("master_startport", "master/@startport", T::Int, "", C::NextBoot, ""),
            F("pcihole64", "pcihole64", T::SizeKiB, "", C::NextBoot,
              "64-bit PCI hole (a size with unit in YAML, bytes in the model)"),
            F("target_mem_reserve", "target/@memReserve", T::Int, "", C::NextBoot,
              "pcie-root-port memory reservation (KiB)"),
        },
        "a controller (usb, scsi, virtio-serial, pci, ...)"));
    add(simple_kind("input", "inputs", "input", "input_devices", "input_device_attachments",
                    C::NextBoot, {"type", "bus"},
                    {
                        F("type", "@type", T::String, "type", C::Replace, "input type",
                          {"mouse", "tablet", "keyboard", "passthrough", "evdev"}),
                        F("bus", "@bus", T::String, "bus", C::Replace, "bus",
                          {"ps2", "usb", "virtio", "xen", "none"}),
                        F("model", "@model", T::String, "", C::NextBoot, "model"),
                        F("source_evdev", "source/@evdev", T::String, "", C::NextBoot, "evdev"),
                        F("source_dev", "source/@dev", T::String, "", C::NextBoot, "evdev device"),
                        F("source_grab", "source/@grab", T::String, "", C::NextBoot, "grab"),
                        F("source_repeat", "source/@repeat", T::OnOff, "", C::NextBoot, ""),
                        F("source_grab_toggle", "source/@grabToggle", T::String, "", C::NextBoot,
                          "evdev grab toggle keys"),
                        F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
                    },
                    "an input device"));
    add(simple_kind(
        "graphics", "graphics", "graphics", "graphics_devices", "graphics_device_attachments",
        C::NextBoot, {"type"},
        {
            F("type", "@type", T::String, "protocol_type", C::Replace, "protocol",
              {"vnc", "spice", "sdl", "rdp", "desktop", "egl-headless", "dbus"}),
            F("port", "@port", T::Int, "", C::NextBoot, "port (-1 with autoport)"),
            F("autoport", "@autoport", T::Bool, "", C::NextBoot, "pick a free port"),
            F("tls_port", "@tlsPort", T::Int, "", C::NextBoot, "spice TLS port"),
            F("websocket", "@websocket", T::Int, "", C::NextBoot, "VNC websocket port"),
            F("listen", "@listen", T::String, "listen_address", C::NextBoot, "listen address"),
            F("keymap", "@keymap", T::String, "", C::NextBoot, "keymap"),
            F("share_policy", "@sharePolicy", T::String, "", C::NextBoot, "VNC share policy"),
            F("default_mode", "@defaultMode", T::String, "", C::NextBoot, "spice channel mode"),
            F("passwd_valid_to", "@passwdValidTo", T::String, "", C::Live, "password expiry"),
            F("connected", "@connected", T::String, "", C::Live, "on password change"),
            F("listen_type", "listen/@type", T::String, "", C::NextBoot, "listen type",
              {"address", "network", "socket", "none"}),
            F("listen_address", "listen/@address", T::String, "", C::NextBoot, "address"),
            F("listen_network", "listen/@network", T::String, "", C::NextBoot, "network"),
            F("listen_socket", "listen/@socket", T::String, "", C::NextBoot, "unix socket"),
            F("image_compression", "image/@compression", T::String, "", C::NextBoot, ""),
            F("jpeg_compression", "jpeg/@compression", T::String, "", C::NextBoot, ""),
            F("zlib_compression", "zlib/@compression", T::String, "", C::NextBoot, ""),
            F("playback_compression", "playback/@compression", T::OnOff, "", C::NextBoot, ""),
            F("streaming_mode", "streaming/@mode", T::String, "", C::NextBoot, ""),
            F("clipboard_copypaste", "clipboard/@copypaste", T::Bool, "", C::NextBoot, ""),
            F("mouse_mode", "mouse/@mode", T::String, "", C::NextBoot, ""),
            F("filetransfer_enable", "filetransfer/@enable", T::Bool, "", C::NextBoot, ""),
            F("gl_enable", "gl/@enable", T::Bool, "", C::NextBoot, "OpenGL"),
            F("gl_rendernode", "gl/@rendernode", T::String, "", C::NextBoot, ""),
            F("audio_id", "audio/@id", T::Int, "", C::NextBoot, ""),
            F("socket", "@socket", T::String, "", C::NextBoot, "VNC unix socket (old place)"),
            F("display", "@display", T::String, "", C::NextBoot, "sdl: X display"),
            F("xauth", "@xauth", T::String, "", C::NextBoot, "sdl: X authority file"),
            F("fullscreen", "@fullscreen", T::Bool, "", C::NextBoot, "sdl/desktop fullscreen"),
            F("p2p", "@p2p", T::String, "", C::NextBoot, "dbus: peer to peer"),
            F("address", "@address", T::String, "", C::NextBoot, "dbus bus address"),
            F("username", "@username", T::String, "", C::NextBoot, "rdp user"),
            F("power_control", "@powerControl", T::Bool, "", C::NextBoot,
              "VNC power control commands"),
            F("password_file", "", T::String, "", C::Live,
              "file holding the password (read at apply; never stored)"),
            F("password_env", "", T::String, "", C::Live,
              "environment variable holding the password (read at apply; never stored)"),
        },
        "a graphical console (vnc, spice)"));
    add(simple_kind(
        "video", "videos", "video", "videos", "video_attachments", C::NextBoot, {},
        {
            F("model", "model/@type", T::String, "model", C::NextBoot, "model",
              {"vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "virtio", "gop", "bochs", "ramfb",
               "none"}),
            F("vram", "model/@vram", T::Int, "vram_kib", C::NextBoot, "KiB"),
            F("ram", "model/@ram", T::Int, "", C::NextBoot, "KiB"),
            F("vgamem", "model/@vgamem", T::Int, "", C::NextBoot, "KiB"),
            F("vram64", "model/@vram64", T::Int, "", C::NextBoot, "KiB"),
            F("heads", "model/@heads", T::Int, "heads", C::NextBoot, "heads"),
            F("primary", "model/@primary", T::Bool, "", C::NextBoot, "primary"),
            F("blob", "model/@blob", T::OnOff, "", C::NextBoot, ""),
            F("accel3d", "model/acceleration/@accel3d", T::Bool, "", C::NextBoot, ""),
            F("accel2d", "model/acceleration/@accel2d", T::Bool, "", C::NextBoot, ""),
            F("driver_name", "driver/@name", T::String, "", C::NextBoot, ""),
            F("driver_vgaconf", "driver/@vgaconf", T::String, "", C::NextBoot, ""),
            F("rendernode", "model/acceleration/@rendernode", T::String, "", C::NextBoot,
              "DRM render node"),
            F("resolution_x", "model/resolution/@x", T::Int, "", C::NextBoot, "initial width"),
            F("resolution_y", "model/resolution/@y", T::Int, "", C::NextBoot, "initial height"),
            F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
        },
        "a video card"));
    add(simple_kind("sound", "sounds", "sound", "sound_cards", "sound_card_attachments",
                    C::NextBoot, {"model"},
                    {
                        F("model", "@model", T::String, "model", C::NextBoot, "model",
                          {"sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb", "ich9",
                           "ics2000", "virtio"}),
                        F("multichannel", "@multichannel", T::Bool, "", C::NextBoot, ""),
                        F("codec", "codec/@type", T::String, "", C::NextBoot, "codec"),
                        F("audio_id", "audio/@id", T::Int, "", C::NextBoot, ""),
                    },
                    "a sound card"));
    add(simple_kind(
        "hostdev", "hostdevs", "hostdev", "host_devices", "host_device_attachments", C::Live, {},
        {
            F("mode", "@mode", T::String, "mode", C::Replace, "", {"subsystem", "capabilities"}),
            F("type", "@type", T::String, "type", C::Replace, "",
              {"pci", "usb", "scsi", "scsi_host", "mdev", "storage", "misc", "net"}),
            F("managed", "@managed", T::Bool, "managed", C::NextBoot, "detach from host driver"),
            F("model", "@model", T::String, "", C::NextBoot, "mdev model (vfio-pci)"),
            F("display", "@display", T::OnOff, "", C::NextBoot, "mdev display"),
            F("ramfb", "@ramfb", T::OnOff, "", C::NextBoot, "mdev ramfb"),
            F("sgio", "@sgio", T::String, "", C::NextBoot, ""),
            F("rawio", "@rawio", T::Bool, "", C::NextBoot, ""),
            F("source_domain", "source/address/@domain", T::String, "", C::Replace, "PCI"),
            F("source_bus", "source/address/@bus", T::String, "", C::Replace, "PCI/USB bus"),
            F("source_slot", "source/address/@slot", T::String, "", C::Replace, "PCI slot"),
            F("source_function", "source/address/@function", T::String, "", C::Replace, ""),
            F("source_device", "source/address/@device", T::String, "", C::Replace, "USB dev"),
            F("source_uuid", "source/address/@uuid", T::String, "", C::Replace, "mdev UUID"),
            F("source_vendor", "source/vendor/@id", T::String, "", C::Replace, "USB vendor"),
            F("source_product", "source/product/@id", T::String, "", C::Replace, "USB product"),
            F("source_startup_policy", "source/@startupPolicy", T::String, "", C::NextBoot, ""),
            F("driver_name", "driver/@name", T::String, "", C::NextBoot, "vfio"),
            F("driver_model", "driver/@model", T::String, "", C::NextBoot, "vfio variant driver"),
            F("source_guest_reset", "source/@guestReset", T::String, "", C::NextBoot,
              "USB guest reset"),
            F("source_protocol", "source/@protocol", T::String, "", C::Replace, "iscsi"),
            F("source_name", "source/@name", T::String, "", C::Replace, "iscsi target/LUN"),
            F("source_wwpn", "source/@wwpn", T::String, "", C::Replace, "scsi_host WWPN"),
            F("source_adapter", "source/adapter/@name", T::String, "", C::Replace, "SCSI adapter"),
            F("source_target", "source/address/@target", T::String, "", C::Replace, "SCSI"),
            F("source_unit", "source/address/@unit", T::String, "", C::Replace, "SCSI"),
            F("source_host_name", "source/host/@name", T::String, "", C::Replace, "iscsi host"),
            F("source_host_port", "source/host/@port", T::String, "", C::Replace, "iscsi port"),
            F("source_auth_username", "source/auth/@username", T::String, "", C::NextBoot,
              "iscsi user"),
            F("source_auth_secret_type", "source/auth/secret/@type", T::String, "", C::NextBoot,
              ""),
            F("source_auth_secret_usage", "source/auth/secret/@usage", T::String, "", C::NextBoot,
              ""),
            F("source_auth_secret_uuid", "source/auth/secret/@uuid", T::String, "", C::NextBoot,
              ""),
            F("source_initiator_iqn", "source/initiator/iqn/@name", T::String, "", C::NextBoot, ""),
            F("teaming_type", "teaming/@type", T::String, "", C::NextBoot, "failover teaming"),
            F("teaming_persistent", "teaming/@persistent", T::String, "", C::NextBoot, ""),
            F("readonly", "readonly", T::Presence, "", C::NextBoot, ""),
            F("shareable", "shareable", T::Presence, "", C::NextBoot, ""),
            F("rom_bar", "rom/@bar", T::OnOff, "", C::NextBoot, ""),
            F("rom_file", "rom/@file", T::String, "", C::NextBoot, ""),
            F("rom_enabled", "rom/@enabled", T::Bool, "", C::NextBoot, ""),
        },
        "a host device passed through (PCI, USB, SCSI, mediated)", true));
    add(simple_kind(
        "tpm", "tpms", "tpm", "tpms", "tpm_attachments", C::NextBoot, {},
        {
            F("model", "@model", T::String, "model", C::NextBoot, "",
              {"tpm-tis", "tpm-crb", "tpm-spapr", "spapr-tpm-proxy"}),
            F("backend", "backend/@type", T::String, "backend_type", C::NextBoot, "",
              {"passthrough", "emulator", "external"}),
            F("version", "backend/@version", T::String, "", C::NextBoot, "", {"1.2", "2.0"}),
            F("persistent_state", "backend/@persistent_state", T::Bool, "", C::NextBoot, ""),
            F("backend_path", "backend/device/@path", T::String, "backend_path", C::NextBoot, ""),
            F("backend_source_type", "backend/source/@type", T::String, "", C::NextBoot, ""),
            F("backend_source_path", "backend/source/@path", T::String, "", C::NextBoot, ""),
            F("encryption_secret", "backend/encryption/@secret", T::String, "", C::NextBoot, ""),
            F("active_pcr_banks", "", T::String, "", C::NextBoot, ""),
            F("pcr_bank_sha1", "backend/active_pcr_banks/sha1", T::Presence, "", C::NextBoot,
              "activate the SHA-1 PCR bank"),
            F("pcr_bank_sha256", "backend/active_pcr_banks/sha256", T::Presence, "", C::NextBoot,
              "activate the SHA-256 PCR bank"),
            F("pcr_bank_sha384", "backend/active_pcr_banks/sha384", T::Presence, "", C::NextBoot,
              "activate the SHA-384 PCR bank"),
            F("pcr_bank_sha512", "backend/active_pcr_banks/sha512", T::Presence, "", C::NextBoot,
              "activate the SHA-512 PCR bank"),
            F("backend_debug", "backend/@debug", T::Int, "", C::NextBoot, "swtpm log level"),
            F("backend_source_mode", "backend/source/@mode", T::String, "", C::NextBoot, ""),
            F("profile_name", "backend/profile/@name", T::String, "", C::NextBoot, "swtpm profile"),
            F("profile_source", "backend/profile/@source", T::String, "", C::NextBoot, ""),
            F("profile_remove_disabled", "backend/profile/@removeDisabled", T::String, "",
              C::NextBoot, ""),
        },
        "a TPM (emulated state is kept on redefine)"));
    add(simple_kind("watchdog", "watchdogs", "watchdog", "watchdogs", "watchdog_attachments",
                    C::Live, {},
                    {
                        F("model", "@model", T::String, "model", C::NextBoot, "",
                          {"i6300esb", "ib700", "diag288", "itco"}),
                        F("action", "@action", T::String, "action", C::NextBoot, "",
                          {"reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"}),
                    },
                    "a watchdog"));
    add(simple_kind("serial", "serials", "serial", "serial_devices", "serial_device_attachments",
                    C::NextBoot, {}, chardev_fields(), "a serial port", false, "serial"));
    add(simple_kind("console", "consoles", "console", "serial_devices", "serial_device_attachments",
                    C::NextBoot, {}, chardev_fields(), "a console", false, "console"));
    add(simple_kind("parallel", "parallels", "parallel", "serial_devices",
                    "serial_device_attachments", C::NextBoot, {}, chardev_fields(),
                    "a parallel port", false, "parallel"));
    add(simple_kind("channel", "channels", "channel", "channel_devices",
                    "channel_device_attachments", C::Live, {"target_name"}, chardev_fields(),
                    "a channel (guest agent, spicevmc)"));
    add(simple_kind(
        "filesystem", "filesystems", "filesystem", "filesystems", "filesystem_attachments",
        C::NextBoot, {"target_dir"},
        {
            F("type", "@type", T::String, "", C::NextBoot, "",
              {"mount", "block", "file", "template", "ram", "bind"}),
            F("accessmode", "@accessmode", T::String, "", C::NextBoot, "",
              {"passthrough", "mapped", "squash"}),
            F("multidevs", "@multidevs", T::String, "", C::NextBoot, ""),
            F("fmode", "@fmode", T::String, "", C::NextBoot, ""),
            F("dmode", "@dmode", T::String, "", C::NextBoot, ""),
            F("driver", "driver/@type", T::String, "driver_type", C::NextBoot, "",
              {"path", "handle", "loop", "nbd", "ploop", "virtiofs", "mtp"}),
            F("driver_format", "driver/@format", T::String, "", C::NextBoot, ""),
            F("driver_wrpolicy", "driver/@wrpolicy", T::String, "", C::NextBoot, ""),
            F("driver_queue", "driver/@queue", T::Int, "", C::NextBoot, ""),
            F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
            F("source_dir", "source/@dir", T::String, "source_path", C::NextBoot, ""),
            F("source_file", "source/@file", T::String, "", C::NextBoot, ""),
            F("source_socket", "source/@socket", T::String, "", C::NextBoot, ""),
            F("source_name", "source/@name", T::String, "", C::NextBoot, ""),
            F("source_usage", "source/@usage", T::String, "", C::NextBoot, ""),
            F("source_units", "source/@units", T::String, "", C::NextBoot, ""),
            F("target_dir", "target/@dir", T::String, "target_path", C::Replace, "mount tag"),
            F("readonly", "readonly", T::Presence, "", C::NextBoot, ""),
            F("binary_path", "binary/@path", T::String, "", C::NextBoot, "virtiofsd"),
            F("binary_xattr", "binary/@xattr", T::OnOff, "", C::NextBoot, ""),
            F("binary_cache_mode", "binary/cache/@mode", T::String, "", C::NextBoot, ""),
            F("binary_sandbox_mode", "binary/sandbox/@mode", T::String, "", C::NextBoot, ""),
            F("binary_lock_posix", "binary/lock/@posix", T::OnOff, "", C::NextBoot, ""),
            F("binary_lock_flock", "binary/lock/@flock", T::OnOff, "", C::NextBoot, ""),
            F("model", "@model", T::String, "", C::NextBoot, "virtio model variant"),
            F("binary_openfiles_max", "binary/openfiles/@max", T::Int, "", C::NextBoot, ""),
            F("binary_thread_pool_size", "binary/thread_pool/@size", T::Int, "", C::NextBoot, ""),
            F("boot_order", "boot/@order", T::Int, "", C::NextBoot, "virtiofs boot order"),
            F("idmap_uid_start", "idmap/uid/@start", T::Int, "", C::NextBoot, "user id mapping"),
            F("idmap_uid_target", "idmap/uid/@target", T::Int, "", C::NextBoot, ""),
            F("idmap_uid_count", "idmap/uid/@count", T::Int, "", C::NextBoot, ""),
            F("idmap_gid_start", "idmap/gid/@start", T::Int, "", C::NextBoot, "group id mapping"),
            F("idmap_gid_target", "idmap/gid/@target", T::Int, "", C::NextBoot, ""),
            F("idmap_gid_count", "idmap/gid/@count", T::Int, "", C::NextBoot, ""),
        },
        "a shared filesystem (9p, virtiofs)"));
    add(simple_kind("smartcard", "smartcards", "smartcard", "smartcards", "smartcard_attachments",
                    C::NextBoot, {},
                    {
                        F("mode", "@mode", T::String, "mode", C::NextBoot, "",
                          {"host", "host-certificates", "passthrough"}),
                        F("type", "@type", T::String, "type", C::NextBoot, ""),
                        F("database", "database", T::String, "", C::NextBoot, ""),
                        F("source_mode", "source/@mode", T::String, "", C::NextBoot, ""),
                        F("source_host", "source/@host", T::String, "", C::NextBoot, ""),
                        F("source_service", "source/@service", T::String, "", C::NextBoot, ""),
                        F("protocol", "protocol/@type", T::String, "", C::NextBoot, ""),
                    },
                    "a smartcard reader"));
    add(simple_kind("redirdev", "redirdevs", "redirdev", "usb_redirectors",
                    "usb_redirector_attachments", C::Live, {},
                    {
                        F("bus", "@bus", T::String, "bus", C::NextBoot, "", {"usb"}),
                        F("type", "@type", T::String, "type", C::NextBoot, ""),
                        F("source_mode", "source/@mode", T::String, "", C::NextBoot, ""),
                        F("source_host", "source/@host", T::String, "", C::NextBoot, ""),
                        F("source_service", "source/@service", T::String, "", C::NextBoot, ""),
                    },
                    "a USB redirector", true));
    add(simple_kind("rng", "rngs", "rng", "rng_devices", "rng_device_attachments", C::Live, {},
                    {
                        F("model", "@model", T::String, "model", C::NextBoot, "",
                          {"virtio", "virtio-transitional", "virtio-non-transitional"}),
                        F("backend_model", "backend/@model", T::String, "backend_type", C::NextBoot,
                          "", {"random", "egd", "builtin"}),
                        F("backend", "backend", T::String, "", C::NextBoot, "/dev/urandom"),
                        F("backend_type", "backend/@type", T::String, "", C::NextBoot, ""),
                        F("rate_bytes", "rate/@bytes", T::Int, "", C::NextBoot, ""),
                        F("backend_source_mode", "backend/source/@mode", T::String, "", C::NextBoot,
                          "egd: bind or connect"),
                        F("backend_source_host", "backend/source/@host", T::String, "", C::NextBoot,
                          "egd: host"),
                        F("backend_source_service", "backend/source/@service", T::String, "",
                          C::NextBoot, "egd: port"),
                        F("backend_source_path", "backend/source/@path", T::String, "", C::NextBoot,
                          "egd: unix socket"),
                        F("backend_protocol", "backend/protocol/@type", T::String, "", C::NextBoot,
                          "egd: protocol"),
                        F("backend_reconnect_enabled", "backend/source/reconnect/@enabled", T::Bool,
                          "", C::NextBoot, ""),
                        F("backend_reconnect_timeout", "backend/source/reconnect/@timeout", T::Int,
                          "", C::NextBoot, ""),
                        F("rate_period", "rate/@period", T::Int, "", C::NextBoot, ""),
                        F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
                    },
                    "a random number generator"));
    add(simple_kind("panic", "panics", "panic", "panic_devices", "panic_device_attachments",
                    C::NextBoot, {},
                    {F("model", "@model", T::String, "model", C::NextBoot, "",
                       {"isa", "pseries", "hyperv", "s390", "pvpanic"})},
                    "a panic notifier"));
    add(simple_kind("vsock", "vsocks", "vsock", "vsocks", "vsock_attachments", C::Live, {},
                    {
                        F("model", "@model", T::String, "", C::NextBoot, ""),
                        F("cid_auto", "cid/@auto", T::Bool, "", C::NextBoot, ""),
                        F("cid", "cid/@address", T::Int, "guest_cid", C::NextBoot, ""),
                        F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
                    },
                    "a virtio socket"));
    add(simple_kind(
        "memballoon", "memballoons", "memballoon", "memory_balloons", "memory_balloon_attachments",
        C::NextBoot, {},
        {
            F("model", "@model", T::String, "model", C::NextBoot, "",
              {"virtio", "virtio-transitional", "virtio-non-transitional", "xen", "none"}),
            F("autodeflate", "@autodeflate", T::OnOff, "", C::NextBoot, ""),
            F("free_page_reporting", "@freePageReporting", T::OnOff, "", C::NextBoot, ""),
            F("stats_period", "stats/@period", T::Int, "", C::Live, "seconds"),
            F("driver_iommu", "driver/@iommu", T::OnOff, "", C::NextBoot, ""),
            F("driver_packed", "driver/@packed", T::OnOff, "", C::NextBoot, ""),
        },
        "the memory balloon"));
    add(simple_kind("shmem", "shmems", "shmem", "shmem_devices", "shmem_device_attachments",
                    C::Live, {"name"},
                    {
                        F("name", "@name", T::String, "name", C::Replace, ""),
                        F("role", "@role", T::String, "", C::NextBoot, ""),
                        F("model", "model/@type", T::String, "model", C::NextBoot, ""),
                        F("server_path", "server/@path", T::String, "", C::NextBoot, ""),
                        F("msi_vectors", "msi/@vectors", T::Int, "", C::NextBoot, ""),
                        F("msi_ioeventfd", "msi/@ioeventfd", T::OnOff, "", C::NextBoot, ""),
                    },
                    "a shared memory device"));
    add(simple_kind("iommu", "iommus", "iommu", "iommu_devices", "iommu_device_attachments",
                    C::NextBoot, {},
                    {
                        F("model", "@model", T::String, "model", C::NextBoot, "",
                          {"intel", "smmuv3", "virtio"}),
                        F("intremap", "driver/@intremap", T::OnOff, "", C::NextBoot, ""),
                        F("caching_mode", "driver/@caching_mode", T::OnOff, "", C::NextBoot, ""),
                        F("eim", "driver/@eim", T::OnOff, "", C::NextBoot, ""),
                        F("iotlb", "driver/@iotlb", T::OnOff, "", C::NextBoot, ""),
                        F("aw_bits", "driver/@aw_bits", T::Int, "", C::NextBoot, ""),
                    },
                    "an IOMMU"));
    add(simple_kind("audio", "audios", "audio", "audio_devices", "audio_device_attachments",
                    // libvirt hot-plugs no audio backend: a new or removed one waits for the
                    // next boot, and so does every change to one (QEMU reads -audiodev at start).
                    C::NextBoot, {"id"}, audio_fields(),
                    "an audio backend (<audio>), referenced by sound cards and graphics by id"));
    add(simple_kind("memory", "memories", "memory", "memory_devices", "memory_device_attachments",
                    // dimm, nvdimm and virtio-mem devices can be hot-plugged by libvirt; kept
                    // NextBoot here on purpose (conservative: hot-plug needs maxMemory slots, a
                    // NUMA guest and guest support, which virtumancer does not check yet).
                    C::NextBoot, {}, memory_fields(),
                    "a memory device: DIMM, NVDIMM, virtio-pmem, virtio-mem or SGX EPC"));
    for (const char* kind :
         {"controller", "input", "video", "filesystem", "rng", "memballoon", "vsock", "iommu"})
        add_virtio_driver_fields(r.at(kind).fields);
    {
        KindDesc k;
        k.kind = "other";
        k.yaml_list = "other_devices";
        k.element = "*";
        k.table = "other_devices";
        k.attach_table = "";
        k.add_remove = C::NextBoot;
        k.doc = "any other device, kept as raw XML";
        add(std::move(k));
    }
}

} // namespace

const std::vector<const KindDesc*>& device_kinds() {
    static std::vector<const KindDesc*> v = [] {
        if (registry().empty()) build_registry();
        std::vector<const KindDesc*> out;
        for (const char* n : {"disk",       "interface", "controller", "input",   "graphics",
                              "video",      "sound",     "hostdev",    "tpm",     "watchdog",
                              "serial",     "console",   "parallel",   "channel", "filesystem",
                              "smartcard",  "redirdev",  "rng",        "panic",   "vsock",
                              "memballoon", "shmem",     "iommu",      "audio",   "memory"})
            out.push_back(&registry().at(n));
        return out;
    }();
    return v;
}

const KindDesc& other_device_kind() {
    device_kinds();
    return registry().at("other");
}

const KindDesc* device_kind_by_element(std::string_view element) {
    for (auto* k : device_kinds())
        if (k->element == element) return k;
    return nullptr;
}

const KindDesc& domain_kind();
const KindDesc& pool_kind();
const KindDesc& volume_kind();
const KindDesc& network_kind();

const KindDesc* kind_by_name(std::string_view kind) {
    for (auto* k : device_kinds())
        if (k->kind == kind) return k;
    if (kind == "other") return &other_device_kind();
    if (kind == "domain") return &domain_kind();
    if (kind == "pool") return &pool_kind();
    if (kind == "volume") return &volume_kind();
    if (kind == "network") return &network_kind();
    return nullptr;
}

} // namespace virtumancer
