-- Keep in step with ../postgres/0024_scorecard_days.sql.
-- Daily summaries behind the scorecard (issue 23): a row per competent agency and period day
-- (of receipt, else of submission, in Vietnam's time) with the dossier counts of the dossiers
-- that are settled — finished or closed — so that none of their counts depends on "now" any
-- more. Open dossiers are counted live (they are few: see the partial indexes). The writes mark
-- the agency-days they change in scorecard_dirty (triggers below); the scorecard recomputes the
-- marked days from the dossiers before it reads (egov_store::scorecard::refresh_summaries).
CREATE TABLE scorecard_days (
    agency_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    received INTEGER NOT NULL,
    received_individuals INTEGER NOT NULL,
    synchronised INTEGER NOT NULL,
    late INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    online INTEGER NOT NULL,
    with_fee INTEGER NOT NULL,
    paid_online INTEGER NOT NULL,
    e_result INTEGER NOT NULL,
    digitised INTEGER NOT NULL,
    reused_data INTEGER NOT NULL,
    vneid INTEGER NOT NULL,
    satisfactory INTEGER NOT NULL,
    handling_seconds INTEGER NOT NULL,
    PRIMARY KEY (agency_id, day)
);
CREATE INDEX scorecard_days_day ON scorecard_days(day);
-- Append-only (no unique key), so that writers never wait for each other on a mark.
CREATE TABLE scorecard_dirty (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX dossiers_open_period ON dossiers((COALESCE(received_at, submitted_at)))
    WHERE finished_at IS NULL AND closed_at IS NULL;
CREATE INDEX dossiers_open_period_agency ON dossiers(competent_agency_id, (COALESCE(received_at, submitted_at)))
    WHERE finished_at IS NULL AND closed_at IS NULL;

CREATE TRIGGER scorecard_dossier_insert AFTER INSERT ON dossiers
WHEN NEW.finished_at IS NOT NULL OR NEW.closed_at IS NOT NULL
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    VALUES (NEW.competent_agency_id, date(COALESCE(NEW.received_at, NEW.submitted_at), '+7 hours'));
END;
CREATE TRIGGER scorecard_dossier_update AFTER UPDATE OF
    received_at, submitted_at, state, competent_agency_id, finished_at, closed_at, timeliness,
    counts_late, appointment, applicant_id, channel, fee_total, paid_online, result_json,
    digitised, reused_data, eid_verified
ON dossiers
WHEN NEW.finished_at IS NOT NULL OR NEW.closed_at IS NOT NULL
    OR OLD.finished_at IS NOT NULL OR OLD.closed_at IS NOT NULL
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT OLD.competent_agency_id, date(COALESCE(OLD.received_at, OLD.submitted_at), '+7 hours')
    WHERE OLD.finished_at IS NOT NULL OR OLD.closed_at IS NOT NULL;
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT NEW.competent_agency_id, date(COALESCE(NEW.received_at, NEW.submitted_at), '+7 hours')
    WHERE NEW.finished_at IS NOT NULL OR NEW.closed_at IS NOT NULL;
END;
CREATE TRIGGER scorecard_dossier_delete AFTER DELETE ON dossiers
WHEN OLD.finished_at IS NOT NULL OR OLD.closed_at IS NOT NULL
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    VALUES (OLD.competent_agency_id, date(COALESCE(OLD.received_at, OLD.submitted_at), '+7 hours'));
END;

-- Synchronisation (1.x), ratings (2.x) and the applicant's kind change settled dossiers' counts.
CREATE TRIGGER scorecard_national_insert AFTER INSERT ON national_dossiers
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id = NEW.dossier_id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_national_update AFTER UPDATE OF created, dossier_id ON national_dossiers
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id IN (OLD.dossier_id, NEW.dossier_id)
    AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_national_delete AFTER DELETE ON national_dossiers
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id = OLD.dossier_id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_rating_insert AFTER INSERT ON national_ratings
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id = NEW.dossier_id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_rating_update AFTER UPDATE OF score, dossier_id ON national_ratings
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id IN (OLD.dossier_id, NEW.dossier_id)
    AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_rating_delete AFTER DELETE ON national_ratings
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.id = OLD.dossier_id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;
CREATE TRIGGER scorecard_applicant_kind AFTER UPDATE OF kind ON applicants
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, date(COALESCE(d.received_at, d.submitted_at), '+7 hours')
    FROM dossiers d WHERE d.applicant_id = NEW.id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
END;

-- The dossiers already there: every settled agency-day is marked, so that the first refresh
-- builds the summaries.
INSERT INTO scorecard_dirty(agency_id, day)
SELECT DISTINCT competent_agency_id, date(COALESCE(received_at, submitted_at), '+7 hours')
FROM dossiers WHERE finished_at IS NOT NULL OR closed_at IS NOT NULL;
