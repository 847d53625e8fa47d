-- The durable state of jira-sync on SQLite (the embedded mode): the same tables, columns and
-- rules as `migrations/0001_initial_schema.sql` for PostgreSQL, in SQLite's types:
-- - UUIDs are hyphenated lowercase text (text order = byte order of the UUID);
-- - times are fixed-width RFC 3339 UTC text with nanoseconds (`2026-11-24T10:00:00.123456789Z`),
--   written by the application, so that text order is time order;
-- - JSON is text; `text[]` becomes a JSON array.
-- Plus the `locks` table, which stands in for PostgreSQL's advisory locks.

-- One entity on the left paired with one on the right, with the snapshot both held after the
-- last successful sync (the base of the three-way merge).
CREATE TABLE links (
    id             TEXT NOT NULL PRIMARY KEY,
    connection     TEXT NOT NULL,
    left_id        TEXT NOT NULL,
    right_id       TEXT NOT NULL,
    -- Human-readable keys as last seen; informational only.
    left_key       TEXT,
    right_key      TEXT,
    -- Field name -> value, as in `jira_sync_domain::document::Snapshot`.
    base           TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    last_synced_at TEXT,
    -- The last failed attempt, cleared by the next successful sync.
    last_error     TEXT,
    updated_at     TEXT NOT NULL,
    -- An entity is linked at most once per connection, whichever side it is on. These two
    -- constraints are what turns a racing second link into a `Conflict`.
    CONSTRAINT links_left_unique UNIQUE (connection, left_id),
    CONSTRAINT links_right_unique UNIQUE (connection, right_id)
);

-- `list_links` reads newest first, per connection or across all of them.
CREATE INDEX links_connection_created_idx ON links (connection, created_at DESC);
CREATE INDEX links_created_idx ON links (created_at DESC);

-- Written before a twin is created and completed with the twin's id afterwards, so that a
-- retry after a crash between "create" and "link" finds the twin instead of creating another.
CREATE TABLE create_intents (
    id           TEXT NOT NULL PRIMARY KEY,
    connection   TEXT NOT NULL,
    source_side  TEXT NOT NULL CHECK (source_side IN ('left', 'right')),
    source_id    TEXT NOT NULL,
    -- Set once the twin exists.
    target_id    TEXT,
    created_at   TEXT NOT NULL,
    completed_at TEXT,
    -- One intent per source entity: concurrent `begin_intent` calls meet here.
    CONSTRAINT create_intents_source_unique UNIQUE (connection, source_side, source_id)
);

-- What was written where, and why. Append-only; `link_id` is not a foreign key so that the
-- history of a deleted link stays readable. AUTOINCREMENT: ids are never reused, even after
-- the newest rows are deleted by hand.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    link_id     TEXT,
    connection  TEXT NOT NULL,
    -- `create`, `update`, `conflict`...
    action      TEXT NOT NULL,
    -- The side written to.
    target      TEXT NOT NULL CHECK (target IN ('left', 'right')),
    -- A JSON array of field names.
    fields      TEXT NOT NULL DEFAULT '[]',
    changes     TEXT NOT NULL DEFAULT '{}',
    -- What caused the write: `jira:issue_updated`, `poll`, `manual`... (quoted: a keyword)
    "trigger"   TEXT NOT NULL,
    delivery_id TEXT,
    trace_id    TEXT
);

CREATE INDEX audit_log_link_id_idx ON audit_log (link_id, id);

-- Named positions of the pollers. Values only move forward (see `advance_cursor`), compared
-- byte by byte: BINARY (SQLite's default collation, a memcmp of the UTF-8 bytes, spelled out
-- here) is the order of PostgreSQL's COLLATE "C" and of Rust's strings.
CREATE TABLE cursors (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT COLLATE BINARY NOT NULL,
    updated_at TEXT NOT NULL
);

-- Entity locks (SQLite has no advisory locks): a row per held key. `holder` is a token of the
-- guard holding it; `expires_at` (Unix milliseconds) is the lease, renewed while the holder
-- lives, so that the lock of a crashed process frees itself.
CREATE TABLE locks (
    key        TEXT NOT NULL PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    -- When the current holder took it, for people looking at a stuck lock.
    taken_at   TEXT NOT NULL
);
