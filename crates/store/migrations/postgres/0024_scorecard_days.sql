-- Keep in step with ../sqlite/0024_scorecard_days.sql.
-- Daily summaries behind the scorecard (issue 23): a row per competent agency and period day
-- (of receipt, else of submission, in Vietnam's time) with the dossier counts of the dossiers
-- that are settled — finished or closed — so that none of their counts depends on "now" any
-- more. Open dossiers are counted live (they are few: see the partial indexes). The writes mark
-- the agency-days they change in scorecard_dirty (triggers below); the scorecard recomputes the
-- marked days from the dossiers before it reads (egov_store::scorecard::refresh_summaries).
CREATE TABLE scorecard_days (
    agency_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    received BIGINT NOT NULL,
    received_individuals BIGINT NOT NULL,
    synchronised BIGINT NOT NULL,
    late BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    finished BIGINT NOT NULL,
    online BIGINT NOT NULL,
    with_fee BIGINT NOT NULL,
    paid_online BIGINT NOT NULL,
    e_result BIGINT NOT NULL,
    digitised BIGINT NOT NULL,
    reused_data BIGINT NOT NULL,
    vneid BIGINT NOT NULL,
    satisfactory BIGINT NOT NULL,
    handling_seconds BIGINT NOT NULL,
    PRIMARY KEY (agency_id, day)
);
CREATE INDEX scorecard_days_day ON scorecard_days(day);
-- Append-only (no unique key), so that writers never wait for each other on a mark.
CREATE TABLE scorecard_dirty (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id BIGINT NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX dossiers_open_period ON dossiers((COALESCE(received_at, submitted_at)))
    WHERE finished_at IS NULL AND closed_at IS NULL;
CREATE INDEX dossiers_open_period_agency ON dossiers(competent_agency_id, (COALESCE(received_at, submitted_at)))
    WHERE finished_at IS NULL AND closed_at IS NULL;

CREATE FUNCTION scorecard_day(t TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')
$$;

CREATE FUNCTION scorecard_mark_dossier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND (OLD.finished_at IS NOT NULL OR OLD.closed_at IS NOT NULL) THEN
        INSERT INTO scorecard_dirty(agency_id, day)
        VALUES (OLD.competent_agency_id, scorecard_day(COALESCE(OLD.received_at, OLD.submitted_at)));
    END IF;
    IF TG_OP <> 'DELETE' AND (NEW.finished_at IS NOT NULL OR NEW.closed_at IS NOT NULL) THEN
        INSERT INTO scorecard_dirty(agency_id, day)
        VALUES (NEW.competent_agency_id, scorecard_day(COALESCE(NEW.received_at, NEW.submitted_at)));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER scorecard_dossier AFTER INSERT OR DELETE OR UPDATE OF
    received_at, submitted_at, state, competent_agency_id, finished_at, closed_at, timeliness,
    counts_late, appointment, applicant_id, channel, fee_total, paid_online, result_json,
    digitised, reused_data, eid_verified
ON dossiers FOR EACH ROW EXECUTE FUNCTION scorecard_mark_dossier();

-- Synchronisation (1.x), ratings (2.x) and the applicant's kind change settled dossiers' counts.
CREATE FUNCTION scorecard_mark_by_dossier() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.dossier_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.dossier_id];
    ELSE
        ids := ARRAY[OLD.dossier_id, NEW.dossier_id];
    END IF;
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, scorecard_day(COALESCE(d.received_at, d.submitted_at))
    FROM dossiers d WHERE d.id = ANY(ids) AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER scorecard_national AFTER INSERT OR DELETE OR UPDATE OF created, dossier_id
ON national_dossiers FOR EACH ROW EXECUTE FUNCTION scorecard_mark_by_dossier();
CREATE TRIGGER scorecard_rating AFTER INSERT OR DELETE OR UPDATE OF score, dossier_id
ON national_ratings FOR EACH ROW EXECUTE FUNCTION scorecard_mark_by_dossier();

CREATE FUNCTION scorecard_mark_applicant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scorecard_dirty(agency_id, day)
    SELECT d.competent_agency_id, scorecard_day(COALESCE(d.received_at, d.submitted_at))
    FROM dossiers d WHERE d.applicant_id = NEW.id AND (d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER scorecard_applicant_kind AFTER UPDATE OF kind ON applicants
FOR EACH ROW EXECUTE FUNCTION scorecard_mark_applicant();

-- The dossiers already there: every settled agency-day is marked, so that the first refresh
-- builds the summaries.
INSERT INTO scorecard_dirty(agency_id, day)
SELECT DISTINCT competent_agency_id, scorecard_day(COALESCE(received_at, submitted_at))
FROM dossiers WHERE finished_at IS NOT NULL OR closed_at IS NOT NULL;
