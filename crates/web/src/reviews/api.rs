//! The review API: read, save (with version checks), the workflow, and live roll-ups.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use danvan_domain::achievement::{assess, rollup_targets, Rollup, UnitReview};
use danvan_domain::period::Period;
use danvan_domain::scheme::{Source, Target};
use danvan_domain::text;
use danvan_domain::value::{check_value, RawValue, Value};
use danvan_domain::workflow::{save_from, SaveFrom, State, Transition};
use danvan_store::{Entry, Narrative, Review, StoredScheme};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, WebError};
use crate::shell::scheme_and_period;
use crate::shell::today;
use crate::shell::unprocessable;
use crate::shell::AppState;
use crate::shell::Outcome;
use crate::shell::TransitionBody;

const MAX_NOTE: usize = 2_000;

const MAX_SECTION: usize = 20_000;

/// A value as the API shows and takes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ValueJson {
    /// Ratio targets: the numerator and the denominator (numbers, or text such as "1.234,5").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub numerator: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub denominator: Option<serde_json::Value>,
    /// Count targets (a number, or text such as "1.234,5").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub count: Option<serde_json::Value>,
    /// Yes/no targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yes: Option<bool>,
    /// Level targets: the grade's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// In answers: achieved, on_track, behind or not_reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement: Option<String>,
    /// In answers, for ratio and count targets: the value as the criterion states it (the
    /// rate in percent for a ratio: 94.92 for 1.234/1.300; the count for a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// In answers: the criterion as people read it ("≥ 95%", "≥ 1 lần", "Có").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
    /// In answers: the value the approved roadmap plans for the period, when it plans one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<f64>,
    /// In answers: percent of the planned value reached (not of the criterion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_of_plan: Option<f64>,
}

/// A JSON number or text, as text the number reader takes without ambiguity.
fn number_text(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::Number(n)) => Some(n.to_string().replace('.', ",")),
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
        None => None,
    }
}

fn value_json(target: &Target, entry: &Entry, planned: Option<f64>) -> ValueJson {
    let num = |m: danvan_domain::value::Milli| serde_json::json!(m.as_f64());
    let mut out = ValueJson { note: entry.note.clone(), ..Default::default() };
    match &entry.value {
        Some(Value::Ratio { numerator, denominator }) => {
            out.numerator = Some(num(*numerator));
            out.denominator = Some(num(*denominator));
        }
        Some(Value::Count { count }) => out.count = Some(num(*count)),
        Some(Value::YesNo { yes }) => out.yes = Some(*yes),
        Some(Value::Level { grade }) => out.level = target.grades.get(*grade).cloned(),
        None => {}
    }
    let a = assess(target, entry.value.as_ref(), planned);
    out.achievement = Some(a.status.as_str().into());
    out.value = a.value;
    out.criterion = Some(target.criterion_text());
    out.planned = a.planned;
    out.percent_of_plan = a.percent_of_plan;
    out
}

/// A review as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewJson {
    /// 0 while the review has not been started.
    pub version: i64,
    /// not_started, draft, submitted, approved or returned.
    pub status: String,
    pub period: String,
    pub deadline: chrono::NaiveDate,
    pub late: bool,
    pub values: BTreeMap<String, ValueJson>,
    /// Every target's achievement, by code.
    pub achievement: BTreeMap<String, String>,
    #[schema(value_type = Object)]
    pub narrative: Narrative,
    pub reason: Option<String>,
    pub submitted_at: Option<chrono::DateTime<Utc>>,
    /// While approved: the roadmap version it was judged against (frozen with the approval; a
    /// later revision of the roadmap does not change its verdicts). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged_by: Option<JudgedByJson>,
    /// Computed targets are kept as frozen at the approval until someone recomputes them
    /// (`…/recompute`); false while they are counted live from the records.
    pub computed_frozen: bool,
}

