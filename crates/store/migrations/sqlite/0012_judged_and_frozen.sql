-- An approved review is judged against the roadmap in force when it was approved, frozen with
-- it (issue 16, item 4): judged_plan holds that roadmap's version and approval time and the
-- values it planned for the period, by target code; it is cleared when the review is reopened.
-- A review once approved keeps its computed values until someone recomputes them from the
-- records (item 5): frozen_at is when they were first frozen by an approval.
ALTER TABLE reviews ADD COLUMN judged_plan TEXT;
ALTER TABLE reviews ADD COLUMN frozen_at TEXT;
UPDATE reviews SET frozen_at = decided_at WHERE state = 'approved';
-- The version a roadmap had when its plan in force was approved, so that a review can say which
-- version judged it. Existing approved roadmaps are at that version; others are not known.
ALTER TABLE roadmaps ADD COLUMN in_force_version BIGINT;
UPDATE roadmaps SET in_force_version = version WHERE state = 'approved' AND in_force IS NOT NULL;
