//! A year's plan through the approval workflow, as a roadmap goes (issue 17, item 6): the unit
//! submits it (with at least one activity) or revises an approved one; the level above
//! approves, returns with a reason, or reopens. The page's buttons and the API share it.

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_domain::workflow::Transition;
use danvan_store::{PlanRecord, StoredScheme};
use serde::Serialize;
use utoipa::ToSchema;

use super::scheme_and_year;
use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::workflow::{transition_body, unprocessable};
use crate::shell::PageCtx;
use crate::shell::{today, AppState, DecideForm, Outcome};

/// A year's plan's place in the workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanStateJson {
    pub year: i32,
    /// draft, submitted, approved or returned (draft until first submitted).
    pub state: String,
    /// The version to send with the next step (0 before the first submission).
    pub version: i64,
    pub late: bool,
    /// Why it was returned or reopened.
    pub reason: Option<String>,
}

pub(crate) fn state_json(year: i32, p: Option<&PlanRecord>) -> PlanStateJson {
    PlanStateJson {
        year,
        state: p.map(|p| p.state.as_str()).unwrap_or("draft").into(),
        version: p.map(|p| p.version).unwrap_or(0),
        late: p.is_some_and(|p| p.late),
        reason: p.and_then(|p| p.reason.clone()),
    }
}

/// One step of a year's plan. Submitting needs at least one activity.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn change_plan_state(
    state: &AppState,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    year: i32,
    t: Transition,
    reason: Option<&str>,
    version: Option<i64>,
) -> Result<Outcome<PlanRecord>, WebError> {
    let current = state.store.plan_record(scheme.id, unit.id, year).await?;
    if t == Transition::Submit && current.as_ref().is_none_or(|p| p.state.editable()) {
        let activities = state.store.activities_of(scheme.id, unit.id, year).await?;
        if activities.is_empty() {
            return Ok(Outcome::Invalid(vec![format!("kế hoạch năm {year} chưa có hoạt động nào")]));
        }
    }
    let first = current.as_ref().and_then(|p| p.submitted_at.map(|_| p.late));
    let deadline = danvan_domain::plan::plan_deadline(year, scheme.def.report_deadline_days);
    let late = danvan_domain::workflow::submitted_late_by(t, first, deadline, today());
    let reason = reason.map(text::clean);
    let store = &state.store;
    match store
        .transition_plan(&user.actor(), scheme.id, unit.id, year, version, t, reason.as_deref(), late)
        .await
    {
        Ok(p) => Ok(Outcome::Done(p)),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, store.plan_record(scheme.id, unit.id, year).await?))
        }
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(e) => Err(e.into()),
    }
}

/// The plan page's workflow buttons: the unit's (`submit`, `revise`) and the approver's
/// (`approve`, `return`, `reopen`); the route decides who may send which.
async fn page_step(
    state: AppState,
    ctx: PageCtx,
    user: CurrentUser,
    unit: Unit,
    (scheme, code, year): (String, String, i32),
    form: DecideForm,
    by_unit: bool,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let t = match Transition::parse(&form.intent) {
        Some(t) if t.by_unit() == by_unit => t,
        _ => return Err(WebError::BadRequest("thao tác không hợp lệ".into())).in_lang(lang),
    };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let outcome = change_plan_state(&state, &user, &scheme, &unit, year, t, reason, form.version)
        .await
        .in_lang(lang)?;
    let here = format!("/schemes/{}/units/{code}/plan/{year}", scheme.def.code);
    let (status, problems) = match outcome {
        Outcome::Done(_) => {
            return Ok(Redirect::to(&format!("{here}?done=plan-{}", t.as_str())).into_response());
        }
        Outcome::Invalid(p) => (StatusCode::UNPROCESSABLE_ENTITY, p),
        Outcome::Conflict(m, _) => (StatusCode::CONFLICT, vec![m]),
    };
    let page = super::pages::plan_page(
        &state,
        &ctx,
        &user,
        &scheme,
        &unit,
        year,
        Default::default(),
        super::pages::ActivityForm::blank(year),
        problems,
    )
    .await
    .in_lang(lang)?;
    Ok((status, page).into_response())
}

/// The unit submits its year's plan, or revises an approved one (form: `intent`, `version`).
pub async fn submit_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path(path): Path<(String, String, i32)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    page_step(state, ctx, user, unit, path, form, true).await
}

/// The level above approves, returns (with a reason) or reopens a year's plan.
pub async fn decide_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path(path): Path<(String, String, i32)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    page_step(state, ctx, user, unit, path, form, false).await
}

/// A year's plan's place in the workflow.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/state",
    params(("scheme" = String, Path), ("code" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = PlanStateJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "plans")]
pub async fn api_plan_state(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
) -> Result<Json<PlanStateJson>, ApiError> {
    let scheme = scheme_and_year(&state, &scheme, year).await?;
    let p = state.store.plan_record(scheme.id, unit.id, year).await?;
    Ok(Json(state_json(year, p.as_ref())))
}

async fn api_step(
    state: AppState,
    user: CurrentUser,
    unit: Unit,
    (scheme, _code, year): (String, String, i32),
    body: &[u8],
    t: Transition,
) -> Result<Response, ApiError> {
    let scheme = scheme_and_year(&state, &scheme, year).await?;
    let body = transition_body(body)?;
    let outcome =
        change_plan_state(&state, &user, &scheme, &unit, year, t, body.reason.as_deref(), body.version)
            .await?;
    Ok(match outcome {
        Outcome::Done(p) => Json(state_json(year, Some(&p))).into_response(),
        Outcome::Invalid(problems) => unprocessable(problems),
        Outcome::Conflict(m, current) => {
            let body =
                serde_json::json!({"status": 409, "error": m, "current": state_json(year, current.as_ref())});
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
    })
}

macro_rules! plan_step {
    ($name:ident, $step:literal, $t:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = concat!("/api/v1/schemes/{scheme}/units/{code}/plan/{year}/", $step),
            request_body(content = Option<crate::shell::workflow::TransitionBody>, content_type = "application/json"),
            params(("scheme" = String, Path), ("code" = String, Path), ("year" = i32, Path)),
            responses((status = 200, body = PlanStateJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
        pub async fn $name(
            AxState(state): AxState<AppState>,
            user: CurrentUser,
            ScopedUnit(unit): ScopedUnit,
            Path(path): Path<(String, String, i32)>,
            body: axum::body::Bytes,
        ) -> Result<Response, ApiError> {
            api_step(state, user, unit, path, &body, $t).await
        }
    };
}

plan_step!(
    api_submit_plan,
    "submit",
    Transition::Submit,
    "Submits a year's plan (it needs at least one activity)."
);
plan_step!(
    api_revise_plan,
    "revise",
    Transition::Revise,
    "Takes an approved plan back to draft to change it."
);
plan_step!(api_approve_plan, "approve", Transition::Approve, "Approves a submitted plan.");
plan_step!(api_return_plan, "return", Transition::Return, "Returns a submitted plan, with a reason.");
plan_step!(api_reopen_plan, "reopen", Transition::Reopen, "Reopens an approved plan, with a reason.");
