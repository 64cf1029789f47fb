-- Roadmaps (lộ trình): one per scheme and unit; the plan being edited, and the plan in force
-- (the last approved), which stays in force while a revision waits for approval.
CREATE TABLE roadmaps (
    id             INTEGER PRIMARY KEY,
    scheme_id      INTEGER NOT NULL REFERENCES schemes (id),
    unit_id        INTEGER NOT NULL REFERENCES units (id),
    state          TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    version        INTEGER NOT NULL,
    plan           TEXT NOT NULL,
    in_force       TEXT,
    in_force_at    TEXT,
    submitted_at   TEXT,
    late           BOOLEAN NOT NULL,
    decided_at     TEXT,
    decided_by     INTEGER REFERENCES users (id),
    reason         TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (scheme_id, unit_id)
);
CREATE INDEX roadmaps_unit ON roadmaps (unit_id);

-- Implementation plans (kế hoạch triển khai): activities per scheme, unit and year.
CREATE TABLE activities (
    id               INTEGER PRIMARY KEY,
    scheme_id        INTEGER NOT NULL REFERENCES schemes (id),
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    year             INTEGER NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    targets          TEXT NOT NULL,
    lead_org         TEXT NOT NULL,
    supporting_orgs  TEXT NOT NULL,
    responsible      TEXT NOT NULL,
    start_date       TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done', 'cancelled')),
    cancel_reason    TEXT,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX activities_unit_year ON activities (unit_id, scheme_id, year);
CREATE INDEX activities_due ON activities (scheme_id, status, due_date);

CREATE TABLE activity_notes (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    on_date      TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   INTEGER REFERENCES users (id)
);
CREATE INDEX activity_notes_activity ON activity_notes (activity_id);

-- Evidence files of an activity. The bytes live under the data folder, named by their SHA-256,
-- beside those of reviews.
CREATE TABLE activity_files (
    id            INTEGER PRIMARY KEY,
    activity_id   INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_by   INTEGER REFERENCES users (id),
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX activity_files_activity ON activity_files (activity_id);
