-- 0008: `wait_for_ip:` of a VM spec (apply waits for each NIC's address afterwards): NULL when
-- the spec has none, else {"timeout": seconds, "source": "any|lease|agent|arp", "ipv4": bool,
-- "ipv6": bool}. Apply behaviour only, never compared with the domain.
ALTER TABLE virtual_machines ADD COLUMN wait_for_ip_json TEXT;
