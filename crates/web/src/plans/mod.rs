//! Implementation plans: the activities API, the plan page (filters, an SVG timeline, adding
//! and carrying over activities), an activity's page (edit, status, progress notes), and the
//! district's view of its communes' roadmaps and overdue activities.

pub mod sheet;

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use danvan_domain::access::Action;
use danvan_domain::plan::{is_overdue, ActivityInput, ActivityStatus};
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_store::{Activity, StoredScheme};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::Access;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::{find_scheme, Layout, PageCtx};
use crate::shell::{today, unprocessable};

/// The standard member organisations of a commune's bloc, offered when typing.
pub use danvan_domain::bloc::STANDARD_ORGANISATIONS as ORGANISATIONS;

pub(crate) async fn scheme_and_year(
    state: &AppState,
    scheme: &str,
    year: i32,
) -> Result<StoredScheme, WebError> {
    let scheme = find_scheme(state, scheme).await?;
    if year < scheme.def.first_year || year > scheme.def.last_year {
        return Err(WebError::BadRequest(format!(
            "năm {year} nằm ngoài thời gian đề án {}-{}",
            scheme.def.first_year, scheme.def.last_year
        )));
    }
    Ok(scheme)
}

/// The activity of the URL: it must belong to the scheme and the unit of the path.
async fn activity_in(
    state: &AppState,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
) -> Result<Activity, WebError> {
    state
        .store
        .activity(id)
        .await?
        .filter(|a| a.unit_id == unit.id && a.scheme_id == scheme.id)
        .ok_or_else(|| WebError::NotFound(format!("không có hoạt động #{id}")))
}

/// An activity as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivityJson {
    pub id: i64,
    pub year: i32,
    pub version: i64,
    pub title: String,
    pub description: String,
    pub targets: Vec<String>,
    pub lead_org: String,
    pub supporting_orgs: Vec<String>,
    pub responsible: String,
    pub start: NaiveDate,
    pub due: NaiveDate,
    /// not_started, in_progress, done or cancelled.
    pub status: String,
    pub cancel_reason: Option<String>,
    pub overdue: bool,
}

fn activity_json(a: &Activity) -> ActivityJson {
    ActivityJson {
        id: a.id,
        year: a.year,
        version: a.version,
        title: a.input.title.clone(),
        description: a.input.description.clone(),
        targets: a.input.targets.clone(),
        lead_org: a.input.lead_org.clone(),
        supporting_orgs: a.input.supporting_orgs.clone(),
        responsible: a.input.responsible.clone(),
        start: a.input.start,
        due: a.input.due,
        status: a.status.as_str().into(),
        cancel_reason: a.cancel_reason.clone(),
        overdue: is_overdue(a.status, a.input.due, today()),
    }
}

/// An activity to create or change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityBody {
    /// For a change: the version the editor started from.
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(flatten)]
    #[schema(inline, value_type = Object)]
    pub input: ActivityInput,
}

/// A unit's activities for a year.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/plan/{year}",
    params(("scheme" = String, Path), ("code" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = [ActivityJson]), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_list(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
) -> Result<Json<Vec<ActivityJson>>, ApiError> {
    let scheme = scheme_and_year(&state, &scheme, year).await?;
    let list = state.store.activities_of(scheme.id, unit.id, year).await?;
    Ok(Json(list.iter().map(activity_json).collect()))
}

/// Adds an activity to a unit's plan for a year.
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/plan/{year}", request_body = ActivityBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("year" = i32, Path)),
    responses((status = 201, body = ActivityJson), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_create(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
    Json(body): Json<ActivityBody>,
) -> Result<Response, ApiError> {
    let scheme = scheme_and_year(&state, &scheme, year).await?;
    let input = match body.input.cleaned(&scheme.def, year) {
        Ok(i) => i,
        Err(problems) => return Ok(unprocessable(problems)),
    };
    let a = state.store.create_activity(&user.actor(), scheme.id, unit.id, year, &input).await?;
    Ok((StatusCode::CREATED, Json(activity_json(&a))).into_response())
}

/// One activity.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ActivityJson), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_get(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
) -> Result<Json<ActivityJson>, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    Ok(Json(activity_json(&activity_in(&state, &scheme, &unit, id).await?)))
}

