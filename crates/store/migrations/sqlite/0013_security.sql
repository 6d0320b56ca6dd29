-- Keep in step with ../postgres/0013_security.sql.

-- Who uploaded which blob. A file is referred to by its SHA-256 (a dossier component's scan, an
-- incoming document's scan) only by someone who uploaded it: knowing a hash grants nothing.
CREATE TABLE blob_uploads (
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    person_id BIGINT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (sha256, person_id)
);

-- Failed sign-ins under user names that belong to nobody, counted and locked exactly as a
-- person's are (people.failed_logins, people.locked_until), so that the answers do not tell
-- whether an account exists. Keyed by the SHA-256 of the name: no typed text is kept.
CREATE TABLE sign_in_failures (
    name_hash TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until TEXT
);
