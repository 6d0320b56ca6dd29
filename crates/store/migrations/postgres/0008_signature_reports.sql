-- The verdict on the signatures of each PDF blob, made when the file arrives (a blob's bytes never
-- change, so one report serves every document that holds it).
CREATE TABLE signature_reports (
    sha256 TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    signatures BIGINT NOT NULL,
    report TEXT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL
);
