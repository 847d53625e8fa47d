-- The durable state of jira-sync: links with their merge base, create intents, the audit log
-- and poller cursors. Entity ids are the systems' stable ids (Jira issue ids, not keys: keys
-- change when an issue moves), so they are plain text.

-- One entity on the left paired with one on the right, with the snapshot both held after the
-- last successful sync (the base of the three-way merge).
CREATE TABLE links (
    id             uuid        PRIMARY KEY,
    connection     text        NOT NULL,
    left_id        text        NOT NULL,
    right_id       text        NOT NULL,
    -- Human-readable keys as last seen; informational only.
    left_key       text,
    right_key      text,
    -- Field name -> value, as in `jira_sync_domain::document::Snapshot`.
    base           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_synced_at timestamptz,
    -- The last failed attempt, cleared by the next successful sync.
    last_error     text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
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
    id           uuid        PRIMARY KEY,
    connection   text        NOT NULL,
    source_side  text        NOT NULL CHECK (source_side IN ('left', 'right')),
    source_id    text        NOT NULL,
    -- Set once the twin exists.
    target_id    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    -- One intent per source entity: concurrent `begin_intent` calls meet here.
    CONSTRAINT create_intents_source_unique UNIQUE (connection, source_side, source_id)
);

-- What was written where, and why. Append-only; `link_id` is not a foreign key so that the
-- history of a deleted link stays readable.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    link_id     uuid,
    connection  text        NOT NULL,
    -- `create`, `update`, `conflict`...
    action      text        NOT NULL,
    -- The side written to.
    target      text        NOT NULL CHECK (target IN ('left', 'right')),
    fields      text[]      NOT NULL DEFAULT '{}',
    changes     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- What caused the write: `jira:issue_updated`, `poll`, `manual`...
    trigger     text        NOT NULL,
    delivery_id text,
    trace_id    text
);

CREATE INDEX audit_log_link_id_idx ON audit_log (link_id, id);

-- Named positions of the pollers. Values only move forward (see `advance_cursor`), compared
-- byte by byte: COLLATE "C" makes the order independent of the database locale (and equal to
-- Rust's and SQLite's string order), so fixed-width RFC 3339 UTC times sort chronologically.
CREATE TABLE cursors (
    name       text        PRIMARY KEY,
    value      text        COLLATE "C" NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
