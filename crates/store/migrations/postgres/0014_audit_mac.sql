-- Keep in step with ../sqlite/0014_audit_mac.sql.
-- Every audit entry carries a keyed MAC written with it (the key lives outside the database),
-- and the chain's links are keyed once `keyed` is set: egov re-links an older chain once,
-- after checking it, when it first opens the database with a key.
ALTER TABLE audit_log ADD COLUMN mac TEXT;
ALTER TABLE audit_chain ADD COLUMN keyed BIGINT NOT NULL DEFAULT 0;
