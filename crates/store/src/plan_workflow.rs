//! A year's plan (kế hoạch triển khai) through the approval workflow, like a roadmap: the unit
//! submits it, the level above approves or returns it, and while it is submitted or approved
//! its activities are fixed (their progress is not: statuses and notes go on). Revising an
//! approved plan takes it back to draft (issue 17, item 6).

use chrono::{DateTime, Utc};
use danvan_domain::workflow::{State, Transition};
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::workflow::{Doc, Step};
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

/// The workflow record of a year's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRecord {
    pub id: i64,
    pub scheme_id: i64,
    pub unit_id: i64,
    pub year: i32,
    pub state: State,
    pub version: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub late: bool,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<i64>,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    i64,
    i64,
    i64,
    i32,
    String,
    i64,
    Option<DateTime<Utc>>,
    bool,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<String>,
    DateTime<Utc>,
);

const COLUMNS: &str =
    "id, scheme_id, unit_id, year, state, version, submitted_at, late, decided_at, decided_by, reason, updated_at";

fn record(r: Row) -> Result<PlanRecord> {
    let (
        id,
        scheme_id,
        unit_id,
        year,
        state,
        version,
        submitted_at,
        late,
        decided_at,
        decided_by,
        reason,
        updated_at,
    ) = r;
    Ok(PlanRecord {
        state: State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("plan state {state:?}")))?,
        id,
        scheme_id,
        unit_id,
        year,
        version,
        submitted_at,
        late,
        decided_at,
        decided_by,
        reason,
        updated_at,
    })
}

impl Store {
    /// The workflow record of a unit's plan for a year (None: never submitted, a draft).
    pub async fn plan_record(&self, scheme_id: i64, unit_id: i64, year: i32) -> Result<Option<PlanRecord>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM plans WHERE scheme_id = $1 AND unit_id = $2 AND year = $3"
            ))
            .bind(scheme_id)
            .bind(unit_id)
            .bind(year)
            .fetch_optional(pool)
            .await?
        });
        row.map(record).transpose()
    }

    /// Refused (a conflict) while the year's plan is submitted or approved: its activities are
    /// fixed then, until it is returned, reopened or revised.
    pub(crate) async fn plan_open_for_change(&self, scheme_id: i64, unit_id: i64, year: i32) -> Result<()> {
        match self.plan_record(scheme_id, unit_id, year).await? {
            Some(p) if !p.state.editable() => Err(StoreError::Conflict(format!(
                "kế hoạch năm {year} đang ở trạng thái \"{}\": không thêm, sửa hay xóa hoạt động được; \
                 cập nhật tiến độ thì vẫn được",
                p.state.label_vi()
            ))),
            _ => Ok(()),
        }
    }

    /// Moves a year's plan through the workflow (the roadmap's steps); the first submission
    /// creates its record. `version` is the record's (0 before there is one).
    #[allow(clippy::too_many_arguments)]
    pub async fn transition_plan(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        year: i32,
        version: Option<i64>,
        transition: Transition,
        reason: Option<&str>,
        late: bool,
    ) -> Result<PlanRecord> {
        let before = match self.plan_record(scheme_id, unit_id, year).await? {
            Some(p) => p,
            None if transition == Transition::Submit => {
                let now = Utc::now();
                with_pool!(self, pool => {
                    let mut tx = pool.begin_write().await?;
                    let id: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO plans (scheme_id, unit_id, year, state, version, late, created_at, updated_at) \
                         VALUES ($1, $2, $3, 'draft', 0, FALSE, $4, $4) ON CONFLICT (scheme_id, unit_id, year) DO NOTHING RETURNING id",
                    )
                    .bind(scheme_id)
                    .bind(unit_id)
                    .bind(year)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(id) = id {
                        let event = NewEvent::new("create", "plan", id)
                            .unit(Some(unit_id))
                            .after(&serde_json::json!({"year": year}));
                        write_audit!(tx, actor, now, &[event]);
                    }
                    tx.commit().await?;
                });
                self.plan_record(scheme_id, unit_id, year)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("kế hoạch năm {year}")))?
            }
            None => {
                return Err(StoreError::Conflict(format!("kế hoạch năm {year} chưa được gửi duyệt")));
            }
        };
        if version.is_some_and(|v| v != before.version) {
            return Err(StoreError::Conflict(format!(
                "kế hoạch năm {year} vừa được người khác thay đổi (nay là phiên bản {}); hãy tải lại",
                before.version
            )));
        }
        let step = Step { id: before.id, unit_id, state: before.state, version: before.version };
        let after = crate::workflow::After { late, frozen: &Default::default(), met: None, judged: None };
        self.workflow_step(Doc::Plan, actor, step, transition, reason, after).await?;
        self.plan_record(scheme_id, unit_id, year)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("kế hoạch năm {year}")))
    }

    /// The plans submitted by the units below a root (not the root's own), of a scheme.
    pub async fn plans_submitted_within(&self, scheme_id: i64, root_unit_id: i64) -> Result<Vec<PlanRecord>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT {COLUMNS} FROM plans WHERE scheme_id = $1 AND state = 'submitted' AND unit_id <> $2 \
                   AND unit_id IN (SELECT id FROM scope) ORDER BY year, unit_id"
            ))
            .bind(scheme_id)
            .bind(root_unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(record).collect()
    }
}