/// Changes an activity; a stale `version` answers 409.
#[utoipa::path(put, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}", request_body = ActivityBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ActivityJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_update(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Json(body): Json<ActivityBody>,
) -> Result<Response, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    let a = activity_in(&state, &scheme, &unit, id).await?;
    let input = match body.input.cleaned(&scheme.def, a.year) {
        Ok(i) => i,
        Err(problems) => return Ok(unprocessable(problems)),
    };
    let version = body.version.unwrap_or(a.version);
    let a = state.store.update_activity(&user.actor(), id, version, &input).await?;
    Ok(Json(activity_json(&a)).into_response())
}

/// Removes an activity (kept in the audit log).
#[utoipa::path(delete, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_delete(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
) -> Result<StatusCode, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    activity_in(&state, &scheme, &unit, id).await?;
    state.store.delete_activity(&user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusBody {
    /// not_started, in_progress, done or cancelled.
    pub status: String,
    /// Required to cancel.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

fn parse_status(s: &str) -> Result<ActivityStatus, WebError> {
    ActivityStatus::parse(s.trim()).ok_or_else(|| {
        WebError::BadRequest(format!(
            "trạng thái \"{s}\" không hợp lệ (not_started, in_progress, done, cancelled)"
        ))
    })
}

/// Sets an activity's status; cancelling needs a reason.
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/status", request_body = StatusBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ActivityJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_status(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Json(body): Json<StatusBody>,
) -> Result<Response, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    activity_in(&state, &scheme, &unit, id).await?;
    let status = parse_status(&body.status)?;
    let reason = body.reason.as_deref().map(text::clean);
    match state.store.set_activity_status(&user.actor(), id, body.version, status, reason.as_deref()).await {
        Ok(a) => Ok(Json(activity_json(&a)).into_response()),
        Err(danvan_store::StoreError::Invalid(m)) => Ok(unprocessable(vec![m])),
        Err(e) => Err(WebError::from(e).into()),
    }
}

/// A progress note.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    pub on: NaiveDate,
    pub text: String,
}

/// Adds a dated progress note to an activity.
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/notes", request_body = NoteBody,
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 201), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_note(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Json(body): Json<NoteBody>,
) -> Result<Response, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    activity_in(&state, &scheme, &unit, id).await?;
    match danvan_domain::period::check_day("ngày ghi", body.on).and_then(|_| note_text(&body.text)) {
        Ok(t) => {
            let n = state.store.add_activity_note(&user.actor(), id, body.on, &t).await?;
            Ok((StatusCode::CREATED, Json(n)).into_response())
        }
        Err(m) => Ok(unprocessable(vec![m])),
    }
}

fn note_text(raw: &str) -> Result<String, String> {
    let t = text::clean_multiline(raw);
    if t.is_empty() {
        return Err("cần ghi nội dung tiến độ".into());
    }
    if t.chars().count() > 2_000 {
        return Err("ghi chú tiến độ dài quá 2000 ký tự".into());
    }
    Ok(t)
}

// ---- pages ---------------------------------------------------------------------------------

pub struct ActivityRow {
    pub href: String,
    pub title: String,
    pub targets: String,
    pub lead_org: String,
    pub dates: String,
    pub status: String,
    pub status_class: &'static str,
    pub overdue: bool,
}

#[derive(Deserialize, Default)]
pub struct PlanFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub overdue: String,
    pub done: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/plan.html")]
