-- 1. The country: one unit above the provinces, so that a scheme can cover the whole nation
--    and the national dashboard is the dashboard of a unit like any other.
-- 2. `reviews.met`: for an approved review, which targets it meets, one character per target
--    in the scheme's order ('1' met, '0' reported and not met, '.' not reported). Written in
--    the same transaction as the approval, cleared when the review leaves the approved state;
--    dashboards roll these up instead of re-assessing every value on every request.
ALTER TABLE units DROP CONSTRAINT units_level_check;
ALTER TABLE units ADD CONSTRAINT units_level_check
    CHECK (level IN ('country', 'province', 'district', 'commune', 'hamlet'));
INSERT INTO units (code, name, short_name, search_key, kind, level)
    VALUES ('VN', 'Việt Nam', 'Việt Nam', 'viet nam', 'Quốc gia', 'country');
UPDATE units SET parent_id = (SELECT id FROM units WHERE code = 'VN' AND level = 'country')
    WHERE parent_id IS NULL AND level = 'province';
ALTER TABLE reviews ADD COLUMN met TEXT;
CREATE INDEX reviews_scheme_state ON reviews (scheme_id, state);
-- 3. Counters bumped in the same transaction as every change to a kind of data ('units' for the
--    hierarchy, 'marks:<scheme id>' for the approved reviews of a scheme). A server keeps what
--    it read in memory only while the counter is unchanged, so it never serves stale figures,
--    even when another process (the command line) wrote.
CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY,
    n     BIGINT NOT NULL
);
-- 4. Overdue activities are counted from the index alone (it now holds the unit).
DROP INDEX activities_due;
CREATE INDEX activities_overdue ON activities (scheme_id, status, due_date, unit_id);
-- 5. The value of the scheme's marks counter when a review's marks last changed, so a server
--    reads only the reviews changed since it last looked.
ALTER TABLE reviews ADD COLUMN marks_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reviews_marks_seq ON reviews (scheme_id, marks_seq);
