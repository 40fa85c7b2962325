-- Mass incidents: one problem, many reporters, one answer.
-- An incident is suggested by the desk when several recent tickets look alike, opened when
-- staff confirm it, dismissed when they say the tickets are different, closed with its tickets.
-- Its number is its id, shown as «№И-<id>».
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('suggested', 'open', 'dismissed', 'closed')),
    title TEXT NOT NULL,
    category TEXT,
    created_at REAL NOT NULL,
    confirmed_at REAL,
    answered_at REAL,
    closed_at REAL,
    card_chat_id TEXT,
    card_message_id TEXT
);
CREATE INDEX incidents_live ON incidents (state) WHERE state IN ('suggested', 'open');
-- The incident a ticket belongs to (suggested, open or closed); NULL: none.
ALTER TABLE tickets ADD COLUMN incident_id INTEGER REFERENCES incidents (id);
CREATE INDEX tickets_incident ON tickets (incident_id) WHERE incident_id IS NOT NULL;
-- Tickets staff said are not part of an incident («Это разные», or taken out of one): never
-- suggested or joined again.
CREATE TABLE incident_apart (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id)
);
-- Staff-side messages about an incident (its card): a reply to one reaches the incident.
CREATE TABLE incident_refs (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (platform, chat_id, message_id)
);
