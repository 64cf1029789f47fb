//! The bloc's meetings: attendance, conclusions, and a conclusion turned into an activity.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{Datelike, NaiveDate};
use danvan_domain::access::Action;
use danvan_domain::community::{Attendance, MeetingInput, MeetingKind};
use danvan_domain::plan::ActivityInput;
use danvan_domain::units::Unit;
use danvan_store::{Meeting, MeetingSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::commune_only;
use super::refused;
use super::store_refusal;
use super::DoneQuery;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::done_message;
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::parse_date;
use crate::shell::province_of;
use crate::shell::AppState;
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx};

// ---- meetings ------------------------------------------------------------------------------

/// A meeting as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingJson {
    pub id: i64,
    pub kind: MeetingKind,
    pub held_on: NaiveDate,
    pub place: String,
    pub chair: String,
    pub content: String,
    pub attendance: Vec<Attendance>,
    /// The conclusions, each a record of its own (it can become a plan activity).
    pub conclusions: Vec<ConclusionJson>,
}

/// A meeting's conclusion.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConclusionJson {
    pub id: i64,
    pub position: i64,
    pub text: String,
    /// The plan activity it became, if any.
    pub activity_id: Option<i64>,
}

fn meeting_json(m: Meeting) -> MeetingJson {
    let i = m.input;
    MeetingJson {
        id: m.id,
        kind: i.kind,
        held_on: i.held_on,
        place: i.place,
        chair: i.chair,
        content: i.content,
        attendance: i.attendance,
        conclusions: m
            .conclusions
            .into_iter()
            .map(|c| ConclusionJson {
                id: c.id,
                position: c.position,
                text: c.text,
                activity_id: c.activity_id,
            })
            .collect(),
    }
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    )
}

/// A year of an API query: digits only, as the document says (an empty or padded `?year=` is
/// refused, not read as this year); absent, this year.
fn api_year(q: Option<&str>) -> Result<i32, WebError> {
    match q {
        Some(s) if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) => {
            Err(WebError::BadRequest(format!("năm \"{s}\" không hợp lệ; dùng dạng 2019")))
        }
        other => year_of(other),
    }
}

fn year_of(q: Option<&str>) -> Result<i32, WebError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today().year()),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| WebError::BadRequest(format!("năm \"{s}\" không hợp lệ"))),
    }
}

/// A commune's meetings of a year (`?year=`, this year by default), newest first.
#[utoipa::path(get, path = "/api/v1/units/{code}/meetings", params(("code" = String, Path), ("year" = Option<i32>, Query, minimum = 1990, maximum = 2100)),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_meetings(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<Json<Vec<MeetingSummary>>, ApiError> {
    commune_only(&unit)?;
    let (from, to) = year_bounds(api_year(q.year.as_deref())?);
    Ok(Json(state.store.meetings_of(unit.id, from, to).await?))
}

async fn meeting_in(state: &AppState, unit: &Unit, id: i64) -> Result<Meeting, WebError> {
    state
        .store
        .meeting(id)
        .await?
        .filter(|m| m.unit_id == unit.id)
        .ok_or_else(|| WebError::NotFound(format!("không có cuộc họp #{id}")))
}

/// One meeting with its attendance and conclusions.
#[utoipa::path(get, path = "/api/v1/units/{code}/meetings/{id}", params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = MeetingJson), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_meeting(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
) -> Result<Json<MeetingJson>, ApiError> {
    Ok(Json(meeting_json(meeting_in(&state, &unit, id).await?)))
}

async fn check_meeting(
    state: &AppState,
    unit: &Unit,
    input: &MeetingInput,
) -> Result<Result<MeetingInput, Vec<String>>, WebError> {
    let serving: Vec<i64> =
        state.store.members_on(unit.id, input.held_on).await?.iter().map(|m| m.id).collect();
    Ok(input.cleaned(&serving, today()))
}