/// The roadmap an approved review was judged against.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JudgedByJson {
    /// The roadmap's version; null when no roadmap was in force at the approval.
    pub roadmap_version: Option<i64>,
    /// When that version of the roadmap was approved.
    pub roadmap_approved_at: Option<chrono::DateTime<Utc>>,
}

/// Where the records a computed target is counted from are kept (empty for a reported one).
pub(crate) fn records_href(t: &danvan_domain::scheme::Target, scheme: &str, unit: &str, year: i32) -> String {
    use danvan_domain::scheme::ComputedRule as R;
    match t.source {
        Source::Reported => String::new(),
        Source::Computed(R::MeetingsHeld) => format!("/units/{unit}/meetings?year={year}"),
        Source::Computed(R::MembersTrainedShare) => format!("/units/{unit}/bloc?on={year}-12-31"),
        Source::Computed(R::HamletsWithTeamShare) => format!("/units/{unit}/hamlets"),
        Source::Computed(R::FeedbackAnsweredOnTimeShare) => format!("/units/{unit}/feedback"),
        Source::Computed(R::ActivitiesDoneShare) => format!("/schemes/{scheme}/units/{unit}/plan/{year}"),
    }
}

pub fn review_json(
    scheme: &StoredScheme,
    period: &Period,
    review: Option<&Review>,
    values: &BTreeMap<String, Entry>,
    plan: Option<&danvan_domain::roadmap::Roadmap>,
) -> ReviewJson {
    let planned = |code: &str| danvan_store::planned_for(review, plan, code, period.year);
    let targets = &scheme.def.targets;
    ReviewJson {
        version: review.map(|r| r.version).unwrap_or(0),
        status: review.map(|r| r.state.as_str()).unwrap_or("not_started").into(),
        period: period.to_string(),
        deadline: period.deadline(scheme.def.report_deadline_days),
        late: review.is_some_and(|r| r.late),
        values: targets
            .iter()
            .filter_map(|t| values.get(&t.code).map(|e| (t.code.clone(), value_json(t, e, planned(&t.code)))))
            .collect(),
        achievement: targets
            .iter()
            .map(|t| {
                let v = values.get(&t.code).and_then(|e| e.value.as_ref());
                (t.code.clone(), assess(t, v, planned(&t.code)).status.as_str().to_string())
            })
            .collect(),
        narrative: review.map(|r| r.narrative.clone()).unwrap_or_default(),
        reason: review.and_then(|r| r.reason.clone()),
        submitted_at: review.and_then(|r| r.submitted_at),
        judged_by: review
            .filter(|r| r.state == State::Approved)
            .and_then(|r| r.judged_plan.as_ref())
            .map(|j| JudgedByJson { roadmap_version: j.version, roadmap_approved_at: j.approved_at }),
        computed_frozen: review.is_some_and(|r| r.state == State::Approved || r.frozen_at.is_some()),
    }
}

/// A unit's review of a period (status "not_started" and version 0 before the first save).
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}",
    params(("scheme" = String, Path), ("code" = String, Path, description = "Unit code"), ("period" = String, Path, description = "2018, 2018-H1, 2018-Q3 or 2018-05")),
    responses((status = 200, body = ReviewJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "reviews")]
pub async fn get_review(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
) -> Result<Json<ReviewJson>, ApiError> {
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await?;
    let review = state.store.review(scheme.id, unit.id, &period.to_string()).await?;
    let plan = state.store.plan_in_force(scheme.id, unit.id).await?;
    let values = state.store.values_now(&scheme, unit.id, &period, review.as_ref()).await?;
    Ok(Json(review_json(&scheme, &period, review.as_ref(), &values, plan.as_ref())))
}

/// The body of a save. Only what it names changes: a target absent from `values` keeps its
/// value and note; `null` (or `{}`) for a target clears it; an absent `narrative` keeps the
/// report's sections.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SaveBody {
    /// The version the editor started from (0 for a review not yet started).
    #[serde(deserialize_with = "crate::shell::workflow::whole_version")]
    pub version: i64,
    /// By target code: the new value (and note), or `null` to clear it.
    #[serde(default, deserialize_with = "values_or_null")]
    pub values: BTreeMap<String, ValueJson>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub narrative: Option<Narrative>,
}

