-- Notifications (issue 19): one row per user, item, rule and step, claimed once by whichever
-- server or run makes it first (the unique key), so that nothing is told twice.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    href       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    read_at    TEXT,
    UNIQUE (user_id, item, kind, step)
);
CREATE INDEX notifications_of_user ON notifications (user_id, created_at);
