//! Sample reviews written in bulk: the demo's picture of a scheme and the benchmark's national
//! dataset. One transaction, batched inserts, one audit event for the whole batch.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::achievement::met_marks;
use danvan_domain::bloc::BlocRole;
use danvan_domain::community::{MeetingKind, TeamInput};
use danvan_domain::feedback::FeedbackStatus;
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

/// One generated member of a commune's bloc; trained when `trained_on` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleMember {
    pub unit_id: i64,
    pub full_name: String,
    pub position: String,
    pub organisation: String,
    pub role: BlocRole,
    pub trained_on: Option<NaiveDate>,
    pub from: NaiveDate,
    /// The day the membership ended, and why.
    pub ended: Option<(NaiveDate, String)>,
}

/// One generated hamlet, with its team when one was formed.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleHamlet {
    pub unit_id: i64,
    pub name: String,
    pub kind: String,
    pub team: Option<TeamInput>,
}

/// One generated meeting. Every member serving on its day attends but those `absent` (their
/// places in the unit's list of sample members).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleMeeting {
    pub unit_id: i64,
    pub kind: MeetingKind,
    pub held_on: NaiveDate,
    pub place: String,
    pub chair: String,
    pub content: String,
    pub absent: Vec<usize>,
}

/// One generated feedback of a citizen, with the answer it got (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleFeedback {
    pub unit_id: i64,
    pub code: String,
    pub hamlet: Option<String>,
    pub category: String,
    pub content: String,
    pub status: FeedbackStatus,
    pub organisation: Option<String>,
    pub answer: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The records of communes' blocs that computed targets are counted from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleRecords {
    pub members: Vec<SampleMember>,
    pub hamlets: Vec<SampleHamlet>,
    pub meetings: Vec<SampleMeeting>,
    pub feedback: Vec<SampleFeedback>,
}