/// `values` with `null` for a target read as an empty value (which clears it).
fn values_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, ValueJson>, D::Error> {
    let raw: BTreeMap<String, Option<ValueJson>> = Deserialize::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
}

/// A save as checked: the entries it names, and its narrative when it has one.
pub(crate) type CheckedSave = (BTreeMap<String, Entry>, Option<Narrative>);

/// Checks a save: every value against its target, notes and sections within limits.
pub(crate) fn check_save(scheme: &StoredScheme, body: &SaveBody) -> Result<CheckedSave, Vec<String>> {
    let mut problems = Vec::new();
    let mut entries = BTreeMap::new();
    for (code, v) in &body.values {
        let Some(target) = scheme.def.targets.iter().find(|t| &t.code == code) else {
            problems.push(format!("đề án không có chỉ tiêu mã \"{code}\""));
            continue;
        };
        let note = v.note.as_deref().map(text::clean).filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
            problems.push(format!("Chỉ tiêu {code}: ghi chú dài quá {MAX_NOTE} ký tự"));
        }
        let raw = RawValue {
            numerator: number_text(&v.numerator),
            denominator: number_text(&v.denominator),
            count: number_text(&v.count),
            yes: v.yes,
            level: v.level.clone(),
        };
        let empty = raw == RawValue::default();
        let value = if empty {
            None
        } else if let Source::Computed(_) = target.source {
            problems.push(format!(
                "Chỉ tiêu {code} ({}) được tính tự động từ dữ liệu, không nhập tay",
                target.name
            ));
            None
        } else {
            match check_value(target, &raw) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(e);
                    None
                }
            }
        };
        entries.insert(code.clone(), Entry { value, note });
    }
    let section = |name: &str, s: &str| {
        let s = text::clean_multiline(s);
        (s.chars().count() > MAX_SECTION).then(|| format!("phần \"{name}\" dài quá {MAX_SECTION} ký tự"))
    };
    if let Some(n) = &body.narrative {
        problems.extend(section("Kết quả", &n.results));
        problems.extend(section("Hạn chế, nguyên nhân", &n.limitations));
        problems.extend(section("Phương hướng, nhiệm vụ", &n.next_tasks));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let narrative = body.narrative.as_ref().map(|n| Narrative {
        results: text::clean_multiline(&n.results),
        limitations: text::clean_multiline(&n.limitations),
        next_tasks: text::clean_multiline(&n.next_tasks),
    });
    Ok((entries, narrative))
}

