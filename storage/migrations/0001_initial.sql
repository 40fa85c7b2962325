-- Times are UNIX seconds (REAL, UTC).
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    source TEXT NOT NULL UNIQUE,          -- the platform's id of the update: nothing is stored twice
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX inbox_pending ON inbox (platform, id) WHERE done = 0;

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the ticket number: monotonic, never reused
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    conversation TEXT NOT NULL,
    citizen_id TEXT NOT NULL,
    citizen_name TEXT NOT NULL,
    citizen_link TEXT NOT NULL DEFAULT '',
    thread_id TEXT,
    reply_to TEXT,                         -- the citizen's latest message, for threaded answers
    link TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',      -- the start of the first message
    status TEXT NOT NULL DEFAULT 'open',
    opened_at REAL NOT NULL,
    waiting_since REAL,                    -- set while the ticket waits on staff
    deadline_at REAL,
    first_answer_at REAL,
    last_answer_at REAL,
    closed_at REAL,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    next_escalation_at REAL,
    card_chat_id TEXT,
    card_message_id TEXT,
    unreachable TEXT
);
CREATE UNIQUE INDEX tickets_open_conversation ON tickets (platform, conversation)
    WHERE status = 'open';
CREATE INDEX tickets_next_escalation ON tickets (next_escalation_at)
    WHERE next_escalation_at IS NOT NULL;
CREATE INDEX tickets_waiting ON tickets (waiting_since) WHERE waiting_since IS NOT NULL;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    direction TEXT NOT NULL,               -- in: the citizen; out: staff
    source_key TEXT UNIQUE,                -- platform:chat:message, for deduplication
    platform_message_id TEXT,
    author TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    edited_at REAL,
    deleted_at REAL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    ticket_id INTEGER,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', -- pending, sent, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    message_ids TEXT,
    error TEXT
);
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE status = 'pending';

-- Messages the desk posted that name a ticket (cards, follow-ups, escalations):
-- a staff reply to any of them reaches the ticket.
CREATE TABLE refs (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (platform, chat_id, message_id, ticket_id)
);

CREATE TABLE citizens (
    platform TEXT NOT NULL,
    citizen_id TEXT NOT NULL,
    blocked_at REAL,
    PRIMARY KEY (platform, citizen_id)
);

CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
