-- Newest documents of an agency first (the recent-first search path).
CREATE INDEX documents_agency_id ON documents(agency_id, id);