pub struct PlanPage {
    layout: Layout,
    action: String,
    unit_name: String,
    scheme_title: String,
    year: i32,
    years: Vec<(i32, String)>,
    rows: Vec<ActivityRow>,
    total: usize,
    timeline: String,
    filter: PlanFilter,
    statuses: Vec<(&'static str, String)>,
    orgs: Vec<String>,
    targets: Vec<(String, String)>,
    editable: bool,
    problems: Vec<String>,
    message: String,
    form: ActivityForm,
    roadmap_href: String,
}

/// What the add/edit form shows.
#[derive(Default)]
pub struct ActivityForm {
    pub title: String,
    pub description: String,
    pub targets: Vec<String>,
    pub lead_org: String,
    pub supporting_orgs: String,
    pub responsible: String,
    pub start: String,
    pub due: String,
}

impl ActivityForm {
    fn of(i: &ActivityInput) -> Self {
        Self {
            title: i.title.clone(),
            description: i.description.clone(),
            targets: i.targets.clone(),
            lead_org: i.lead_org.clone(),
            supporting_orgs: i.supporting_orgs.join(", "),
            responsible: i.responsible.clone(),
            start: i.start.to_string(),
            due: i.due.to_string(),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v.clone(),
                "description" => f.description = v.clone(),
                "targets" => f.targets.push(v.clone()),
                "lead_org" => f.lead_org = v.clone(),
                "supporting_orgs" => f.supporting_orgs = v.clone(),
                "responsible" => f.responsible = v.clone(),
                "start" => f.start = v.clone(),
                "due" => f.due = v.clone(),
                _ => {}
            }
        }
        f
    }

    /// The input the form holds, or what is wrong with its dates.
    fn input(&self) -> Result<ActivityInput, Vec<String>> {
        let date = |label: &str, s: &str| {
            parse_date(s)
                .ok_or_else(|| format!("{label} \"{}\" không phải ngày hợp lệ (ngày/tháng/năm)", s.trim()))
        };
        let (start, due) = (date("ngày bắt đầu", &self.start), date("hạn hoàn thành", &self.due));
        match (start, due) {
            (Ok(start), Ok(due)) => Ok(ActivityInput {
                title: self.title.clone(),
                description: self.description.clone(),
                targets: self.targets.clone(),
                lead_org: self.lead_org.clone(),
                supporting_orgs: self.supporting_orgs.split([',', ';']).map(str::to_string).collect(),
                responsible: self.responsible.clone(),
                start,
                due,
            }),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }
}

/// A date as a date input sends it (2018-03-01) or as people write it (1/3/2018).
pub use danvan_domain::period::parse_day as parse_date;

fn status_label(lang: Lang, s: ActivityStatus) -> String {
    lang.t(&format!("activity-{}", s.as_str()))
}

#[allow(clippy::too_many_arguments)]
async fn plan_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    year: i32,
    filter: PlanFilter,
    form: ActivityForm,
    problems: Vec<String>,
) -> Result<PlanPage, WebError> {
    let lang = ctx.lang;
    let base = format!("/schemes/{}/units/{}", scheme.def.code, unit.code);
    let all = state.store.activities_of(scheme.id, unit.id, year).await?;
    let now = today();
    let shown: Vec<&Activity> = all
        .iter()
        .filter(|a| filter.status.is_empty() || a.status.as_str() == filter.status)
        .filter(|a| {
            filter.org.is_empty()
                || a.input.lead_org == filter.org
                || a.input.supporting_orgs.contains(&filter.org)
        })
        .filter(|a| filter.target.is_empty() || a.input.targets.contains(&filter.target))
        .filter(|a| filter.overdue.is_empty() || is_overdue(a.status, a.input.due, now))
        .collect();
    let months: [String; 12] =
        std::array::from_fn(|i| lang.t_args("month-short", &[("month", (i + 1).to_string())]));
    let month_refs: [&str; 12] = std::array::from_fn(|i| months[i].as_str());
    let hrefs: Vec<String> = shown.iter().map(|a| format!("{base}/activities/{}", a.id)).collect();
    let bars: Vec<danvan_report::timeline::Bar<'_>> = shown
        .iter()
        .zip(&hrefs)
        .map(|(a, href)| danvan_report::timeline::Bar {
            label: &a.input.title,
            start: a.input.start,
            due: a.input.due,
            status: a.status.as_str(),
            overdue: is_overdue(a.status, a.input.due, now),
            href,
        })
        .collect();
    let timeline = danvan_report::timeline::timeline(year, &bars, now, &month_refs);
    let mut orgs: Vec<String> = ORGANISATIONS.iter().map(|s| s.to_string()).collect();
    for a in &all {
        for o in std::iter::once(&a.input.lead_org).chain(&a.input.supporting_orgs) {
            if !orgs.contains(o) {
                orgs.push(o.clone());
            }
        }
    }
    let rows = shown
        .iter()
        .zip(hrefs)
        .map(|(a, href)| ActivityRow {
            href,
            title: a.input.title.clone(),
            targets: a.input.targets.join(", "),
            lead_org: a.input.lead_org.clone(),
            dates: format!("{} – {}", lang.date(a.input.start), lang.date(a.input.due)),
            status: status_label(lang, a.status),
            status_class: a.status.as_str(),
            overdue: is_overdue(a.status, a.input.due, now),
        })
        .collect();
    let message = filter.done.as_deref().map(|d| lang.t(&format!("plan-done-{d}"))).unwrap_or_default();
    Ok(PlanPage {
        layout: Layout::new(ctx, &format!("{} {year}", lang.t("plan-title")), &format!("{base}/plan/{year}")),
        action: format!("{base}/plan/{year}"),
        unit_name: unit.name.clone(),
        scheme_title: scheme.def.title.clone(),
        year,
        years: scheme.def.years().map(|y| (y, format!("{base}/plan/{y}"))).collect(),
        total: all.len(),
        rows,
        timeline,
        statuses: ActivityStatus::ALL.iter().map(|s| (s.as_str(), status_label(lang, *s))).collect(),
        orgs,
        targets: scheme.def.targets.iter().map(|t| (t.code.clone(), t.name.clone())).collect(),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
        form,
        filter,
        roadmap_href: format!("{base}/roadmap"),
    })
}

