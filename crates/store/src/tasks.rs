//! What waits for whom: the counts a user's home page and menu show (issue 17, item 2).

use chrono::NaiveDate;

use crate::{with_pool, Result, Store};

/// What waits for the approvers of a subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Submitted reviews of the units below the root.
    pub reviews: i64,
    /// Submitted roadmaps of the units below the root.
    pub roadmaps: i64,
    /// Submitted plans of a year of the units below the root.
    pub plans: i64,
}

impl Waiting {
    pub fn total(&self) -> i64 {
        self.reviews + self.roadmaps + self.plans
    }
}

const SUBTREE: &str = "WITH RECURSIVE scope (id) AS ( \
       SELECT id FROM units WHERE id = $1 \
       UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) ";

impl Store {
    /// The reviews, roadmaps and plans submitted by the units below a root (the root itself
    /// excluded: no unit approves its own), of every scheme.
    pub async fn waiting_within(&self, root_unit_id: i64) -> Result<Waiting> {
        let (reviews, roadmaps, plans): (i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "{SUBTREE} SELECT \
                   (SELECT COUNT(*) FROM reviews WHERE state = 'submitted' AND unit_id <> $1 \
                      AND unit_id IN (SELECT id FROM scope)), \
                   (SELECT COUNT(*) FROM roadmaps WHERE state = 'submitted' AND unit_id <> $1 \
                      AND unit_id IN (SELECT id FROM scope)), \
                   (SELECT COUNT(*) FROM plans WHERE state = 'submitted' AND unit_id <> $1 \
                      AND unit_id IN (SELECT id FROM scope))"
            ))
            .bind(root_unit_id)
            .fetch_one(pool)
            .await?
        });
        Ok(Waiting { reviews, roadmaps, plans })
    }

    /// How many pieces of citizens' feedback of a subtree (the root included) are still open
    /// with their last day before `day`: overdue when `day` is tomorrow, due soon when later.
    pub async fn open_feedback_due_before(&self, root_unit_id: i64, day: NaiveDate) -> Result<i64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(&format!(
                "{SUBTREE} SELECT COUNT(*) FROM feedback WHERE status IN ('received', 'assigned') \
                   AND due_on < $2 AND unit_id IN (SELECT id FROM scope)"
            ))
            .bind(root_unit_id)
            .bind(day)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }
}
