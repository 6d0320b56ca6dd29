-- Keep in step with ../postgres/0021_exchange_messages.sql.
-- The exchange's message log: every packet egov sends to (or receives from) a system outside
-- it, with the route, the edXML DocumentId, the other side, the business action (or status
-- code) and its sequence — the key that makes sending idempotent — the raw packet's blob, the
-- transport's id for it, its state and attempts.
CREATE TABLE exchange_messages (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    route TEXT NOT NULL,
    message_type TEXT NOT NULL CHECK (message_type IN ('edoc', 'status')),
    document_id INTEGER REFERENCES documents(id),
    packet_document_id TEXT NOT NULL,
    counterpart TEXT NOT NULL,
    action TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    packet_sha TEXT,
    remote_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'refused', 'received', 'handled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (direction, packet_document_id, counterpart, action, sequence)
);
CREATE INDEX exchange_messages_document ON exchange_messages(document_id);
CREATE INDEX exchange_messages_state ON exchange_messages(state, updated_at);
