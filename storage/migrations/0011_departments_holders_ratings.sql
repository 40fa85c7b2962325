-- Departments, holders and ratings of the staff desk.
-- category: the department a ticket is routed to (its key in the operator's rules file);
-- NULL: none, the staff chat's own.
ALTER TABLE tickets ADD COLUMN category TEXT;
-- holder: the staff member who took the ticket («Взять»), by platform user id and name.
ALTER TABLE tickets ADD COLUMN holder_id TEXT;
ALTER TABLE tickets ADD COLUMN holder_name TEXT;
-- One rating per ticket, by its citizen; a later press changes it.
CREATE TABLE ratings (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    rated_at REAL NOT NULL,
    first_rated_at REAL NOT NULL
);
CREATE INDEX ratings_rated_at ON ratings (rated_at);
