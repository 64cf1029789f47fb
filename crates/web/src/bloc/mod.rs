//! The bloc of a commune: its members as on any date, their history, re-staffing decisions.
//! Phones are shown only here, to signed-in users with the unit in scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use danvan_domain::access::Action;
use danvan_domain::bloc::{BlocRole, MemberInput};
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_store::{Decision, Member};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::Access;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::parse_date;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx};

#[derive(Deserialize, Default)]
pub struct OnQuery {
    /// The day the bloc is shown as it was (today by default).
    pub on: Option<String>,
    pub done: Option<String>,
}

/// A membership as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberJson {
    pub id: i64,
    pub full_name: String,
    pub position: String,
    pub organisation: String,
    /// head, deputy or member.
    pub role: String,
    pub phone: Option<String>,
    pub trained: bool,
    pub trained_on: Option<NaiveDate>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub end_reason: Option<String>,
}

fn member_json(m: &Member) -> MemberJson {
    MemberJson {
        id: m.id,
        full_name: m.input.full_name.clone(),
        position: m.input.position.clone(),
        organisation: m.input.organisation.clone(),
        role: m.input.role.as_str().into(),
        phone: m.input.phone.clone(),
        trained: m.input.trained,
        trained_on: m.input.trained_on,
        from: m.input.from,
        to: m.to,
        end_reason: m.end_reason.clone(),
    }
}

/// The bloc as on a day, and everyone who has served in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BlocJson {
    pub unit: String,
    pub on: NaiveDate,
    pub members: Vec<MemberJson>,
    pub history: Vec<MemberJson>,
}

fn day_of(q: Option<&str>) -> Result<NaiveDate, WebError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today()),
        Some(s) => parse_date(s).ok_or_else(|| WebError::BadRequest(format!("ngày \"{s}\" không hợp lệ"))),
    }
}

/// A commune's bloc as on a day (`?on=2019-06-01`, today by default), with its history.
#[utoipa::path(get, path = "/api/v1/units/{code}/bloc", params(("code" = String, Path), ("on" = Option<chrono::NaiveDate>, Query, pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")),
    responses((status = 200, body = BlocJson), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_bloc(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<OnQuery>,
) -> Result<Json<BlocJson>, ApiError> {
    let on = crate::shell::parse_api_day(q.on.as_deref())?.unwrap_or_else(today);
    let members = state.store.members_on(unit.id, on).await?;
    let history = state.store.members_of(unit.id).await?;
    Ok(Json(BlocJson {
        unit: unit.code,
        on,
        members: members.iter().map(member_json).collect(),
        history: history.iter().map(member_json).collect(),
    }))
}

/// A new membership.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberBody {
    #[serde(flatten)]
    #[schema(inline)]
    pub input: MemberInput,
    /// The re-staffing decision that made it, if any.
    #[serde(default)]
    pub decision_id: Option<i64>,
}

/// Adds a member to a commune's bloc.
#[utoipa::path(post, path = "/api/v1/units/{code}/bloc/members", request_body = MemberBody, params(("code" = String, Path)),
    responses((status = 201, body = MemberJson), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_member(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(body): Json<MemberBody>,
) -> Result<Response, ApiError> {
    let input = match body.input.cleaned() {
        Ok(i) => i,
        Err(p) => return Ok(unprocessable(p)),
    };
    match state.store.add_member(&user.actor(), unit.id, &input, body.decision_id).await {
        Ok(m) => Ok((StatusCode::CREATED, Json(member_json(&m))).into_response()),
        Err(danvan_store::StoreError::Invalid(m)) => Ok(unprocessable(vec![m])),
        Err(e) => Err(WebError::from(e).into()),
    }
}

/// The end of a membership.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EndBody {
    /// The last day of service.
    pub to: NaiveDate,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decision_id: Option<i64>,
}

async fn member_in(state: &AppState, unit: &Unit, id: i64) -> Result<Member, WebError> {
    state
        .store
        .member(id)
        .await?
        .filter(|m| m.unit_id == unit.id)
        .ok_or_else(|| WebError::NotFound(format!("không có thành viên #{id}")))
}

