-- Interim answers: when staff last told a citizen the answer takes longer, and how often.
-- The digest counts them by interim_at; the citizen's /status shows the ticket as interim.
ALTER TABLE tickets ADD COLUMN interim_at REAL;
ALTER TABLE tickets ADD COLUMN interim_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_interim ON tickets (interim_at) WHERE interim_at IS NOT NULL;
-- A citizen's own open tickets, for /status and «статус».
CREATE INDEX tickets_citizen_open ON tickets (platform, citizen_id) WHERE status = 'open';
