-- 0003: a MAC address is unique per host ACROSS VMs, but one VM may give it to two interfaces:
-- libvirt's failover (teaming) pair is exactly that (<teaming type='persistent'/> and
-- type='transient' on two NICs with one MAC). 0001's unique index refused such a VM; a trigger
-- keeps the cross-VM rule and a plain index keeps MAC lookups fast.
DROP INDEX IF EXISTS idx_ports_mac;
CREATE INDEX IF NOT EXISTS idx_ports_host_mac ON ports(host_id, mac_address);
-- sqlite-only: begin
CREATE TRIGGER IF NOT EXISTS ports_mac_unique_insert BEFORE INSERT ON ports
WHEN NEW.mac_address IS NOT NULL AND EXISTS (
    SELECT 1 FROM ports p WHERE p.host_id = NEW.host_id AND p.mac_address = NEW.mac_address
    AND p.vm_id != NEW.vm_id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: ports.host_id, ports.mac_address (the MAC is used by another VM on this host)');
END;
CREATE TRIGGER IF NOT EXISTS ports_mac_unique_update BEFORE UPDATE OF mac_address, host_id, vm_id ON ports
WHEN NEW.mac_address IS NOT NULL AND EXISTS (
    SELECT 1 FROM ports p WHERE p.host_id = NEW.host_id AND p.mac_address = NEW.mac_address
    AND p.vm_id != NEW.vm_id AND p.id != NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: ports.host_id, ports.mac_address (the MAC is used by another VM on this host)');
END;
-- sqlite-only: end
-- postgresql-only: begin
-- CREATE FUNCTION ports_mac_unique() RETURNS trigger LANGUAGE plpgsql AS $fn$
-- BEGIN
--     IF NEW.mac_address IS NOT NULL AND EXISTS (
--         SELECT 1 FROM ports p WHERE p.host_id = NEW.host_id AND p.mac_address = NEW.mac_address
--         AND p.vm_id != NEW.vm_id AND p.id != NEW.id) THEN
--         RAISE EXCEPTION 'UNIQUE constraint failed: ports.host_id, ports.mac_address (the MAC is used by another VM on this host)'
--             USING ERRCODE = 'unique_violation';
--     END IF;
--     RETURN NEW;
-- END $fn$;
-- CREATE TRIGGER ports_mac_unique BEFORE INSERT OR UPDATE OF mac_address, host_id, vm_id ON ports
--     FOR EACH ROW EXECUTE FUNCTION ports_mac_unique();
-- postgresql-only: end
