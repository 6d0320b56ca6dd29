-- Documents and work records (Decree 30/2020): documents (ours and those from outside),
-- their attachments and recipients, incoming copies per recipient agency, events, reserved
-- numbers, work files. Numbers come from the gapless `counters` of 0003.

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    -- 'internal': drafted and issued here; 'external': registered from outside (paper or hub).
    origin TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id),
    issuer_name TEXT NOT NULL,
    issuer_code TEXT,
    kind TEXT NOT NULL,
    legal INTEGER NOT NULL DEFAULT 0,
    series TEXT,
    year INTEGER,
    number INTEGER,
    notation TEXT,
    issued_on TEXT,
    subject TEXT NOT NULL,
    urgency TEXT NOT NULL,
    secrecy TEXT,
    state TEXT NOT NULL,
    drafter_id INTEGER REFERENCES people(id),
    drafting_unit_id INTEGER REFERENCES org_units(id),
    signer_id INTEGER REFERENCES people(id),
    signer_name TEXT,
    signer_mark TEXT,
    signer_position TEXT,
    main_sha TEXT,
    recipients_text TEXT NOT NULL DEFAULT '',
    replaces_id INTEGER REFERENCES documents(id),
    copies INTEGER NOT NULL DEFAULT 1,
    search_fold TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Numbers are unique per agency, series and year; an external document has none of ours.
CREATE UNIQUE INDEX documents_number ON documents(agency_id, series, year, number) WHERE origin = 'internal' AND number IS NOT NULL;
CREATE INDEX documents_agency_state ON documents(agency_id, state, updated_at);
CREATE INDEX documents_issued ON documents(agency_id, year, issued_on);

CREATE VIRTUAL TABLE documents_fts USING fts5(search_fold, content='documents', content_rowid='id', tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents WHEN new.secrecy IS NULL BEGIN
    INSERT INTO documents_fts(rowid, search_fold) VALUES (new.id, new.search_fold);
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF search_fold ON documents WHEN new.secrecy IS NULL BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, search_fold) VALUES ('delete', old.id, old.search_fold);
    INSERT INTO documents_fts(rowid, search_fold) VALUES (new.id, new.search_fold);
END;

CREATE TABLE document_attachments (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    role TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX document_attachments_document ON document_attachments(document_id);

-- Who an outgoing document goes to: agencies of this deployment (delivered at once) or
-- outside it (queued for the exchange).
CREATE TABLE document_recipients (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    agency_id INTEGER REFERENCES agencies(id),
    external_code TEXT,
    name TEXT NOT NULL,
    addressed INTEGER NOT NULL DEFAULT 1,
    delivered_at TEXT,
    status TEXT,
    status_at TEXT
);
CREATE INDEX document_recipients_document ON document_recipients(document_id);

-- An incoming copy in the hands of one recipient agency.
CREATE TABLE incoming (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    document_id INTEGER NOT NULL REFERENCES documents(id),
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    arrived_at TEXT NOT NULL,
    arrival_year INTEGER,
    arrival_number INTEGER,
    secret INTEGER NOT NULL DEFAULT 0,
    registered_at TEXT,
    registered_by INTEGER REFERENCES people(id),
    lead_unit_id INTEGER REFERENCES org_units(id),
    lead_person_id INTEGER REFERENCES people(id),
    deadline TEXT,
    direction TEXT,
    directed_by INTEGER REFERENCES people(id),
    directed_at TEXT,
    completed_at TEXT,
    reply_document_id INTEGER REFERENCES documents(id),
    recall_status TEXT,
    duplicate_of INTEGER REFERENCES incoming(id),
    version INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    UNIQUE (agency_id, document_id)
);
CREATE UNIQUE INDEX incoming_arrival ON incoming(agency_id, secret, arrival_year, arrival_number) WHERE arrival_number IS NOT NULL;
CREATE INDEX incoming_queue ON incoming(agency_id, state, arrived_at);
CREATE INDEX incoming_lead ON incoming(lead_person_id, state, deadline);
CREATE INDEX incoming_document ON incoming(document_id);

CREATE TABLE incoming_coordinators (
    incoming_id INTEGER NOT NULL REFERENCES incoming(id),
    unit_id INTEGER REFERENCES org_units(id),
    person_id INTEGER REFERENCES people(id)
);
CREATE INDEX incoming_coordinators_incoming ON incoming_coordinators(incoming_id);
CREATE INDEX incoming_coordinators_person ON incoming_coordinators(person_id);

CREATE TABLE document_events (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    incoming_id INTEGER REFERENCES incoming(id),
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    data_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX document_events_document ON document_events(document_id, id);

-- Numbers a clerk took in advance; used once, never given back.
CREATE TABLE number_reservations (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    series TEXT NOT NULL,
    year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reserved_by INTEGER REFERENCES people(id),
    reserved_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    document_id INTEGER REFERENCES documents(id),
    UNIQUE (agency_id, series, year, number)
);

-- Per agency: one number series for all administrative documents, or one per kind.
CREATE TABLE document_settings (
    agency_id INTEGER PRIMARY KEY REFERENCES agencies(id),
    series_mode TEXT NOT NULL
);

-- Work files (hồ sơ công việc) on the agency's yearly list.
CREATE TABLE work_files (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    year INTEGER NOT NULL,
    notation TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    heading TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    retention TEXT NOT NULL,
    responsible_id INTEGER REFERENCES people(id),
    state TEXT NOT NULL,
    opened_at TEXT,
    closed_at TEXT,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (agency_id, year, notation)
);

CREATE TABLE work_file_documents (
    file_id INTEGER NOT NULL REFERENCES work_files(id),
    document_id INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    added_by INTEGER REFERENCES people(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (file_id, document_id)
);
CREATE INDEX work_file_documents_document ON work_file_documents(document_id);
