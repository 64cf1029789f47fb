//! Roadmaps (lộ trình): one per scheme and unit, through the shared approval workflow. The
//! plan in force is the last approved one; it stays in force while a revision is pending and
//! goes out of force when an approver reopens the roadmap.

use chrono::{DateTime, Utc};
use danvan_domain::roadmap::Roadmap;
use danvan_domain::workflow::{State, Transition};
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::workflow::{Doc, Step};
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredRoadmap {
    pub id: i64,
    pub scheme_id: i64,
    pub unit_id: i64,
    pub state: State,
    pub version: i64,
    /// The plan being edited (or submitted, or approved).
    pub plan: Roadmap,
    /// The last approved plan, which the achievement engine uses.
    pub in_force: Option<Roadmap>,
    pub in_force_at: Option<DateTime<Utc>>,
    /// The version the plan in force had when it was approved.
    pub in_force_version: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The first submission: lateness is judged there once and for all.
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub late: bool,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<i64>,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A roadmap in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoadmapSummary {
    pub id: i64,
    pub unit_id: i64,
    pub state: State,
    pub version: i64,
    pub late: bool,
    pub in_force: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    scheme_id: i64,
    unit_id: i64,
    state: String,
    version: i64,
    plan: String,
    in_force: Option<String>,
    in_force_at: Option<DateTime<Utc>>,
    in_force_version: Option<i64>,
    submitted_at: Option<DateTime<Utc>>,
    first_submitted_at: Option<DateTime<Utc>>,
    late: bool,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<i64>,
    reason: Option<String>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, scheme_id, unit_id, state, version, plan, in_force, in_force_at, in_force_version, submitted_at, first_submitted_at, late, \
                       decided_at, decided_by, reason, updated_at";

fn parse_plan(id: i64, text: &str) -> Result<Roadmap> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt(format!("roadmap {id} plan")))
}

pub(crate) fn plan_text(plan: &Roadmap) -> Result<String> {
    serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl TryFrom<Row> for StoredRoadmap {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(StoredRoadmap {
            plan: parse_plan(r.id, &r.plan)?,
            in_force: r.in_force.as_deref().map(|t| parse_plan(r.id, t)).transpose()?,
            state: State::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("roadmap state {:?}", r.state)))?,
            id: r.id,
            scheme_id: r.scheme_id,
            unit_id: r.unit_id,
            version: r.version,
            in_force_at: r.in_force_at,
            in_force_version: r.in_force_version,
            submitted_at: r.submitted_at,
            first_submitted_at: r.first_submitted_at,
            late: r.late,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
            reason: r.reason,
            updated_at: r.updated_at,
        })
    }
}

fn stale(current: &StoredRoadmap) -> StoreError {
    StoreError::Conflict(format!(
        "lộ trình đã được thay đổi (nay là phiên bản {}, cập nhật lúc {}); hãy tải lại để xem thay đổi trước khi lưu",
        current.version,
        current.updated_at.format("%d/%m/%Y %H:%M")
    ))
}

impl Store {
    /// A unit's roadmap under a scheme.
    pub async fn roadmap(&self, scheme_id: i64, unit_id: i64) -> Result<Option<StoredRoadmap>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM roadmaps WHERE scheme_id = $1 AND unit_id = $2"))
                .bind(scheme_id)
                .bind(unit_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(StoredRoadmap::try_from).transpose()
    }