fn conflict(message: String, current: ReviewJson) -> Response {
    let body = serde_json::json!({"status": 409, "error": message, "current": current});
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// Saves a draft review. A stale `version` answers 409 with the current review, so that the
/// editor can show what the other person changed; nothing is overwritten.
#[utoipa::path(put, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}", request_body = SaveBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = ReviewJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "reviews")]
pub async fn put_review(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
    Json(body): Json<SaveBody>,
) -> Result<Response, ApiError> {
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await?;
    let outcome = save(&state, &user, &scheme, &period, &unit, &body).await?;
    Ok(outcome_json(&state, &scheme, &period, unit.id, outcome).await?)
}

async fn outcome_json(
    state: &AppState,
    scheme: &StoredScheme,
    period: &Period,
    unit_id: i64,
    outcome: Outcome,
) -> Result<Response, WebError> {
    let plan = state.store.plan_in_force(scheme.id, unit_id).await?;
    let json = |r: Option<&Review>, values| review_json(scheme, period, r, values, plan.as_ref());
    Ok(match outcome {
        Outcome::Done(r) => {
            Json(json(Some(&r), &state.store.values_now(scheme, unit_id, period, Some(&r)).await?))
                .into_response()
        }
        Outcome::Invalid(problems) => unprocessable(problems),
        Outcome::Conflict(m, current) => {
            let values = state.store.values_now(scheme, unit_id, period, current.as_ref()).await?;
            conflict(m, json(current.as_ref(), &values))
        }
    })
}

/// When a period's entry has closed for a unit — its scheme closes entry some days after the
/// deadline (`lock_after_days`) and its approver has not reopened it — the refusal to say.
pub async fn entry_closed(
    state: &AppState,
    scheme: &StoredScheme,
    period: &Period,
    unit_id: i64,
) -> Result<Option<String>, WebError> {
    let Some(days) = scheme.def.lock_after_days else { return Ok(None) };
    let deadline = period.deadline(scheme.def.report_deadline_days);
    let today = today();
    if danvan_domain::reminders::entry_open(deadline, Some(i64::from(days)), today, false) {
        return Ok(None);
    }
    let key = period.to_string();
    if state.store.entry_reopening(scheme.id, unit_id, &key).await?.is_some() {
        return Ok(None);
    }
    let closed = deadline + chrono::Duration::days(i64::from(days) + 1);
    Ok(Some(format!(
        "kỳ {key} đã khóa nhập liệu từ ngày {} ({days} ngày sau hạn {}); cấp duyệt có thể mở lại cho đơn vị, kèm lý do",
        closed.format("%d/%m/%Y"),
        deadline.format("%d/%m/%Y")
    )))
}

/// Saves a review (creating it at version 0), for the API and the form alike.
pub async fn save(
    state: &AppState,
    user: &CurrentUser,
    scheme: &StoredScheme,
    period: &Period,
    unit: &danvan_domain::units::Unit,
    body: &SaveBody,
) -> Result<Outcome, WebError> {
    danvan_domain::workflow::check_reporting_level(scheme.def.applies_to, unit.level, &unit.name)
        .map_err(WebError::BadRequest)?;
    if let Some(closed) = entry_closed(state, scheme, period, unit.id).await? {
        return Ok(Outcome::Invalid(vec![closed]));
    }
    let (entries, narrative) = match check_save(scheme, body) {
        Ok(ok) => ok,
        Err(problems) => return Ok(Outcome::Invalid(problems)),
    };
    let key = period.to_string();
    let actor = user.actor();
    let existing = state.store.review(scheme.id, unit.id, &key).await?;
    let from = save_from(existing.is_some(), body.version);
    let (review, version) = match (existing, from) {
        (Some(r), SaveFrom::Version(v)) => (r, v),
        (_, SaveFrom::Start) => (state.store.create_review(&actor, scheme.id, unit.id, &key).await?, 1),
        _ => return Err(WebError::NotFound(format!("chưa có bản rà soát kỳ {key}"))),
    };
    // What the body does not name stays as it was.
    let mut merged = review.values.clone();
    merged.extend(entries);
    let narrative = narrative.unwrap_or_else(|| review.narrative.clone());
    match state.store.save_review(&actor, review.id, version, &merged, &narrative).await {
        Ok(saved) => Ok(Outcome::Done(saved)),
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, state.store.review_by_id(review.id).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Which review: a scheme's, for a unit and a period.
pub struct Which<'a> {
    pub scheme: &'a StoredScheme,
    pub period: &'a Period,
    pub unit: &'a danvan_domain::units::Unit,
}

/// Moves a review through the workflow, for the API and the pages alike.
pub async fn change_state(
    state: &AppState,
    user: &CurrentUser,
    which: Which<'_>,
    t: Transition,
    reason: Option<&str>,
    version: Option<i64>,
) -> Result<Outcome, WebError> {
    let Which { scheme, period, unit } = which;
    let key = period.to_string();
    let review = state
        .store
        .review(scheme.id, unit.id, &key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("chưa có bản rà soát kỳ {key}")))?;
    if t == Transition::Submit {
        if let Some(closed) = entry_closed(state, scheme, period, unit.id).await? {
            return Ok(Outcome::Invalid(vec![closed]));
        }
    }
    if t == Transition::Submit && review.state.editable() {
        let evidence = state.store.evidence_of(review.id).await?;
        let missing = danvan_domain::workflow::missing_for_submit(
            &scheme.def.targets,
            |code| review.values.get(code).is_some_and(|e| e.value.is_some()),
            |code| evidence.iter().any(|e| e.target_code == code),
        );
        if !missing.is_empty() {
            return Ok(Outcome::Invalid(missing));
        }
    }
    let first = review.first_submitted_at.map(|_| review.late);
    let late =
        danvan_domain::workflow::submitted_late(t, first, period, scheme.def.report_deadline_days, today());
    let reason = reason.map(text::clean);
    match state.store.transition_review(&user.actor(), review.id, version, t, reason.as_deref(), late).await {
        Ok(r) => Ok(Outcome::Done(r)),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, state.store.review_by_id(review.id).await?))
        }
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(e) => Err(e.into()),
    }
}