/// Records a meeting; attendance names members serving on its day.
#[utoipa::path(post, path = "/api/v1/units/{code}/meetings", request_body = MeetingInput, params(("code" = String, Path)),
    responses((status = 201, body = MeetingJson), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_meeting(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(input): Json<MeetingInput>,
) -> Result<Response, ApiError> {
    commune_only(&unit)?;
    let input = match check_meeting(&state, &unit, &input).await? {
        Ok(i) => i,
        Err(p) => return Ok(unprocessable(p)),
    };
    let m = state.store.add_meeting(&user.actor(), unit.id, &input).await?;
    Ok((StatusCode::CREATED, Json(meeting_json(m))).into_response())
}

/// A conclusion made a plan activity.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConclusionActivity {
    /// The scheme whose plan gets the activity.
    pub scheme: String,
    pub lead_org: String,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub responsible: String,
    pub due: NaiveDate,
}

async fn conclusion_activity(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    meeting_id: i64,
    conclusion_id: i64,
    body: &ConclusionActivity,
) -> Result<Result<(String, danvan_store::Activity), Vec<String>>, WebError> {
    let meeting = meeting_in(state, unit, meeting_id).await?;
    let Some(c) = meeting.conclusions.iter().find(|c| c.id == conclusion_id) else {
        return Err(WebError::NotFound(format!("cuộc họp không có kết luận #{conclusion_id}")));
    };
    let scheme = crate::shell::find_scheme(state, &body.scheme).await?;
    if !state.store.is_within(unit.id, scheme.root_unit_id).await? {
        return Ok(Err(vec![format!("đề án {} không áp dụng cho {}", scheme.def.code, unit.name)]));
    }
    let start = meeting.input.held_on.max(today().min(body.due));
    let input = ActivityInput {
        title: c.text.chars().take(300).collect(),
        description: c.text.clone(),
        targets: body.targets.clone(),
        lead_org: body.lead_org.clone(),
        supporting_orgs: Vec::new(),
        responsible: body.responsible.clone(),
        start: start.min(body.due),
        due: body.due,
    };
    let year = body.due.year();
    let input = match input.cleaned(&scheme.def, year) {
        Ok(i) => i,
        Err(p) => return Ok(Err(p)),
    };
    match state.store.conclusion_to_activity(&user.actor(), c.id, scheme.id, unit.id, year, &input).await {
        Ok(a) => Ok(Ok((scheme.def.code, a))),
        Err(e) => Ok(Err(store_refusal(e)?)),
    }
}

/// Makes a meeting's conclusion an activity of a scheme's plan, in one step.
#[utoipa::path(post, path = "/api/v1/units/{code}/meetings/{id}/conclusions/{conclusion}/activity", request_body = ConclusionActivity,
    params(("code" = String, Path), ("id" = i64, Path), ("conclusion" = i64, Path)),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_conclusion_activity(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id, conclusion)): Path<(String, i64, i64)>,
    Json(body): Json<ConclusionActivity>,
) -> Result<Response, ApiError> {
    match conclusion_activity(&state, &user, &unit, id, conclusion, &body).await? {
        Ok((_, a)) => {
            Ok((StatusCode::CREATED, Json(serde_json::json!({"activity_id": a.id, "year": a.year})))
                .into_response())
        }
        Err(p) => Ok(unprocessable(p)),
    }
}

pub struct MeetingRow {
    pub href: String,
    pub kind: String,
    pub date: String,
    pub place: String,
    pub chair: String,
    pub attendance: String,
    pub conclusions: i64,
}

