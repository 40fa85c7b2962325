-- The sender skips chats under way (the staff chat with a backlog, in a storm or after an
-- outage); this index lets it read the pending rows of the other chats without stepping over
-- the busy chat's rows, so its question after every commit does not grow with a backlog.
CREATE INDEX outbox_chat_pending ON outbox (platform, chat_id, id) WHERE status = 'pending';
