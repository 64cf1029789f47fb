//! Reviews (rà soát): one per scheme, unit and period; a value and a note per target, the
//! narrative, and the approval workflow.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use danvan_domain::achievement::met_marks;
use danvan_domain::value::{Milli, Value};
use danvan_domain::workflow::{State, Transition};
use serde::{Deserialize, Serialize};

use crate::audit::{write_audit, Actor, NewEvent};
use crate::workflow::{Doc, Step};
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

/// The narrative sections of a review report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    /// I. Kết quả.
    #[serde(default)]
    pub results: String,
    /// II. Hạn chế, nguyên nhân.
    #[serde(default)]
    pub limitations: String,
    /// III. Phương hướng, nhiệm vụ.
    #[serde(default)]
    pub next_tasks: String,
}

/// What a review holds for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub value: Option<Value>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: i64,
    pub scheme_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub state: State,
    /// Increases with every change; a save must name the version it started from.
    pub version: i64,
    pub narrative: Narrative,
    /// By target code.
    pub values: BTreeMap<String, Entry>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The first submission for the period: lateness is judged there once and for all.
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub late: bool,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<i64>,
    /// The reason of the last return or reopening.
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// While approved: the roadmap it was judged against, frozen with the approval.
    pub judged_plan: Option<JudgedPlan>,
    /// When an approval first froze its computed values; from then on they change only when
    /// someone recomputes them from the records.
    pub frozen_at: Option<DateTime<Utc>>,
}

/// The roadmap an approved review was judged against: the version in force at the approval
/// (none when no roadmap was in force) and what it planned for the review's period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JudgedPlan {
    /// The roadmap's version and when that version was approved.
    pub version: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    /// By target code: the value planned for the period.
    pub planned: BTreeMap<String, f64>,
}

impl Review {
    /// The value planned for a target in this review's period: the plan frozen with the
    /// approval while the review is approved, otherwise the roadmap in force now (`live`).
    /// Reviews approved before plans were frozen (no record of one) take the live plan.
    pub fn planned(&self, live: Option<&danvan_domain::roadmap::Roadmap>, code: &str) -> Option<f64> {
        match (&self.judged_plan, self.state) {
            (Some(judged), State::Approved) => judged.planned.get(code).copied(),
            _ => live.and_then(|p| p.planned(code, self.year())),
        }
    }

    /// The calendar year of the review's period ("2019", "2019-H1", "2019-05").
    pub fn year(&self) -> i32 {
        self.period.get(..4).and_then(|y| y.parse().ok()).unwrap_or_default()
    }
}

/// The value planned for a target in a period, for a review that may not exist yet.
pub fn planned_for(
    review: Option<&Review>,
    live: Option<&danvan_domain::roadmap::Roadmap>,
    code: &str,
    year: i32,
) -> Option<f64> {
    match review {
        Some(r) => r.planned(live, code),
        None => live.and_then(|p| p.planned(code, year)),
    }
}

/// A review in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewSummary {
    pub id: i64,
    pub unit_id: i64,
    pub period: String,
    pub state: State,
    pub version: i64,
    pub late: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    scheme_id: i64,
    unit_id: i64,
    period: String,
    state: String,
    version: i64,
    narrative: String,
    submitted_at: Option<DateTime<Utc>>,
    first_submitted_at: Option<DateTime<Utc>>,
    late: bool,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<i64>,
    reason: Option<String>,
    updated_at: DateTime<Utc>,
    judged_plan: Option<String>,
    frozen_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ValueRow {
    code: String,
    numerator: Option<i64>,
    denominator: Option<i64>,
    count: Option<i64>,
    yes: Option<bool>,
    grade: Option<i64>,
    note: Option<String>,
}

impl ValueRow {
    fn value(&self) -> Option<Value> {
        match (self.numerator, self.denominator, self.count, self.yes, self.grade) {
            (Some(n), Some(d), ..) => Some(Value::Ratio { numerator: Milli(n), denominator: Milli(d) }),
            (_, _, Some(c), ..) => Some(Value::Count { count: Milli(c) }),
            (_, _, _, Some(yes), _) => Some(Value::YesNo { yes }),
            (_, _, _, _, Some(g)) => Some(Value::Level { grade: g.max(0) as usize }),
            _ => None,
        }
    }
}

/// The columns of a value: numerator, denominator, count, yes, grade.
pub(crate) type Columns = (Option<i64>, Option<i64>, Option<i64>, Option<bool>, Option<i64>);