/// Ends a membership; it stays in the bloc's history.
#[utoipa::path(post, path = "/api/v1/units/{code}/bloc/members/{id}/end", request_body = EndBody,
    params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = MemberJson), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_end_member(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(body): Json<EndBody>,
) -> Result<Response, ApiError> {
    member_in(&state, &unit, id).await?;
    if let Err(e) = danvan_domain::period::check_day("ngày thôi", body.to) {
        return Ok(unprocessable(vec![e]));
    }
    let reason = body.reason.as_deref().map(text::clean).filter(|r| !r.is_empty());
    match state.store.end_member(&user.actor(), id, body.to, reason.as_deref(), body.decision_id).await {
        Ok(m) => Ok(Json(member_json(&m)).into_response()),
        Err(danvan_store::StoreError::Invalid(m)) => Ok(unprocessable(vec![m])),
        Err(e) => Err(WebError::from(e).into()),
    }
}

// ---- the page ------------------------------------------------------------------------------

pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub position: String,
    pub organisation: String,
    pub role: String,
    pub phone: String,
    pub trained: String,
    pub served: String,
    pub ended: bool,
    pub end_reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "bloc/bloc.html")]
pub struct BlocPage {
    layout: Layout,
    action: String,
    unit_base: String,
    /// `?on=…` naming the unit when it no longer exists today (empty otherwise).
    unit_q: String,
    unit_name: String,
    on: String,
    on_label: String,
    current: Vec<MemberRow>,
    history: Vec<MemberRow>,
    decisions: Vec<(i64, String)>,
    organisations: Vec<String>,
    roles: Vec<(&'static str, String)>,
    editable: bool,
    today: String,
    problems: Vec<String>,
    message: String,
}

fn row(lang: Lang, m: &Member) -> MemberRow {
    MemberRow {
        id: m.id,
        name: m.input.full_name.clone(),
        position: m.input.position.clone(),
        organisation: m.input.organisation.clone(),
        role: lang.t(&format!("bloc-role-{}", m.input.role.as_str())),
        phone: m.input.phone.clone().unwrap_or_default(),
        trained: match (m.input.trained, m.input.trained_on) {
            (_, Some(d)) => lang.date(d),
            (true, None) => lang.t("yes"),
            (false, None) => lang.t("no"),
        },
        served: format!("{} – {}", lang.date(m.input.from), m.to.map(|d| lang.date(d)).unwrap_or_default()),
        ended: m.to.is_some(),
        end_reason: m.end_reason.clone().unwrap_or_default(),
    }
}

async fn page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    on: NaiveDate,
    problems: Vec<String>,
    message: String,
) -> Result<BlocPage, WebError> {
    let lang = ctx.lang;
    let path = format!("/units/{}/bloc", unit.code);
    let province = crate::shell::province_of(state, unit).await?;
    Ok(BlocPage {
        layout: Layout::new(ctx, &format!("{} · {}", lang.t("bloc-title"), unit.name), &path),
        action: path,
        unit_base: format!("/units/{}", unit.code),
        unit_q: crate::shell::unit_query(unit),
        unit_name: unit.name.clone(),
        on: on.to_string(),
        on_label: lang.date(on),
        current: state.store.members_on(unit.id, on).await?.iter().map(|m| row(lang, m)).collect(),
        history: state.store.members_of(unit.id).await?.iter().map(|m| row(lang, m)).collect(),
        decisions: state
            .store
            .decisions_of(unit.id)
            .await?
            .into_iter()
            .map(|d: Decision| (d.id, format!("{} ({})", d.number, lang.date(d.decided_on))))
            .collect(),
        organisations: state.store.organisations(province).await?,
        roles: BlocRole::ALL
            .iter()
            .map(|r| (r.as_str(), lang.t(&format!("bloc-role-{}", r.as_str()))))
            .collect(),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        today: today().to_string(),
        problems,
        message,
    })
}

pub async fn show(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<OnQuery>,
) -> Result<BlocPage, PageError> {
    let lang = ctx.lang;
    let on = day_of(q.on.as_deref()).in_lang(lang)?;
    let message = q.done.map(|d| lang.t(&format!("bloc-done-{d}"))).unwrap_or_default();
    page(&state, &ctx, &user, &unit, on, Vec::new(), message).await.in_lang(lang)
}

fn optional_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

#[derive(Deserialize)]
pub struct MemberForm {
    pub full_name: String,
    #[serde(default)]
    pub position: String,
    pub organisation: String,
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub trained_on: String,
    #[serde(default)]
    pub trained: Option<String>,
    pub from: String,
    #[serde(default)]
    pub decision_id: String,
}

