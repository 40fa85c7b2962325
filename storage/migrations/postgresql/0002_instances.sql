-- Several desks (processes) on one store share its work without doing anything twice.
-- The sender of a desk claims the pending rows it is about to send, with a lease: no other
-- desk sends to a chat while a live claim of another is on one of its rows, so a chat's
-- messages still go one at a time and in order, and a killed desk's rows go out from
-- another once the lease has run out.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until DOUBLE PRECISION;
CREATE INDEX outbox_claimed ON outbox (claimed_until)
    WHERE status = 'pending' AND claimed_by IS NOT NULL;
-- The same for the inbox: a desk claims the rows it handles, so no two handle one at once.
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claimed_until DOUBLE PRECISION;
-- The desks alive now, each seen within the last seconds: the platforms' limits are for the
-- whole deployment, so each desk sends at its share of them.
CREATE TABLE desks (
    id TEXT PRIMARY KEY,
    seen_at DOUBLE PRECISION NOT NULL
);
