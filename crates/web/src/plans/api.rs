//! The activities of the API.

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use danvan_domain::plan::{is_overdue, ActivityInput, ActivityStatus};
use danvan_domain::text;
use danvan_store::Activity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::activity_in;
use super::scheme_and_year;
use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, WebError};
use crate::shell::find_scheme;
use crate::shell::AppState;
use crate::shell::{today, unprocessable};

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
    /// The day it was done, while done.
    pub done_on: Option<NaiveDate>,
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
        done_on: a.done_on,
        overdue: is_overdue(a.status, a.input.due, today()),
    }
}

/// An activity to create or change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityBody {
    /// For a change: the version the editor started from.
    #[serde(default, deserialize_with = "crate::shell::workflow::whole_version_opt")]
    pub version: Option<i64>,
    #[serde(flatten)]
    #[schema(inline)]
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
    let orgs = super::organisations_for(&state, &unit).await?;
    let input = match body.input.cleaned_for(&scheme.def, year, &orgs) {
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
    let orgs = super::organisations_for(&state, &unit).await?;
    let input = match body.input.cleaned_for(&scheme.def, a.year, &orgs) {
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
    #[schema(pattern = "^(not_started|in_progress|done|cancelled)$")]
    pub status: String,
    /// Required to cancel.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "crate::shell::workflow::whole_version_opt")]
    pub version: Option<i64>,
    /// When done: the day it was done (yyyy-mm-dd; today when left out).
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\d{4}-\d{2}-\d{2}$")]
    pub done_on: Option<String>,
}

pub(crate) fn parse_status(s: &str) -> Result<ActivityStatus, WebError> {
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
    // A day of the body that fits its pattern but is not a day (2018-02-30, 0000-00-00) is
    // refused as the body's other values are: 422.
    let done_on = match crate::shell::parse_api_day(body.done_on.as_deref()) {
        Ok(d) => d,
        Err(e) => return Ok(unprocessable(vec![e.to_string()])),
    };
    match state
        .store
        .set_activity_status(&user.actor(), id, body.version, status, reason.as_deref(), done_on)
        .await
    {
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

pub(crate) fn note_text(raw: &str) -> Result<String, String> {
    let t = text::clean_multiline(raw);
    if t.is_empty() {
        return Err("cần ghi nội dung tiến độ".into());
    }
    if t.chars().count() > 2_000 {
        return Err("ghi chú tiến độ dài quá 2000 ký tự".into());
    }
    Ok(t)
}
