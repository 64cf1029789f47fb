-- Member organisations of the bloc: the standard list (province_id NULL) and each province's own.
CREATE TABLE organisations (
    id           INTEGER PRIMARY KEY,
    province_id  INTEGER REFERENCES units (id),
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    UNIQUE (province_id, name)
);
INSERT INTO organisations (province_id, name, position) VALUES
    (NULL, 'Đảng ủy', 1), (NULL, 'UBND', 2), (NULL, 'UBMTTQ', 3), (NULL, 'Hội Nông dân', 4),
    (NULL, 'Hội Liên hiệp Phụ nữ', 5), (NULL, 'Đoàn Thanh niên', 6), (NULL, 'Hội Cựu chiến binh', 7),
    (NULL, 'Công đoàn', 8), (NULL, 'Công an xã', 9), (NULL, 'Ban Chỉ huy Quân sự', 10);

-- Re-staffing decisions (kiện toàn) of a commune's bloc.
CREATE TABLE staffing_decisions (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    number      TEXT NOT NULL,
    decided_on  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX staffing_decisions_unit ON staffing_decisions (unit_id);

-- Members of a commune's bloc over time: a membership is ended, never deleted.
CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    full_name     TEXT NOT NULL,
    position      TEXT NOT NULL,
    organisation  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('head', 'deputy', 'member')),
    phone         TEXT,
    trained       BOOLEAN NOT NULL,
    trained_on    TEXT,
    from_date     TEXT NOT NULL,
    to_date       TEXT,
    end_reason    TEXT,
    decision_id   INTEGER REFERENCES staffing_decisions (id),
    end_decision_id INTEGER REFERENCES staffing_decisions (id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX members_unit ON members (unit_id, from_date);