pub(crate) fn columns(v: &Option<Value>) -> Columns {
    match v {
        Some(Value::Ratio { numerator, denominator }) => {
            (Some(numerator.0), Some(denominator.0), None, None, None)
        }
        Some(Value::Count { count }) => (None, None, Some(count.0), None, None),
        Some(Value::YesNo { yes }) => (None, None, None, Some(*yes), None),
        Some(Value::Level { grade }) => (None, None, None, None, Some(*grade as i64)),
        None => (None, None, None, None, None),
    }
}

const REVIEW_COLUMNS: &str =
    "id, scheme_id, unit_id, period, state, version, narrative, submitted_at, first_submitted_at, late, \
                              decided_at, decided_by, reason, updated_at, judged_plan, frozen_at";

fn state_of(s: &str) -> Result<State> {
    State::parse(s).ok_or_else(|| StoreError::Corrupt(format!("review state {s:?}")))
}

/// What the audit log keeps of a review's content.
#[derive(Serialize)]
struct Snapshot<'a> {
    state: &'static str,
    narrative: &'a Narrative,
    values: &'a BTreeMap<String, Entry>,
}

impl Review {
    fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { state: self.state.as_str(), narrative: &self.narrative, values: &self.values }
    }
}

impl Store {
    /// The review of a unit for a period, with its values.
    pub async fn review(&self, scheme_id: i64, unit_id: i64, period: &str) -> Result<Option<Review>> {
        let row: Option<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {REVIEW_COLUMNS} FROM reviews WHERE scheme_id = $1 AND unit_id = $2 AND period = $3"
            ))
            .bind(scheme_id)
            .bind(unit_id)
            .bind(period)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(Some(self.review_from(row).await?)),
            None => Ok(None),
        }
    }

    pub async fn review_by_id(&self, id: i64) -> Result<Option<Review>> {
        let row: Option<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.review_from(row).await?)),
            None => Ok(None),
        }
    }

    async fn review_from(&self, row: ReviewRow) -> Result<Review> {
        let values: Vec<ValueRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT t.code, v.numerator, v.denominator, v.count, v.yes, v.grade, v.note \
                 FROM review_values v JOIN targets t ON t.id = v.target_id WHERE v.review_id = $1",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?
        });
        let narrative = serde_json::from_str(&row.narrative)
            .map_err(|_| StoreError::Corrupt(format!("review {} narrative", row.id)))?;
        Ok(Review {
            id: row.id,
            scheme_id: row.scheme_id,
            unit_id: row.unit_id,
            period: row.period,
            state: state_of(&row.state)?,
            version: row.version,
            narrative,
            values: values
                .into_iter()
                .map(|v| (v.code.clone(), Entry { value: v.value(), note: v.note.clone() }))
                .collect(),
            submitted_at: row.submitted_at,
            first_submitted_at: row.first_submitted_at,
            late: row.late,
            decided_at: row.decided_at,
            decided_by: row.decided_by,
            reason: row.reason,
            updated_at: row.updated_at,
            judged_plan: row
                .judged_plan
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| StoreError::Corrupt(format!("review {} judged plan", row.id)))?,
            frozen_at: row.frozen_at,
        })
    }

    /// Starts a draft review. A review for the same scheme, unit and period is a conflict.
    pub async fn create_review(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        period: &str,
    ) -> Result<Review> {
        let now = Utc::now();
        let narrative =
            serde_json::to_string(&Narrative::default()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reviews (scheme_id, unit_id, period, state, version, narrative, late, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'draft', 1, $4, $5, $6, $6) RETURNING id",
            )
            .bind(scheme_id)
            .bind(unit_id)
            .bind(period)
            .bind(&narrative)
            .bind(false)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || format!("đơn vị đã có bản rà soát kỳ {period}")))?;
            let event = NewEvent::new("create", "review", id)
                .unit(Some(unit_id))
                .after(&serde_json::json!({"scheme_id": scheme_id, "period": period, "state": "draft"}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.review_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("rà soát #{id}")))
    }

    /// Saves the values and narrative of an editable review. `version` must be the version the
    /// editor started from: if someone saved in between, nothing is written and the answer is a
    /// conflict.
    pub async fn save_review(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        values: &BTreeMap<String, Entry>,
        narrative: &Narrative,
    ) -> Result<Review> {
        let before = self
            .review_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có bản rà soát #{id}")))?;
        if before.version != version {
            return Err(stale(&before));
        }
        if !before.state.editable() {
            return Err(StoreError::Conflict(format!(
                "bản rà soát đang ở trạng thái \"{}\", không thể sửa",
                before.state.label_vi()
            )));
        }
        let now = Utc::now();
        let narrative_json =
            serde_json::to_string(narrative).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let ids: Vec<(i64, String)> = sqlx::query_as("SELECT id, code FROM targets WHERE scheme_id = $1")
                .bind(before.scheme_id)
                .fetch_all(&mut *tx)
                .await?;
            let ids: HashMap<String, i64> = ids.into_iter().map(|(i, c)| (c, i)).collect();
            let n = sqlx::query("UPDATE reviews SET narrative = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
                .bind(&narrative_json)
                .bind(now)
                .bind(id)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                // Someone saved between our read and this write.
                return Err(StoreError::Conflict(
                    "bản rà soát vừa được người khác lưu; hãy tải lại để xem thay đổi của họ".into(),
                ));
            }
            sqlx::query("DELETE FROM review_values WHERE review_id = $1").bind(id).execute(&mut *tx).await?;
            for (code, entry) in values {
                let target_id = *ids.get(code).ok_or_else(|| StoreError::Invalid(format!("đề án không có chỉ tiêu mã \"{code}\"")))?;
                if entry.value.is_none() && entry.note.as_deref().is_none_or(str::is_empty) {
                    continue;
                }
                let (num, den, count, yes, grade) = columns(&entry.value);
                sqlx::query(
                    "INSERT INTO review_values (review_id, target_id, numerator, denominator, count, yes, grade, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(id)
                .bind(target_id)
                .bind(num)
                .bind(den)
                .bind(count)
                .bind(yes)
                .bind(grade)
                .bind(&entry.note)
                .execute(&mut *tx)
                .await?;
            }
            let mut after = before.clone();
            after.narrative = narrative.clone();
            after.values = values
                .iter()
                .filter(|(_, e)| e.value.is_some() || e.note.as_deref().is_some_and(|n| !n.is_empty()))
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect();
            let event = NewEvent::new("update", "review", id)
                .unit(Some(before.unit_id))
                .before(&before.snapshot())
                .after(&after.snapshot());
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.review_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("rà soát #{id}")))
    }

    /// Moves a review through the workflow. `late` is recorded at submission. The version, when
    /// given, must be current.
    pub async fn transition_review(
        &self,
        actor: &Actor,
        id: i64,
        version: Option<i64>,
        transition: Transition,
        reason: Option<&str>,
        late: bool,
    ) -> Result<Review> {
        let before = self
            .review_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có bản rà soát #{id}")))?;
        if version.is_some_and(|v| v != before.version) {
            return Err(stale(&before));
        }
        if transition == Transition::Revise {
            return Err(StoreError::Invalid(
                "bản rà soát đã duyệt không sửa đổi được; cấp duyệt có thể mở lại".into(),
            ));
        }
        // Computed targets are frozen as they stand when the review is submitted and again when
        // it is approved; once approved, the review keeps them — through a reopening too — until
        // someone recomputes them from the records (`recompute_review`).
        let frozen =
            if before.frozen_at.is_none() && matches!(transition, Transition::Submit | Transition::Approve) {
                self.computed_for_review(before.scheme_id, before.unit_id, &before.period).await?
            } else {
                BTreeMap::new()
            };
        // An approved review keeps which targets it meets, for the dashboards' roll-ups.
        let met = if transition == Transition::Approve {
            let scheme = self
                .scheme_by_id(before.scheme_id)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("đề án #{}", before.scheme_id)))?;
            let mut values: BTreeMap<String, Value> =
                before.values.iter().filter_map(|(code, e)| Some((code.clone(), e.value.clone()?))).collect();
            for (code, value) in &frozen {
                match value {
                    Some(v) => values.insert(code.clone(), v.clone()),
                    None => values.remove(code),
                };
            }
            Some(met_marks(&scheme.def.targets, &values))
        } else {
            None
        };
        // An approved review is judged against the roadmap in force now, frozen with it.
        let judged = if transition == Transition::Approve {
            let roadmap = self.roadmap(before.scheme_id, before.unit_id).await?;
            let year = before.year();
            let judged = match roadmap.and_then(|r| Some((r.in_force_version, r.in_force_at, r.in_force?))) {
                Some((version, approved_at, plan)) => {
                    JudgedPlan { version, approved_at, planned: plan.planned_in(year) }
                }
                None => JudgedPlan::default(),
            };
            Some(serde_json::to_string(&judged).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        } else {
            None
        };
        let step = Step { id, unit_id: before.unit_id, state: before.state, version: before.version };
        let after =
            crate::workflow::After { late, frozen: &frozen, met: met.as_deref(), judged: judged.as_deref() };
        self.workflow_step(Doc::Review, actor, step, transition, reason, after).await?;
        self.review_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("rà soát #{id}")))
    }

    /// The plans the approved reviews of a subtree's units for a period were judged against,
    /// by unit (reviews approved before plans were frozen are absent).
    pub async fn judged_plans_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
        period: &str,
    ) -> Result<BTreeMap<i64, JudgedPlan>> {
        let rows: Vec<(i64, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT id, unit_id, judged_plan FROM reviews \
                 WHERE +scheme_id = $1 AND period = $3 AND state = 'approved' AND judged_plan IS NOT NULL \
                   AND unit_id IN (SELECT id FROM scope)",
            )
            .bind(scheme_id)
            .bind(root_unit_id)
            .bind(period)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, unit, text)| {
                let plan = serde_json::from_str(&text)
                    .map_err(|_| StoreError::Corrupt(format!("review {id} judged plan")))?;
                Ok((unit, plan))
            })
            .collect()
    }

    /// Recomputes the computed targets of an editable review from the records, as the user
    /// asked after seeing old → new ("Tính lại từ hồ sơ"); `version` must be current. Audited
    /// as an update of the review.
    pub async fn recompute_review(&self, actor: &Actor, id: i64, version: i64) -> Result<Review> {
        let before = self
            .review_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có bản rà soát #{id}")))?;
        let scheme = self
            .scheme_by_id(before.scheme_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("đề án #{}", before.scheme_id)))?;
        let period = danvan_domain::period::Period::parse(&before.period, scheme.def.period)
            .map_err(StoreError::Corrupt)?;
        let mut values = before.values.clone();
        for (code, value) in self.computed_values(&scheme, before.unit_id, &period).await? {
            let entry = values.entry(code).or_default();
            entry.value = value;
        }
        self.save_review(actor, id, version, &values, &before.narrative).await
    }

    /// The reviews of units in a subtree (the unit itself included), optionally of one state,
    /// by period then unit.
    pub async fn reviews_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
        state: Option<State>,
    ) -> Result<Vec<ReviewSummary>> {
        type Row = (i64, i64, String, String, i64, bool, Option<DateTime<Utc>>, DateTime<Utc>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT id, unit_id, period, state, version, late, submitted_at, updated_at FROM reviews \
                 WHERE +scheme_id = $1 AND unit_id IN (SELECT id FROM scope) AND ($3 IS NULL OR state = $3) \
                 ORDER BY period, unit_id",
            )
            .bind(scheme_id)
            .bind(root_unit_id)
            .bind(state.map(State::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, unit_id, period, state, version, late, submitted_at, updated_at)| {
                Ok(ReviewSummary {
                    id,
                    unit_id,
                    period,
                    state: state_of(&state)?,
                    version,
                    late,
                    submitted_at,
                    updated_at,
                })
            })
            .collect()
    }

    /// How many reviews a scheme has.
    pub async fn review_count(&self, scheme_id: i64) -> Result<usize> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM reviews WHERE scheme_id = $1").bind(scheme_id).fetch_one(pool).await?
        });
        Ok(n as usize)
    }
}

