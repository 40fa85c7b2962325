-- Several desks (processes) on one store share its work without doing anything twice.
-- A desk claims a chat before it sends there, until `until` (UNIX seconds, the server's
-- clock): no other desk sends to a chat while another's claim on it lives, so a chat's
-- messages go one at a time and in order, a wait the platform asked for (429) holds for the
-- deployment, and the chat's own rate is counted by the one desk sending to it. A claim is
-- renewed while its messages are under way and kept a little after the last one; a desk
-- killed with chats claimed leaves them to the others once their claims run out.
CREATE TABLE chat_claims (
    platform TEXT NOT NULL,
    chat_id TEXT COLLATE "C" NOT NULL,
    desk_id TEXT NOT NULL,
    until DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, chat_id)
);
CREATE INDEX chat_claims_desk ON chat_claims (desk_id);
-- The desks alive now, each seen within the last seconds: the platforms' limits are for the
-- whole deployment, so each desk sends at its share of them.
CREATE TABLE desks (
    id TEXT PRIMARY KEY,
    seen_at DOUBLE PRECISION NOT NULL
);
