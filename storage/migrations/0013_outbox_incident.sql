-- The incident a message is about or answers (`Outbound.incident`): an incident's card counts
-- its answer's rows, sent and not, while they go out.
ALTER TABLE outbox ADD COLUMN incident_id INTEGER;
CREATE INDEX outbox_incident ON outbox (incident_id, id) WHERE incident_id IS NOT NULL;
