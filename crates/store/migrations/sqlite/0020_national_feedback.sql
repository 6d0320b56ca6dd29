-- Keep in step with ../postgres/0020_national_feedback.sql.
-- What citizens said on the National Public Service Portal (an assumed interface): their
-- satisfaction with a dossier (national_ratings, one a dossier code, attached to the dossier
-- when egov holds it) and their feedback (phản ánh, kiến nghị) about the province's agencies and
-- procedures with its handling dates (national_feedback) — the scorecard's satisfaction group.
CREATE TABLE national_ratings (
    dossier_code TEXT PRIMARY KEY,
    dossier_id INTEGER REFERENCES dossiers(id),
    score INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    rated_at TEXT NOT NULL,
    pulled_at TEXT NOT NULL
);
CREATE INDEX national_ratings_dossier ON national_ratings(dossier_id);

CREATE TABLE national_feedback (
    national_id TEXT PRIMARY KEY,
    agency_id INTEGER REFERENCES agencies(id),
    agency_code TEXT NOT NULL DEFAULT '',
    procedure_code TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    handled_at TEXT,
    pulled_at TEXT NOT NULL
);
CREATE INDEX national_feedback_agency ON national_feedback(agency_id);
