-- Keep in step with ../sqlite/0020_national_feedback.sql.
-- What citizens said on the National Public Service Portal (an assumed interface): their
-- satisfaction with a dossier (national_ratings, one a dossier code, attached to the dossier
-- when egov holds it) and their feedback (phản ánh, kiến nghị) about the province's agencies and
-- procedures with its handling dates (national_feedback) — the scorecard's satisfaction group.
CREATE TABLE national_ratings (
    dossier_code TEXT PRIMARY KEY,
    dossier_id BIGINT REFERENCES dossiers(id),
    score BIGINT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    rated_at TIMESTAMPTZ NOT NULL,
    pulled_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX national_ratings_dossier ON national_ratings(dossier_id);

CREATE TABLE national_feedback (
    national_id TEXT PRIMARY KEY,
    agency_id BIGINT REFERENCES agencies(id),
    agency_code TEXT NOT NULL DEFAULT '',
    procedure_code TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    handled_at TIMESTAMPTZ,
    pulled_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX national_feedback_agency ON national_feedback(agency_id);
