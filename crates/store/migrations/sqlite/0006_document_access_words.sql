-- The agencies that may see a document, as words of its full-text entry (`ag<id>`: the issuing
-- agency and every agency holding a copy), so a search intersects the reader's agencies inside
-- the index. Permission is still checked in SQL; these words only narrow the candidates.
ALTER TABLE documents ADD COLUMN access_fold TEXT NOT NULL DEFAULT '';
UPDATE documents SET access_fold = TRIM(COALESCE('ag' || agency_id, '') || ' ' ||
    COALESCE((SELECT group_concat('ag' || i.agency_id, ' ') FROM incoming i WHERE i.document_id = documents.id), ''));

DROP TRIGGER documents_fts_insert;
DROP TRIGGER documents_fts_update;
DROP TABLE documents_fts;
CREATE VIRTUAL TABLE documents_fts USING fts5(search_fold, access_fold, content='documents', content_rowid='id', tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO documents_fts(rowid, search_fold, access_fold) SELECT id, search_fold, access_fold FROM documents WHERE secrecy IS NULL;
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents WHEN new.secrecy IS NULL BEGIN
    INSERT INTO documents_fts(rowid, search_fold, access_fold) VALUES (new.id, new.search_fold, new.access_fold);
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF search_fold, access_fold ON documents WHEN new.secrecy IS NULL BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, search_fold, access_fold) VALUES ('delete', old.id, old.search_fold, old.access_fold);
    INSERT INTO documents_fts(rowid, search_fold, access_fold) VALUES (new.id, new.search_fold, new.access_fold);
END;