async fn transition(
    state: &AppState,
    user: &CurrentUser,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
    t: Transition,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let (scheme, period) = scheme_and_period(state, scheme, period).await?;
    let body = crate::shell::workflow::transition_body(body)?;
    let which = Which { scheme: &scheme, period: &period, unit };
    let outcome = change_state(state, user, which, t, body.reason.as_deref(), body.version).await?;
    Ok(outcome_json(state, &scheme, &period, unit.id, outcome).await?)
}

macro_rules! transition_handler {
    ($name:ident, $t:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, request_body = Option<TransitionBody>,
            params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
            responses((status = 200, body = ReviewJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "reviews")]
        pub async fn $name(
            AxState(state): AxState<AppState>,
            user: CurrentUser,
            ScopedUnit(unit): ScopedUnit,
            Path((scheme, _code, period)): Path<(String, String, String)>,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            transition(&state, &user, &unit, &scheme, &period, $t, &body).await
        }
    };
}

transition_handler!(
    submit_review,
    Transition::Submit,
    "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/submit",
    "Submits a review for approval; lists what is missing if it is incomplete."
);

transition_handler!(
    approve_review,
    Transition::Approve,
    "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/approve",
    "Approves a submitted review: it is locked and counts in official roll-ups."
);

transition_handler!(
    return_review,
    Transition::Return,
    "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/return",
    "Returns a submitted review to its unit, with a reason."
);

transition_handler!(
    reopen_review,
    Transition::Reopen,
    "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/reopen",
    "Reopens an approved review for correction, with a reason."
);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RollupQuery {
    /// The period, e.g. 2019.
    pub period: String,
    /// Count submitted reviews too, as provisional figures.
    #[serde(default)]
    pub provisional: bool,
    /// Also give the figures under the units of this day (yyyy-mm-dd, e.g. 2025-07-01), one
    /// group per later unit, its former units pooled.
    #[param(value_type = Option<chrono::NaiveDate>, pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub units: Option<String>,
}

/// One target's roll-up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetRollupJson {
    pub code: String,
    pub name: String,
    pub expected: u64,
    pub received: u64,
    pub on_time: u64,
    pub met: u64,
    pub on_track: u64,
    /// Percent of expected units meeting the criterion.
    pub coverage: Option<f64>,
    /// This year's coverage goal, percent.
    pub goal: Option<f64>,
    pub meets_goal: Option<bool>,
    pub completeness: Option<f64>,
    pub timeliness: Option<f64>,
    /// Ratio targets: Σ numerators / Σ denominators, percent.
    pub pooled_ratio: Option<f64>,
    /// Count targets: the sum.
    pub sum: Option<f64>,
    /// Yes/no targets: units answering yes.
    pub yes: Option<u64>,
    /// Level targets: units per grade, worst first.
    pub grades: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RollupJson {
    pub unit: String,
    pub period: String,
    pub provisional: bool,
    pub targets: Vec<TargetRollupJson>,
    /// With `units=DATE`: the day, and one group per unit of that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_on: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupRollupJson>,
}

