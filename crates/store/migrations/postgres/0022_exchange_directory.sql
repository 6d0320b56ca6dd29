-- Keep in step with ../sqlite/0022_exchange_directory.sql.
-- The agencies the document exchange hub connects, as its directory last listed them, each
-- matched with egov's agency of the same identifier when there is one.
CREATE TABLE exchange_directory (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT,
    route TEXT NOT NULL,
    agency_id BIGINT REFERENCES agencies(id),
    fetched_at TIMESTAMPTZ NOT NULL
);
