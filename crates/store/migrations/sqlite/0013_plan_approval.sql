-- The plan (kế hoạch triển khai) of a year goes through the same workflow as a roadmap: one
-- row per scheme, unit and year, with the workflow's columns (issue 17, item 6). An activity
-- records the day it was done.
CREATE TABLE plans (
    id                 INTEGER PRIMARY KEY,
    scheme_id          INTEGER NOT NULL REFERENCES schemes (id),
    unit_id            INTEGER NOT NULL REFERENCES units (id),
    year               INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    version            INTEGER NOT NULL,
    submitted_at       TEXT,
    first_submitted_at TEXT,
    late               BOOLEAN NOT NULL,
    decided_at         TEXT,
    decided_by         INTEGER REFERENCES users (id),
    reason             TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (scheme_id, unit_id, year)
);
CREATE INDEX plans_unit ON plans (unit_id);
ALTER TABLE activities ADD COLUMN done_on TEXT;