pub async fn show_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
    Query(filter): Query<PlanFilter>,
) -> Result<PlanPage, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let form = ActivityForm {
        start: NaiveDate::from_ymd_opt(year, 1, 1).map(|d| d.to_string()).unwrap_or_default(),
        due: NaiveDate::from_ymd_opt(year, 12, 31).map(|d| d.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    plan_page(&state, &ctx, &user, &scheme, &unit, year, filter, form, Vec::new()).await.in_lang(lang)
}

pub async fn add_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let form = ActivityForm::read(&pairs);
    match form.input().and_then(|i| i.cleaned(&scheme.def, year)) {
        Ok(input) => {
            state
                .store
                .create_activity(&user.actor(), scheme.id, unit.id, year, &input)
                .await
                .in_lang(lang)?;
            Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{year}?done=added", scheme.def.code))
                .into_response())
        }
        Err(problems) => {
            let page =
                plan_page(&state, &ctx, &user, &scheme, &unit, year, PlanFilter::default(), form, problems)
                    .await
                    .in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// "Copy last year's plan": carries over last year's unfinished activities.
pub async fn copy_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let n = state.store.copy_unfinished(&user.actor(), scheme.id, unit.id, year).await.in_lang(lang)?;
    let done = if n == 0 { "copied-none" } else { "copied" };
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{year}?done={done}", scheme.def.code))
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/activity.html")]
pub struct ActivityPage {
    layout: Layout,
    action: String,
    plan_href: String,
    unit_name: String,
    version: i64,
    status: String,
    status_class: &'static str,
    overdue: bool,
    cancel_reason: String,
    form: ActivityForm,
    statuses: Vec<(&'static str, String)>,
    orgs: Vec<&'static str>,
    targets: Vec<(String, String)>,
    notes: Vec<(String, String)>,
    /// (name, size, href) of each evidence file.
    files: Vec<(String, String, String)>,
    today: String,
    editable: bool,
    problems: Vec<String>,
    message: String,
}

#[allow(clippy::too_many_arguments)]
async fn activity_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    a: &Activity,
    form: Option<ActivityForm>,
    problems: Vec<String>,
    message: String,
) -> Result<ActivityPage, WebError> {
    let lang = ctx.lang;
    let base = format!("/schemes/{}/units/{}", scheme.def.code, unit.code);
    let notes = state.store.activity_notes(a.id).await?;
    Ok(ActivityPage {
        layout: Layout::new(ctx, &a.input.title, &format!("{base}/activities/{}", a.id)),
        action: format!("{base}/activities/{}", a.id),
        plan_href: format!("{base}/plan/{}", a.year),
        unit_name: unit.name.clone(),
        version: a.version,
        status: status_label(lang, a.status),
        status_class: a.status.as_str(),
        overdue: is_overdue(a.status, a.input.due, today()),
        cancel_reason: a.cancel_reason.clone().unwrap_or_default(),
        form: form.unwrap_or_else(|| ActivityForm::of(&a.input)),
        statuses: ActivityStatus::ALL.iter().map(|s| (s.as_str(), status_label(lang, *s))).collect(),
        orgs: ORGANISATIONS.to_vec(),
        targets: scheme.def.targets.iter().map(|t| (t.code.clone(), t.name.clone())).collect(),
        notes: notes.into_iter().map(|n| (lang.date(n.on_date), n.text)).collect(),
        files: state
            .store
            .activity_files(a.id)
            .await?
            .into_iter()
            .map(|f| {
                let kb = danvan_domain::scheme::format_number((f.size as f64 / 1024.0).ceil());
                (f.filename, format!("{kb} KB"), format!("{base}/activities/{}/files/{}", a.id, f.id))
            })
            .collect(),
        today: today().to_string(),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
    })
}

pub async fn show_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Query(q): Query<crate::shell::MessageQuery>,
) -> Result<ActivityPage, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let message = q.done.map(|d| lang.t(&format!("plan-done-{d}"))).unwrap_or_default();
    activity_page(&state, &ctx, &user, &scheme, &unit, &a, None, Vec::new(), message).await.in_lang(lang)
}

