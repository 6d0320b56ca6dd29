-- The agencies that may see a document, as words of its full-text entry (`ag<id>`: the issuing
-- agency and every agency holding a copy), so a search intersects the reader's agencies inside
-- the index. Permission is still checked in SQL; these words only narrow the candidates.
ALTER TABLE documents ADD COLUMN access_fold TEXT NOT NULL DEFAULT '';
UPDATE documents SET access_fold = TRIM(COALESCE('ag' || agency_id::text, '') || ' ' ||
    COALESCE((SELECT string_agg('ag' || i.agency_id::text, ' ') FROM incoming i WHERE i.document_id = documents.id), ''));
DROP INDEX documents_search;
ALTER TABLE documents DROP COLUMN search_tsv;
ALTER TABLE documents ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', CASE WHEN secrecy IS NULL THEN search_fold || ' ' || access_fold ELSE '' END)) STORED;
CREATE INDEX documents_search ON documents USING GIN (search_tsv);
