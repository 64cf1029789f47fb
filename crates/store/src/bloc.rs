//! The bloc: member organisations (the standard list and each province's own), re-staffing
//! decisions, and memberships over time — ended, never deleted.

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::bloc::{BlocRole, MemberInput};
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Decision {
    pub id: i64,
    pub unit_id: i64,
    pub number: String,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: i64,
    pub unit_id: i64,
    pub input: MemberInput,
    pub to: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub decision_id: Option<i64>,
    pub end_decision_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    unit_id: i64,
    full_name: String,
    position: String,
    organisation: String,
    role: String,
    phone: Option<String>,
    trained: bool,
    trained_on: Option<NaiveDate>,
    from_date: NaiveDate,
    to_date: Option<NaiveDate>,
    end_reason: Option<String>,
    decision_id: Option<i64>,
    end_decision_id: Option<i64>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, unit_id, full_name, position, organisation, role, phone, trained, trained_on, from_date, \
                       to_date, end_reason, decision_id, end_decision_id, updated_at";

impl TryFrom<Row> for Member {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Member {
            input: MemberInput {
                role: BlocRole::parse(&r.role)
                    .ok_or_else(|| StoreError::Corrupt(format!("member role {:?}", r.role)))?,
                full_name: r.full_name,
                position: r.position,
                organisation: r.organisation,
                phone: r.phone,
                trained: r.trained,
                trained_on: r.trained_on,
                from: r.from_date,
            },
            id: r.id,
            unit_id: r.unit_id,
            to: r.to_date,
            end_reason: r.end_reason,
            decision_id: r.decision_id,
            end_decision_id: r.end_decision_id,
            updated_at: r.updated_at,
        })
    }
}

impl Store {
    /// The member organisations offered in a province: the standard list, then its own.
    pub async fn organisations(&self, province_id: Option<i64>) -> Result<Vec<String>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT name FROM organisations WHERE province_id IS NULL OR province_id = $1 \
                 ORDER BY CASE WHEN province_id IS NULL THEN 0 ELSE 1 END, position, name",
            )
            .bind(province_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Adds an organisation to a province's list.
    pub async fn add_organisation(&self, actor: &Actor, province_id: i64, name: &str) -> Result<()> {
        let key = danvan_domain::text::name_key(name);
        if self
            .organisations(Some(province_id))
            .await?
            .iter()
            .any(|n| danvan_domain::text::name_key(n) == key)
        {
            return Err(StoreError::Conflict(format!("danh sách đã có \"{name}\"")));
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO organisations (province_id, name, position) VALUES ($1, $2, 100) RETURNING id",
            )
            .bind(province_id)
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || format!("danh sách đã có \"{name}\"")))?;
            let event = NewEvent::new("create", "organisation", id).unit(Some(province_id)).after(&serde_json::json!({"name": name}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a re-staffing decision (kiện toàn) of a unit's bloc.
    pub async fn add_decision(
        &self,
        actor: &Actor,
        unit_id: i64,
        number: &str,
        decided_on: NaiveDate,
    ) -> Result<Decision> {
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staffing_decisions (unit_id, number, decided_on, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(unit_id)
            .bind(number)
            .bind(decided_on)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("create", "staffing_decision", id)
                .unit(Some(unit_id))
                .after(&serde_json::json!({"number": number, "decided_on": decided_on}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        Ok(Decision { id, unit_id, number: number.into(), decided_on })
    }

    /// A unit's re-staffing decisions, newest first.
    pub async fn decisions_of(&self, unit_id: i64) -> Result<Vec<Decision>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT id, unit_id, number, decided_on FROM staffing_decisions WHERE unit_id = $1 ORDER BY decided_on DESC, id DESC")
                .bind(unit_id)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn decision_of_unit(&self, unit_id: i64, id: Option<i64>) -> Result<()> {
        if let Some(id) = id {
            if !self.decisions_of(unit_id).await?.iter().any(|d| d.id == id) {
                return Err(StoreError::Invalid(format!("đơn vị không có quyết định kiện toàn #{id}")));
            }
        }
        Ok(())
    }

    /// Adds a member to a unit's bloc (input already checked by the domain).
    pub async fn add_member(
        &self,
        actor: &Actor,
        unit_id: i64,
        input: &MemberInput,
        decision_id: Option<i64>,
    ) -> Result<Member> {
        self.decision_of_unit(unit_id, decision_id).await?;
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO members (unit_id, full_name, position, organisation, role, phone, trained, trained_on, from_date, \
                 decision_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(unit_id)
            .bind(&input.full_name)
            .bind(&input.position)
            .bind(&input.organisation)
            .bind(input.role.as_str())
            .bind(&input.phone)
            .bind(input.trained)
            .bind(input.trained_on)
            .bind(input.from)
            .bind(decision_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("create", "member", id).unit(Some(unit_id)).after(input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.member(id).await?.ok_or_else(|| StoreError::NotFound(format!("thành viên #{id}")))
    }

    pub async fn member(&self, id: i64) -> Result<Option<Member>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM members WHERE id = $1")).bind(id).fetch_optional(pool).await?
        });
        row.map(Member::try_from).transpose()
    }

    /// Ends a membership on its last day `to`; the member stays in the bloc's history.
    pub async fn end_member(
        &self,
        actor: &Actor,
        id: i64,
        to: NaiveDate,
        reason: Option<&str>,
        decision_id: Option<i64>,
    ) -> Result<Member> {
        let before = self
            .member(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có thành viên #{id}")))?;
        if before.to.is_some() {
            return Err(StoreError::Invalid(format!("{} đã thôi tham gia khối", before.input.full_name)));
        }
        if to < before.input.from {
            return Err(StoreError::Invalid(format!(
                "ngày thôi {} trước ngày bắt đầu {}",
                to.format("%d/%m/%Y"),
                before.input.from.format("%d/%m/%Y")
            )));
        }
        self.decision_of_unit(before.unit_id, decision_id).await?;
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE members SET to_date = $1, end_reason = $2, end_decision_id = $3, updated_at = $4 WHERE id = $5")
                .bind(to)
                .bind(reason)
                .bind(decision_id)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let mut event = NewEvent::new("end", "member", id)
                .unit(Some(before.unit_id))
                .after(&serde_json::json!({"to": to, "decision_id": decision_id}));
            event.reason = reason.map(str::to_string);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.member(id).await?.ok_or_else(|| StoreError::NotFound(format!("thành viên #{id}")))
    }

    /// Every membership of a unit's bloc, current and past, by start date.
    pub async fn members_of(&self, unit_id: i64) -> Result<Vec<Member>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM members WHERE unit_id = $1 ORDER BY from_date, id"))
                .bind(unit_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Member::try_from).collect()
    }

    /// The bloc as it was on a day: the memberships serving then.
    pub async fn members_on(&self, unit_id: i64, on: NaiveDate) -> Result<Vec<Member>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM members WHERE unit_id = $1 AND from_date <= $2 AND (to_date IS NULL OR to_date >= $2) \
                 ORDER BY CASE role WHEN 'head' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, from_date, id"
            ))
            .bind(unit_id)
            .bind(on)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Member::try_from).collect()
    }
}
