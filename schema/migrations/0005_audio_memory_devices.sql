-- 0005: typed homes for <audio> backends and <memory> devices (DIMM, NVDIMM, virtio-pmem,
-- virtio-mem, SGX EPC), which 0001 stored as other_devices (raw XML). Same pattern as every
-- device table: a resource row per device (per VM, not shared) and an attachment row with the
-- VM and the device's position. Typed columns only for what one filters or joins on; every
-- other field is in props_json (see src/model/descriptors.cpp).
CREATE TABLE IF NOT EXISTS audio_devices (
    id INTEGER PRIMARY KEY,
    audio_id INTEGER, type TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS audio_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    audio_device_id INTEGER NOT NULL UNIQUE REFERENCES audio_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_audio_device_attachments_vm ON audio_device_attachments(vm_id, position);

CREATE TABLE IF NOT EXISTS memory_devices (
    id INTEGER PRIMARY KEY,
    model TEXT, target_size_bytes INTEGER, target_node INTEGER, source_path TEXT,
    props_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS memory_device_attachments (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES virtual_machines(id) ON DELETE CASCADE,
    memory_device_id INTEGER NOT NULL UNIQUE REFERENCES memory_devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_memory_device_attachments_vm ON memory_device_attachments(vm_id, position);
