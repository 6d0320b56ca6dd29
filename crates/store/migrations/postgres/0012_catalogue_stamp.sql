-- A counter bumped by every change to procedures, processes and agencies, so that a process can
-- cache what a receipt reads of them and know, with one read, when the cache is out of date.
-- Triggers, not application code, bump it: no write path can forget. Keep in step with
-- ../sqlite/0012_catalogue_stamp.sql.
INSERT INTO settings (key, value) VALUES ('catalogue.stamp', '1') ON CONFLICT (key) DO NOTHING;

CREATE FUNCTION bump_catalogue_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE settings SET value = (value::bigint + 1)::text WHERE key = 'catalogue.stamp';
    RETURN NULL;
END;
$$;

CREATE TRIGGER procedures_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedures
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_stamp();
CREATE TRIGGER processes_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON processes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_stamp();
CREATE TRIGGER agencies_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_stamp();
