-- A counter bumped by every change to procedures, processes and agencies, so that a process can
-- cache what a receipt reads of them and know, with one read, when the cache is out of date.
-- Triggers, not application code, bump it: no write path can forget. Keep in step with
-- ../postgres/0012_catalogue_stamp.sql.
INSERT INTO settings (key, value) VALUES ('catalogue.stamp', '1') ON CONFLICT (key) DO NOTHING;

CREATE TRIGGER procedures_stamp_insert AFTER INSERT ON procedures BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER procedures_stamp_update AFTER UPDATE ON procedures BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER procedures_stamp_delete AFTER DELETE ON procedures BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER processes_stamp_insert AFTER INSERT ON processes BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER processes_stamp_update AFTER UPDATE ON processes BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER processes_stamp_delete AFTER DELETE ON processes BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER agencies_stamp_insert AFTER INSERT ON agencies BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER agencies_stamp_update AFTER UPDATE ON agencies BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
CREATE TRIGGER agencies_stamp_delete AFTER DELETE ON agencies BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalogue.stamp';
END;
