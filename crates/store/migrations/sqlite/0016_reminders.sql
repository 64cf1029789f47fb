-- Reminders by email and webhook (issue 19). A notification keeps a second line and whether it
-- has gone out by email (in a message of its own or in a digest).
ALTER TABLE notifications ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN emailed_at TEXT;
CREATE INDEX notifications_not_emailed ON notifications (user_id, emailed_at);

-- How each user wants to be told by email: an address, a delivery (immediately, a daily digest
-- at 07:00 Vietnam time, a weekly one on Monday, or off), the kinds sent at once whatever the
-- delivery, and the kinds unsubscribed from (comma-separated rule names).
CREATE TABLE notify_settings (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT NOT NULL DEFAULT '',
    delivery        TEXT NOT NULL DEFAULT 'daily' CHECK (delivery IN ('immediate', 'daily', 'weekly', 'off')),
    immediate_kinds TEXT NOT NULL DEFAULT '',
    muted_kinds     TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL
);

-- What is to be sent out: an email or a webhook call, once per key whichever server makes it,
-- claimed for a while by the server sending it, retried with backoff until sent or given up.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    html          TEXT NOT NULL,
    -- An email about one kind of notice: the link that unsubscribes from it in one click.
    unsubscribe   TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       TEXT NOT NULL,
    claimed_until TEXT,
    sent_at       TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX deliveries_pending ON deliveries (sent_at, next_at);

-- Secrets the server makes for itself once (the key that signs unsubscribe links).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Entry windows (issue 19, item 6): a scheme may close a period's entry some days after its
-- deadline; the approver reopens it for one unit with a reason (audited), once per period.
ALTER TABLE schemes ADD COLUMN lock_after_days INTEGER;
CREATE TABLE entry_reopenings (
    scheme_id   INTEGER NOT NULL REFERENCES schemes (id),
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    period      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    reopened_by INTEGER REFERENCES users (id),
    reopened_at TEXT NOT NULL,
    PRIMARY KEY (scheme_id, unit_id, period)
);
