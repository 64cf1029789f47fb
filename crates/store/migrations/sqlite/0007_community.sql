-- Each province's settings for the bloc's work: its own member organisations live in
-- `organisations`; here the answer deadline for citizens' feedback.
CREATE TABLE province_settings (
    province_id           INTEGER PRIMARY KEY REFERENCES units (id),
    feedback_answer_days  INTEGER NOT NULL CHECK (feedback_answer_days BETWEEN 1 AND 365)
);

-- Hamlets (ấp, khu phố, thôn, tổ dân phố) of a commune, each with its mass mobilization team.
CREATE TABLE hamlets (
    id                INTEGER PRIMARY KEY,
    unit_id           INTEGER NOT NULL REFERENCES units (id),
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    team_leader       TEXT,
    team_deputies     TEXT NOT NULL DEFAULT '[]',
    team_members      INTEGER,
    team_decision     TEXT,
    team_formed_on    TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (unit_id, name)
);

-- Meetings of a commune's bloc.
CREATE TABLE meetings (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    kind        TEXT NOT NULL CHECK (kind IN ('giao_ban', 'hoi_nghi', 'doi_thoai', 'tap_huan', 'other')),
    held_on     TEXT NOT NULL,
    place       TEXT NOT NULL,
    chair       TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX meetings_unit ON meetings (unit_id, held_on);

CREATE TABLE meeting_attendance (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    member_id   INTEGER NOT NULL REFERENCES members (id),
    present     BOOLEAN NOT NULL,
    reason      TEXT,
    PRIMARY KEY (meeting_id, member_id)
);

-- A meeting's conclusions; one becomes a plan activity in one step.
CREATE TABLE meeting_conclusions (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id),
    position     INTEGER NOT NULL,
    text         TEXT NOT NULL,
    activity_id  INTEGER REFERENCES activities (id) ON DELETE SET NULL
);
CREATE INDEX meeting_conclusions_meeting ON meeting_conclusions (meeting_id);

-- Citizens' feedback. The sender's name, phone and email are for staff only; `address_hash`
-- (a hash of the sending address) serves the rate limit and is never shown.
CREATE TABLE feedback (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT,
    phone         TEXT,
    email         TEXT,
    hamlet        TEXT,
    category      TEXT NOT NULL,
    content       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'answered', 'closed')),
    organisation  TEXT,
    answer        TEXT,
    received_at   TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    answered_at   TEXT,
    closed_at     TEXT,
    address_hash  TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL
);
CREATE INDEX feedback_unit ON feedback (unit_id, received_at);
CREATE INDEX feedback_address ON feedback (address_hash, received_at);
