-- Keep in step with ../postgres/0015_domain_events.sql.
-- Domain events: what happened to a dossier or a document, appended in the transaction that
-- made it happen, numbered per aggregate (version 1, 2, …). Subscribers (the national portal's
-- synchronisation, the document exchange, notifications, the scorecard's summaries) are named
-- in event_subscribers; each appended event is delivered to every subscriber as one row of
-- event_deliveries, which the subscriber deletes in the transaction that handles it, and
-- event_cursors records the last version each subscriber handled of each aggregate.
CREATE TABLE domain_events (
    id INTEGER PRIMARY KEY,
    aggregate_kind TEXT NOT NULL,
    aggregate_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    agency_id INTEGER,
    actor_id INTEGER,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (aggregate_kind, aggregate_id, version)
);

CREATE TABLE event_subscribers (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE event_deliveries (
    id INTEGER PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES event_subscribers(name) ON DELETE CASCADE,
    aggregate_kind TEXT NOT NULL,
    aggregate_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,
    last_error TEXT,
    UNIQUE (subscriber, aggregate_kind, aggregate_id, version)
);
CREATE INDEX event_deliveries_due ON event_deliveries(subscriber, id);

CREATE TABLE event_cursors (
    subscriber TEXT NOT NULL REFERENCES event_subscribers(name) ON DELETE CASCADE,
    aggregate_kind TEXT NOT NULL,
    aggregate_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (subscriber, aggregate_kind, aggregate_id)
);
