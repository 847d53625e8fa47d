-- Content hashes of entities a poller scans in full (PeopleForce tasks): a full scan enqueues
-- only the entities whose hash changed since the last scan. One row per entity of a scope.
-- Times are fixed-width RFC 3339 UTC text, like every time of this schema.
CREATE TABLE IF NOT EXISTS poller_content_hashes (
    scope      TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, entity_id)
);
