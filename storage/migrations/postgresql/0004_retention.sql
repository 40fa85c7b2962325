-- Personal data kept only as long as needed (152-FZ art. 5 part 7, art. 21): a closed ticket
-- anonymized after RETENTION_DAYS, or at once when its citizen asks (/forget), keeps its
-- figures and loses its texts, names and platform ids; `anonymized_at` says when.
ALTER TABLE tickets ADD COLUMN anonymized_at DOUBLE PRECISION;
CREATE INDEX tickets_to_anonymize ON tickets (closed_at)
    WHERE status = 'closed' AND anonymized_at IS NULL;
-- A citizen's own tickets, found by /forget (the open ones have their index already).
CREATE INDEX tickets_citizen ON tickets (platform, citizen_id) WHERE anonymized_at IS NULL;
-- A citizen who asked to be forgotten: their tickets opened up to then are anonymized when
-- they close.
ALTER TABLE citizens ADD COLUMN forget_before DOUBLE PRECISION;
-- The copies: outbox rows of a ticket, and the raw updates and sent messages not yet pruned
-- after PAYLOAD_DAYS (a pruned payload is empty).
CREATE INDEX outbox_ticket ON outbox (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX inbox_unpruned ON inbox (id) WHERE payload <> '';
CREATE INDEX outbox_unpruned ON outbox (id) WHERE payload <> '';
