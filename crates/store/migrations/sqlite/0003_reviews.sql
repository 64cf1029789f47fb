-- Reviews (rà soát): one per scheme, unit and period, with a value per target.
CREATE TABLE reviews (
    id             INTEGER PRIMARY KEY,
    scheme_id      INTEGER NOT NULL REFERENCES schemes (id),
    unit_id        INTEGER NOT NULL REFERENCES units (id),
    period         TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    version        INTEGER NOT NULL,
    narrative      TEXT NOT NULL,
    submitted_at   TEXT,
    late           BOOLEAN NOT NULL,
    decided_at     TEXT,
    decided_by     INTEGER REFERENCES users (id),
    reason         TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (scheme_id, unit_id, period)
);
CREATE INDEX reviews_unit ON reviews (unit_id);
CREATE INDEX reviews_scheme_period ON reviews (scheme_id, period, state);

-- Quantities in thousandths (exact sums); one column group per kind of target.
CREATE TABLE review_values (
    review_id    INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    target_id    INTEGER NOT NULL REFERENCES targets (id),
    numerator    INTEGER,
    denominator  INTEGER,
    count        INTEGER,
    yes          BOOLEAN,
    grade        INTEGER,
    note         TEXT,
    PRIMARY KEY (review_id, target_id)
);
CREATE INDEX review_values_target ON review_values (target_id);
