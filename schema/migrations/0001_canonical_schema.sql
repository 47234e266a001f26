-- 0001: the canonical schema. One table family per libvirt concept; see docs/schema.md.
-- Conventions: every object row has props_json (typed fields without a dedicated column, keyed
-- by their descriptor key); XML without a typed home lives in vendor_options; spec_* columns
-- say where the desired state came from; pending_delete marks specs removed from the repo.

CREATE TABLE IF NOT EXISTS load_revisions (
    id INTEGER PRIMARY KEY,
    revision TEXT NOT NULL,          -- git commit of the specs, or "content:<hash>"
    actor TEXT NOT NULL,
    spec_paths TEXT NOT NULL,
    summary_json TEXT NOT NULL DEFAULT '{}',
    loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE IF NOT EXISTS spec_files (
    path TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    loaded_revision_id INTEGER REFERENCES load_revisions(id) ON DELETE SET NULL,
    loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE IF NOT EXISTS hosts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    uri TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE IF NOT EXISTS virtual_machines (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uuid TEXT,
    description TEXT,
    domain_type TEXT,
    vcpu_count INTEGER,
    vcpu_current INTEGER,
    cpu_mode TEXT,
    cpu_model TEXT,
    cpu_topology_json TEXT,
    memory_bytes INTEGER,
    current_memory_bytes INTEGER,
    os_type TEXT,
    arch TEXT,
    machine TEXT,
    emulator TEXT,
    is_template INTEGER NOT NULL DEFAULT 0,
    clone_of TEXT,
    desired_state TEXT NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running','shutoff','paused')),
    sync_status TEXT NOT NULL DEFAULT 'pending' CHECK (sync_status IN ('pending','in_sync','drifted','pending_restart','error','adopted')),
    autostart INTEGER NOT NULL DEFAULT 0,
    restart_policy TEXT NOT NULL DEFAULT 'never' CHECK (restart_policy IN ('never','allowed')),
    shutdown_timeout INTEGER NOT NULL DEFAULT 60,
    force_stop INTEGER NOT NULL DEFAULT 0,
    props_json TEXT NOT NULL DEFAULT '{}',
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (host_id, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_vm_uuid ON virtual_machines(host_id, uuid) WHERE uuid IS NOT NULL;

CREATE TABLE IF NOT EXISTS boot_configs (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL UNIQUE REFERENCES virtual_machines(id) ON DELETE CASCADE,
    firmware TEXT,          -- bios | efi (os/@firmware)
    loader_path TEXT,
    secure_boot TEXT,
    nvram_path TEXT,
    boot_devices TEXT,      -- comma-separated os/boot/@dev order
    kernel TEXT,
    initrd TEXT,
    cmdline TEXT
);

CREATE TABLE IF NOT EXISTS cpu_tunings (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL UNIQUE REFERENCES virtual_machines(id) ON DELETE CASCADE,
    shares INTEGER,
    period INTEGER,
    quota INTEGER,
    emulator_cpuset TEXT
);

CREATE TABLE IF NOT EXISTS storage_pools (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uuid TEXT,
    type TEXT NOT NULL DEFAULT 'dir',
    path TEXT,
    autostart INTEGER NOT NULL DEFAULT 1,
    capacity_bytes INTEGER,
    allocation_bytes INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}',
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (host_id, name)
);

CREATE TABLE IF NOT EXISTS volumes (
    id INTEGER PRIMARY KEY,
    storage_pool_id INTEGER NOT NULL REFERENCES storage_pools(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    type TEXT,
    format TEXT,
    capacity_bytes INTEGER,
    allocation_bytes INTEGER,
    backing_volume_id INTEGER REFERENCES volumes(id) ON DELETE RESTRICT,
    props_json TEXT NOT NULL DEFAULT '{}',
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (storage_pool_id, name)
);

-- A disk of a VM. volume_id is set when the disk comes from a Volume spec.
CREATE TABLE IF NOT EXISTS volume_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    volume_id INTEGER REFERENCES volumes(id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    source_type TEXT,
    device_type TEXT,
    driver_name TEXT,
    driver_format TEXT,
    driver_cache TEXT,
    driver_io TEXT,
    driver_discard TEXT,
    driver_detect_zeroes TEXT,
    driver_queues INTEGER,
    source_path TEXT,
    source_dev TEXT,
    source_pool TEXT,
    source_volume TEXT,
    target_dev TEXT,
    target_bus TEXT,
    serial TEXT,
    readonly TEXT,
    shareable TEXT,
    boot_order INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}'   -- iotune_*, address_*, geometry, ...
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_volume_attachments_target ON volume_attachments(vm_id, target_dev) WHERE target_dev IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_volume_attachments_vm ON volume_attachments(vm_id, position);
CREATE INDEX IF NOT EXISTS idx_volume_attachments_volume ON volume_attachments(volume_id);

CREATE TABLE IF NOT EXISTS networks (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uuid TEXT,
    mode TEXT,
    bridge_name TEXT,
    mtu INTEGER,
    autostart INTEGER NOT NULL DEFAULT 1,
    props_json TEXT NOT NULL DEFAULT '{}',
    children_json TEXT NOT NULL DEFAULT '[]', -- <ip> elements with their DHCP ranges and hosts
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (host_id, name)
);

-- A vNIC of a VM.
CREATE TABLE IF NOT EXISTS ports (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    mac_address TEXT,
    model TEXT,
    source_type TEXT,
    source_network TEXT,
    source_bridge TEXT,
    source_dev TEXT,
    source_mode TEXT,
    virtualport_type TEXT,
    filterref TEXT,
    vlan_tags TEXT,
    mtu INTEGER,
    queues INTEGER,
    boot_order INTEGER,
    ip_address TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_ports_mac ON ports(host_id, mac_address) WHERE mac_address IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_ports_vm ON ports(vm_id, position);

CREATE TABLE IF NOT EXISTS port_bindings (
    id INTEGER PRIMARY KEY,
    port_id INTEGER NOT NULL UNIQUE REFERENCES ports(id) ON DELETE CASCADE,
    network_id INTEGER NOT NULL REFERENCES networks(id) ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS idx_port_bindings_network ON port_bindings(network_id);

-- Device resource tables and their per-VM attachment tables.
CREATE TABLE IF NOT EXISTS controllers (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL, idx INTEGER, model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS controller_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    controller_id INTEGER NOT NULL UNIQUE REFERENCES controllers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_controller_attachments_vm ON controller_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS input_devices (
    id INTEGER PRIMARY KEY,
    type TEXT, bus TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS input_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    input_device_id INTEGER NOT NULL UNIQUE REFERENCES input_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_input_device_attachments_vm ON input_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS graphics_devices (
    id INTEGER PRIMARY KEY,
    protocol_type TEXT, listen_address TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS graphics_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    graphics_device_id INTEGER NOT NULL UNIQUE REFERENCES graphics_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_graphics_device_attachments_vm ON graphics_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS videos (
    id INTEGER PRIMARY KEY,
    model TEXT, vram_kib INTEGER, heads INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS video_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    video_id INTEGER NOT NULL UNIQUE REFERENCES videos(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_video_attachments_vm ON video_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS sound_cards (
    id INTEGER PRIMARY KEY,
    model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS sound_card_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    sound_card_id INTEGER NOT NULL UNIQUE REFERENCES sound_cards(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sound_card_attachments_vm ON sound_card_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS host_devices (
    id INTEGER PRIMARY KEY,
    mode TEXT, type TEXT, managed TEXT, boot_order INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS host_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    host_device_id INTEGER NOT NULL UNIQUE REFERENCES host_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_host_device_attachments_vm ON host_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS mediated_devices (
    id INTEGER PRIMARY KEY,
    uuid TEXT, mdev_type TEXT, parent_device TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS mediated_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    mediated_device_id INTEGER NOT NULL UNIQUE REFERENCES mediated_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_mediated_device_attachments_vm ON mediated_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS tpms (
    id INTEGER PRIMARY KEY,
    model TEXT, backend_type TEXT, backend_path TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS tpm_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    tpm_id INTEGER NOT NULL UNIQUE REFERENCES tpms(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tpm_attachments_vm ON tpm_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS watchdogs (
    id INTEGER PRIMARY KEY,
    model TEXT, action TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS watchdog_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    watchdog_id INTEGER NOT NULL UNIQUE REFERENCES watchdogs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_watchdog_attachments_vm ON watchdog_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS serial_devices (
    id INTEGER PRIMARY KEY,
    device_kind TEXT NOT NULL CHECK (device_kind IN ('serial','console','parallel')), type TEXT, source_path TEXT, target_type TEXT, target_port INTEGER, target_name TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS serial_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    serial_device_id INTEGER NOT NULL UNIQUE REFERENCES serial_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_serial_device_attachments_vm ON serial_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS channel_devices (
    id INTEGER PRIMARY KEY,
    type TEXT, source_path TEXT, target_type TEXT, target_port INTEGER, target_name TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS channel_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    channel_device_id INTEGER NOT NULL UNIQUE REFERENCES channel_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_channel_device_attachments_vm ON channel_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS filesystems (
    id INTEGER PRIMARY KEY,
    driver_type TEXT, source_path TEXT, target_path TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS filesystem_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    filesystem_id INTEGER NOT NULL UNIQUE REFERENCES filesystems(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_filesystem_attachments_vm ON filesystem_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS smartcards (
    id INTEGER PRIMARY KEY,
    mode TEXT, type TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS smartcard_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    smartcard_id INTEGER NOT NULL UNIQUE REFERENCES smartcards(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_smartcard_attachments_vm ON smartcard_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS usb_redirectors (
    id INTEGER PRIMARY KEY,
    bus TEXT, type TEXT, boot_order INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS usb_redirector_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    usb_redirector_id INTEGER NOT NULL UNIQUE REFERENCES usb_redirectors(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_usb_redirector_attachments_vm ON usb_redirector_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS rng_devices (
    id INTEGER PRIMARY KEY,
    model TEXT, backend_type TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS rng_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    rng_device_id INTEGER NOT NULL UNIQUE REFERENCES rng_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_rng_device_attachments_vm ON rng_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS panic_devices (
    id INTEGER PRIMARY KEY,
    model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS panic_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    panic_device_id INTEGER NOT NULL UNIQUE REFERENCES panic_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_panic_device_attachments_vm ON panic_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS vsocks (
    id INTEGER PRIMARY KEY,
    guest_cid INTEGER,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS vsock_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    vsock_id INTEGER NOT NULL UNIQUE REFERENCES vsocks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_vsock_attachments_vm ON vsock_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS memory_balloons (
    id INTEGER PRIMARY KEY,
    model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS memory_balloon_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    memory_balloon_id INTEGER NOT NULL UNIQUE REFERENCES memory_balloons(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_memory_balloon_attachments_vm ON memory_balloon_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS shmem_devices (
    id INTEGER PRIMARY KEY,
    name TEXT, model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS shmem_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    shmem_device_id INTEGER NOT NULL UNIQUE REFERENCES shmem_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_shmem_device_attachments_vm ON shmem_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS iommu_devices (
    id INTEGER PRIMARY KEY,
    model TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS iommu_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    iommu_device_id INTEGER NOT NULL UNIQUE REFERENCES iommu_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_iommu_device_attachments_vm ON iommu_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS other_devices (
    id INTEGER PRIMARY KEY,
    element TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS other_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    other_device_id INTEGER NOT NULL UNIQUE REFERENCES other_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_other_device_attachments_vm ON other_device_attachments(vm_id, position);

-- Every device of a VM in document order, across all device tables.
CREATE TABLE IF NOT EXISTS attachment_index (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    device_kind TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    UNIQUE (vm_id, position),
    UNIQUE (table_name, row_id)
);

-- XML without a typed home yet, per object: the object's element with typed parts removed.
CREATE TABLE IF NOT EXISTS vendor_options (
    id INTEGER PRIMARY KEY,
    owner_table TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    xml_fragment TEXT NOT NULL,
    UNIQUE (owner_table, owner_id)
);

CREATE TABLE IF NOT EXISTS vm_snapshots (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    include_memory INTEGER NOT NULL DEFAULT 0,
    parent_name TEXT,
    state TEXT,
    config_xml TEXT,
    spec_file TEXT, spec_line INTEGER, spec_hash TEXT,
    pending_delete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (vm_id, name)
);

CREATE TABLE IF NOT EXISTS roles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role_id INTEGER REFERENCES roles(id) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS permissions (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS role_permissions (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    type TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('PENDING','RUNNING','COMPLETED','FAILED','INTERRUPTED')),
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    details TEXT NOT NULL DEFAULT '{}',
    pid INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks(status);
CREATE INDEX IF NOT EXISTS idx_tasks_run ON tasks(run_id);

CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    timestamp TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS idx_audit_time ON audit_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_audit_target ON audit_log(target_type, target_id);

-- One apply at a time per database.
CREATE TABLE IF NOT EXISTS apply_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    actor TEXT NOT NULL,
    pid INTEGER NOT NULL,
    hostname TEXT NOT NULL,
    since TEXT NOT NULL
);
