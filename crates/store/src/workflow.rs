//! The approval workflow as stored, shared by reviews, roadmaps and plans: the tables carry the same
//! workflow columns, and every step goes through `workflow_step`.

use std::collections::BTreeMap;

use chrono::Utc;
use danvan_domain::value::Value;
use danvan_domain::workflow::{apply, State, Transition};

use crate::audit::{write_audit, Actor, NewEvent};
use crate::reviews::columns;
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

/// Which kind of document a step applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    Review,
    Roadmap,
    Plan,
}

impl Doc {
    fn table(self) -> &'static str {
        match self {
            Self::Review => "reviews",
            Self::Roadmap => "roadmaps",
            Self::Plan => "plans",
        }
    }

    /// The entity name in the audit log.
    pub(crate) fn entity(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Roadmap => "roadmap",
            Self::Plan => "plan",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Review => "bản rà soát",
            Self::Roadmap => "lộ trình",
            Self::Plan => "kế hoạch",
        }
    }
}

/// What a step writes beside the new state: whether a submission is late, the computed values
/// frozen into a review, and an approved review's marks of the targets it meets.
pub(crate) struct After<'a> {
    pub late: bool,
    pub frozen: &'a BTreeMap<String, Option<Value>>,
    pub met: Option<&'a str>,
    /// An approved review's judged plan (JSON of `JudgedPlan`).
    pub judged: Option<&'a str>,
}

/// The document as it was when the step was asked for.
pub(crate) struct Step {
    pub id: i64,
    pub unit_id: i64,
    pub state: State,
    pub version: i64,
}

impl Store {
    /// Makes one workflow step, audited, in one transaction: refused (nothing written) when
    /// the transition is not allowed from the state, lacks a needed reason, or the document
    /// changed since `before.version` was read. Approving a roadmap puts its plan in force;
    /// reopening one takes it out of force; revising keeps the plan in force.
    pub(crate) async fn workflow_step(
        &self,
        doc: Doc,
        actor: &Actor,
        before: Step,
        transition: Transition,
        reason: Option<&str>,
        after: After<'_>,
    ) -> Result<()> {
        let After { late, frozen, met, judged } = after;
        // A step the state does not allow is a conflict; a missing reason is a bad request.
        let next = apply(before.state, transition, reason).map_err(|m| {
            if danvan_domain::workflow::next_state(before.state, transition).is_none() {
                StoreError::Conflict(m)
            } else {
                StoreError::Invalid(m)
            }
        })?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let now = Utc::now();
        let table = doc.table();
        let id = before.id;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = match transition {
                Transition::Submit => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET state = $1, version = version + 1, submitted_at = $2, \
                         first_submitted_at = COALESCE(first_submitted_at, $2), late = $3, updated_at = $2 \
                         WHERE id = $4 AND version = $5"
                    ))
                    .bind(next.as_str())
                    .bind(now)
                    .bind(late)
                    .bind(id)
                    .bind(before.version)
                    .execute(&mut *tx)
                    .await?
                }
                Transition::Revise => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET state = $1, version = version + 1, reason = NULL, updated_at = $2 \
                         WHERE id = $3 AND version = $4"
                    ))
                    .bind(next.as_str())
                    .bind(now)
                    .bind(id)
                    .bind(before.version)
                    .execute(&mut *tx)
                    .await?
                }
                _ => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET state = $1, version = version + 1, decided_at = $2, decided_by = $3, reason = $4, \
                         updated_at = $2 WHERE id = $5 AND version = $6"
                    ))
                    .bind(next.as_str())
                    .bind(now)
                    .bind(actor.user_id)
                    .bind(reason)
                    .bind(id)
                    .bind(before.version)
                    .execute(&mut *tx)
                    .await?
                }
            }
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "{} vừa được người khác thay đổi; hãy tải lại",
                    doc.noun()
                )));
            }
            match (doc, transition) {
                (Doc::Roadmap, Transition::Approve) => {
                    sqlx::query("UPDATE roadmaps SET in_force = plan, in_force_at = $1, in_force_version = version WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                (Doc::Roadmap, Transition::Reopen) => {
                    sqlx::query("UPDATE roadmaps SET in_force = NULL, in_force_at = NULL, in_force_version = NULL WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                _ => {}
            }
            // Every transition: what waits for approvers changed.
            sqlx::query(crate::BUMP).bind(crate::WORKFLOW_COUNTER).execute(&mut *tx).await?;
            if doc == Doc::Review {
                let approved = next == State::Approved;
                sqlx::query(
                    "UPDATE reviews SET met = $1, judged_plan = $2, \
                     frozen_at = CASE WHEN $3 THEN COALESCE(frozen_at, $4) ELSE frozen_at END WHERE id = $5",
                )
                .bind(if approved { met } else { None })
                .bind(if approved { judged } else { None })
                .bind(approved)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let scheme: i64 = sqlx::query_scalar("SELECT scheme_id FROM reviews WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let counter = crate::marks_counter(scheme);
                sqlx::query(crate::BUMP).bind(&counter).execute(&mut *tx).await?;
                sqlx::query(crate::MARK_SEQ).bind(&counter).bind(id).execute(&mut *tx).await?;
            }
            for (code, value) in frozen {
                let (num, den, count, yes, grade) = columns(value);
                let target: i64 = sqlx::query_scalar(
                    "SELECT t.id FROM targets t JOIN reviews r ON r.scheme_id = t.scheme_id WHERE r.id = $1 AND t.code = $2",
                )
                .bind(id)
                .bind(code)
                .fetch_one(&mut *tx)
                .await?;
                let n = sqlx::query(
                    "UPDATE review_values SET numerator = $1, denominator = $2, count = $3, yes = $4, grade = $5                      WHERE review_id = $6 AND target_id = $7",
                )
                .bind(num)
                .bind(den)
                .bind(count)
                .bind(yes)
                .bind(grade)
                .bind(id)
                .bind(target)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 && value.is_some() {
                    sqlx::query(
                        "INSERT INTO review_values (review_id, target_id, numerator, denominator, count, yes, grade)                          VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(id)
                    .bind(target)
                    .bind(num)
                    .bind(den)
                    .bind(count)
                    .bind(yes)
                    .bind(grade)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut event = NewEvent::new(transition.as_str(), doc.entity(), id)
                .unit(Some(before.unit_id))
                .before(&serde_json::json!({"state": before.state.as_str()}))
                .after(&serde_json::json!({"state": next.as_str(), "late": transition == Transition::Submit && late, "computed": frozen}));
            event.reason = reason.map(str::to_string);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }
}
