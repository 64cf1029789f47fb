-- The 2025 reform: which unit went into which, and schemes that start on a given day.
-- 1. A succession links one unit version to the one that carries it on from a date: `whole`
--    (the old unit went wholly into the new one), `split-main` (the old unit was divided and
--    this part carries most of it), `split-part` (another part). Rows refer to unit ids, never
--    to codes, so a later list that reuses a code cannot change what they say.
CREATE TABLE unit_successions (
    old_unit_id  INTEGER NOT NULL REFERENCES units (id),
    new_unit_id  INTEGER NOT NULL REFERENCES units (id),
    relation     TEXT NOT NULL CHECK (relation IN ('whole', 'split-main', 'split-part')),
    effective_on TEXT NOT NULL,
    PRIMARY KEY (old_unit_id, new_unit_id)
);
CREATE INDEX unit_successions_new ON unit_successions (new_unit_id);
-- 2. The day a scheme starts (its root and units resolve on that day); NULL is 1 January of
--    its first year.
ALTER TABLE schemes ADD COLUMN starts_on TEXT;
