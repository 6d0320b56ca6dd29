-- Keep in step with ../sqlite/0017_national_results.sql.
-- A dossier's result file as the National Public Service Portal fetches it: a random token of
-- 128 bits bound to that one file of that one dossier (the link sent in DanhSachGiayToKetQua);
-- a result replaced by another gets a new token and the old one reaches nothing.
CREATE TABLE national_results (
    token TEXT PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    fetches BIGINT NOT NULL DEFAULT 0,
    last_fetched_at TIMESTAMPTZ,
    UNIQUE (dossier_id, sha256)
);
