-- The records of a full Jira <-> Jira sync beyond the issue link: detached links (pairs that
-- stopped syncing), comment links (a comment and its copy, so edits and deletes follow), and
-- conflicts held for a person.

-- A link that stopped syncing (an issue deleted, the pair unlinked or out of scope). Kept so
-- that its issues reconcile to "detached" instead of getting new twins. Several rows may name
-- one entity (detached, linked again by a person, detached again): the newest counts.
CREATE TABLE detached_links (
    id          uuid        PRIMARY KEY,
    connection  text        NOT NULL,
    left_id     text        NOT NULL,
    right_id    text        NOT NULL,
    left_key    text,
    right_key   text,
    -- `deleted`, `unlinked`, `left_scope`...
    reason      text        NOT NULL,
    linked_at   timestamptz NOT NULL,
    detached_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX detached_links_left_idx ON detached_links (connection, left_id, detached_at DESC);
CREATE INDEX detached_links_right_idx ON detached_links (connection, right_id, detached_at DESC);

-- A comment on one issue of a link and its copy on the other. Goes with its issue link.
CREATE TABLE comment_links (
    id         uuid        PRIMARY KEY,
    link_id    uuid        NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    connection text        NOT NULL,
    left_id    text        NOT NULL,
    right_id   text        NOT NULL,
    -- Where the comment was written first.
    origin     text        NOT NULL CHECK (origin IN ('left', 'right')),
    -- Digests of each side's body (canonical form) after the last sync.
    left_hash  text        NOT NULL,
    right_hash text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A comment is linked at most once per connection: a racing second copy is a `Conflict`.
    CONSTRAINT comment_links_left_unique UNIQUE (connection, left_id),
    CONSTRAINT comment_links_right_unique UNIQUE (connection, right_id)
);

CREATE INDEX comment_links_link_idx ON comment_links (link_id, created_at);

-- A field changed on both sides to different values under the `hold` policy. `link_id` is
-- not a foreign key: the history outlives the link.
CREATE TABLE conflicts (
    id          uuid        PRIMARY KEY,
    link_id     uuid        NOT NULL,
    connection  text        NOT NULL,
    field       text        NOT NULL,
    left_value  jsonb       NOT NULL,
    right_value jsonb       NOT NULL,
    -- NULL: the pair had no base for the field (JSON null is an empty base value).
    base_value  jsonb,
    status      text        NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);

-- One open conflict per link and field: repeated reconciles update it instead of piling up.
CREATE UNIQUE INDEX conflicts_open_unique ON conflicts (link_id, field) WHERE status = 'open';
CREATE INDEX conflicts_link_idx ON conflicts (link_id, created_at);
CREATE INDEX conflicts_connection_idx ON conflicts (connection, status, created_at DESC);
