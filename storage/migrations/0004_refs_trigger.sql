-- A delivered card, follow-up or escalation names its ticket: a staff reply to any of its
-- messages must reach it. Derived here, in the same statement that marks the row sent, so
-- marking a row is one statement and the references can never be missing. A message merged
-- from several rows gets each row's ticket, row by row.
-- The purposes are handlers.model.TICKET_REFS.
CREATE TRIGGER outbox_sent_refs AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status != 'sent' AND NEW.ticket_id IS NOT NULL
    AND NEW.purpose IN ('card', 'follow_up', 'escalation')
BEGIN
    INSERT INTO refs (platform, chat_id, message_id, ticket_id)
    SELECT NEW.platform, NEW.chat_id, m.value, NEW.ticket_id
    FROM json_each(NEW.message_ids) AS m
    WHERE true
    ON CONFLICT DO NOTHING;
    UPDATE tickets SET card_chat_id = NEW.chat_id,
        card_message_id = json_extract(NEW.message_ids, '$[0]')
    WHERE NEW.purpose = 'card' AND id = NEW.ticket_id AND card_message_id IS NULL
        AND json_array_length(NEW.message_ids) > 0;
END;