    pub async fn roadmap_by_id(&self, id: i64) -> Result<Option<StoredRoadmap>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM roadmaps WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(StoredRoadmap::try_from).transpose()
    }

    /// Starts a draft roadmap with a plan (usually the suggestion). One per scheme and unit.
    pub async fn create_roadmap(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        plan: &Roadmap,
    ) -> Result<StoredRoadmap> {
        let now = Utc::now();
        let text = plan_text(plan)?;
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO roadmaps (scheme_id, unit_id, state, version, plan, late, created_at, updated_at) \
                 VALUES ($1, $2, 'draft', 1, $3, $4, $5, $5) RETURNING id",
            )
            .bind(scheme_id)
            .bind(unit_id)
            .bind(&text)
            .bind(false)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || "đơn vị đã có lộ trình của đề án này".to_string()))?;
            let event = NewEvent::new("create", "roadmap", id)
                .unit(Some(unit_id))
                .after(&serde_json::json!({"scheme_id": scheme_id, "state": "draft", "plan": plan}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.roadmap_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("lộ trình #{id}")))
    }

    /// Saves the plan of an editable roadmap; `version` is the one the editor started from.
    pub async fn save_roadmap(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        plan: &Roadmap,
    ) -> Result<StoredRoadmap> {
        let before = self
            .roadmap_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có lộ trình #{id}")))?;
        if before.version != version {
            return Err(stale(&before));
        }
        if !before.state.editable() {
            return Err(StoreError::Conflict(format!(
                "lộ trình đang ở trạng thái \"{}\", không thể sửa",
                before.state.label_vi()
            )));
        }
        let now = Utc::now();
        let text = plan_text(plan)?;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE roadmaps SET plan = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
                .bind(&text)
                .bind(now)
                .bind(id)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(
                    "lộ trình vừa được người khác lưu; hãy tải lại để xem thay đổi của họ".into(),
                ));
            }
            let event = NewEvent::new("update", "roadmap", id)
                .unit(Some(before.unit_id))
                .before(&serde_json::json!({"plan": before.plan}))
                .after(&serde_json::json!({"plan": plan}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.roadmap_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("lộ trình #{id}")))
    }

    /// Moves a roadmap through the workflow (the same steps as reviews, plus `Revise`).
    pub async fn transition_roadmap(
        &self,
        actor: &Actor,
        id: i64,
        version: Option<i64>,
        transition: Transition,
        reason: Option<&str>,
        late: bool,
    ) -> Result<StoredRoadmap> {
        let before = self
            .roadmap_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có lộ trình #{id}")))?;
        if version.is_some_and(|v| v != before.version) {
            return Err(stale(&before));
        }
        let step = Step { id, unit_id: before.unit_id, state: before.state, version: before.version };
        let after = crate::workflow::After { late, frozen: &Default::default(), met: None, judged: None };
        self.workflow_step(Doc::Roadmap, actor, step, transition, reason, after).await?;
        self.roadmap_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("lộ trình #{id}")))
    }

    /// The roadmaps of units in a subtree (the unit itself included), by unit.
    pub async fn roadmaps_within(&self, scheme_id: i64, root_unit_id: i64) -> Result<Vec<RoadmapSummary>> {
        type R = (i64, i64, String, i64, bool, bool, Option<DateTime<Utc>>, DateTime<Utc>);
        let rows: Vec<R> = with_pool!(self, pool => {
            sqlx::query_as(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT id, unit_id, state, version, late, in_force IS NOT NULL, submitted_at, updated_at FROM roadmaps \
                 WHERE +scheme_id = $1 AND unit_id IN (SELECT id FROM scope) ORDER BY unit_id",
            )
            .bind(scheme_id)
            .bind(root_unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, unit_id, state, version, late, in_force, submitted_at, updated_at)| {
                Ok(RoadmapSummary {
                    id,
                    unit_id,
                    state: State::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("roadmap state {state:?}")))?,
                    version,
                    late,
                    in_force,
                    submitted_at,
                    updated_at,
                })
            })
            .collect()
    }

    /// The plans in force of units in a subtree, by unit id.
    pub async fn plans_in_force_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
    ) -> Result<std::collections::BTreeMap<i64, Roadmap>> {
        let rows: Vec<(i64, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT id, unit_id, in_force FROM roadmaps \
                 WHERE +scheme_id = $1 AND in_force IS NOT NULL AND unit_id IN (SELECT id FROM scope)",
            )
            .bind(scheme_id)
            .bind(root_unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|(id, unit, text)| Ok((unit, parse_plan(id, &text)?))).collect()
    }
}
