-- The one-stop system: procedures and processes (versioned, as JSON documents with indexed
-- keys), dossiers, their components, steps, pauses and events; gapless counters.

CREATE TABLE counters (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE procedures (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    field_code TEXT NOT NULL,
    field_name TEXT NOT NULL,
    levels TEXT NOT NULL,
    online TEXT NOT NULL,
    data_json TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (code, version)
);

CREATE TABLE processes (
    id INTEGER PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_json TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (procedure_code, version)
);

CREATE TABLE dossiers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    national_code TEXT,
    procedure_id INTEGER NOT NULL REFERENCES procedures(id),
    process_id INTEGER NOT NULL REFERENCES processes(id),
    procedure_code TEXT NOT NULL,
    field_code TEXT NOT NULL,
    receiving_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    competent_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    applicant_name TEXT NOT NULL,
    applicant_phone TEXT,
    channel INTEGER NOT NULL,
    state TEXT NOT NULL,
    national_status INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL,
    current_agency_id INTEGER REFERENCES agencies(id),
    step_role TEXT,
    assignee_id INTEGER REFERENCES people(id),
    step_due TEXT,
    supplement_before_receipt INTEGER NOT NULL DEFAULT 0,
    supplements INTEGER NOT NULL DEFAULT 0,
    apologies INTEGER NOT NULL DEFAULT 0,
    counts_late INTEGER NOT NULL DEFAULT 0,
    subject TEXT NOT NULL DEFAULT '',
    submitted_at TEXT NOT NULL,
    received_at TEXT,
    appointment TEXT,
    original_appointment TEXT,
    extended_to TEXT,
    finished_at TEXT,
    returned_at TEXT,
    closed_at TEXT,
    timeliness TEXT,
    fee_total INTEGER NOT NULL DEFAULT 0,
    paid INTEGER NOT NULL DEFAULT 0,
    digitised INTEGER NOT NULL DEFAULT 0,
    reused_data INTEGER NOT NULL DEFAULT 0,
    result_json TEXT,
    lookup_token TEXT NOT NULL UNIQUE,
    search_fold TEXT NOT NULL,
    month TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dossiers_queue ON dossiers(current_agency_id, step_role, step_due) WHERE closed_at IS NULL;
CREATE INDEX dossiers_assignee ON dossiers(assignee_id, step_due) WHERE closed_at IS NULL;
CREATE INDEX dossiers_receiving ON dossiers(receiving_agency_id, month);
CREATE INDEX dossiers_competent ON dossiers(competent_agency_id, month);
CREATE INDEX dossiers_applicant ON dossiers(applicant_id);

CREATE VIRTUAL TABLE dossiers_fts USING fts5(search_fold, content='dossiers', content_rowid='id', tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER dossiers_fts_insert AFTER INSERT ON dossiers BEGIN
    INSERT INTO dossiers_fts(rowid, search_fold) VALUES (new.id, new.search_fold);
END;
CREATE TRIGGER dossiers_fts_update AFTER UPDATE OF search_fold ON dossiers BEGIN
    INSERT INTO dossiers_fts(dossiers_fts, rowid, search_fold) VALUES ('delete', old.id, old.search_fold);
    INSERT INTO dossiers_fts(rowid, search_fold) VALUES (new.id, new.search_fold);
END;

CREATE TABLE dossier_components (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    required INTEGER NOT NULL,
    provided INTEGER NOT NULL,
    blob_sha TEXT,
    reused INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dossier_components_dossier ON dossier_components(dossier_id);

CREATE TABLE dossier_steps (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id),
    role TEXT NOT NULL,
    assignee_id INTEGER REFERENCES people(id),
    started_at TEXT,
    due_at TEXT,
    finished_at TEXT,
    handed_by INTEGER REFERENCES people(id),
    timeliness TEXT,
    UNIQUE (dossier_id, seq)
);

CREATE TABLE dossier_pauses (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX dossier_pauses_dossier ON dossier_pauses(dossier_id);

CREATE TABLE dossier_events (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    step INTEGER NOT NULL,
    data_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX dossier_events_dossier ON dossier_events(dossier_id, id);

CREATE TABLE lookup_attempts (
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX lookup_attempts_key ON lookup_attempts(key, at);
