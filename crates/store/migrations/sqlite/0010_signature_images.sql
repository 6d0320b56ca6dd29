-- Signature images (a person's handwritten signature, blue on transparent) and seal images (an
-- agency's seal, red, at real size) for visible signatures. Uploaded by their owner, approved by
-- an administrator of the agency, used only within their validity and only by their owner.
CREATE TABLE signature_images (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    person_id INTEGER REFERENCES people(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    sha256 TEXT NOT NULL,
    width_px INTEGER NOT NULL,
    height_px INTEGER NOT NULL,
    width_mm REAL NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    state TEXT NOT NULL,
    uploaded_by INTEGER,
    uploaded_at TEXT NOT NULL,
    decided_by INTEGER,
    decided_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX signature_images_owner ON signature_images (kind, person_id, agency_id, state);