async fn refused(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
) -> Result<Response, PageError> {
    let page = page(state, ctx, user, unit, today(), problems, String::new()).await.in_lang(ctx.lang)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn add_member(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    let mut problems = Vec::new();
    let from = parse_date(&form.from);
    if from.is_none() {
        problems.push(format!("ngày bắt đầu \"{}\" không hợp lệ", form.from.trim()));
    }
    let trained_on = match form.trained_on.trim() {
        "" => None,
        s => {
            let d = parse_date(s);
            if d.is_none() {
                problems.push(format!("ngày tập huấn \"{s}\" không hợp lệ"));
            }
            d
        }
    };
    let Some(role) = BlocRole::parse(&form.role) else {
        return Err(WebError::BadRequest("vai trò không hợp lệ".into())).in_lang(ctx.lang);
    };
    let input = MemberInput {
        full_name: form.full_name,
        position: form.position,
        organisation: form.organisation,
        role,
        phone: Some(form.phone),
        trained: form.trained.is_some(),
        trained_on,
        from: from.unwrap_or_default(),
    };
    let input = match input.cleaned() {
        Ok(i) if problems.is_empty() => i,
        Ok(_) => return refused(&state, &ctx, &user, &unit, problems).await,
        Err(p) => {
            problems.extend(p);
            return refused(&state, &ctx, &user, &unit, problems).await;
        }
    };
    match state.store.add_member(&user.actor(), unit.id, &input, optional_id(&form.decision_id)).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/bloc?done=added", unit.code)).into_response()),
        Err(danvan_store::StoreError::Invalid(m)) => refused(&state, &ctx, &user, &unit, vec![m]).await,
        Err(e) => Err(WebError::from(e)).in_lang(ctx.lang),
    }
}

#[derive(Deserialize)]
pub struct EndForm {
    pub to: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub decision_id: String,
}

pub async fn end_member(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Form(form): Form<EndForm>,
) -> Result<Response, PageError> {
    member_in(&state, &unit, id).await.in_lang(ctx.lang)?;
    let Some(to) = parse_date(&form.to) else {
        return refused(
            &state,
            &ctx,
            &user,
            &unit,
            vec![format!("ngày thôi \"{}\" không hợp lệ", form.to.trim())],
        )
        .await;
    };
    let reason = Some(text::clean(&form.reason)).filter(|r| !r.is_empty());
    match state
        .store
        .end_member(&user.actor(), id, to, reason.as_deref(), optional_id(&form.decision_id))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/bloc?done=ended", unit.code)).into_response()),
        Err(danvan_store::StoreError::Invalid(m)) => refused(&state, &ctx, &user, &unit, vec![m]).await,
        Err(e) => Err(WebError::from(e)).in_lang(ctx.lang),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    pub number: String,
    pub decided_on: String,
}

pub async fn add_decision(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let number = text::clean(&form.number);
    let Some(on) = parse_date(&form.decided_on) else {
        return refused(
            &state,
            &ctx,
            &user,
            &unit,
            vec![format!("ngày \"{}\" không hợp lệ", form.decided_on.trim())],
        )
        .await;
    };
    if number.is_empty() || number.chars().count() > 100 {
        return refused(&state, &ctx, &user, &unit, vec!["cần ghi số quyết định (tối đa 100 ký tự)".into()])
            .await;
    }
    state.store.add_decision(&user.actor(), unit.id, &number, on).await.in_lang(ctx.lang)?;
    Ok(Redirect::to(&format!("/units/{}/bloc?done=decision", unit.code)).into_response())
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r
        // The bloc of a commune.
        .get("/units/{code}/bloc", Access::Unit(Action::Read), show)
        .post("/units/{code}/bloc/members", Access::Unit(Action::Edit), add_member)
        .post("/units/{code}/bloc/members/{id}/end", Access::Unit(Action::Edit), end_member)
        .post("/units/{code}/bloc/decisions", Access::Unit(Action::Edit), add_decision)
        .get("/api/v1/units/{code}/bloc", Access::Unit(Action::Read), api_bloc)
        .post("/api/v1/units/{code}/bloc/members", Access::Unit(Action::Edit), api_add_member)
        .post("/api/v1/units/{code}/bloc/members/{id}/end", Access::Unit(Action::Edit), api_end_member)
}
