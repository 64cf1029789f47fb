-- Administrative units of every level, each valid for a period of time.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    search_key  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    parent_id   INTEGER REFERENCES units (id),
    lat         REAL,
    lon         REAL,
    area_km2    REAL,
    valid_from  TEXT,
    valid_to    TEXT,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE UNIQUE INDEX units_code_valid_from ON units (code, COALESCE(valid_from, ''));
CREATE INDEX units_parent ON units (parent_id);
CREATE INDEX units_level ON units (level);

CREATE TABLE schemes (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    title                 TEXT NOT NULL,
    issuing_body          TEXT NOT NULL,
    document_number       TEXT,
    root_unit_id          INTEGER NOT NULL REFERENCES units (id),
    first_year            INTEGER NOT NULL,
    last_year             INTEGER NOT NULL,
    applies_to            TEXT NOT NULL,
    period                TEXT NOT NULL,
    report_deadline_days  INTEGER NOT NULL,
    sample                BOOLEAN NOT NULL,
    objectives            TEXT NOT NULL,
    source_text           TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE TABLE task_groups (
    id         INTEGER PRIMARY KEY,
    scheme_id  INTEGER NOT NULL REFERENCES schemes (id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    UNIQUE (scheme_id, code)
);

CREATE TABLE targets (
    id                 INTEGER PRIMARY KEY,
    scheme_id          INTEGER NOT NULL REFERENCES schemes (id) ON DELETE CASCADE,
    group_id           INTEGER NOT NULL REFERENCES task_groups (id),
    code               TEXT NOT NULL,
    position           INTEGER NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    kind               TEXT NOT NULL,
    direction          TEXT NOT NULL,
    accumulation       TEXT NOT NULL,
    criterion          REAL NOT NULL,
    grades             TEXT NOT NULL,
    numerator_label    TEXT,
    denominator_label  TEXT,
    unit_label         TEXT,
    evidence_required  BOOLEAN NOT NULL,
    source             TEXT NOT NULL,
    UNIQUE (scheme_id, code)
);

CREATE TABLE target_coverage (
    target_id  INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    year       INTEGER NOT NULL,
    percent    REAL NOT NULL,
    PRIMARY KEY (target_id, year)
);
