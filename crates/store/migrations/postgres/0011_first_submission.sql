-- When a review or roadmap was first submitted for its period. Lateness belongs to that first
-- submission: a resubmission after a return or a reopening keeps the verdict (issue 16, item 3).
-- Existing rows take their last submission, the best that is known of them.
ALTER TABLE reviews ADD COLUMN first_submitted_at TIMESTAMPTZ;
UPDATE reviews SET first_submitted_at = submitted_at;
ALTER TABLE roadmaps ADD COLUMN first_submitted_at TIMESTAMPTZ;
UPDATE roadmaps SET first_submitted_at = submitted_at;