/// What an activity form post came to: back to the activity, or its page again with why not.
async fn after(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
    result: Result<&'static str, (Vec<String>, Option<ActivityForm>)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    match result {
        Ok(done) => Ok(Redirect::to(&format!(
            "/schemes/{}/units/{}/activities/{id}?done={done}",
            scheme.def.code, unit.code
        ))
        .into_response()),
        Err((problems, form)) => {
            let a = activity_in(state, scheme, unit, id).await.in_lang(lang)?;
            let page = activity_page(state, ctx, user, scheme, unit, &a, form, problems, String::new())
                .await
                .in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

fn refusal(e: danvan_store::StoreError) -> Result<Vec<String>, WebError> {
    match e {
        danvan_store::StoreError::Invalid(m) | danvan_store::StoreError::Conflict(m) => Ok(vec![m]),
        other => Err(other.into()),
    }
}

pub async fn update_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let form = ActivityForm::read(&pairs);
    let version = pairs.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.parse().ok()).unwrap_or(-1);
    let result = match form.input().and_then(|i| i.cleaned(&scheme.def, a.year)) {
        Ok(input) => match state.store.update_activity(&user.actor(), id, version, &input).await {
            Ok(_) => Ok("updated"),
            Err(e) => Err((refusal(e).in_lang(lang)?, Some(form))),
        },
        Err(problems) => Err((problems, Some(form))),
    };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    pub status: String,
    #[serde(default)]
    pub reason: String,
    pub version: Option<i64>,
}

pub async fn change_status(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let status = parse_status(&form.status).in_lang(lang)?;
    let reason = text::clean(&form.reason);
    let result =
        match state.store.set_activity_status(&user.actor(), id, form.version, status, Some(&reason)).await {
            Ok(_) => Ok("status"),
            Err(e) => Err((refusal(e).in_lang(lang)?, None)),
        };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    pub on: String,
    pub text: String,
}

pub async fn add_note(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let on = parse_date(&form.on).ok_or_else(|| format!("ngày \"{}\" không hợp lệ", form.on.trim()));
    let result = match (on, note_text(&form.text)) {
        (Ok(on), Ok(text)) => {
            state.store.add_activity_note(&user.actor(), id, on, &text).await.in_lang(lang)?;
            Ok("noted")
        }
        (a, b) => Err(([a.err(), b.err()].into_iter().flatten().collect(), None)),
    };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

pub async fn delete_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    state.store.delete_activity(&user.actor(), id).await.in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{}?done=deleted", scheme.def.code, a.year))
        .into_response())
}

