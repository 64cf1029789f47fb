//! Roadmaps in the API: read, save, and the workflow steps.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use danvan_domain::roadmap::{check, deadline, suggest, Roadmap, TargetPlan};
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_domain::workflow::SaveFrom;
use danvan_domain::workflow::Transition;
use danvan_store::{StoredRoadmap, StoredScheme};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, WebError};
use crate::shell::find_scheme;
use crate::shell::AppState;
use crate::shell::{today, unprocessable, Outcome, TransitionBody};

/// The baseline of a unit: its first review under the scheme (its period, and each target's
/// measure in it).
pub async fn baseline(
    state: &AppState,
    scheme: &StoredScheme,
    unit_id: i64,
) -> Result<(Option<String>, BTreeMap<String, f64>), WebError> {
    let mut mine: Vec<_> = state
        .store
        .reviews_within(scheme.id, unit_id, None)
        .await?
        .into_iter()
        .filter(|r| r.unit_id == unit_id)
        .collect();
    mine.sort_by(|a, b| a.period.cmp(&b.period));
    let Some(first) = mine.first() else { return Ok((None, BTreeMap::new())) };
    let review = state.store.review_by_id(first.id).await?;
    let values = review
        .map(|r| r.values.into_iter().filter_map(|(code, e)| e.value.map(|v| (code, v.measure()))).collect())
        .unwrap_or_default();
    Ok((Some(first.period.clone()), values))
}

fn baseline_year(def: &danvan_domain::scheme::SchemeDef, period: Option<&str>) -> i32 {
    period.and_then(|p| p.get(..4)).and_then(|y| y.parse().ok()).unwrap_or(def.first_year)
}

/// A roadmap as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoadmapJson {
    /// 0 while the roadmap has not been started (then `targets` is the suggestion).
    pub version: i64,
    /// not_started, draft, submitted, approved or returned.
    pub status: String,
    pub deadline: chrono::NaiveDate,
    pub late: bool,
    pub reason: Option<String>,
    /// By target code: `{"planned": {"2018": 60, …}, "meet_year": 2020, "reason": null}`.
    #[schema(value_type = Object)]
    pub targets: BTreeMap<String, TargetPlan>,
    /// The approved plan the achievement engine uses, if any.
    #[schema(value_type = Option<Object>)]
    pub in_force: Option<BTreeMap<String, TargetPlan>>,
    /// The baseline review's period and each target's measure in it.
    pub baseline_period: Option<String>,
    pub baseline: BTreeMap<String, f64>,
}

pub(crate) async fn roadmap_json(
    state: &AppState,
    scheme: &StoredScheme,
    unit_id: i64,
    roadmap: Option<StoredRoadmap>,
) -> Result<RoadmapJson, WebError> {
    let (period, base) = baseline(state, scheme, unit_id).await?;
    let targets = match &roadmap {
        Some(r) => r.plan.targets.clone(),
        None => {
            let by = baseline_year(&scheme.def, period.as_deref());
            suggest(&scheme.def, by, |c| base.get(c).copied()).targets
        }
    };
    Ok(RoadmapJson {
        version: roadmap.as_ref().map_or(0, |r| r.version),
        status: roadmap.as_ref().map_or("not_started", |r| r.state.as_str()).into(),
        deadline: deadline(&scheme.def),
        late: roadmap.as_ref().is_some_and(|r| r.late),
        reason: roadmap.as_ref().and_then(|r| r.reason.clone()),
        targets,
        in_force: roadmap.and_then(|r| r.in_force).map(|p| p.targets),
        baseline_period: period,
        baseline: base,
    })
}

/// The body of a roadmap save.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoadmapBody {
    /// The version the editor started from (0 to start the roadmap).
    #[serde(deserialize_with = "crate::shell::workflow::whole_version")]
    pub version: i64,
    #[serde(default)]
    pub targets: BTreeMap<String, TargetPlan>,
}

fn clean_plan(mut plan: Roadmap) -> Roadmap {
    for p in plan.targets.values_mut() {
        p.reason = p.reason.as_deref().map(text::clean_multiline).filter(|r| !r.is_empty());
    }
    plan
}

