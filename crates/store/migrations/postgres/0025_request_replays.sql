-- Keep in step with ../sqlite/0025_request_replays.sql.
-- Requests a client may send twice (issue 24): a POST carrying an Idempotency-Key header (or a
-- form's idempotency_key field) is handled once per key and caller; a second arrival of it is
-- answered with the first one's response.
-- Rows older than a day are removed by the housekeeping job.
CREATE TABLE request_replays (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first is being handled; 0: it had an effect, but its answer was lost.
    status BIGINT,
    -- Set by the first write transaction of the request to commit, in that transaction.
    effect_at TIMESTAMPTZ,
    content_type TEXT,
    location TEXT,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX request_replays_created ON request_replays(created_at);
