-- 0002: a task records the machine its process runs on. A RUNNING task left behind by a
-- process that died is marked INTERRUPTED only by a virtumancer on the same machine (a pid
-- means nothing on another one; the apply lock already records its hostname the same way).
ALTER TABLE tasks ADD COLUMN hostname TEXT;
CREATE INDEX IF NOT EXISTS idx_tasks_running ON tasks(status, hostname);