/// The roll-up of a later unit: its former units pooled (Σ numerators, Σ denominators, Σ counts;
/// yes/no and grades as how many of them).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupRollupJson {
    pub code: String,
    pub name: String,
    /// The former units counted here.
    pub former: Vec<String>,
    pub targets: Vec<TargetRollupJson>,
}

/// Live roll-up of a unit's subtree for a period: for each target, the share of units meeting
/// it against the year's goal, pooled ratios, sums, grade distribution, completeness and
/// timeliness. Only approved reviews count, unless `provisional=true`.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/rollup", params(("scheme" = String, Path), ("code" = String, Path), RollupQuery),
    responses((status = 200, body = RollupJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "reviews")]
pub async fn rollup(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<RollupQuery>,
) -> Result<Json<RollupJson>, ApiError> {
    let (scheme, period) = scheme_and_period(&state, &scheme, &q.period).await?;
    let states: &[State] =
        if q.provisional { &[State::Approved, State::Submitted] } else { &[State::Approved] };
    let expected = state.store.units_within(unit.id, scheme.def.applies_to, period.end()).await?;
    let rows = state.store.review_values_within(scheme.id, unit.id, &period.to_string(), states).await?;
    let mut by_unit: BTreeMap<i64, (bool, BTreeMap<String, Value>)> = BTreeMap::new();
    for r in rows {
        let slot = by_unit.entry(r.unit_id).or_insert_with(|| (r.late, BTreeMap::new()));
        if let Some(v) = r.value {
            slot.1.insert(r.target, v);
        }
    }
    let reviews: Vec<UnitReview<'_>> =
        by_unit.iter().map(|(id, (late, values))| UnitReview { unit_id: *id, late: *late, values }).collect();
    let plans = state.store.plans_in_force_within(scheme.id, unit.id).await?;
    // An approved review keeps the plan it was judged against; others take the plan in force.
    let judged = state.store.judged_plans_within(scheme.id, unit.id, &period.to_string()).await?;
    let planned = |unit: i64, code: &str| match judged.get(&unit) {
        Some(j) => j.planned.get(code).copied(),
        None => plans.get(&unit).and_then(|p| p.planned(code, period.year)),
    };
    let rollups = rollup_targets(&scheme.def.targets, expected.len() as u64, &reviews, &planned);
    let goal_year = period.year;
    let to_json = |rollups: Vec<Rollup>| -> Vec<TargetRollupJson> {
        scheme
            .def
            .targets
            .iter()
            .zip(rollups)
            .map(|(t, r)| {
                let goal = t.coverage.get(&goal_year).copied();
                TargetRollupJson {
                    code: t.code.clone(),
                    name: t.name.clone(),
                    expected: r.expected,
                    received: r.received,
                    on_time: r.on_time,
                    met: r.met,
                    on_track: r.on_track,
                    coverage: r.coverage(),
                    goal,
                    meets_goal: goal.map(|g| r.meets_goal(g)),
                    completeness: r.completeness(),
                    timeliness: r.timeliness(),
                    pooled_ratio: r.pooled_ratio(),
                    sum: (t.kind == danvan_domain::scheme::TargetKind::Count).then(|| r.sum.as_f64()),
                    yes: (t.kind == danvan_domain::scheme::TargetKind::YesNo).then_some(r.yes),
                    grades: (t.kind == danvan_domain::scheme::TargetKind::Level)
                        .then(|| t.grades.iter().cloned().zip(r.grades.iter().copied()).collect()),
                }
            })
            .collect()
    };
    let targets = to_json(rollups);
    // Under later units: each expected unit's own roll-up, regrouped by the lineage.
    let units_on = crate::shell::parse_api_day(q.units.as_deref())?;
    let mut groups = Vec::new();
    if let Some(on) = units_on {
        let links: Vec<_> =
            state.store.successions().await?.into_iter().filter(|l| l.effective_on <= on).collect();
        let regrouping = danvan_domain::lineage::Regrouping::new(&links);
        let by_id: BTreeMap<i64, &UnitReview<'_>> = reviews.iter().map(|r| (r.unit_id, r)).collect();
        let per_unit: std::collections::HashMap<i64, Vec<Rollup>> = expected
            .iter()
            .map(|u| {
                let own: Vec<UnitReview<'_>> = by_id
                    .get(u)
                    .map(|r| UnitReview { unit_id: r.unit_id, late: r.late, values: r.values })
                    .into_iter()
                    .collect();
                (*u, rollup_targets(&scheme.def.targets, 1, &own, &planned))
            })
            .collect();
        let pooled = danvan_domain::lineage::regroup_rollups(&regrouping, &per_unit);
        let ids: Vec<i64> = pooled.keys().copied().chain(expected.iter().copied()).collect();
        let names = state.store.units_by_ids(&ids).await?;
        let mut list: Vec<(i64, Vec<Rollup>)> = pooled.into_iter().collect();
        list.sort_by(|a, b| {
            let name = |id: &i64| names.get(id).map(|u| u.name.as_str()).unwrap_or("");
            danvan_domain::text::compare_vi(name(&a.0), name(&b.0))
        });
        for (id, rollups) in list {
            let Some(u) = names.get(&id) else { continue };
            let mut former: Vec<String> = regrouping
                .sources(id, expected.iter().copied())
                .iter()
                .filter_map(|o| names.get(o).map(|f| f.name.clone()))
                .collect();
            danvan_domain::text::sort_vi_by(&mut former, |s| s);
            groups.push(GroupRollupJson {
                code: u.code.clone(),
                name: u.name.clone(),
                former,
                targets: to_json(rollups),
            });
        }
    }
    Ok(Json(RollupJson {
        unit: unit.code,
        period: period.to_string(),
        provisional: q.provisional,
        targets,
        units_on,
        groups,
    }))
}