/// The conflict of a save or transition that started from an old version.
fn stale(current: &Review) -> StoreError {
    StoreError::Conflict(format!(
        "bản rà soát đã được thay đổi (nay là phiên bản {}, cập nhật lúc {}); hãy tải lại để xem thay đổi trước khi lưu",
        current.version,
        current.updated_at.format("%d/%m/%Y %H:%M")
    ))
}

/// The filter of rows of a scheme (`$1`) for units of a subtree (`$2`). The whole scheme is read
/// through its index; a subtree unit by unit through the unit index, the unary plus keeping
/// SQLite (which has no statistics) from walking the whole scheme instead.
pub(crate) fn scheme_scope(whole: bool) -> &'static str {
    if whole {
        "scheme_id = $1 AND $2 = $2"
    } else {
        "+scheme_id = $1 AND unit_id IN (WITH RECURSIVE scope (id) AS ( \
           SELECT id FROM units WHERE id = $2 \
           UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) SELECT id FROM scope)"
    }
}

/// A review as dashboards roll it up: which targets it meets, when it is approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewMarks {
    pub unit_id: i64,
    pub period: String,
    pub late: bool,
    /// One character per target in the scheme's order: '1' met, '0' not met, '.' not
    /// reported. None when the review is not approved (it counts for nothing).
    pub met: Option<String>,
}