pub struct AttendeeRow {
    pub id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/meetings.html")]
pub struct MeetingsPage {
    layout: Layout,
    action: String,
    unit_name: String,
    unit_base: String,
    /// `?on=…` naming the unit when it no longer exists today (empty otherwise).
    unit_q: String,
    year: i32,
    rows: Vec<MeetingRow>,
    held_by_kind: Vec<(String, usize)>,
    editable: bool,
    kinds: Vec<(&'static str, String)>,
    /// The day the new meeting's attendance list is drawn for.
    on: String,
    attendees: Vec<AttendeeRow>,
    problems: Vec<String>,
    message: String,
}

#[allow(clippy::too_many_arguments)]
async fn meetings_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    year: i32,
    on: NaiveDate,
    problems: Vec<String>,
    message: String,
) -> Result<MeetingsPage, WebError> {
    commune_only(unit)?;
    let lang = ctx.lang;
    let path = format!("/units/{}/meetings", unit.code);
    let (from, to) = year_bounds(year);
    let list = state.store.meetings_of(unit.id, from, to).await?;
    let kind_label = |k: &str| lang.t(&format!("meeting-kind-{k}"));
    Ok(MeetingsPage {
        layout: Layout::new(ctx, &format!("{} · {}", lang.t("meetings-title"), unit.name), &path),
        held_by_kind: MeetingKind::ALL
            .iter()
            .map(|k| (kind_label(k.as_str()), list.iter().filter(|m| m.kind == k.as_str()).count()))
            .collect(),
        rows: list
            .iter()
            .map(|m| MeetingRow {
                href: format!("{path}/{}", m.id),
                kind: kind_label(&m.kind),
                date: lang.date(m.held_on),
                place: m.place.clone(),
                chair: m.chair.clone(),
                attendance: format!("{}/{}", m.present, m.present + m.absent),
                conclusions: m.conclusions,
            })
            .collect(),
        action: path,
        unit_name: unit.name.clone(),
        unit_base: format!("/units/{}", unit.code),
        unit_q: crate::shell::unit_query(unit),
        year,
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        kinds: MeetingKind::ALL.iter().map(|k| (k.as_str(), kind_label(k.as_str()))).collect(),
        on: on.to_string(),
        attendees: state
            .store
            .members_on(unit.id, on)
            .await?
            .into_iter()
            .map(|m| AttendeeRow {
                id: m.id,
                name: m.input.full_name,
                role: lang.t(&format!("bloc-role-{}", m.input.role.as_str())),
            })
            .collect(),
        problems,
        message,
    })
}

pub async fn meetings(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<MeetingsPage, PageError> {
    let lang = ctx.lang;
    let year = year_of(q.year.as_deref()).in_lang(lang)?;
    let on = match q.on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => today(),
        Some(s) => parse_date(s)
            .ok_or_else(|| WebError::BadRequest(format!("ngày \"{s}\" không hợp lệ")))
            .in_lang(lang)?,
    };
    let message = done_message(lang, "meetings", q.done.as_deref());
    meetings_page(&state, &ctx, &user, &unit, year, on, Vec::new(), message).await.in_lang(lang)
}

/// The new-meeting form, as pairs: `kind`, `held_on`, `place`, `chair`, `content`,
/// `conclusions` (one per line), and per member `member=<id>`, `present_<id>=1`, `reason_<id>`.
pub async fn add_meeting(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    commune_only(&unit).in_lang(lang)?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut problems = Vec::new();
    let kind = MeetingKind::parse(get("kind"));
    if kind.is_none() {
        problems.push("hãy chọn loại cuộc họp".to_string());
    }
    let held_on = parse_date(get("held_on"));
    if held_on.is_none() {
        problems.push(format!("ngày họp \"{}\" không hợp lệ", get("held_on").trim()));
    }
    let attendance: Vec<Attendance> = pairs
        .iter()
        .filter(|(k, _)| k == "member")
        .filter_map(|(_, v)| v.parse::<i64>().ok())
        .map(|id| Attendance {
            member_id: id,
            present: !get(&format!("present_{id}")).is_empty(),
            reason: Some(get(&format!("reason_{id}")).to_string()),
        })
        .collect();
    let on = held_on.unwrap_or_else(today);
    if let (Some(kind), Some(held_on)) = (kind, held_on) {
        let input = MeetingInput {
            kind,
            held_on,
            place: get("place").into(),
            chair: get("chair").into(),
            content: get("content").into(),
            conclusions: get("conclusions").lines().map(str::to_string).collect(),
            attendance,
        };
        match check_meeting(&state, &unit, &input).await.in_lang(lang)? {
            Ok(input) => {
                let m = state.store.add_meeting(&user.actor(), unit.id, &input).await.in_lang(lang)?;
                return Ok(Redirect::to(&format!("/units/{}/meetings/{}?done=added", unit.code, m.id))
                    .into_response());
            }
            Err(p) => problems.extend(p),
        }
    }
    let page = meetings_page(&state, &ctx, &user, &unit, on.year(), on, problems, String::new())
        .await
        .in_lang(lang)?;
    Ok(refused(page))
}

pub struct PresenceRow {
    pub name: String,
    pub present: bool,
    pub reason: String,
}

pub struct ConclusionRow {
    pub id: i64,
    pub position: i64,
    pub text: String,
    pub activity_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/meeting.html")]
pub struct MeetingPage {
    layout: Layout,
    action: String,
    back_href: String,
    unit_name: String,
    kind: String,
    date: String,
    place: String,
    chair: String,
    content: String,
    attendance: Vec<PresenceRow>,
    conclusions: Vec<ConclusionRow>,
    editable: bool,
    schemes: Vec<(String, String)>,
    organisations: Vec<String>,
    default_due: String,
    problems: Vec<String>,
    message: String,
}

async fn meeting_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    id: i64,
    problems: Vec<String>,
    message: String,
) -> Result<MeetingPage, WebError> {
    let lang = ctx.lang;
    let m = meeting_in(state, unit, id).await?;
    let path = format!("/units/{}/meetings/{id}", unit.code);
    let names: std::collections::HashMap<i64, String> =
        state.store.members_of(unit.id).await?.into_iter().map(|m| (m.id, m.input.full_name)).collect();
    let all_schemes = state.store.schemes().await?;
    let mut schemes = Vec::new();
    for s in &all_schemes {
        if state.store.is_within(unit.id, s.root_unit_id).await? {
            schemes.push((s.code.clone(), s.title.clone()));
        }
    }
    let mut conclusions = Vec::new();
    for c in &m.conclusions {
        let activity = match c.activity_id {
            Some(a) => state.store.activity(a).await?,
            None => None,
        };
        let activity_href = activity
            .and_then(|a| {
                let scheme = all_schemes.iter().find(|s| s.id == a.scheme_id)?;
                Some(format!("/schemes/{}/units/{}/activities/{}", scheme.code, unit.code, a.id))
            })
            .unwrap_or_default();
        conclusions.push(ConclusionRow {
            id: c.id,
            position: c.position,
            text: c.text.clone(),
            activity_href,
        });
    }
    Ok(MeetingPage {
        layout: Layout::new(
            ctx,
            &format!("{} · {}", lang.t("meeting-title"), lang.date(m.input.held_on)),
            &path,
        ),
        action: path,
        back_href: format!("/units/{}/meetings?year={}", unit.code, m.input.held_on.year()),
        unit_name: unit.name.clone(),
        kind: lang.t(&format!("meeting-kind-{}", m.input.kind.as_str())),
        date: lang.date(m.input.held_on),
        place: m.input.place.clone(),
        chair: m.input.chair.clone(),
        content: m.input.content.clone(),
        attendance: m
            .input
            .attendance
            .iter()
            .map(|a| PresenceRow {
                name: names.get(&a.member_id).cloned().unwrap_or_else(|| format!("#{}", a.member_id)),
                present: a.present,
                reason: a.reason.clone().unwrap_or_default(),
            })
            .collect(),
        conclusions,
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        schemes,
        organisations: state.store.organisations(province_of(state, unit).await?).await?,
        default_due: (m.input.held_on + chrono::Days::new(30)).to_string(),
        problems,
        message,
    })
}

pub async fn show_meeting(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Query(q): Query<DoneQuery>,
) -> Result<MeetingPage, PageError> {
    let message = done_message(ctx.lang, "meetings", q.done.as_deref());
    meeting_page(&state, &ctx, &user, &unit, id, Vec::new(), message).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct ConclusionForm {
    pub scheme: String,
    pub lead_org: String,
    #[serde(default)]
    pub responsible: String,
    pub due: String,
}

pub async fn conclusion_to_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id, conclusion)): Path<(String, i64, i64)>,
    Form(form): Form<ConclusionForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let problems = match parse_date(&form.due) {
        None => vec![format!("hạn hoàn thành \"{}\" không hợp lệ", form.due.trim())],
        Some(due) => {
            let body = ConclusionActivity {
                scheme: form.scheme,
                lead_org: form.lead_org,
                targets: Vec::new(),
                responsible: form.responsible,
                due,
            };
            match conclusion_activity(&state, &user, &unit, id, conclusion, &body).await.in_lang(lang)? {
                Ok((scheme, a)) => {
                    let to = format!("/schemes/{scheme}/units/{}/activities/{}", unit.code, a.id);
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(p) => p,
            }
        }
    };
    let page = meeting_page(&state, &ctx, &user, &unit, id, problems, String::new()).await.in_lang(lang)?;
    Ok(refused(page))
}
