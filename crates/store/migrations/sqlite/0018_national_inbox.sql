-- Keep in step with ../postgres/0018_national_inbox.sql.
-- Online dossiers taken in from the National Public Service Portal. national_inbox: one row a
-- national dossier code, the submission kept as pulled (payload) so that nothing is lost: the
-- same code pulled again counts as a duplicate (duplicates) and never makes a second dossier.
-- state: pending (to take in; tried again at next_at after a failure such as a download that
-- timed out), taken (dossier_id made), held (it cannot be taken in as it is — an unknown
-- agency or procedure, a file whose hash differs … — kept and flagged for an administrator,
-- with problem_code and problem). national_cursor: where the next pull starts.
CREATE TABLE national_inbox (
    id INTEGER PRIMARY KEY,
    national_code TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    problem_code TEXT,
    problem TEXT,
    dossier_id INTEGER REFERENCES dossiers(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    pulled_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX national_inbox_due ON national_inbox(state, next_at);

CREATE TABLE national_cursor (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One dossier a national code; what the citizen's submission said about its e-ID and payment.
CREATE UNIQUE INDEX dossiers_national_code ON dossiers(national_code);
ALTER TABLE dossiers ADD COLUMN eid_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN paid_online INTEGER NOT NULL DEFAULT 0;