/// One unit's value for a target, as roll-ups take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitValue {
    pub unit_id: i64,
    pub target: String,
    pub value: Option<Value>,
    pub state: State,
    pub late: bool,
}

impl Store {
    /// The values of every review of a period for units of a subtree, in the given states
    /// (approved only for official figures; submitted too for provisional ones). A review with
    /// no value for a target appears once with `value: None` and an empty target.
    pub async fn review_values_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
        period: &str,
        states: &[State],
    ) -> Result<Vec<UnitValue>> {
        type Row = (
            i64,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<bool>,
            Option<i64>,
            String,
            bool,
        );
        let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let list = states.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
        let list = if list.is_empty() { "''".to_string() } else { list };
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT r.unit_id, t.code, v.numerator, v.denominator, v.count, v.yes, v.grade, r.state, r.late \
                 FROM reviews r \
                 LEFT JOIN review_values v ON v.review_id = r.id \
                 LEFT JOIN targets t ON t.id = v.target_id \
                 WHERE +r.scheme_id = $1 AND r.period = $3 AND r.state IN ({list}) \
                   AND r.unit_id IN (SELECT id FROM scope) \
                 ORDER BY r.unit_id, t.code"
            ))
            .bind(scheme_id)
            .bind(root_unit_id)
            .bind(period)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(unit_id, code, numerator, denominator, count, yes, grade, state, late)| {
                let v = ValueRow {
                    code: code.clone().unwrap_or_default(),
                    numerator,
                    denominator,
                    count,
                    yes,
                    grade,
                    note: None,
                };
                Ok(UnitValue {
                    unit_id,
                    target: v.code.clone(),
                    value: v.value(),
                    state: state_of(&state)?,
                    late,
                })
            })
            .collect()
    }

    /// Whether a unit is the root of a scheme (so that its subtree is the whole scheme).
    pub async fn is_scheme_root(&self, scheme_id: i64, unit_id: i64) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM schemes WHERE id = $1 AND root_unit_id = $2")
                .bind(scheme_id)
                .bind(unit_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n > 0)
    }

    /// The reviews of a scheme whose marks changed after the scheme's marks counter stood at
    /// `since` (0: every review), with their marks when they are approved, in no particular
    /// order. A cache that applies them is current as of the counter read before asking.
    pub async fn marks_changed_since(&self, scheme_id: i64, since: i64) -> Result<Vec<ReviewMarks>> {
        let rows: Vec<(i64, String, bool, String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT unit_id, period, late, state, met FROM reviews WHERE scheme_id = $1 AND marks_seq > $2",
            )
            .bind(scheme_id)
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(unit_id, period, late, state, met)| {
                let approved = state_of(&state)? == State::Approved;
                if approved && met.is_none() {
                    return Err(StoreError::Corrupt(format!(
                        "approved review of unit {unit_id} for {period} has no marks"
                    )));
                }
                Ok(ReviewMarks { unit_id, period, late, met: if approved { met } else { None } })
            })
            .collect()
    }

    /// Writes the marks of approved reviews that have none (reviews approved before marks were
    /// kept); returns how many. Run when the store opens.
    pub async fn mark_unmarked_reviews(&self) -> Result<usize> {
        let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, scheme_id FROM reviews WHERE state = 'approved' AND met IS NULL")
                .fetch_all(pool)
                .await?
        });
        let mut schemes = HashMap::new();
        for (id, scheme_id) in &rows {
            if !schemes.contains_key(scheme_id) {
                let s = self
                    .scheme_by_id(*scheme_id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("review {id}: no scheme {scheme_id}")))?;
                schemes.insert(*scheme_id, s);
            }
            let review = self
                .review_by_id(*id)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("rà soát #{id}")))?;
            let values: BTreeMap<String, Value> =
                review.values.into_iter().filter_map(|(code, e)| Some((code, e.value?))).collect();
            let met = met_marks(&schemes[scheme_id].def.targets, &values);
            with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query("UPDATE reviews SET met = $1 WHERE id = $2 AND state = 'approved'")
                    .bind(&met)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let counter = crate::marks_counter(*scheme_id);
                sqlx::query(crate::BUMP).bind(&counter).execute(&mut *tx).await?;
                sqlx::query(crate::MARK_SEQ).bind(&counter).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
            });
        }
        Ok(rows.len())
    }

    /// The units of a level in a subtree that exist on a day (those expected to report).
    pub async fn units_within(
        &self,
        root_unit_id: i64,
        level: danvan_domain::units::UnitLevel,
        on: chrono::NaiveDate,
    ) -> Result<Vec<i64>> {
        let ids: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $1 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT id FROM units WHERE id IN (SELECT id FROM scope) AND level = $2 \
                   AND (valid_from IS NULL OR valid_from <= $3) AND (valid_to IS NULL OR $3 <= valid_to) ORDER BY id",
            )
            .bind(root_unit_id)
            .bind(level.as_str())
            .bind(on)
            .fetch_all(pool)
            .await?
        });
        Ok(ids)
    }
}

