-- A signature a person owes a document: the leader's at sign-off. The server prepares the final
-- PDF when the signer's client sends its certificate chain, keeps it until the signature value
-- comes back, and then embeds it (two-phase signing: the key never leaves the signer's token).
CREATE TABLE signing_requests (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    source_sha TEXT NOT NULL,
    prepared_sha TEXT,
    chain_pem TEXT,
    signed_sha TEXT,
    created_at TEXT NOT NULL,
    prepared_at TEXT,
    signed_at TEXT
);
CREATE INDEX signing_requests_person ON signing_requests (person_id, state);
CREATE INDEX signing_requests_document ON signing_requests (document_id);
