-- The records of a full Jira <-> Jira sync on SQLite: the same tables, columns and rules as
-- `migrations/0002_sync_records.sql` for PostgreSQL, in SQLite's types (UUIDs and times as
-- text, JSON as text; see `0001_initial_schema.sql`).

-- A link that stopped syncing, kept so that its issues are not given new twins.
CREATE TABLE detached_links (
    id          TEXT NOT NULL PRIMARY KEY,
    connection  TEXT NOT NULL,
    left_id     TEXT NOT NULL,
    right_id    TEXT NOT NULL,
    left_key    TEXT,
    right_key   TEXT,
    reason      TEXT NOT NULL,
    linked_at   TEXT NOT NULL,
    detached_at TEXT NOT NULL
);

CREATE INDEX detached_links_left_idx ON detached_links (connection, left_id, detached_at DESC);
CREATE INDEX detached_links_right_idx ON detached_links (connection, right_id, detached_at DESC);

-- A comment and its copy. Goes with its issue link (sqlx turns foreign keys on).
CREATE TABLE comment_links (
    id         TEXT NOT NULL PRIMARY KEY,
    link_id    TEXT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    connection TEXT NOT NULL,
    left_id    TEXT NOT NULL,
    right_id   TEXT NOT NULL,
    origin     TEXT NOT NULL CHECK (origin IN ('left', 'right')),
    left_hash  TEXT NOT NULL,
    right_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT comment_links_left_unique UNIQUE (connection, left_id),
    CONSTRAINT comment_links_right_unique UNIQUE (connection, right_id)
);

CREATE INDEX comment_links_link_idx ON comment_links (link_id, created_at);

-- A conflict held for a person; `link_id` is not a foreign key (history outlives links).
CREATE TABLE conflicts (
    id          TEXT NOT NULL PRIMARY KEY,
    link_id     TEXT NOT NULL,
    connection  TEXT NOT NULL,
    field       TEXT NOT NULL,
    left_value  TEXT NOT NULL,
    right_value TEXT NOT NULL,
    -- NULL: no base (the JSON text `null` is an empty base value).
    base_value  TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    resolved_at TEXT
);

CREATE UNIQUE INDEX conflicts_open_unique ON conflicts (link_id, field) WHERE status = 'open';
CREATE INDEX conflicts_link_idx ON conflicts (link_id, created_at);
CREATE INDEX conflicts_connection_idx ON conflicts (connection, status, created_at DESC);
