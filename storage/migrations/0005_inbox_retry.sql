-- An update whose handling failed for a reason other than its own content (the store busy,
-- a disk error, a broken text file) stays pending: it is tried again after `not_before`,
-- `attempts` counts the tries, and after the last one it is set aside (kept, not done) so
-- that an operator can have it tried again.
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN set_aside_at REAL;
CREATE INDEX inbox_due ON inbox (platform, id) WHERE done = 0 AND set_aside_at IS NULL;
