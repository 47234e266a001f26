-- 0004: an id for this database, written into the ownership marker of every domain it defines,
-- so a domain defined from another virtumancer database (another team, a test run) on the same
-- host is recognised as not ours: never changed, never pruned, not counted as our drift.
CREATE TABLE IF NOT EXISTS installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner_id TEXT NOT NULL
);
INSERT OR IGNORE INTO installation (id, owner_id) VALUES (1, lower(hex(randomblob(8))));
