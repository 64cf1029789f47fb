//! The dashboard in the API.

use axum::extract::{Path, Query, State as AxState};
use axum::Json;

use super::compute;
use super::resolve;
use super::DashboardJson;
use super::DashboardQuery;
use crate::shell::auth::ScopedUnit;
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::AppState;

/// The dashboard's figures of a unit for a scheme and period.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/dashboard", params(("scheme" = String, Path), ("code" = String, Path), ("period" = Option<String>, Query)),
    responses((status = 200, body = DashboardJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "monitoring")]
pub async fn api_dashboard(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<Json<DashboardJson>, ApiError> {
    let (scheme, period) = resolve(&state, &scheme, q.period.as_deref()).await?;
    Ok(Json(compute(&state, &scheme, &unit, &period, q.units_on()?).await?))
}