/// One computed target of a review before and after counting it again from the records.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecomputeChange {
    pub code: String,
    pub name: String,
    /// The value the review keeps now ("21/21"; empty when none).
    pub old: String,
    /// The value the records give now.
    pub new: String,
    pub changed: bool,
}

/// What recomputing a review's computed targets would change; nothing is written.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecomputeJson {
    /// The review's version, to name when applying.
    pub version: i64,
    /// Whether the review can be changed now (a draft or a returned review).
    pub editable: bool,
    pub changes: Vec<RecomputeChange>,
}

/// The body that applies a recomputation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecomputeBody {
    /// The version the preview showed.
    #[serde(deserialize_with = "crate::shell::workflow::whole_version")]
    pub version: i64,
}

/// A review's computed targets, kept against counted again from the records.
pub async fn recompute_preview(
    state: &AppState,
    which: Which<'_>,
) -> Result<(Review, Vec<RecomputeChange>), WebError> {
    let Which { scheme, period, unit } = which;
    let key = period.to_string();
    let review = state
        .store
        .review(scheme.id, unit.id, &key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("chưa có bản rà soát kỳ {key}")))?;
    let now = state.store.computed_values(scheme, unit.id, period).await?;
    let lang = crate::shell::i18n::Lang::Vi;
    let changes = scheme
        .def
        .targets
        .iter()
        .filter_map(|t| {
            let new = now.get(&t.code)?;
            let old = review.values.get(&t.code).and_then(|e| e.value.as_ref());
            Some(RecomputeChange {
                code: t.code.clone(),
                name: t.name.clone(),
                old: crate::shell::format::show_value(lang, t, old),
                new: crate::shell::format::show_value(lang, t, new.as_ref()),
                changed: old != new.as_ref(),
            })
        })
        .collect();
    Ok((review, changes))
}

