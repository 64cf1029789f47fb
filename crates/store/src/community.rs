//! The bloc's work in its commune: hamlets and their teams, meetings (attendance and
//! conclusions), citizens' feedback and each province's settings for it. Every change by staff
//! is audited; a citizen's submission is audited without the citizen's name, phone or email.

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::community::{Attendance, HamletInput, MeetingInput, MeetingKind, TeamInput};
use danvan_domain::feedback::{FeedbackInput, FeedbackStatus, DEFAULT_ANSWER_DAYS};
use danvan_domain::period::VIETNAM;
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::plans::json_list;
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hamlet {
    pub id: i64,
    pub unit_id: i64,
    pub input: HamletInput,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct HamletRow {
    id: i64,
    unit_id: i64,
    name: String,
    kind: String,
    team_leader: Option<String>,
    team_deputies: String,
    team_members: Option<i64>,
    team_decision: Option<String>,
    team_formed_on: Option<NaiveDate>,
    updated_at: DateTime<Utc>,
}

const HAMLET_COLUMNS: &str =
    "id, unit_id, name, kind, team_leader, team_deputies, team_members, team_decision, team_formed_on, updated_at";

impl TryFrom<HamletRow> for Hamlet {
    type Error = StoreError;
    fn try_from(r: HamletRow) -> Result<Self> {
        let team = match (r.team_leader, r.team_members, r.team_formed_on) {
            (Some(leader), Some(n), Some(formed_on)) => Some(TeamInput {
                leader,
                deputies: serde_json::from_str(&r.team_deputies)
                    .map_err(|_| StoreError::Corrupt(format!("hamlet {} deputies", r.id)))?,
                member_count: n.max(0) as u32,
                decision: r.team_decision,
                formed_on,
            }),
            _ => None,
        };
        Ok(Hamlet {
            id: r.id,
            unit_id: r.unit_id,
            input: HamletInput { name: r.name, kind: r.kind, team },
            updated_at: r.updated_at,
        })
    }
}

/// The team columns of a hamlet: leader, deputies, member count, decision, formed on.
type TeamColumns = (Option<String>, String, Option<i64>, Option<String>, Option<NaiveDate>);

fn team_columns(t: &Option<TeamInput>) -> TeamColumns {
    match t {
        Some(t) => (
            Some(t.leader.clone()),
            json_list(&t.deputies),
            Some(t.member_count.into()),
            t.decision.clone(),
            Some(t.formed_on),
        ),
        None => (None, "[]".into(), None, None, None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Conclusion {
    pub id: i64,
    pub meeting_id: i64,
    pub position: i64,
    pub text: String,
    /// The plan activity it became, if any.
    pub activity_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub unit_id: i64,
    pub input: MeetingInput,
    pub conclusions: Vec<Conclusion>,
}

/// A meeting in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MeetingSummary {
    pub id: i64,
    pub kind: String,
    pub held_on: NaiveDate,
    pub place: String,
    pub chair: String,
    pub present: i64,
    pub absent: i64,
    pub conclusions: i64,
}

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    unit_id: i64,
    kind: String,
    held_on: NaiveDate,
    place: String,
    chair: String,
    content: String,
}

/// A citizen's feedback as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub id: i64,
    pub unit_id: i64,
    pub code: String,
    pub input: FeedbackInput,
    pub status: FeedbackStatus,
    pub organisation: Option<String>,
    pub answer: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FeedbackRow {
    id: i64,
    unit_id: i64,
    code: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    hamlet: Option<String>,
    category: String,
    content: String,
    status: String,
    organisation: Option<String>,
    answer: Option<String>,
    received_at: DateTime<Utc>,
    due_on: NaiveDate,
    answered_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    version: i64,
    updated_at: DateTime<Utc>,
}

const FEEDBACK_COLUMNS: &str =
    "id, unit_id, code, name, phone, email, hamlet, category, content, status, organisation, \
     answer, received_at, due_on, answered_at, closed_at, version, updated_at";

impl TryFrom<FeedbackRow> for Feedback {
    type Error = StoreError;
    fn try_from(r: FeedbackRow) -> Result<Self> {
        Ok(Feedback {
            status: FeedbackStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("feedback status {:?}", r.status)))?,
            id: r.id,
            unit_id: r.unit_id,
            code: r.code,
            input: FeedbackInput {
                name: r.name,
                phone: r.phone,
                email: r.email,
                hamlet: r.hamlet,
                category: r.category,
                content: r.content,
            },
            organisation: r.organisation,
            answer: r.answer,
            received_at: r.received_at,
            due_on: r.due_on,
            answered_at: r.answered_at,
            closed_at: r.closed_at,
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

/// What a staff member does with a feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackStep {
    /// Hands it to a member organisation (again, if needed).
    Assign(String),
    /// Publishes the answer (it may be corrected while the feedback is not closed).
    Answer(String),
    /// Closes it: after an answer, or with a reason (a duplicate, not the commune's matter).
    Close(Option<String>),
}

impl Store {
    // ---- province settings -----------------------------------------------------------------

    /// The days a commune of the province has to answer a citizen (30 unless set).
    pub async fn feedback_answer_days(&self, province_id: Option<i64>) -> Result<u32> {
        let days: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT feedback_answer_days FROM province_settings WHERE province_id = $1")
                .bind(province_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(days.map(|d| d.clamp(1, 365) as u32).unwrap_or(DEFAULT_ANSWER_DAYS))
    }

    pub async fn set_feedback_answer_days(&self, actor: &Actor, province_id: i64, days: u32) -> Result<()> {
        if !(1..=365).contains(&days) {
            return Err(StoreError::Invalid(format!("thời hạn trả lời {days} ngày phải từ 1 đến 365")));
        }
        let before = self.feedback_answer_days(Some(province_id)).await?;
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO province_settings (province_id, feedback_answer_days) VALUES ($1, $2) \
                 ON CONFLICT (province_id) DO UPDATE SET feedback_answer_days = $2",
            )
            .bind(province_id)
            .bind(i64::from(days))
            .execute(&mut *tx)
            .await?;
            let event = NewEvent::new("update", "province_settings", province_id)
                .unit(Some(province_id))
                .before(&serde_json::json!({"feedback_answer_days": before}))
                .after(&serde_json::json!({"feedback_answer_days": days}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- hamlets ---------------------------------------------------------------------------

    /// A commune's hamlets, by name.
    pub async fn hamlets_of(&self, unit_id: i64) -> Result<Vec<Hamlet>> {
        let rows: Vec<HamletRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {HAMLET_COLUMNS} FROM hamlets WHERE unit_id = $1 ORDER BY name, id"))
                .bind(unit_id)
                .fetch_all(pool)
                .await?
        });
        let mut list = rows.into_iter().map(Hamlet::try_from).collect::<Result<Vec<_>>>()?;
        danvan_domain::text::sort_vi_by(&mut list, |h| &h.input.name);
        Ok(list)
    }

    pub async fn hamlet(&self, id: i64) -> Result<Option<Hamlet>> {
        let row: Option<HamletRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {HAMLET_COLUMNS} FROM hamlets WHERE id = $1")).bind(id).fetch_optional(pool).await?
        });
        row.map(Hamlet::try_from).transpose()
    }

    /// Adds hamlets to a commune (input already checked), all or none: a name the commune
    /// already has refuses the whole list.
    pub async fn add_hamlets(&self, actor: &Actor, unit_id: i64, list: &[HamletInput]) -> Result<usize> {
        use danvan_domain::text::name_key;
        let existing: Vec<String> =
            self.hamlets_of(unit_id).await?.into_iter().map(|h| name_key(&h.input.name)).collect();
        let taken: Vec<&str> =
            list.iter().filter(|h| existing.contains(&name_key(&h.name))).map(|h| h.name.as_str()).collect();
        if !taken.is_empty() {
            return Err(StoreError::Conflict(format!("xã đã có: {}", taken.join(", "))));
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut events = Vec::new();
            for h in list {
                let (leader, deputies, members, decision, formed) = team_columns(&h.team);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO hamlets (unit_id, name, kind, team_leader, team_deputies, team_members, team_decision, \
                     team_formed_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(unit_id)
                .bind(&h.name)
                .bind(&h.kind)
                .bind(leader)
                .bind(deputies)
                .bind(members)
                .bind(decision)
                .bind(formed)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| on_unique(e, || format!("xã đã có \"{}\"", h.name)))?;
                events.push(NewEvent::new("create", "hamlet", id).unit(Some(unit_id)).after(h));
            }
            write_audit!(tx, actor, now, &events);
            tx.commit().await?;
        });
        Ok(list.len())
    }

    /// Changes a hamlet's name, kind or team (input already checked).
    pub async fn update_hamlet(&self, actor: &Actor, id: i64, input: &HamletInput) -> Result<Hamlet> {
        let before = self
            .hamlet(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("không có ấp, khu phố #{id}")))?;
        let key = danvan_domain::text::name_key(&input.name);
        let others = self.hamlets_of(before.unit_id).await?;
        if others.iter().any(|h| h.id != id && danvan_domain::text::name_key(&h.input.name) == key) {
            return Err(StoreError::Conflict(format!("xã đã có \"{}\"", input.name)));
        }
        let now = Utc::now();
        let (leader, deputies, members, decision, formed) = team_columns(&input.team);
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE hamlets SET name = $1, kind = $2, team_leader = $3, team_deputies = $4, team_members = $5, \
                 team_decision = $6, team_formed_on = $7, updated_at = $8 WHERE id = $9",
            )
            .bind(&input.name)
            .bind(&input.kind)
            .bind(leader)
            .bind(deputies)
            .bind(members)
            .bind(decision)
            .bind(formed)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || format!("xã đã có \"{}\"", input.name)))?;
            let event = NewEvent::new("update", "hamlet", id).unit(Some(before.unit_id)).before(&before.input).after(input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.hamlet(id).await?.ok_or_else(|| StoreError::NotFound(format!("ấp #{id}")))
    }

    // ---- meetings --------------------------------------------------------------------------

    /// Records a meeting (input already checked against the bloc on its day).
    pub async fn add_meeting(&self, actor: &Actor, unit_id: i64, input: &MeetingInput) -> Result<Meeting> {
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO meetings (unit_id, kind, held_on, place, chair, content, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(unit_id)
            .bind(input.kind.as_str())
            .bind(input.held_on)
            .bind(&input.place)
            .bind(&input.chair)
            .bind(&input.content)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for a in &input.attendance {
                sqlx::query("INSERT INTO meeting_attendance (meeting_id, member_id, present, reason) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(a.member_id)
                    .bind(a.present)
                    .bind(&a.reason)
                    .execute(&mut *tx)
                    .await?;
            }
            for (i, c) in input.conclusions.iter().enumerate() {
                sqlx::query("INSERT INTO meeting_conclusions (meeting_id, position, text) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(i as i64 + 1)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
            }
            let event = NewEvent::new("create", "meeting", id).unit(Some(unit_id)).after(input);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        self.meeting(id).await?.ok_or_else(|| StoreError::NotFound(format!("cuộc họp #{id}")))
    }

    pub async fn meeting(&self, id: i64) -> Result<Option<Meeting>> {
        let (row, attendance, conclusions) = with_pool!(self, pool => {
            let row: Option<MeetingRow> = sqlx::query_as(
                "SELECT id, unit_id, kind, held_on, place, chair, content FROM meetings WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let attendance: Vec<(i64, bool, Option<String>)> = sqlx::query_as(
                "SELECT member_id, present, reason FROM meeting_attendance WHERE meeting_id = $1 ORDER BY member_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let conclusions: Vec<Conclusion> = sqlx::query_as(
                "SELECT id, meeting_id, position, text, activity_id FROM meeting_conclusions WHERE meeting_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (row, attendance, conclusions)
        });
        let Some(r) = row else { return Ok(None) };
        let kind = MeetingKind::parse(&r.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("meeting kind {:?}", r.kind)))?;
        Ok(Some(Meeting {
            id: r.id,
            unit_id: r.unit_id,
            input: MeetingInput {
                kind,
                held_on: r.held_on,
                place: r.place,
                chair: r.chair,
                content: r.content,
                conclusions: conclusions.iter().map(|c| c.text.clone()).collect(),
                attendance: attendance
                    .into_iter()
                    .map(|(member_id, present, reason)| Attendance { member_id, present, reason })
                    .collect(),
            },
            conclusions,
        }))
    }

    /// A commune's meetings held between two days (both included), newest first.
    pub async fn meetings_of(
        &self,
        unit_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MeetingSummary>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT m.id, m.kind, m.held_on, m.place, m.chair, \
                 (SELECT COUNT(*) FROM meeting_attendance a WHERE a.meeting_id = m.id AND a.present) AS present, \
                 (SELECT COUNT(*) FROM meeting_attendance a WHERE a.meeting_id = m.id AND NOT a.present) AS absent, \
                 (SELECT COUNT(*) FROM meeting_conclusions c WHERE c.meeting_id = m.id) AS conclusions \
                 FROM meetings m WHERE m.unit_id = $1 AND m.held_on >= $2 AND m.held_on <= $3 \
                 ORDER BY m.held_on DESC, m.id DESC",
            )
            .bind(unit_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn conclusion(&self, id: i64) -> Result<Option<Conclusion>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT id, meeting_id, position, text, activity_id FROM meeting_conclusions WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    // ---- citizens' feedback ----------------------------------------------------------------

    /// How many feedbacks an address (hashed) sent since a moment: the rate limit's count.
    pub async fn feedback_from_address_since(&self, address_hash: &str, since: DateTime<Utc>) -> Result<i64> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE address_hash = $1 AND received_at >= $2")
                .bind(address_hash)
                .bind(since)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Stores a citizen's feedback (input already checked) under a new tracking code; a code
    /// already in use is a `Conflict` (draw another). The answer is due `answer_days` after
    /// its day of receipt (in Vietnam).
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_feedback(
        &self,
        unit_id: i64,
        code: &str,
        input: &FeedbackInput,
        address_hash: &str,
        received_at: DateTime<Utc>,
        answer_days: u32,
    ) -> Result<Feedback> {
        let now = received_at;
        let due = danvan_domain::feedback::due_on(now.with_timezone(&VIETNAM).date_naive(), answer_days);
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO feedback (unit_id, code, name, phone, email, hamlet, category, content, status, received_at, \
                 due_on, address_hash, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9, $10, $11, $9) RETURNING id",
            )
            .bind(unit_id)
            .bind(code)
            .bind(&input.name)
            .bind(&input.phone)
            .bind(&input.email)
            .bind(&input.hamlet)
            .bind(&input.category)
            .bind(&input.content)
            .bind(now)
            .bind(due)
            .bind(address_hash)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || "mã theo dõi đã được dùng".into()))?;
            // The citizen's identity stays out of the log.
            let event = NewEvent::new("create", "feedback", id)
                .unit(Some(unit_id))
                .after(&serde_json::json!({"code": code, "category": input.category, "due_on": due}));
            let public = Actor::system("public");
            write_audit!(tx, &public, now, &[event]);
            tx.commit().await?;
            id
        });
        self.feedback(id).await?.ok_or_else(|| StoreError::NotFound(format!("ý kiến #{id}")))
    }

    pub async fn feedback(&self, id: i64) -> Result<Option<Feedback>> {
        let row: Option<FeedbackRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = $1")).bind(id).fetch_optional(pool).await?
        });
        row.map(Feedback::try_from).transpose()
    }

    pub async fn feedback_by_code(&self, code: &str) -> Result<Option<Feedback>> {
        let row: Option<FeedbackRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE code = $1")).bind(code).fetch_optional(pool).await?
        });
        row.map(Feedback::try_from).transpose()
    }

    /// A commune's feedback, newest first, optionally of one status; with the total count.
    pub async fn feedback_of(
        &self,
        unit_id: i64,
        status: Option<FeedbackStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Feedback>, i64)> {
        let status = status.map(|s| s.as_str());
        let (rows, total): (Vec<FeedbackRow>, i64) = with_pool!(self, pool => {
            let rows = sqlx::query_as(&format!(
                "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE unit_id = $1 AND ($2 IS NULL OR status = $2) \
                 ORDER BY received_at DESC, id DESC LIMIT $3 OFFSET $4"
            ))
            .bind(unit_id)
            .bind(status)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE unit_id = $1 AND ($2 IS NULL OR status = $2)")
                .bind(unit_id)
                .bind(status)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Feedback::try_from).collect::<Result<_>>()?, total))
    }

    /// One staff step on a feedback, audited; refused (nothing written) when the step does not
    /// fit its status or the feedback changed since version `seen` was read.
    pub async fn feedback_step(
        &self,
        actor: &Actor,
        id: i64,
        seen: Option<i64>,
        step: &FeedbackStep,
    ) -> Result<Feedback> {
        let before =
            self.feedback(id).await?.ok_or_else(|| StoreError::NotFound(format!("không có ý kiến #{id}")))?;
        if seen.is_some_and(|s| s != before.version) {
            return Err(StoreError::Conflict(format!(
                "ý kiến {} vừa được người khác xử lý; hãy tải lại",
                before.code
            )));
        }
        if before.status == FeedbackStatus::Closed {
            return Err(StoreError::Conflict(format!("ý kiến {} đã đóng", before.code)));
        }
        let now = Utc::now();
        let (status, organisation, answer, answered_at, closed_at, reason) = match step {
            FeedbackStep::Assign(org) => {
                if before.status == FeedbackStatus::Answered {
                    return Err(StoreError::Conflict(format!("ý kiến {} đã được trả lời", before.code)));
                }
                (FeedbackStatus::Assigned, Some(org.clone()), before.answer.clone(), None, None, None)
            }
            FeedbackStep::Answer(text) => (
                FeedbackStatus::Answered,
                before.organisation.clone(),
                Some(text.clone()),
                Some(before.answered_at.unwrap_or(now)),
                None,
                None,
            ),
            FeedbackStep::Close(reason) => {
                if before.answer.is_none() && reason.as_deref().is_none_or(str::is_empty) {
                    return Err(StoreError::Invalid(
                        "ý kiến chưa được trả lời: cần ghi lý do đóng (ví dụ trùng lặp, không thuộc thẩm quyền)".into(),
                    ));
                }
                (
                    FeedbackStatus::Closed,
                    before.organisation.clone(),
                    before.answer.clone(),
                    before.answered_at,
                    Some(now),
                    reason.clone(),
                )
            }
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE feedback SET status = $1, organisation = $2, answer = $3, answered_at = $4, closed_at = $5, \
                 version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8",
            )
            .bind(status.as_str())
            .bind(&organisation)
            .bind(&answer)
            .bind(answered_at)
            .bind(closed_at)
            .bind(now)
            .bind(id)
            .bind(before.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(format!("ý kiến {} vừa được người khác xử lý; hãy tải lại", before.code)));
            }
            let action = match step {
                FeedbackStep::Assign(_) => "assign",
                FeedbackStep::Answer(_) => "answer",
                FeedbackStep::Close(_) => "close",
            };
            let mut event = NewEvent::new(action, "feedback", id)
                .unit(Some(before.unit_id))
                .before(&serde_json::json!({"status": before.status.as_str(), "organisation": before.organisation, "answer": before.answer}))
                .after(&serde_json::json!({"status": status.as_str(), "organisation": organisation, "answer": answer}));
            event.reason = reason.clone().filter(|r| !r.trim().is_empty());
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        self.feedback(id).await?.ok_or_else(|| StoreError::NotFound(format!("ý kiến #{id}")))
    }
}
