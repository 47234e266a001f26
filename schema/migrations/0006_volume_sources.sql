-- 0006: what virtumancer uploaded into a volume created from an image `source`. libvirt does
-- not remember where a volume's content came from, so the next plan compares the spec's
-- source and checksum with this row (a change is a plan error, never a silent re-upload).
-- Written when the upload step succeeds, removed when virtumancer deletes the volume.
CREATE TABLE IF NOT EXISTS volume_sources (
    host TEXT NOT NULL,
    pool TEXT NOT NULL,
    volume TEXT NOT NULL,
    source TEXT NOT NULL,
    checksum TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (host, pool, volume)
);
