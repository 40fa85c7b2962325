-- What a delivered message refers to is recorded by the store's Python (storage/sqlite.py),
-- in the transaction that marks the row sent, from one declaration of which purposes name
-- their ticket (handlers.model.TICKET_REFS) and the further tickets a message names.
DROP TRIGGER IF EXISTS outbox_sent_refs;
-- A message sent in parts: the ids of the parts already delivered (a JSON list). A retry
-- resumes after them instead of sending them again, and they are references at once.
ALTER TABLE outbox ADD COLUMN parts_sent TEXT NOT NULL DEFAULT '[]';
