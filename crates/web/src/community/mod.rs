//! The bloc's work in a commune, as pages and API: hamlets and their teams (added one by one or
//! from a CSV list), meetings with attendance and conclusions (a conclusion becomes a plan
//! activity in one step), and a province's own member organisations and feedback deadline.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State as AxState};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{Datelike, NaiveDate};
use danvan_domain::access::Action;
use danvan_domain::community::{
    parse_hamlet_csv, Attendance, HamletInput, MeetingInput, MeetingKind, TeamInput,
};
use danvan_domain::plan::ActivityInput;
use danvan_domain::text;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::{Hamlet, Meeting, MeetingSummary, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::Access;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::done_message;
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::files::read_multipart;
use crate::shell::parse_date;
use crate::shell::province_of;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx};

/// The largest hamlet list accepted (CSV).
pub const MAX_CSV_BYTES: usize = 512 * 1024;

fn commune_only(unit: &Unit) -> Result<(), WebError> {
    if unit.level == UnitLevel::Commune {
        Ok(())
    } else {
        Err(WebError::NotFound(format!(
            "{} không phải cấp xã: khối dân vận, ấp và cuộc họp thuộc cấp xã",
            unit.name
        )))
    }
}

/// What a refused form comes to: the page again with the problems, and nothing changed.
fn refused<P: IntoResponse>(page: P) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

fn store_refusal(e: StoreError) -> Result<Vec<String>, WebError> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => Ok(vec![m]),
        other => Err(other.into()),
    }
}

// ---- hamlets -------------------------------------------------------------------------------

/// A hamlet as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HamletJson {
    pub id: i64,
    #[serde(flatten)]
    #[schema(inline, value_type = Object)]
    pub input: HamletInput,
}

fn hamlet_json(h: Hamlet) -> HamletJson {
    HamletJson { id: h.id, input: h.input }
}

