-- Uploaded files kept in the database (config files = "database"): the bytes of each SHA-256
-- in chunks of at most 1 MiB, so that several servers on one database share them and a backup
-- of the database carries them.
CREATE TABLE file_chunks (
    sha256 TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    bytes  BLOB    NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- Every backup made (by the command or on schedule), with its outcome, for the admin page and
-- /metrics.
CREATE TABLE backups (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL,
    ok          INTEGER NOT NULL,
    location    TEXT    NOT NULL,
    bytes       INTEGER NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX backups_recent ON backups (finished_at);

-- One scheduled backup per period (the period's number since 1970), whichever server claims it
-- first: several servers on one database back up once.
CREATE TABLE backup_slots (
    slot       INTEGER PRIMARY KEY,
    claimed_at TEXT    NOT NULL
);
