-- 0007: a VM's cloud-init NoCloud seed (`cloud_init:`), as JSON: inline user_data (stored: not
-- for secrets), the reference of user_data_file / user_data_env (never their content),
-- meta-data and network-config as the seed has them, and the seed's content hash.
-- NULL: the VM has no cloud_init.
ALTER TABLE virtual_machines ADD COLUMN cloud_init_json TEXT;
