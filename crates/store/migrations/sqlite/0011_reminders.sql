-- Reminders (nhắc việc) of incoming documents due soon or overdue: one per person, copy and kind,
-- so that a reminder is sent once, by whichever worker gets there first.
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    incoming_id INTEGER NOT NULL REFERENCES incoming(id),
    kind TEXT NOT NULL,
    deadline TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (person_id, incoming_id, kind)
);
CREATE INDEX reminders_incoming ON reminders (incoming_id);
CREATE INDEX incoming_open_deadline ON incoming (state, deadline);