// ---- the district's view -------------------------------------------------------------------

pub struct UnitRoadmapRow {
    pub name: String,
    pub href: String,
    pub plan_href: String,
    pub state: String,
    pub state_class: String,
    pub in_force: bool,
    pub late: bool,
}

pub struct OverdueRow {
    pub unit: String,
    pub title: String,
    pub href: String,
    pub due: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/roadmaps.html")]
pub struct OverviewPage {
    layout: Layout,
    unit_name: String,
    scheme_title: String,
    rows: Vec<UnitRoadmapRow>,
    counts: Vec<(String, usize)>,
    overdue: Vec<OverdueRow>,
}

/// The roadmaps (submitted, approved, missing) of every unit under this one, and their
/// overdue activities.
pub async fn overview(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code)): Path<(String, String)>,
) -> Result<OverviewPage, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let now = today();
    // The units as they were within the scheme's years (a 2017-2020 scheme: before the reform).
    let year = crate::shell::current_year(&scheme.def);
    let on = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(now).min(now);
    let ids = state.store.units_within(unit.id, scheme.def.applies_to, on).await.in_lang(lang)?;
    let roadmaps: BTreeMap<i64, danvan_store::RoadmapSummary> = state
        .store
        .roadmaps_within(scheme.id, unit.id)
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|r| (r.unit_id, r))
        .collect();
    let mut units: Vec<Unit> = state.store.units_by_ids(&ids).await.in_lang(lang)?.into_values().collect();
    units.sort_by(|a, b| danvan_domain::text::compare_vi(&a.name, &b.name));
    let names: BTreeMap<i64, String> = units.iter().map(|u| (u.id, u.name.clone())).collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let rows = units
        .iter()
        .map(|u| {
            let r = roadmaps.get(&u.id);
            let key = r.map_or("not_started", |r| r.state.as_str());
            let label =
                if r.is_none() { lang.t("roadmaps-missing") } else { lang.t(&format!("review-state-{key}")) };
            *counts.entry(label.clone()).or_default() += 1;
            UnitRoadmapRow {
                name: u.name.clone(),
                href: format!("/schemes/{}/units/{}/roadmap", scheme.def.code, u.code),
                plan_href: format!("/schemes/{}/units/{}/plan/{year}", scheme.def.code, u.code),
                state: if r.is_none() {
                    lang.t("roadmaps-missing")
                } else {
                    lang.t(&format!("review-state-{key}"))
                },
                state_class: key.into(),
                in_force: r.is_some_and(|r| r.in_force),
                late: r.is_some_and(|r| r.late),
            }
        })
        .collect();
    let mut overdue = Vec::new();
    for a in state.store.overdue_within(scheme.id, unit.id, now).await.in_lang(lang)? {
        let Some(u) = units.iter().find(|u| u.id == a.unit_id) else { continue };
        overdue.push(OverdueRow {
            unit: names.get(&a.unit_id).cloned().unwrap_or_default(),
            href: format!("/schemes/{}/units/{}/activities/{}", scheme.def.code, u.code, a.id),
            title: a.input.title.clone(),
            due: lang.date(a.input.due),
            status: status_label(lang, a.status),
        });
    }
    Ok(OverviewPage {
        layout: Layout::new(
            &ctx,
            &lang.t("roadmaps-title"),
            &format!("/schemes/{}/units/{code}/roadmaps", scheme.def.code),
        ),
        unit_name: unit.name,
        scheme_title: scheme.def.title,
        rows,
        counts: counts.into_iter().collect(),
        overdue,
    })
}

// ---- evidence files of an activity ---------------------------------------------------------

/// The most an activity's files may weigh together.
pub const MAX_ACTIVITY_BYTES: i64 = 50 * 1024 * 1024;