/// An evidence file of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Evidence {
    pub id: i64,
    pub review_id: i64,
    pub target_code: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
}

/// An evidence file to record (its bytes already stored by the caller).
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub target_code: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

const EVIDENCE_COLUMNS: &str =
    "id, review_id, target_code, filename, content_type, size, sha256, uploaded_by, uploaded_at";

impl Store {
    /// Records an evidence file for an editable review, refusing it when the review's files
    /// would pass `max_total` bytes.
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        review_id: i64,
        new: &NewEvidence,
        max_total: i64,
    ) -> Result<Evidence> {
        let review = self
            .review_by_id(review_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có bản rà soát #{review_id}")))?;
        if !review.state.editable() {
            return Err(StoreError::Conflict(format!(
                "bản rà soát đang ở trạng thái \"{}\", không thể thêm minh chứng",
                review.state.label_vi()
            )));
        }
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM targets WHERE scheme_id = $1 AND code = $2")
                .bind(review.scheme_id)
                .bind(&new.target_code)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(StoreError::Invalid(format!("đề án không có chỉ tiêu mã \"{}\"", new.target_code)));
            }
            let used: Option<i64> = sqlx::query_scalar("SELECT CAST(SUM(size) AS BIGINT) FROM evidence WHERE review_id = $1")
                .bind(review_id)
                .fetch_one(&mut *tx)
                .await?;
            let used = used.unwrap_or(0);
            if used + new.size > max_total {
                return Err(StoreError::Invalid(format!(
                    "tổng dung lượng minh chứng của bản rà soát vượt quá {} MB (đã dùng {:.1} MB)",
                    max_total / 1_000_000,
                    used as f64 / 1e6
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO evidence (review_id, target_code, filename, content_type, size, sha256, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(review_id)
            .bind(&new.target_code)
            .bind(&new.filename)
            .bind(&new.content_type)
            .bind(new.size)
            .bind(&new.sha256)
            .bind(actor.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("create", "evidence", id).unit(Some(review.unit_id)).after(&serde_json::json!({
                "review_id": review_id, "target": new.target_code, "filename": new.filename,
                "size": new.size, "sha256": new.sha256,
            }));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.evidence(id).await?.ok_or_else(|| StoreError::NotFound(format!("minh chứng #{id}")))
    }

    pub async fn evidence(&self, id: i64) -> Result<Option<Evidence>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The evidence files of a review, oldest first.
    pub async fn evidence_of(&self, review_id: i64) -> Result<Vec<Evidence>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE review_id = $1 ORDER BY id"))
                .bind(review_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Removes an evidence file from an editable review. Returns whether another record still
    /// uses the same bytes (so that the caller keeps the file).
    pub async fn remove_evidence(&self, actor: &Actor, id: i64) -> Result<bool> {
        let ev = self
            .evidence(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có minh chứng #{id}")))?;
        let review = self
            .review_by_id(ev.review_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("rà soát #{}", ev.review_id)))?;
        if !review.state.editable() {
            return Err(StoreError::Conflict(
                "bản rà soát đã gửi hoặc đã duyệt, không thể xóa minh chứng".into(),
            ));
        }
        let now = Utc::now();
        let shared = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM evidence WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let others: i64 = sqlx::query_scalar(
                crate::FILE_USERS,
            )
                .bind(&ev.sha256)
                .fetch_one(&mut *tx)
                .await?;
            let event = NewEvent::new("delete", "evidence", id).unit(Some(review.unit_id)).before(&ev);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            others > 0
        });
        Ok(shared)
    }
}
