-- The daily digest reads tickets opened, and first answered, in a period; without these a
-- digest scans every ticket ever stored.
CREATE INDEX tickets_opened ON tickets (opened_at);
CREATE INDEX tickets_first_answer ON tickets (first_answer_at)
    WHERE first_answer_at IS NOT NULL;
