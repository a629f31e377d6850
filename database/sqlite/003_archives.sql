-- NSelf.Usage SQLite schema, migration 3: archives. Move-UsageRecord moves old events to a
-- verified file and leaves a tombstone per event, so an archived event sent again (or imported
-- back) is restored with its original ingest time and never counted twice in the rollups,
-- which keep the archived history.

CREATE TABLE usage_archived_events (
    customer_id  TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    service_name TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    archive_id   INTEGER NOT NULL,
    PRIMARY KEY (customer_id, event_id)
) WITHOUT ROWID;

CREATE TABLE usage_archives (
    archive_id  INTEGER NOT NULL PRIMARY KEY,
    path        TEXT    NOT NULL,
    rows        INTEGER NOT NULL,
    checksum    TEXT    NOT NULL,
    cutoff      INTEGER NOT NULL,
    customer_id TEXT,
    created_at  INTEGER NOT NULL
);