fn clean_hamlets(list: &[HamletInput]) -> Result<Vec<HamletInput>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for h in list {
        match h.cleaned() {
            Ok(h) => out.push(h),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A commune's hamlets and their teams.
#[utoipa::path(get, path = "/api/v1/units/{code}/hamlets", params(("code" = String, Path)),
    responses((status = 200, body = [HamletJson]), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_hamlets(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
) -> Result<Json<Vec<HamletJson>>, ApiError> {
    commune_only(&unit)?;
    Ok(Json(state.store.hamlets_of(unit.id).await?.into_iter().map(hamlet_json).collect()))
}

/// Adds hamlets (with their teams) to a commune: all or none.
#[utoipa::path(post, path = "/api/v1/units/{code}/hamlets", request_body(content = Vec<Object>), params(("code" = String, Path)),
    responses((status = 201, body = [HamletJson]), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_hamlets(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(list): Json<Vec<HamletInput>>,
) -> Result<Response, ApiError> {
    commune_only(&unit)?;
    let list = match clean_hamlets(&list) {
        Ok(l) => l,
        Err(p) => return Ok(unprocessable(p)),
    };
    if let Err(e) = state.store.add_hamlets(&user.actor(), unit.id, &list).await {
        return Ok(unprocessable(store_refusal(e)?));
    }
    let all = state.store.hamlets_of(unit.id).await?;
    let added: Vec<HamletJson> =
        all.into_iter().filter(|h| list.iter().any(|n| n.name == h.input.name)).map(hamlet_json).collect();
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn hamlet_in(state: &AppState, unit: &Unit, id: i64) -> Result<Hamlet, WebError> {
    state
        .store
        .hamlet(id)
        .await?
        .filter(|h| h.unit_id == unit.id)
        .ok_or_else(|| WebError::NotFound(format!("không có ấp, khu phố #{id}")))
}

/// Changes a hamlet's name, kind or team.
#[utoipa::path(put, path = "/api/v1/units/{code}/hamlets/{id}", request_body(content = Object), params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = HamletJson), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_update_hamlet(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(input): Json<HamletInput>,
) -> Result<Response, ApiError> {
    hamlet_in(&state, &unit, id).await?;
    let input = match input.cleaned() {
        Ok(i) => i,
        Err(p) => return Ok(unprocessable(p)),
    };
    match state.store.update_hamlet(&user.actor(), id, &input).await {
        Ok(h) => Ok(Json(hamlet_json(h)).into_response()),
        Err(e) => Ok(unprocessable(store_refusal(e)?)),
    }
}

pub struct HamletRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub leader: String,
    pub deputies: String,
    pub members: String,
    pub decision: String,
    pub formed_on: String,
    pub formed_iso: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/hamlets.html")]
pub struct HamletsPage {
    layout: Layout,
    action: String,
    unit_name: String,
    unit_base: String,
    /// `?on=…` naming the unit when it no longer exists today (empty otherwise).
    unit_q: String,
    rows: Vec<HamletRow>,
    with_team: usize,
    kinds: Vec<&'static str>,
    csv_header: String,
    editable: bool,
    today: String,
    problems: Vec<String>,
    message: String,
}

async fn hamlets_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
    message: String,
) -> Result<HamletsPage, WebError> {
    commune_only(unit)?;
    let lang = ctx.lang;
    let path = format!("/units/{}/hamlets", unit.code);
    let hamlets = state.store.hamlets_of(unit.id).await?;
    Ok(HamletsPage {
        layout: Layout::new(ctx, &format!("{} · {}", lang.t("hamlets-title"), unit.name), &path),
        action: path,
        unit_name: unit.name.clone(),
        unit_base: format!("/units/{}", unit.code),
        unit_q: crate::shell::unit_query(unit),
        with_team: hamlets.iter().filter(|h| h.input.team.is_some()).count(),
        rows: hamlets
            .into_iter()
            .map(|h| {
                let t = h.input.team.as_ref();
                HamletRow {
                    id: h.id,
                    leader: t.map(|t| t.leader.clone()).unwrap_or_default(),
                    deputies: t.map(|t| t.deputies.join("; ")).unwrap_or_default(),
                    members: t.map(|t| t.member_count.to_string()).unwrap_or_default(),
                    decision: t.and_then(|t| t.decision.clone()).unwrap_or_default(),
                    formed_on: t.map(|t| lang.date(t.formed_on)).unwrap_or_default(),
                    formed_iso: t.map(|t| t.formed_on.to_string()).unwrap_or_default(),
                    name: h.input.name,
                    kind: h.input.kind,
                }
            })
            .collect(),
        kinds: UnitLevel::Hamlet.kinds().to_vec(),
        csv_header: danvan_domain::community::HAMLET_CSV_HEADER.join(","),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        today: today().to_string(),
        problems,
        message,
    })
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    pub done: Option<String>,
    pub year: Option<String>,
    pub on: Option<String>,
}

pub async fn hamlets(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<HamletsPage, PageError> {
    let message = done_message(ctx.lang, "hamlets", q.done.as_deref());
    hamlets_page(&state, &ctx, &user, &unit, Vec::new(), message).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct HamletForm {
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub deputies: String,
    #[serde(default)]
    pub member_count: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub formed_on: String,
}

impl HamletForm {
    /// The hamlet as typed; a team only when a leader is named.
    fn input(&self) -> Result<HamletInput, Vec<String>> {
        let mut problems = Vec::new();
        let team = if text::clean(&self.leader).is_empty() {
            None
        } else {
            let count = self.member_count.trim().parse::<u32>();
            if count.is_err() {
                problems.push(format!("số thành viên \"{}\" không phải số nguyên", self.member_count.trim()));
            }
            let formed = parse_date(&self.formed_on);
            if formed.is_none() {
                problems.push(format!("ngày thành lập \"{}\" không hợp lệ", self.formed_on.trim()));
            }
            Some(TeamInput {
                leader: self.leader.clone(),
                deputies: self.deputies.split([';', '\n']).map(str::to_string).collect(),
                member_count: count.unwrap_or(0),
                decision: Some(self.decision.clone()),
                formed_on: formed.unwrap_or_default(),
            })
        };
        let input = HamletInput { name: self.name.clone(), kind: self.kind.clone(), team };
        match input.cleaned() {
            Ok(i) if problems.is_empty() => Ok(i),
            Ok(_) => Err(problems),
            Err(p) => {
                problems.extend(p);
                Err(problems)
            }
        }
    }
}

async fn hamlets_refused(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
) -> Result<Response, PageError> {
    let page = hamlets_page(state, ctx, user, unit, problems, String::new()).await.in_lang(ctx.lang)?;
    Ok(refused(page))
}

pub async fn add_hamlet(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<HamletForm>,
) -> Result<Response, PageError> {
    commune_only(&unit).in_lang(ctx.lang)?;
    let input = match form.input() {
        Ok(i) => i,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.add_hamlets(&user.actor(), unit.id, &[input]).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=added", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}

pub async fn update_hamlet(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Form(form): Form<HamletForm>,
) -> Result<Response, PageError> {
    hamlet_in(&state, &unit, id).await.in_lang(ctx.lang)?;
    let input = match form.input() {
        Ok(i) => i,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.update_hamlet(&user.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=updated", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}

/// Imports a hamlet list (CSV, multipart field `file`): every line checked, all or none.
pub async fn import_hamlets(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    multipart: Multipart,
) -> Result<Response, PageError> {
    commune_only(&unit).in_lang(ctx.lang)?;
    let too_big = || WebError::PayloadTooLarge(format!("tệp lớn quá {} KB", MAX_CSV_BYTES / 1024));
    let upload = read_multipart(multipart, too_big).await.in_lang(ctx.lang)?;
    let bytes = upload.file.map(|(_, b)| b).unwrap_or_default();
    if bytes.is_empty() {
        return hamlets_refused(&state, &ctx, &user, &unit, vec!["hãy chọn tệp CSV".into()]).await;
    }
    let list = match parse_hamlet_csv(&bytes) {
        Ok(l) => l,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.add_hamlets(&user.actor(), unit.id, &list).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=imported", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}

// ---- meetings ------------------------------------------------------------------------------

/// A meeting as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingJson {
    pub id: i64,
    #[serde(flatten)]
    #[schema(inline, value_type = Object)]
    pub input: MeetingInput,
    #[schema(value_type = Vec<Object>)]
    pub conclusions: Vec<danvan_store::Conclusion>,
}

/// The stored conclusions (with their ids) stand for the ones given: the key appears once.
fn meeting_json(m: Meeting) -> MeetingJson {
    let input = MeetingInput { conclusions: Vec::new(), ..m.input };
    MeetingJson { id: m.id, input, conclusions: m.conclusions }
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    )
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
#[utoipa::path(get, path = "/api/v1/units/{code}/meetings", params(("code" = String, Path), ("year" = Option<i32>, Query)),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_meetings(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<Json<Vec<MeetingSummary>>, ApiError> {
    commune_only(&unit)?;
    let (from, to) = year_bounds(year_of(q.year.as_deref())?);
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
#[utoipa::path(post, path = "/api/v1/units/{code}/meetings", request_body(content = Object), params(("code" = String, Path)),
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

// ---- a province's organisations and settings -----------------------------------------------

fn province_only(unit: &Unit) -> Result<(), WebError> {
    if unit.level == UnitLevel::Province {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("{} không phải cấp tỉnh: danh sách tổ chức đặt theo tỉnh", unit.name)))
    }
}

/// A province's settings for the bloc's work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProvinceSettings {
    /// The member organisations offered: the standard list, then the province's own.
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Days a commune has to answer a citizen's feedback.
    pub feedback_answer_days: u32,
}

/// A province's member organisations and feedback deadline.
#[utoipa::path(get, path = "/api/v1/units/{code}/organisations", params(("code" = String, Path)),
    responses((status = 200, body = ProvinceSettings), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_settings(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
) -> Result<Json<ProvinceSettings>, ApiError> {
    province_only(&unit)?;
    Ok(Json(ProvinceSettings {
        organisations: state.store.organisations(Some(unit.id)).await?,
        feedback_answer_days: state.store.feedback_answer_days(Some(unit.id)).await?,
    }))
}

/// An organisation to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrganisationBody {
    pub name: String,
}

fn organisation_name(raw: &str) -> Result<String, Vec<String>> {
    let name = text::clean(raw);
    if name.is_empty() || name.chars().count() > 100 {
        Err(vec!["cần ghi tên tổ chức (tối đa 100 ký tự)".into()])
    } else {
        Ok(name)
    }
}

/// Adds an organisation to a province's list.
#[utoipa::path(post, path = "/api/v1/units/{code}/organisations", request_body = OrganisationBody, params(("code" = String, Path)),
    responses((status = 201, body = ProvinceSettings), (status = 422, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_organisation(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(body): Json<OrganisationBody>,
) -> Result<Response, ApiError> {
    province_only(&unit)?;
    let name = match organisation_name(&body.name) {
        Ok(n) => n,
        Err(p) => return Ok(unprocessable(p)),
    };
    if let Err(e) = state.store.add_organisation(&user.actor(), unit.id, &name).await {
        return Ok(unprocessable(store_refusal(e)?));
    }
    let settings = api_settings(AxState(state), ScopedUnit(unit)).await?;
    Ok((StatusCode::CREATED, settings).into_response())
}

/// Sets a province's feedback deadline (1 to 365 days).
#[utoipa::path(put, path = "/api/v1/units/{code}/organisations", request_body = ProvinceSettings, params(("code" = String, Path)),
    responses((status = 200, body = ProvinceSettings), (status = 422, body = ErrorBody)), tag = "bloc")]
pub async fn api_put_settings(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(body): Json<ProvinceSettings>,
) -> Result<Response, ApiError> {
    province_only(&unit)?;
    if let Err(e) =
        state.store.set_feedback_answer_days(&user.actor(), unit.id, body.feedback_answer_days).await
    {
        return Ok(unprocessable(store_refusal(e)?));
    }
    Ok(api_settings(AxState(state), ScopedUnit(unit)).await?.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "community/organisations.html")]
pub struct OrganisationsPage {
    layout: Layout,
    action: String,
    unit_name: String,
    standard: Vec<&'static str>,
    own: Vec<String>,
    days: u32,
    editable: bool,
    problems: Vec<String>,
    message: String,
}

async fn organisations_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
    message: String,
) -> Result<OrganisationsPage, WebError> {
    province_only(unit)?;
    let path = format!("/units/{}/organisations", unit.code);
    let all = state.store.organisations(Some(unit.id)).await?;
    let standard = danvan_domain::bloc::STANDARD_ORGANISATIONS.to_vec();
    Ok(OrganisationsPage {
        layout: Layout::new(ctx, &format!("{} · {}", ctx.lang.t("organisations-title"), unit.name), &path),
        action: path,
        unit_name: unit.name.clone(),
        own: all.into_iter().filter(|o| !standard.contains(&o.as_str())).collect(),
        standard,
        days: state.store.feedback_answer_days(Some(unit.id)).await?,
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
    })
}

pub async fn organisations(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<OrganisationsPage, PageError> {
    let message = done_message(ctx.lang, "organisations", q.done.as_deref());
    organisations_page(&state, &ctx, &user, &unit, Vec::new(), message).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub days: Option<String>,
}

/// Adds an organisation (`name`) or sets the feedback deadline (`days`).
pub async fn update_organisations(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    province_only(&unit).in_lang(lang)?;
    let outcome = match (form.name.as_deref(), form.days.as_deref()) {
        (Some(name), _) => match organisation_name(name) {
            Ok(name) => state.store.add_organisation(&user.actor(), unit.id, &name).await.map(|_| "added"),
            Err(p) => Err(StoreError::Invalid(p.join("; "))),
        },
        (None, Some(days)) => match days.trim().parse::<u32>() {
            Ok(d) => state.store.set_feedback_answer_days(&user.actor(), unit.id, d).await.map(|_| "days"),
            Err(_) => Err(StoreError::Invalid(format!("số ngày \"{}\" không hợp lệ", days.trim()))),
        },
        (None, None) => Err(StoreError::Invalid("không có gì để lưu".into())),
    };
    match outcome {
        Ok(done) => {
            Ok(Redirect::to(&format!("/units/{}/organisations?done={done}", unit.code)).into_response())
        }
        Err(e) => {
            let p = store_refusal(e).in_lang(lang)?;
            let page =
                organisations_page(&state, &ctx, &user, &unit, p, String::new()).await.in_lang(lang)?;
            Ok(refused(page))
        }
    }
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/units/{code}/hamlets", Access::Unit(Action::Read), hamlets)
        .post("/units/{code}/hamlets", Access::Unit(Action::Edit), add_hamlet)
        .post("/units/{code}/hamlets/{id}", Access::Unit(Action::Edit), update_hamlet)
        .add_limited(
            Method::POST,
            "/units/{code}/hamlets/import",
            Access::Unit(Action::Edit),
            import_hamlets,
            MAX_CSV_BYTES + 16 * 1024,
        )
        .get("/api/v1/units/{code}/hamlets", Access::Unit(Action::Read), api_hamlets)
        .post("/api/v1/units/{code}/hamlets", Access::Unit(Action::Edit), api_add_hamlets)
        .put("/api/v1/units/{code}/hamlets/{id}", Access::Unit(Action::Edit), api_update_hamlet)
        .get("/units/{code}/meetings", Access::Unit(Action::Read), meetings)
        .post("/units/{code}/meetings", Access::Unit(Action::Edit), add_meeting)
        .get("/units/{code}/meetings/{id}", Access::Unit(Action::Read), show_meeting)
        .post(
            "/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Access::Unit(Action::Edit),
            conclusion_to_activity,
        )
        .get("/api/v1/units/{code}/meetings", Access::Unit(Action::Read), api_meetings)
        .post("/api/v1/units/{code}/meetings", Access::Unit(Action::Edit), api_add_meeting)
        .get("/api/v1/units/{code}/meetings/{id}", Access::Unit(Action::Read), api_meeting)
        .post(
            "/api/v1/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Access::Unit(Action::Edit),
            api_conclusion_activity,
        )
        // A province's member organisations and feedback deadline.
        .get("/units/{code}/organisations", Access::Unit(Action::Read), organisations)
        .post("/units/{code}/organisations", Access::Unit(Action::Edit), update_organisations)
        .get("/api/v1/units/{code}/organisations", Access::Unit(Action::Read), api_settings)
        .post("/api/v1/units/{code}/organisations", Access::Unit(Action::Edit), api_add_organisation)
        .put("/api/v1/units/{code}/organisations", Access::Unit(Action::Edit), api_put_settings)
}
