-- Content hashes of entities a poller scans in full (PeopleForce tasks): a full scan enqueues
-- only the entities whose hash changed since the last scan. One row per entity of a scope.
-- `IF NOT EXISTS`: earlier pollers created this table themselves, with this exact shape; their
-- rows are kept.
CREATE TABLE IF NOT EXISTS poller_content_hashes (
    scope      text        NOT NULL,
    entity_id  text        NOT NULL,
    hash       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, entity_id)
);