/// Applies a recomputation: the computed targets take the values the records give now. Only a
/// draft or returned review can change (409 otherwise, as for a stale version).
pub async fn recompute(
    state: &AppState,
    user: &CurrentUser,
    which: Which<'_>,
    version: i64,
) -> Result<Outcome, WebError> {
    let (review, _) = recompute_preview(state, which).await?;
    if !review.state.editable() {
        let m = format!(
            "bản rà soát đang ở trạng thái \"{}\"; chỉ tính lại được khi là bản nháp hoặc bị trả lại",
            review.state.label_vi()
        );
        return Ok(Outcome::Conflict(m, Some(review)));
    }
    match state.store.recompute_review(&user.actor(), review.id, version).await {
        Ok(r) => Ok(Outcome::Done(r)),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, state.store.review_by_id(review.id).await?))
        }
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(e) => Err(e.into()),
    }
}

/// What recomputing the review's computed targets from the records would change (old → new).
/// A review once approved keeps the values frozen at its approval until this is applied.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/recompute",
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = RecomputeJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "reviews")]
pub async fn get_recompute(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
) -> Result<Json<RecomputeJson>, ApiError> {
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await?;
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    let (review, changes) = recompute_preview(&state, which).await?;
    Ok(Json(RecomputeJson { version: review.version, editable: review.state.editable(), changes }))
}

/// Recomputes the review's computed targets from the records ("Tính lại từ hồ sơ").
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/recompute", request_body = RecomputeBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = ReviewJson), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "reviews")]
pub async fn post_recompute(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
    Json(body): Json<RecomputeBody>,
) -> Result<Response, ApiError> {
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await?;
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    let outcome = recompute(&state, &user, which, body.version).await?;
    Ok(outcome_json(&state, &scheme, &period, unit.id, outcome).await?)
}

/// An evidence file of a review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceJson {
    pub id: i64,
    /// The target it proves.
    pub target: String,
    pub filename: String,
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    pub uploaded_at: chrono::DateTime<Utc>,
    /// Where the file is downloaded (as the pages serve it).
    pub href: String,
}

fn evidence_json(scheme: &str, unit: &str, period: &str, e: danvan_store::Evidence) -> EvidenceJson {
    EvidenceJson {
        href: format!("/schemes/{scheme}/units/{unit}/reviews/{period}/evidence/{}", e.id),
        id: e.id,
        target: e.target_code,
        filename: e.filename,
        content_type: e.content_type,
        size: e.size,
        uploaded_at: e.uploaded_at,
    }
}

/// A multipart upload of evidence: the target's code and the file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The code of the target the file proves (e.g. "1.3").
    target: String,
    /// PDF, image, Word or Excel; at most 10 MB, 50 MB for a review.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The evidence files of a review.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = Vec<EvidenceJson>)), tag = "reviews")]
pub async fn api_evidence(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
) -> Result<Json<Vec<EvidenceJson>>, ApiError> {
    let list = super::evidence::evidence_list(&state, &unit, &scheme, &period).await?;
    Ok(Json(list.into_iter().map(|e| evidence_json(&scheme, &code, &period, e)).collect()))
}

/// Uploads an evidence file for a target of an editable review (multipart: `target`, `file`);
/// 409 when the review is submitted or approved.
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path)),
    responses((status = 201, body = EvidenceJson), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)), tag = "reviews")]
pub async fn api_upload_evidence(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let lang = crate::shell::i18n::Lang::Vi;
    let ev = super::evidence::add_evidence(&state, &user, &unit, &scheme, &period, multipart, lang).await?;
    Ok((StatusCode::CREATED, Json(evidence_json(&scheme, &code, &period, ev))).into_response())
}

/// Deletes an evidence file of an editable review; 409 when the review is submitted or approved.
#[utoipa::path(delete, path = "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}",
    params(("scheme" = String, Path), ("code" = String, Path), ("period" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorBody)), tag = "reviews")]
pub async fn api_delete_evidence(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period, id)): Path<(String, String, String, i64)>,
) -> Result<StatusCode, ApiError> {
    super::evidence::remove_evidence(&state, &user, &unit, &scheme, &period, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
