//! Sample reviews written in bulk: the demo's picture of a scheme and the benchmark's national
//! dataset. One transaction, batched inserts, one audit event for the whole batch.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use danvan_domain::achievement::met_marks;
use danvan_domain::plan::{ActivityInput, ActivityStatus};
use danvan_domain::value::Value;
use danvan_domain::workflow::State;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::plans::json_list;
use crate::reviews::columns;
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

/// One generated review.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleReview {
    pub unit_id: i64,
    pub period: String,
    pub state: State,
    pub late: bool,
    pub values: BTreeMap<String, Value>,
}

/// One generated plan activity.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleActivity {
    pub unit_id: i64,
    pub year: i32,
    pub input: ActivityInput,
    pub status: ActivityStatus,
}

const CHUNK: usize = 1000;

impl Store {
    /// Writes sample reviews of a scheme; refused when the scheme has any review already.
    /// `progress` hears how many reviews are written so far.
    pub async fn insert_sample_reviews(
        &self,
        actor: &Actor,
        scheme_id: i64,
        list: &[SampleReview],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<usize> {
        if self.review_count(scheme_id).await? > 0 {
            return Err(StoreError::Conflict(
                "đề án đã có bản rà soát; dữ liệu mẫu chỉ nạp vào đề án trống".into(),
            ));
        }
        let scheme = self
            .scheme_by_id(scheme_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("đề án #{scheme_id}")))?;
        let marks: Vec<Option<String>> = list
            .iter()
            .map(|r| (r.state == State::Approved).then(|| met_marks(&scheme.def.targets, &r.values)))
            .collect();
        let now = Utc::now();
        let narrative = r#"{"results":"","limitations":"","next_tasks":""}"#;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let targets: HashMap<String, i64> =
                sqlx::query_as::<_, (i64, String)>("SELECT id, code FROM targets WHERE scheme_id = $1")
                    .bind(scheme_id)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(id, code)| (code, id))
                    .collect();
            for (i, (chunk, marks)) in list.chunks(CHUNK).zip(marks.chunks(CHUNK)).enumerate() {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO reviews (scheme_id, unit_id, period, state, version, narrative, submitted_at, first_submitted_at, late, \
                     decided_at, frozen_at, created_at, updated_at, met) ",
                );
                qb.push_values(chunk.iter().zip(marks), |mut b, (r, met)| {
                    let submitted = (r.state != State::Draft).then_some(now);
                    let decided = (r.state == State::Approved).then_some(now);
                    b.push_bind(scheme_id)
                        .push_bind(r.unit_id)
                        .push_bind(&r.period)
                        .push_bind(r.state.as_str())
                        .push_bind(1_i64)
                        .push_bind(narrative)
                        .push_bind(submitted)
                        .push_bind(submitted)
                        .push_bind(r.late)
                        .push_bind(decided)
                        .push_bind(decided)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(met);
                });
                qb.build().execute(&mut *tx).await?;
                progress((i * CHUNK + chunk.len()) / 2);
            }
            let ids: HashMap<(i64, String), i64> =
                sqlx::query_as::<_, (i64, i64, String)>("SELECT id, unit_id, period FROM reviews WHERE scheme_id = $1")
                    .bind(scheme_id)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(id, unit, period)| ((unit, period), id))
                    .collect();
            let mut rows = Vec::new();
            for r in list {
                let review = *ids.get(&(r.unit_id, r.period.clone())).ok_or_else(|| {
                    StoreError::Invalid(format!("hai bản rà soát mẫu cùng đơn vị #{} kỳ {}", r.unit_id, r.period))
                })?;
                for (code, v) in &r.values {
                    let target = *targets
                        .get(code)
                        .ok_or_else(|| StoreError::Invalid(format!("đề án không có chỉ tiêu mã \"{code}\"")))?;
                    rows.push((review, target, columns(&Some(v.clone()))));
                }
            }
            for (i, chunk) in rows.chunks(CHUNK).enumerate() {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO review_values (review_id, target_id, numerator, denominator, count, yes, grade) ",
                );
                qb.push_values(chunk, |mut b, (review, target, (num, den, count, yes, grade))| {
                    b.push_bind(*review).push_bind(*target).push_bind(*num).push_bind(*den).push_bind(*count).push_bind(*yes).push_bind(*grade);
                });
                qb.build().execute(&mut *tx).await?;
                progress(list.len() / 2 + (i * CHUNK + chunk.len()) * list.len() / rows.len().max(1) / 2);
            }
            let counter = crate::marks_counter(scheme_id);
            sqlx::query(crate::BUMP).bind(&counter).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE reviews SET marks_seq = (SELECT n FROM change_counters WHERE name = $1) WHERE scheme_id = $2",
            )
            .bind(&counter)
            .bind(scheme_id)
            .execute(&mut *tx)
            .await?;
            let event = NewEvent::new("sample", "scheme", scheme_id)
                .after(&serde_json::json!({"reviews": list.len(), "values": rows.len()}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        progress(list.len());
        Ok(list.len())
    }

    /// Writes sample roadmaps of a scheme, approved and in force, in one transaction; refused
    /// when the scheme has any roadmap already.
    pub async fn insert_sample_roadmaps(
        &self,
        actor: &Actor,
        scheme_id: i64,
        list: &[(i64, danvan_domain::roadmap::Roadmap)],
    ) -> Result<usize> {
        let plans: Vec<(i64, String)> = list
            .iter()
            .map(|(unit, plan)| Ok((*unit, crate::roadmaps::plan_text(plan)?)))
            .collect::<Result<_>>()?;
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roadmaps WHERE scheme_id = $1")
                .bind(scheme_id)
                .fetch_one(&mut *tx)
                .await?;
            if n > 0 {
                return Err(StoreError::Conflict(
                    "đề án đã có lộ trình; lộ trình mẫu chỉ nạp vào đề án trống".into(),
                ));
            }
            for chunk in plans.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO roadmaps (scheme_id, unit_id, state, version, plan, in_force, in_force_at, in_force_version, \
                     submitted_at, first_submitted_at, late, decided_at, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, (unit, plan)| {
                    b.push_bind(scheme_id)
                        .push_bind(*unit)
                        .push_bind(State::Approved.as_str())
                        .push_bind(1_i64)
                        .push_bind(plan)
                        .push_bind(plan)
                        .push_bind(now)
                        .push_bind(1_i64)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(false)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            // The approved sample reviews were judged against these plans.
            let approved: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT id, unit_id, period FROM reviews WHERE scheme_id = $1 AND state = 'approved'",
            )
            .bind(scheme_id)
            .fetch_all(&mut *tx)
            .await?;
            let by_unit: HashMap<i64, &danvan_domain::roadmap::Roadmap> =
                list.iter().map(|(unit, plan)| (*unit, plan)).collect();
            for (review, unit, period) in approved {
                let Some(plan) = by_unit.get(&unit) else { continue };
                let year: i32 = period.get(..4).and_then(|y| y.parse().ok()).unwrap_or_default();
                let judged = crate::reviews::JudgedPlan {
                    version: Some(1),
                    approved_at: Some(now),
                    planned: plan.planned_in(year),
                };
                let text = serde_json::to_string(&judged).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("UPDATE reviews SET judged_plan = $1 WHERE id = $2")
                    .bind(text)
                    .bind(review)
                    .execute(&mut *tx)
                    .await?;
            }
            let event = NewEvent::new("sample", "scheme", scheme_id)
                .after(&serde_json::json!({"roadmaps": list.len()}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(list.len())
    }

    /// Writes sample plan activities of a scheme in one transaction; refused when the scheme
    /// has any activity already.
    pub async fn insert_sample_activities(
        &self,
        actor: &Actor,
        scheme_id: i64,
        list: &[SampleActivity],
    ) -> Result<usize> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities WHERE scheme_id = $1")
                .bind(scheme_id)
                .fetch_one(&mut *tx)
                .await?;
            if existing > 0 {
                return Err(StoreError::Conflict("đề án đã có hoạt động; dữ liệu mẫu chỉ nạp vào kế hoạch trống".into()));
            }
            for chunk in list.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO activities (scheme_id, unit_id, year, title, description, targets, lead_org, supporting_orgs, \
                     responsible, start_date, due_date, status, version, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(scheme_id)
                        .push_bind(a.unit_id)
                        .push_bind(a.year)
                        .push_bind(&a.input.title)
                        .push_bind(&a.input.description)
                        .push_bind(json_list(&a.input.targets))
                        .push_bind(&a.input.lead_org)
                        .push_bind(json_list(&a.input.supporting_orgs))
                        .push_bind(&a.input.responsible)
                        .push_bind(a.input.start)
                        .push_bind(a.input.due)
                        .push_bind(a.status.as_str())
                        .push_bind(1_i64)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let event = NewEvent::new("sample", "plan", scheme_id).after(&serde_json::json!({"activities": list.len()}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(list.len())
    }
}