/// Saves a roadmap (creating it at version 0), for the API and the editor alike.
pub async fn save(
    state: &AppState,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    version: i64,
    plan: Roadmap,
) -> Result<Outcome<StoredRoadmap>, WebError> {
    danvan_domain::workflow::check_reporting_level(scheme.def.applies_to, unit.level, &unit.name)
        .map_err(WebError::BadRequest)?;
    let plan = clean_plan(plan);
    let problems = check(&scheme.def, &plan, false);
    if !problems.is_empty() {
        return Ok(Outcome::Invalid(problems));
    }
    let actor = user.actor();
    let existing = state.store.roadmap(scheme.id, unit.id).await?;
    let from = danvan_domain::workflow::save_from(existing.is_some(), version);
    let result = match (existing, from) {
        (Some(r), SaveFrom::Version(v)) => state.store.save_roadmap(&actor, r.id, v, &plan).await,
        (_, SaveFrom::Start) => state.store.create_roadmap(&actor, scheme.id, unit.id, &plan).await,
        _ => return Err(WebError::NotFound("đơn vị chưa có lộ trình".into())),
    };
    match result {
        Ok(r) => Ok(Outcome::Done(r)),
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, state.store.roadmap(scheme.id, unit.id).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves a roadmap through the workflow. Submitting needs every target planned for every year.
pub async fn change_state(
    state: &AppState,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    t: Transition,
    reason: Option<&str>,
    version: Option<i64>,
) -> Result<Outcome<StoredRoadmap>, WebError> {
    let r = state
        .store
        .roadmap(scheme.id, unit.id)
        .await?
        .ok_or_else(|| WebError::NotFound("đơn vị chưa có lộ trình".into()))?;
    if t == Transition::Submit && r.state.editable() {
        let problems = check(&scheme.def, &r.plan, true);
        if !problems.is_empty() {
            return Ok(Outcome::Invalid(problems));
        }
    }
    let first = r.first_submitted_at.map(|_| r.late);
    let late = danvan_domain::workflow::submitted_late_by(t, first, deadline(&scheme.def), today());
    let reason = reason.map(text::clean);
    match state.store.transition_roadmap(&user.actor(), r.id, version, t, reason.as_deref(), late).await {
        Ok(r) => Ok(Outcome::Done(r)),
        Err(danvan_store::StoreError::Conflict(m)) => {
            Ok(Outcome::Conflict(m, state.store.roadmap_by_id(r.id).await?))
        }
        Err(danvan_store::StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        Err(e) => Err(e.into()),
    }
}

async fn outcome_json(
    state: &AppState,
    scheme: &StoredScheme,
    unit_id: i64,
    outcome: Outcome<StoredRoadmap>,
) -> Result<Response, WebError> {
    Ok(match outcome {
        Outcome::Done(r) => Json(roadmap_json(state, scheme, unit_id, Some(r)).await?).into_response(),
        Outcome::Invalid(problems) => unprocessable(problems),
        Outcome::Conflict(m, current) => {
            let current = roadmap_json(state, scheme, unit_id, current).await?;
            let body = serde_json::json!({"status": 409, "error": m, "current": current});
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
    })
}

/// A unit's roadmap; before it is started, the suggestion from the baseline (version 0).
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/roadmap",
    params(("scheme" = String, Path), ("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = RoadmapJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "roadmaps")]
pub async fn get_roadmap(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
) -> Result<Json<RoadmapJson>, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    let r = state.store.roadmap(scheme.id, unit.id).await?;
    Ok(Json(roadmap_json(&state, &scheme, unit.id, r).await?))
}

/// Saves a roadmap draft; a stale `version` answers 409 with the roadmap as it now is.
#[utoipa::path(put, path = "/api/v1/schemes/{scheme}/units/{code}/roadmap", request_body = RoadmapBody,
    params(("scheme" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = RoadmapJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "roadmaps")]
pub async fn put_roadmap(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Json(body): Json<RoadmapBody>,
) -> Result<Response, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    let outcome =
        save(&state, &user, &scheme, &unit, body.version, Roadmap { targets: body.targets }).await?;
    Ok(outcome_json(&state, &scheme, unit.id, outcome).await?)
}

async fn transition(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    scheme: &str,
    t: Transition,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let scheme = find_scheme(state, scheme).await?;
    let body = crate::shell::workflow::transition_body(body)?;
    let outcome = change_state(state, user, &scheme, unit, t, body.reason.as_deref(), body.version).await?;
    Ok(outcome_json(state, &scheme, unit.id, outcome).await?)
}

macro_rules! transition_handler {
    ($name:ident, $t:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, request_body = Option<TransitionBody>,
            params(("scheme" = String, Path), ("code" = String, Path)),
            responses((status = 200, body = RoadmapJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "roadmaps")]
        pub async fn $name(
            AxState(state): AxState<AppState>,
            user: CurrentUser,
            ScopedUnit(unit): ScopedUnit,
            Path((scheme, _code)): Path<(String, String)>,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            transition(&state, &user, &unit, &scheme, $t, &body).await
        }
    };
}

transition_handler!(
    submit_roadmap,
    Transition::Submit,
    "/api/v1/schemes/{scheme}/units/{code}/roadmap/submit",
    "Submits a roadmap; every target must be planned for every year."
);

transition_handler!(
    approve_roadmap,
    Transition::Approve,
    "/api/v1/schemes/{scheme}/units/{code}/roadmap/approve",
    "Approves a roadmap: its plan goes in force for the achievement engine."
);

transition_handler!(
    return_roadmap,
    Transition::Return,
    "/api/v1/schemes/{scheme}/units/{code}/roadmap/return",
    "Returns a submitted roadmap with a reason."
);

transition_handler!(
    reopen_roadmap,
    Transition::Reopen,
    "/api/v1/schemes/{scheme}/units/{code}/roadmap/reopen",
    "Reopens an approved roadmap with a reason; its plan goes out of force."
);

transition_handler!(
    revise_roadmap,
    Transition::Revise,
    "/api/v1/schemes/{scheme}/units/{code}/roadmap/revise",
    "The unit starts revising its approved roadmap, which stays in force until the revision is approved."
);
