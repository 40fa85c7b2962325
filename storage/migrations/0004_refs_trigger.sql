-- A delivered card, follow-up or escalation names its tickets: a staff reply to any of its
-- messages must reach them. Derived here, in the same statement that marks the row sent, so
-- marking a row is one statement and the references can never be missing.
-- The purposes are handlers.model.TICKET_REFS.
CREATE TRIGGER outbox_sent_refs AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status != 'sent'
    AND NEW.purpose IN ('card', 'follow_up', 'escalation')
BEGIN
    INSERT INTO refs (platform, chat_id, message_id, ticket_id)
    SELECT NEW.platform, NEW.chat_id, m.value, t.value
    FROM json_each(NEW.message_ids) AS m,
        json_each(CASE WHEN json_array_length(NEW.payload, '$.tickets') > 0
            THEN json_extract(NEW.payload, '$.tickets')
            ELSE json_array(NEW.ticket_id) END) AS t
    WHERE t.value IS NOT NULL
    ON CONFLICT DO NOTHING;
    UPDATE tickets SET card_chat_id = NEW.chat_id,
        card_message_id = json_extract(NEW.message_ids, '$[0]')
    WHERE NEW.purpose = 'card' AND card_message_id IS NULL
        AND json_array_length(NEW.message_ids) > 0
        AND id IN (SELECT value FROM json_each(
            CASE WHEN json_array_length(NEW.payload, '$.tickets') > 0
                THEN json_extract(NEW.payload, '$.tickets')
                ELSE json_array(NEW.ticket_id) END));
END;
