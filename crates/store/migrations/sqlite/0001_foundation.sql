-- egov foundation schema (SQLite). Timestamps are UTC text in one fixed-width RFC 3339 form,
-- dates are YYYY-MM-DD text, booleans 0/1. Keep in step with ../postgres/0001_foundation.sql.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE admin_units (
    id INTEGER PRIMARY KEY,
    structure TEXT NOT NULL,
    code TEXT NOT NULL,
    level TEXT NOT NULL,
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    division_type TEXT NOT NULL,
    parent_code TEXT,
    parent_id INTEGER REFERENCES admin_units(id),
    province_code TEXT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    UNIQUE (structure, code)
);
CREATE INDEX admin_units_parent ON admin_units(parent_id);
CREATE INDEX admin_units_province ON admin_units(structure, province_code, level);

CREATE TABLE unit_successions (
    old_unit_id INTEGER NOT NULL REFERENCES admin_units(id),
    new_unit_id INTEGER NOT NULL REFERENCES admin_units(id),
    kind TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (old_unit_id, new_unit_id)
);
CREATE INDEX unit_successions_new ON unit_successions(new_unit_id);

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    code_source TEXT NOT NULL,
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    short_name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    governance TEXT NOT NULL,
    admin_unit_id INTEGER REFERENCES admin_units(id),
    parent_id INTEGER REFERENCES agencies(id),
    valid_from TEXT,
    valid_to TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX agencies_parent ON agencies(parent_id);
CREATE INDEX agencies_unit ON agencies(admin_unit_id);

CREATE TABLE agency_successions (
    old_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    new_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (old_agency_id, new_agency_id)
);
CREATE INDEX agency_successions_new ON agency_successions(new_agency_id);

CREATE TABLE org_units (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    parent_id INTEGER REFERENCES org_units(id),
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    kind TEXT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX org_units_agency ON org_units(agency_id);

CREATE TABLE positions (
    key TEXT PRIMARY KEY,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    rank TEXT NOT NULL,
    sort INTEGER NOT NULL
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    full_name_fold TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    org_unit_id INTEGER REFERENCES org_units(id),
    position_key TEXT NOT NULL REFERENCES positions(key),
    acting INTEGER NOT NULL DEFAULT 0,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    created_by INTEGER REFERENCES people(id),
    ended_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX postings_person ON postings(person_id);
CREATE INDEX postings_agency ON postings(agency_id);

CREATE TABLE role_grants (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    role TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id),
    org_unit_id INTEGER REFERENCES org_units(id),
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    granted_by INTEGER REFERENCES people(id),
    revoked_by INTEGER REFERENCES people(id),
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX role_grants_person ON role_grants(person_id, role);
CREATE INDEX role_grants_agency ON role_grants(agency_id, role);

CREATE TABLE delegations (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    delegator_id INTEGER NOT NULL REFERENCES people(id),
    delegate_id INTEGER NOT NULL REFERENCES people(id),
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    reference TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by INTEGER REFERENCES people(id)
);
CREATE INDEX delegations_agency ON delegations(agency_id);
CREATE INDEX delegations_delegate ON delegations(delegate_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    csrf_token TEXT NOT NULL,
    mfa_passed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_person ON sessions(person_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE applicants (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    birth_date TEXT,
    phone TEXT,
    email TEXT,
    address TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (kind, identifier)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    agency_id INTEGER,
    before_json TEXT,
    after_json TEXT,
    ip TEXT,
    request_id TEXT,
    seq INTEGER UNIQUE,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);
CREATE INDEX audit_log_unsealed ON audit_log(id) WHERE seq IS NULL;

CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    sealed_at TEXT
);
INSERT INTO audit_chain (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    locked_until TEXT,
    locked_by TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_due ON jobs(state, run_at);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Identifiers published by a province (or the national list), by (structure, unit code).
CREATE TABLE identifier_map (
    structure TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    identifier TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (structure, unit_code)
);