/// Uploads an evidence file of an activity (multipart: `file`).
pub async fn upload_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let too_big = || WebError::PayloadTooLarge(lang.t("evidence-too-large"));
    let upload = crate::shell::files::read_multipart(multipart, too_big).await.in_lang(lang)?;
    let Some((name, bytes)) = upload.file else {
        return Err(WebError::BadRequest(lang.t("evidence-missing"))).in_lang(lang);
    };
    let (file, hold) =
        crate::shell::files::keep(&state.files, &state.file_lock, lang, &name, &bytes).await.in_lang(lang)?;
    state.store.add_activity_file(&user.actor(), id, &file, MAX_ACTIVITY_BYTES).await.in_lang(lang)?;
    drop(hold);
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file", scheme.def.code))
        .into_response())
}

async fn file_in(
    state: &AppState,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
    file: i64,
) -> Result<danvan_store::ActivityFile, WebError> {
    activity_in(state, scheme, unit, id).await?;
    state
        .store
        .activity_file(file)
        .await?
        .filter(|f| f.activity_id == id)
        .ok_or_else(|| WebError::NotFound(format!("không có tệp #{file}")))
}

/// Downloads an activity's file: only with its unit in scope, always as an attachment.
pub async fn download_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id, file)): Path<(String, String, i64, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let f = file_in(&state, &scheme, &unit, id, file).await.in_lang(lang)?;
    let bytes = crate::shell::files::read(&state.files, &f.sha256).await.in_lang(lang)?;
    Ok(crate::shell::files::attachment(&f.content_type, &f.filename, bytes))
}

pub async fn delete_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id, file)): Path<(String, String, i64, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let f = file_in(&state, &scheme, &unit, id, file).await.in_lang(lang)?;
    let actor = user.actor();
    crate::shell::files::release(
        &state.files,
        &state.file_lock,
        &f.sha256,
        state.store.remove_activity_file(&actor, f.id),
    )
    .await
    .in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file-deleted", scheme.def.code))
        .into_response())
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/schemes/{scheme}/units/{code}/roadmaps", Access::Unit(Action::Read), overview)
        // Implementation plans.
        .get("/api/v1/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Read), api_list)
        .post("/api/v1/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Edit), api_create)
        .get("/api/v1/schemes/{scheme}/units/{code}/activities/{id}", Access::Unit(Action::Read), api_get)
        .put("/api/v1/schemes/{scheme}/units/{code}/activities/{id}", Access::Unit(Action::Edit), api_update)
        .add(
            Method::DELETE,
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Edit),
            api_delete,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/status",
            Access::Unit(Action::Edit),
            api_status,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/notes",
            Access::Unit(Action::Edit),
            api_note,
        )
        .get("/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Read), show_plan)
        .post("/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Edit), add_activity)
        .post("/schemes/{scheme}/units/{code}/plan/{year}/copy", Access::Unit(Action::Edit), copy_plan)
        .get("/schemes/{scheme}/units/{code}/plan/{year}/xlsx", Access::Unit(Action::Read), sheet::download)
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/plan/{year}/xlsx",
            Access::Unit(Action::Edit),
            sheet::upload,
            crate::shell::files::MAX_TEMPLATE_BYTES + 64 * 1024,
        )
        .post("/schemes/{scheme}/units/{code}/plan/{year}/import", Access::Unit(Action::Edit), sheet::apply)
        .get("/schemes/{scheme}/units/{code}/activities/{id}", Access::Unit(Action::Read), show_activity)
        .post("/schemes/{scheme}/units/{code}/activities/{id}", Access::Unit(Action::Edit), update_activity)
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/status",
            Access::Unit(Action::Edit),
            change_status,
        )
        .post("/schemes/{scheme}/units/{code}/activities/{id}/notes", Access::Unit(Action::Edit), add_note)
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/delete",
            Access::Unit(Action::Edit),
            delete_activity,
        )
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/activities/{id}/files",
            Access::Unit(Action::Edit),
            upload_file,
            danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
        )
        .get(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}",
            Access::Unit(Action::Read),
            download_file,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}/delete",
            Access::Unit(Action::Edit),
            delete_file,
        )
}
