-- The audit trail: who on the staff did what to which ticket or incident, and when (UTC, UNIX
-- seconds). Each entry is written in the transaction of the action it records.
-- actor: 'staff', or 'citizen' for a rating; staff_id and staff_name: the Telegram user id
-- and the name as the desk knew them then (NULL and '' for a citizen).
-- action: storage/auditing.py's AuditAction; detail: short and fixed in form, never a
-- citizen's text. Entries name staff acting in their job and no citizen: anonymization of
-- old tickets leaves them as they are.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (actor IN ('staff', 'citizen')),
    staff_id TEXT,
    staff_name TEXT NOT NULL DEFAULT '',
    ticket_id INTEGER,
    incident_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_ticket ON audit (ticket_id, id) WHERE ticket_id IS NOT NULL;
CREATE INDEX audit_at ON audit (at, id);
