-- Evidence files of a review, per target. The bytes live under the data folder, named by
-- their SHA-256.
CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY,
    review_id     INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    target_code   TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_by   INTEGER REFERENCES users (id),
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX evidence_review ON evidence (review_id);
