-- Keep in step with ../postgres/0023_scorecard.sql.
-- The Decision 766 scorecard (issue 23). Feedback pulled from the national portal keeps how the
-- portal classified it (indicator 5.1: empty while unclassified) and whether the citizen was
-- satisfied with its handling (5.3: NULL while not said). The scorecard counts dossiers by their
-- period day — the day of receipt, else of submission — for an agency or for all of them.
ALTER TABLE national_feedback ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE national_feedback ADD COLUMN satisfied INTEGER;
CREATE INDEX national_feedback_sent ON national_feedback(sent_at);
CREATE INDEX dossiers_period_agency ON dossiers(competent_agency_id, (COALESCE(received_at, submitted_at)));
CREATE INDEX dossiers_period ON dossiers((COALESCE(received_at, submitted_at)));
-- Definitions an administrator saved in place of the shipped ones (the latest row is in force).
CREATE TABLE scorecard_definitions (
    id INTEGER PRIMARY KEY,
    definitions TEXT NOT NULL,
    saved_by INTEGER,
    saved_at TEXT NOT NULL
);
