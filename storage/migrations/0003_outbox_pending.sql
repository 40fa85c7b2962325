-- The sender reads pending rows in id order (per-chat order); without this it scans every
-- row ever sent.
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
