-- The working-day calendar: years, their dated days, office hours per agency, and the deadlines
-- computed from them (so that a calendar change can list the step deadlines it moves).

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    confirmed INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    confirmed_at TEXT,
    confirmed_by INTEGER REFERENCES people(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY,
    year INTEGER NOT NULL REFERENCES calendar_years(year),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calendar_days_year ON calendar_days(year);

CREATE TABLE office_hours (
    agency_id INTEGER PRIMARY KEY REFERENCES agencies(id),
    hours_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE deadlines (
    id INTEGER PRIMARY KEY,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id),
    received TEXT NOT NULL,
    limit_json TEXT NOT NULL,
    pauses_json TEXT NOT NULL DEFAULT '[]',
    due TEXT NOT NULL,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX deadlines_open ON deadlines(kind, due) WHERE finished_at IS NULL;
CREATE INDEX deadlines_owner ON deadlines(owner_type, owner_id);

CREATE TABLE deadline_reviews (
    id INTEGER PRIMARY KEY,
    deadline_id INTEGER NOT NULL REFERENCES deadlines(id),
    year INTEGER NOT NULL,
    old_due TEXT NOT NULL,
    new_due TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reviewed_at TEXT,
    reviewed_by INTEGER REFERENCES people(id)
);
CREATE INDEX deadline_reviews_open ON deadline_reviews(reviewed_at);