/// One generated evidence file of a sample review (its bytes kept by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEvidence {
    pub unit_id: i64,
    pub period: String,
    pub target_code: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
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
            sqlx::query(crate::BUMP).bind(crate::activities_counter(scheme_id)).execute(&mut *tx).await?;
            let event = NewEvent::new("sample", "plan", scheme_id).after(&serde_json::json!({"activities": list.len()}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(list.len())
    }

    /// Writes sample bloc records (members, hamlets, meetings with attendance, feedback) in one
    /// transaction. Units that have any such record already are left as they are, and a
    /// feedback whose tracking code is taken is left out. Answers how many records were written.
    pub async fn insert_sample_records(&self, actor: &Actor, records: &SampleRecords) -> Result<usize> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut busy = std::collections::HashSet::new();
            for table in ["members", "hamlets", "meetings", "feedback"] {
                let ids: Vec<i64> = sqlx::query_scalar(&format!("SELECT DISTINCT unit_id FROM {table}"))
                    .fetch_all(&mut *tx)
                    .await?;
                busy.extend(ids);
            }
            let free = |unit: &i64| !busy.contains(unit);
            let members: Vec<&SampleMember> = records.members.iter().filter(|m| free(&m.unit_id)).collect();
            for chunk in members.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO members (unit_id, full_name, position, organisation, role, trained, trained_on, from_date, \
                     to_date, end_reason, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, m| {
                    b.push_bind(m.unit_id)
                        .push_bind(&m.full_name)
                        .push_bind(&m.position)
                        .push_bind(&m.organisation)
                        .push_bind(m.role.as_str())
                        .push_bind(m.trained_on.is_some())
                        .push_bind(m.trained_on)
                        .push_bind(m.from)
                        .push_bind(m.ended.as_ref().map(|e| e.0))
                        .push_bind(m.ended.as_ref().map(|e| e.1.clone()))
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            // Each unit's members in the order of the list, with the days they served.
            type Serving = (i64, i64, NaiveDate, Option<NaiveDate>);
            let rows: Vec<Serving> =
                sqlx::query_as("SELECT id, unit_id, from_date, to_date FROM members ORDER BY id").fetch_all(&mut *tx).await?;
            let mut roster: HashMap<i64, Vec<(i64, NaiveDate, Option<NaiveDate>)>> = HashMap::new();
            for (id, unit, from, to) in rows {
                roster.entry(unit).or_default().push((id, from, to));
            }
            let hamlets: Vec<&SampleHamlet> = records.hamlets.iter().filter(|h| free(&h.unit_id)).collect();
            for chunk in hamlets.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO hamlets (unit_id, name, kind, team_leader, team_deputies, team_members, team_decision, \
                     team_formed_on, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, h| {
                    let team = h.team.as_ref();
                    b.push_bind(h.unit_id)
                        .push_bind(&h.name)
                        .push_bind(&h.kind)
                        .push_bind(team.map(|t| t.leader.clone()))
                        .push_bind(json_list(team.map(|t| t.deputies.as_slice()).unwrap_or_default()))
                        .push_bind(team.map(|t| i64::from(t.member_count)))
                        .push_bind(team.and_then(|t| t.decision.clone()))
                        .push_bind(team.map(|t| t.formed_on))
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let meetings: Vec<&SampleMeeting> = records.meetings.iter().filter(|m| free(&m.unit_id)).collect();
            let mut attendance = Vec::new();
            for chunk in meetings.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO meetings (unit_id, kind, held_on, place, chair, content, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, m| {
                    b.push_bind(m.unit_id)
                        .push_bind(m.kind.as_str())
                        .push_bind(m.held_on)
                        .push_bind(&m.place)
                        .push_bind(&m.chair)
                        .push_bind(&m.content)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(" RETURNING id");
                let ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                for (id, m) in ids.into_iter().zip(chunk) {
                    let serving = roster.get(&m.unit_id).map(Vec::as_slice).unwrap_or_default();
                    for (place, (member, from, to)) in serving.iter().enumerate() {
                        if *from <= m.held_on && to.is_none_or(|to| to >= m.held_on) {
                            attendance.push((id, *member, !m.absent.contains(&place)));
                        }
                    }
                }
            }
            for chunk in attendance.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO meeting_attendance (meeting_id, member_id, present, reason) ");
                qb.push_values(chunk, |mut b, (meeting, member, present)| {
                    b.push_bind(*meeting).push_bind(*member).push_bind(*present).push_bind((!present).then_some("Đi công tác"));
                });
                qb.build().execute(&mut *tx).await?;
            }
            let feedback: Vec<&SampleFeedback> = records.feedback.iter().filter(|f| free(&f.unit_id)).collect();
            let mut written_feedback = 0;
            for chunk in feedback.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO feedback (unit_id, code, hamlet, category, content, status, organisation, answer, received_at, \
                     due_on, answered_at, closed_at, address_hash, updated_at) ",
                );
                qb.push_values(chunk, |mut b, f| {
                    b.push_bind(f.unit_id)
                        .push_bind(&f.code)
                        .push_bind(&f.hamlet)
                        .push_bind(&f.category)
                        .push_bind(&f.content)
                        .push_bind(f.status.as_str())
                        .push_bind(&f.organisation)
                        .push_bind(&f.answer)
                        .push_bind(f.received_at)
                        .push_bind(f.due_on)
                        .push_bind(f.answered_at)
                        .push_bind(f.closed_at)
                        .push_bind("sample")
                        .push_bind(f.closed_at.or(f.answered_at).unwrap_or(f.received_at));
                });
                qb.push(" ON CONFLICT (code) DO NOTHING");
                written_feedback += qb.build().execute(&mut *tx).await?.rows_affected() as usize;
            }
            let written = members.len() + hamlets.len() + meetings.len() + written_feedback;
            let event = NewEvent::new("sample", "bloc", 0).after(&serde_json::json!({
                "members": members.len(), "hamlets": hamlets.len(), "meetings": meetings.len(),
                "attendance": attendance.len(), "feedback": written_feedback,
            }));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Records sample evidence files of a scheme's reviews (found by unit and period) in one
    /// transaction; a file of a review that does not exist is an error.
    pub async fn insert_sample_evidence(
        &self,
        actor: &Actor,
        scheme_id: i64,
        list: &[SampleEvidence],
    ) -> Result<usize> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let ids: HashMap<(i64, String), i64> =
                sqlx::query_as::<_, (i64, i64, String)>("SELECT id, unit_id, period FROM reviews WHERE scheme_id = $1")
                    .bind(scheme_id)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(id, unit, period)| ((unit, period), id))
                    .collect();
            let rows = list
                .iter()
                .map(|e| {
                    let review = ids.get(&(e.unit_id, e.period.clone())).ok_or_else(|| {
                        StoreError::NotFound(format!("không có bản rà soát của đơn vị #{} kỳ {}", e.unit_id, e.period))
                    })?;
                    Ok((*review, e))
                })
                .collect::<Result<Vec<_>>>()?;
            for chunk in rows.chunks(CHUNK / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO evidence (review_id, target_code, filename, content_type, size, sha256, uploaded_at) ",
                );
                qb.push_values(chunk, |mut b, (review, e)| {
                    b.push_bind(*review)
                        .push_bind(&e.target_code)
                        .push_bind(&e.filename)
                        .push_bind(&e.content_type)
                        .push_bind(e.size)
                        .push_bind(&e.sha256)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let event = NewEvent::new("sample", "scheme", scheme_id).after(&serde_json::json!({"evidence": list.len()}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            Ok(list.len())
        })
    }
}
