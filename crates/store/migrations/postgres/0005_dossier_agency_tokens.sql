-- Dossier search text names the receiving and competent agencies (`ag<id>`), so a search by
-- name intersects the officer's agencies inside the full-text index.
UPDATE dossiers SET search_fold = search_fold || ' ag' || CAST(receiving_agency_id AS TEXT) || ' ag' || CAST(competent_agency_id AS TEXT)
WHERE search_fold NOT LIKE '% ag' || CAST(receiving_agency_id AS TEXT) || ' ag%';
