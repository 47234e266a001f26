-- 0010: drop attachment_index. It repeated what the device tables already hold: every device
-- row carries its VM and its position in the VM's document (volume_attachments and ports
-- directly, every other kind in its *_attachments row), and the one table several kinds share
-- (serial_devices) has a device_kind column. Writing it cost 10 rows per VM, each with a
-- foreign key and three indexes: on PostgreSQL a third of a load's server time. The store now
-- reads a VM's devices from the device tables and orders them by position; nothing is lost.
DROP TABLE IF EXISTS attachment_index;
