-- Keep in step with ../postgres/0016_national_sync.sql.
-- What egov owes the National Public Service Portal. national_dossiers: one row a dossier, the
-- record (DongBoHoSoMC) due when due_version (the dossier's event version that last changed it)
-- is above sent_version; several changes waiting are sent as one, the latest record. created:
-- the portal accepted the dossier's create, so later records are updates and progress may go.
-- national_progress: one entry (CapNhatTienDoHoSoMC) a processing step, sent in seq order per
-- dossier and never merged. state: pending; uncertain (sent, no answer known: look the dossier
-- up before sending again); sent / synced; rejected (the portal's code and message kept).
CREATE TABLE national_dossiers (
    dossier_id INTEGER PRIMARY KEY REFERENCES dossiers(id),
    agency_id INTEGER NOT NULL,
    due_version INTEGER NOT NULL,
    sent_version INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT,
    reject_code TEXT,
    first_due_at TEXT NOT NULL,
    synced_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX national_dossiers_due ON national_dossiers(state, next_at);

CREATE TABLE national_progress (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT,
    reject_code TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (dossier_id, seq)
);
CREATE INDEX national_progress_due ON national_progress(state, next_at);
