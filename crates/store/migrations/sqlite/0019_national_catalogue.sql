-- Keep in step with ../postgres/0019_national_catalogue.sql.
-- The national procedure catalogue as last pulled (LayDanhSachTTHC, then LayThuTuc for each),
-- held for an administrator's review before anything is published. state: new (egov has no
-- version of it), changed (differs from the version in force: differences lists the fields),
-- same, bad (cannot be read: problem), published (an administrator published it as a
-- version of egov's catalogue).
CREATE TABLE national_catalogue (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    differences TEXT NOT NULL DEFAULT '',
    problem TEXT,
    pulled_at TEXT NOT NULL,
    published_at TEXT,
    published_version INTEGER
);
CREATE INDEX national_catalogue_state ON national_catalogue(state);
