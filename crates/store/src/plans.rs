//! Implementation plans: activities per scheme, unit and year, their status and dated
//! progress notes. Every change is audited; an update names the version it started from.

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::plan::{next_year, ActivityInput, ActivityStatus};
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

/// Inserts an activity in a transaction of either backend; the new id.
macro_rules! insert_activity {
    ($tx:expr, $scheme_id:expr, $unit_id:expr, $year:expr, $input:expr, $status:expr, $now:expr) => {{
        let input: &ActivityInput = $input;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO activities (scheme_id, unit_id, year, title, description, targets, lead_org, supporting_orgs, \
             responsible, start_date, due_date, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13) RETURNING id",
        )
        .bind($scheme_id)
        .bind($unit_id)
        .bind($year)
        .bind(&input.title)
        .bind(&input.description)
        .bind(json_list(&input.targets))
        .bind(&input.lead_org)
        .bind(json_list(&input.supporting_orgs))
        .bind(&input.responsible)
        .bind(input.start)
        .bind(input.due)
        .bind($status.as_str())
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(crate::BUMP).bind(crate::activities_counter($scheme_id)).execute(&mut *$tx).await?;
        id
    }};
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub id: i64,
    pub scheme_id: i64,
    pub unit_id: i64,
    pub year: i32,
    pub input: ActivityInput,
    pub status: ActivityStatus,
    pub cancel_reason: Option<String>,
    /// The day it was done (only while done).
    pub done_on: Option<NaiveDate>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityNote {
    pub id: i64,
    pub on_date: NaiveDate,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    scheme_id: i64,
    unit_id: i64,
    year: i32,
    title: String,
    description: String,
    targets: String,
    lead_org: String,
    supporting_orgs: String,
    responsible: String,
    start_date: NaiveDate,
    due_date: NaiveDate,
    status: String,
    cancel_reason: Option<String>,
    done_on: Option<NaiveDate>,
    version: i64,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, scheme_id, unit_id, year, title, description, targets, lead_org, supporting_orgs, \
                       responsible, start_date, due_date, status, cancel_reason, done_on, version, updated_at";

impl TryFrom<Row> for Activity {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        let list = |s: &str| -> Result<Vec<String>> {
            serde_json::from_str(s).map_err(|_| StoreError::Corrupt(format!("activity {} list", r.id)))
        };
        Ok(Activity {
            input: ActivityInput {
                targets: list(&r.targets)?,
                supporting_orgs: list(&r.supporting_orgs)?,
                title: r.title,
                description: r.description,
                lead_org: r.lead_org,
                responsible: r.responsible,
                start: r.start_date,
                due: r.due_date,
            },
            status: ActivityStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("activity status {:?}", r.status)))?,
            id: r.id,
            scheme_id: r.scheme_id,
            unit_id: r.unit_id,
            year: r.year,
            cancel_reason: r.cancel_reason,
            done_on: r.done_on,
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn stale(current: &Activity) -> StoreError {
    StoreError::Conflict(format!(
        "hoạt động \"{}\" vừa được người khác thay đổi (nay là phiên bản {}); hãy tải lại",
        current.input.title, current.version
    ))
}

impl Store {
    pub async fn activity(&self, id: i64) -> Result<Option<Activity>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM activities WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Activity::try_from).transpose()
    }

    /// A unit's activities for a year, by start date then id.
    pub async fn activities_of(&self, scheme_id: i64, unit_id: i64, year: i32) -> Result<Vec<Activity>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM activities WHERE scheme_id = $1 AND unit_id = $2 AND year = $3 \
                 ORDER BY start_date, id"
            ))
            .bind(scheme_id)
            .bind(unit_id)
            .bind(year)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Activity::try_from).collect()
    }

    /// Open activities (not done, not cancelled) of units in a subtree due before `today`:
    /// the overdue ones, by due date.
    pub async fn overdue_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
        today: NaiveDate,
    ) -> Result<Vec<Activity>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT {COLUMNS} FROM activities WHERE +scheme_id = $1 AND unit_id IN (SELECT id FROM scope) \
                 AND status IN ('not_started', 'in_progress') AND due_date < $3 ORDER BY due_date, id"
            ))
            .bind(scheme_id)
            .bind(root_unit_id)
            .bind(today)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Activity::try_from).collect()
    }

    /// How many activities of each unit of a subtree are overdue on a day (not done, past due).
    pub async fn overdue_counts_within(
        &self,
        scheme_id: i64,
        root_unit_id: i64,
        today: NaiveDate,
    ) -> Result<std::collections::HashMap<i64, u64>> {
        let scope = crate::reviews::scheme_scope(self.is_scheme_root(scheme_id, root_unit_id).await?);
        let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT unit_id, COUNT(*) FROM activities WHERE {scope} \
                 AND status IN ('not_started', 'in_progress') AND due_date < $3 GROUP BY unit_id"
            ))
            .bind(scheme_id)
            .bind(root_unit_id)
            .bind(today)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(unit, n)| (unit, n as u64)).collect())
    }

    /// Adds an activity (input already checked by the domain).
    pub async fn create_activity(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        year: i32,
        input: &ActivityInput,
    ) -> Result<Activity> {
        self.plan_open_for_change(scheme_id, unit_id, year).await?;
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id = insert_activity!(tx, scheme_id, unit_id, year, input, ActivityStatus::NotStarted, now);
            let event = NewEvent::new("create", "activity", id).unit(Some(unit_id)).after(input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.activity(id).await?.ok_or_else(|| StoreError::NotFound(format!("hoạt động #{id}")))
    }

    /// Turns a meeting's conclusion into an activity of the plan, in one step: the activity is
    /// created and the conclusion links to it. A conclusion becomes one activity only.
    pub async fn conclusion_to_activity(
        &self,
        actor: &Actor,
        conclusion_id: i64,
        scheme_id: i64,
        unit_id: i64,
        year: i32,
        input: &ActivityInput,
    ) -> Result<Activity> {
        self.plan_open_for_change(scheme_id, unit_id, year).await?;
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let linked: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT c.activity_id FROM meeting_conclusions c JOIN meetings m ON m.id = c.meeting_id                  WHERE c.id = $1 AND m.unit_id = $2",
            )
            .bind(conclusion_id)
            .bind(unit_id)
            .fetch_optional(&mut *tx)
            .await?;
            match linked {
                None => return Err(StoreError::NotFound(format!("không có kết luận #{conclusion_id}"))),
                Some(Some(a)) => {
                    return Err(StoreError::Conflict(format!("kết luận này đã thành hoạt động #{a}")))
                }
                Some(None) => {}
            }
            let id = insert_activity!(tx, scheme_id, unit_id, year, input, ActivityStatus::NotStarted, now);
            let n = sqlx::query("UPDATE meeting_conclusions SET activity_id = $1 WHERE id = $2 AND activity_id IS NULL")
                .bind(id)
                .bind(conclusion_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("kết luận này vừa thành một hoạt động".into()));
            }
            let event = NewEvent::new("create", "activity", id)
                .unit(Some(unit_id))
                .after(&serde_json::json!({"activity": input, "from_conclusion": conclusion_id}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.activity(id).await?.ok_or_else(|| StoreError::NotFound(format!("hoạt động #{id}")))
    }

    /// Changes what an activity is; `version` is the one the editor started from.
    pub async fn update_activity(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        input: &ActivityInput,
    ) -> Result<Activity> {
        let before = self
            .activity(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có hoạt động #{id}")))?;
        self.plan_open_for_change(before.scheme_id, before.unit_id, before.year).await?;
        if before.version != version {
            return Err(stale(&before));
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE activities SET title = $1, description = $2, targets = $3, lead_org = $4, supporting_orgs = $5, \
                 responsible = $6, start_date = $7, due_date = $8, version = version + 1, updated_at = $9 \
                 WHERE id = $10 AND version = $11",
            )
            .bind(&input.title)
            .bind(&input.description)
            .bind(json_list(&input.targets))
            .bind(&input.lead_org)
            .bind(json_list(&input.supporting_orgs))
            .bind(&input.responsible)
            .bind(input.start)
            .bind(input.due)
            .bind(now)
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(stale(&before));
            }
            sqlx::query(crate::BUMP).bind(crate::activities_counter(before.scheme_id)).execute(&mut *tx).await?;
            let event = NewEvent::new("update", "activity", id).unit(Some(before.unit_id)).before(&before.input).after(input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.activity(id).await?.ok_or_else(|| StoreError::NotFound(format!("hoạt động #{id}")))
    }

    /// Sets an activity's status; cancelling needs a reason. Done, it records the day it was
    /// done: `done_on`, else the day already recorded, else today (in Vietnam); not a day to
    /// come, nor before the activity began. Another status clears the day.
    pub async fn set_activity_status(
        &self,
        actor: &Actor,
        id: i64,
        version: Option<i64>,
        status: ActivityStatus,
        reason: Option<&str>,
        done_on: Option<NaiveDate>,
    ) -> Result<Activity> {
        let before = self
            .activity(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có hoạt động #{id}")))?;
        if version.is_some_and(|v| v != before.version) {
            return Err(stale(&before));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if status == ActivityStatus::Cancelled && reason.is_none() {
            return Err(StoreError::Invalid("cần ghi lý do hủy hoạt động".into()));
        }
        let reason = (status == ActivityStatus::Cancelled).then_some(reason).flatten();
        let now = Utc::now();
        let today = now.with_timezone(&danvan_domain::period::VIETNAM).date_naive();
        let done_on = match status {
            ActivityStatus::Done => {
                let day = done_on.or(before.done_on).unwrap_or(today);
                if day > today {
                    return Err(StoreError::Invalid("ngày hoàn thành không được sau hôm nay".into()));
                }
                if day < before.input.start {
                    return Err(StoreError::Invalid("ngày hoàn thành không được trước ngày bắt đầu".into()));
                }
                Some(day)
            }
            _ => None,
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE activities SET status = $1, cancel_reason = $2, done_on = $6, version = version + 1, updated_at = $3 \
                 WHERE id = $4 AND version = $5",
            )
            .bind(status.as_str())
            .bind(reason)
            .bind(now)
            .bind(id)
            .bind(before.version)
            .bind(done_on)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(stale(&before));
            }
            sqlx::query(crate::BUMP).bind(crate::activities_counter(before.scheme_id)).execute(&mut *tx).await?;
            let mut event = NewEvent::new("status", "activity", id)
                .unit(Some(before.unit_id))
                .before(&serde_json::json!({"status": before.status.as_str(), "done_on": before.done_on}))
                .after(&serde_json::json!({"status": status.as_str(), "done_on": done_on}));
            event.reason = reason.map(str::to_string);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.activity(id).await?.ok_or_else(|| StoreError::NotFound(format!("hoạt động #{id}")))
    }

    /// Removes an activity and its notes (kept in the audit log).
    pub async fn delete_activity(&self, actor: &Actor, id: i64) -> Result<()> {
        let before = self
            .activity(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có hoạt động #{id}")))?;
        self.plan_open_for_change(before.scheme_id, before.unit_id, before.year).await?;
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM activity_notes WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM activity_files WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE meeting_conclusions SET activity_id = NULL WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM activities WHERE id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query(crate::BUMP).bind(crate::activities_counter(before.scheme_id)).execute(&mut *tx).await?;
            let event = NewEvent::new("delete", "activity", id).unit(Some(before.unit_id)).before(&before.input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adds a dated progress note.
    pub async fn add_activity_note(
        &self,
        actor: &Actor,
        id: i64,
        on: NaiveDate,
        text: &str,
    ) -> Result<ActivityNote> {
        let before = self
            .activity(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có hoạt động #{id}")))?;
        let now = Utc::now();
        let note_id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let note_id: i64 = sqlx::query_scalar(
                "INSERT INTO activity_notes (activity_id, on_date, text, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(id)
            .bind(on)
            .bind(text)
            .bind(now)
            .bind(actor.user_id)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("note", "activity", id)
                .unit(Some(before.unit_id))
                .after(&serde_json::json!({"on": on, "text": text}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            note_id
        });
        Ok(ActivityNote {
            id: note_id,
            on_date: on,
            text: text.into(),
            created_at: now,
            created_by: actor.user_id,
        })
    }

    /// The progress notes of an activity, oldest first.
    pub async fn activity_notes(&self, id: i64) -> Result<Vec<ActivityNote>> {
        type R = (i64, NaiveDate, String, DateTime<Utc>, Option<i64>);
        let rows: Vec<R> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, on_date, text, created_at, created_by FROM activity_notes WHERE activity_id = $1 ORDER BY on_date, id")
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, on_date, text, created_at, created_by)| ActivityNote {
                id,
                on_date,
                text,
                created_at,
                created_by,
            })
            .collect())
    }

    /// Copies last year's unfinished activities (neither done nor cancelled) into `year`, a year
    /// later, keeping their status. Returns how many were copied.
    pub async fn copy_unfinished(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        year: i32,
    ) -> Result<usize> {
        self.plan_open_for_change(scheme_id, unit_id, year).await?;
        let open: Vec<Activity> = self
            .activities_of(scheme_id, unit_id, year - 1)
            .await?
            .into_iter()
            .filter(|a| !a.status.closed())
            .collect();
        if open.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut events = Vec::new();
            for a in &open {
                let mut input = a.input.clone();
                input.start = next_year(input.start);
                input.due = next_year(input.due);
                let id = insert_activity!(tx, scheme_id, unit_id, year, &input, a.status, now);
                events.push(
                    NewEvent::new("create", "activity", id)
                        .unit(Some(unit_id))
                        .after(&serde_json::json!({"copied_from": a.id, "activity": input})),
                );
            }
            write_audit!(tx, actor, now, &events);
            tx.commit().await?;
        });
        Ok(open.len())
    }
}

/// An evidence file of an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ActivityFile {
    pub id: i64,
    pub activity_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
}

/// A file to record (its bytes already stored under its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewFile {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

const FILE_COLUMNS: &str = "id, activity_id, filename, content_type, size, sha256, uploaded_by, uploaded_at";

impl Store {
    /// Records an evidence file of an activity, refusing it when the activity's files would
    /// pass `max_total` bytes.
    pub async fn add_activity_file(
        &self,
        actor: &Actor,
        activity_id: i64,
        new: &NewFile,
        max_total: i64,
    ) -> Result<ActivityFile> {
        let a = self
            .activity(activity_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có hoạt động #{activity_id}")))?;
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let used: Option<i64> = sqlx::query_scalar("SELECT CAST(SUM(size) AS BIGINT) FROM activity_files WHERE activity_id = $1")
                .bind(activity_id)
                .fetch_one(&mut *tx)
                .await?;
            let used = used.unwrap_or(0);
            if used + new.size > max_total {
                return Err(StoreError::Invalid(format!(
                    "tổng dung lượng minh chứng của hoạt động vượt quá {} MB (đã dùng {:.1} MB)",
                    max_total / 1_000_000,
                    used as f64 / 1e6
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO activity_files (activity_id, filename, content_type, size, sha256, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(activity_id)
            .bind(&new.filename)
            .bind(&new.content_type)
            .bind(new.size)
            .bind(&new.sha256)
            .bind(actor.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("create", "activity_file", id).unit(Some(a.unit_id)).after(&serde_json::json!({
                "activity_id": activity_id, "file": new,
            }));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.activity_file(id).await?.ok_or_else(|| StoreError::NotFound(format!("tệp #{id}")))
    }

    pub async fn activity_file(&self, id: i64) -> Result<Option<ActivityFile>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {FILE_COLUMNS} FROM activity_files WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The evidence files of an activity, oldest first.
    pub async fn activity_files(&self, activity_id: i64) -> Result<Vec<ActivityFile>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {FILE_COLUMNS} FROM activity_files WHERE activity_id = $1 ORDER BY id"))
                .bind(activity_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Removes an activity's file. Returns whether another record still uses the same bytes.
    pub async fn remove_activity_file(&self, actor: &Actor, id: i64) -> Result<bool> {
        let f = self
            .activity_file(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có tệp #{id}")))?;
        let unit_id = self.activity(f.activity_id).await?.map(|a| a.unit_id);
        let now = Utc::now();
        let shared = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM activity_files WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let others: i64 = sqlx::query_scalar(
                crate::FILE_USERS,
            )
            .bind(&f.sha256)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("delete", "activity_file", id).unit(unit_id).before(&f);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            others > 0
        });
        Ok(shared)
    }
}
