-- The embedded durable queue of jira-sync's single-process mode, on SQLite: the work queue
-- (with delayed retries and leased deliveries) and the dead letters. Table names carry a
-- `queue_` prefix and the migrations are tracked in `_queue_migrations`, so the queue can
-- share a database file with the store. Times a person reads are RFC 3339 UTC text; times
-- the queue computes with are Unix milliseconds.

CREATE TABLE queue_messages (
    -- Delivery order among messages due at the same time; never reused (AUTOINCREMENT).
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id            TEXT    NOT NULL,
    payload               BLOB    NOT NULL,
    -- 1 on the first delivery, incremented by every retry.
    attempt               INTEGER NOT NULL DEFAULT 1,
    first_seen            TEXT    NOT NULL,
    -- The last failure, on retried messages.
    failure_class         TEXT,
    failure_message       TEXT,
    -- JSON objects of strings: W3C trace context, and labels for people.
    trace_context         TEXT    NOT NULL DEFAULT '{}',
    labels                TEXT    NOT NULL DEFAULT '{}',
    -- When this copy entered the queue (publish, retry or replay).
    enqueued_at           TEXT    NOT NULL,
    -- Unix ms from which the message may be delivered: later than enqueued for a retry.
    available_at          INTEGER NOT NULL,
    -- The delivery in progress, if any: the consumer, the delivery, and the lease's end
    -- (Unix ms). A message whose lease ended is delivered again.
    lease_owner           TEXT,
    lease_token           TEXT,
    leased_until          INTEGER,
    -- On a replayed message: when, and what it had been parked with.
    replayed_at           TEXT,
    replayed_from_attempt INTEGER,
    replayed_from_class   TEXT,
    replayed_from_message TEXT
);

-- Consumers take the first due message in (available_at, seq) order.
CREATE INDEX queue_messages_due_idx ON queue_messages (available_at, seq);
CREATE INDEX queue_messages_lease_token_idx ON queue_messages (lease_token)
    WHERE lease_token IS NOT NULL;
CREATE INDEX queue_messages_lease_owner_idx ON queue_messages (lease_owner)
    WHERE lease_owner IS NOT NULL;

-- Parked messages, waiting for an operator to read and replay them.
CREATE TABLE queue_dead_letters (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    -- The attempt the message had reached.
    attempt         INTEGER NOT NULL DEFAULT 1,
    first_seen      TEXT    NOT NULL,
    -- Why it was parked.
    failure_class   TEXT    NOT NULL,
    failure_message TEXT    NOT NULL,
    trace_context   TEXT    NOT NULL DEFAULT '{}',
    labels          TEXT    NOT NULL DEFAULT '{}',
    dead_at         TEXT    NOT NULL
);

CREATE INDEX queue_dead_letters_message_id_idx ON queue_dead_letters (message_id);
