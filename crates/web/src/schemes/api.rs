//! The schemes of the API.

use axum::extract::{Path, State};
use axum::Json;
use danvan_domain::scheme::{SchemeDef, Target};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::AppState;

#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SchemeSummaryJson {
    pub code: String,
    pub title: String,
    pub issuing_body: String,
    pub first_year: i32,
    pub last_year: i32,
    /// The targets are a sample (chỉ tiêu mẫu) to be replaced by the province's own.
    pub sample: bool,
    pub target_count: i64,
}

/// Every scheme.
#[utoipa::path(get, path = "/api/v1/schemes", responses((status = 200, body = [SchemeSummaryJson])), tag = "schemes")]
pub async fn list_schemes(State(state): State<AppState>) -> Result<Json<Vec<SchemeSummaryJson>>, ApiError> {
    let schemes = state.store.schemes().await?;
    Ok(Json(
        schemes
            .into_iter()
            .map(|s| SchemeSummaryJson {
                code: s.code,
                title: s.title,
                issuing_body: s.issuing_body,
                first_year: s.first_year,
                last_year: s.last_year,
                sample: s.sample,
                target_count: s.target_count,
            })
            .collect(),
    ))
}

/// A scheme with its task groups and targets, as its file defines it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SchemeJson {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub def: SchemeDef,
    /// Each target's criterion for one unit, as officials write it ("≥ 80%"), by target code.
    pub criteria: std::collections::BTreeMap<String, String>,
}

/// One scheme by its code.
#[utoipa::path(get, path = "/api/v1/schemes/{code}", params(("code" = String, Path, description = "Scheme code")),
    responses((status = 200, body = SchemeJson), (status = 404, body = ErrorBody)), tag = "schemes")]
pub async fn get_scheme(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<SchemeJson>, ApiError> {
    let scheme = crate::shell::find_scheme(&state, &code).await?;
    let criteria = scheme.def.targets.iter().map(|t: &Target| (t.code.clone(), t.criterion_text())).collect();
    Ok(Json(SchemeJson { def: scheme.def, criteria }))
}
