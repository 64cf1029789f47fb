//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use danvan_domain::scheme::{SchemeDef, Target};
use danvan_domain::units::{pick_version, Unit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::error::{ApiError, ErrorBody, WebError};
use crate::pages::parse_on;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "danvan API",
        description = "Đề án, chỉ tiêu và đơn vị hành chính / schemes, targets and administrative units"
    ),
    paths(
        get_unit,
        get_children,
        search_units,
        list_schemes,
        get_scheme,
        crate::account::api_login,
        crate::account::api_logout,
        crate::account::api_me,
        crate::admin::api_unit_history,
        crate::reviews::get_review,
        crate::reviews::put_review,
        crate::reviews::submit_review,
        crate::reviews::approve_review,
        crate::reviews::return_review,
        crate::reviews::reopen_review,
        crate::reviews::rollup,
        crate::dashboard::api_dashboard,
        crate::roadmaps::get_roadmap,
        crate::roadmaps::put_roadmap,
        crate::roadmaps::submit_roadmap,
        crate::roadmaps::revise_roadmap,
        crate::roadmaps::approve_roadmap,
        crate::roadmaps::return_roadmap,
        crate::roadmaps::reopen_roadmap,
        crate::bloc::api_bloc,
        crate::bloc::api_add_member,
        crate::bloc::api_end_member,
        crate::community::api_hamlets,
        crate::community::api_add_hamlets,
        crate::community::api_update_hamlet,
        crate::community::api_meetings,
        crate::community::api_meeting,
        crate::community::api_add_meeting,
        crate::community::api_conclusion_activity,
        crate::community::api_settings,
        crate::community::api_add_organisation,
        crate::community::api_put_settings,
        crate::feedback::api_submit,
        crate::feedback::api_status,
        crate::feedback::api_inbox,
        crate::feedback::api_assign,
        crate::feedback::api_answer,
        crate::feedback::api_close,
        crate::plans::api_list,
        crate::plans::api_create,
        crate::plans::api_get,
        crate::plans::api_update,
        crate::plans::api_delete,
        crate::plans::api_status,
        crate::plans::api_note,
    ),
    components(schemas(UnitJson, UnitListJson, SchemeSummaryJson, SchemeJson, ErrorBody))
)]
pub struct ApiDoc;

/// An administrative unit.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq)]
pub struct UnitJson {
    /// Official code (text; leading zeros kept).
    pub code: String,
    pub name: String,
    pub short_name: String,
    /// Type: Tỉnh, Thành phố, Huyện, Quận, Thị xã, Xã, Phường, Thị trấn, Đặc khu, Ấp…
    pub kind: String,
    /// province, district, commune or hamlet.
    pub level: String,
    pub parent_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl UnitJson {
    fn new(u: &Unit, parent_code: Option<String>) -> Self {
        Self {
            code: u.code.clone(),
            name: u.name.clone(),
            short_name: u.short_name.clone(),
            kind: u.kind.clone(),
            level: u.level.as_str().into(),
            parent_code,
            lat: u.lat,
            lon: u.lon,
            area_km2: u.area_km2,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct UnitListJson {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub units: Vec<UnitJson>,
}

#[derive(Deserialize, IntoParams)]
pub struct OnParam {
    /// A date (yyyy-mm-dd): the unit valid on that day. Without it, the newest unit bearing the code.
    pub on: Option<String>,
}

async fn find_unit(state: &AppState, code: &str, on: Option<&str>) -> Result<Unit, ApiError> {
    let on = parse_on(on)?;
    let all = state.store.units_with_code(code).await?;
    pick_version(&all, on).cloned().ok_or_else(|| {
        let when = on.map(|d| format!(" vào ngày {}", d.format("%d/%m/%Y"))).unwrap_or_default();
        ApiError(WebError::NotFound(format!("không có đơn vị mã \"{code}\"{when}")))
    })
}

async fn parent_code(state: &AppState, u: &Unit) -> Result<Option<String>, ApiError> {
    Ok(match u.parent_id {
        Some(p) => state.store.unit(p).await?.map(|p| p.code),
        None => None,
    })
}

/// One unit by its code.
#[utoipa::path(get, path = "/api/v1/units/{code}", params(("code" = String, Path, description = "Official code"), OnParam),
    responses((status = 200, body = UnitJson), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)), tag = "units")]
pub async fn get_unit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<OnParam>,
) -> Result<Json<UnitJson>, ApiError> {
    let unit = find_unit(&state, &code, q.on.as_deref()).await?;
    let parent = parent_code(&state, &unit).await?;
    Ok(Json(UnitJson::new(&unit, parent)))
}

/// The units directly under a unit, in Vietnamese alphabetical order.
#[utoipa::path(get, path = "/api/v1/units/{code}/children", params(("code" = String, Path, description = "Official code"), OnParam),
    responses((status = 200, body = [UnitJson]), (status = 404, body = ErrorBody)), tag = "units")]
pub async fn get_children(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<OnParam>,
) -> Result<Json<Vec<UnitJson>>, ApiError> {
    let unit = find_unit(&state, &code, q.on.as_deref()).await?;
    let children = state.store.children(unit.id).await?;
    Ok(Json(children.iter().map(|c| UnitJson::new(c, Some(unit.code.clone()))).collect()))
}

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// Text to find in unit names, accents and case ignored ("duc hoa" finds "Huyện Đức Hòa"), or an exact code.
    pub q: String,
    /// Page number from 1.
    pub page: Option<usize>,
    /// Results per page, 1 to 200 (default 50).
    pub per_page: Option<usize>,
}

/// Search units by name or code.
#[utoipa::path(get, path = "/api/v1/units", params(SearchParams),
    responses((status = 200, body = UnitListJson), (status = 400, body = ErrorBody)), tag = "units")]
pub async fn search_units(
    State(state): State<AppState>,
    Query(q): Query<SearchParams>,
) -> Result<Json<UnitListJson>, ApiError> {
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(WebError::BadRequest("per_page phải từ 1 đến 200".into()).into());
    }
    let page = q.page.unwrap_or(1).max(1);
    let query = danvan_domain::text::clean(&q.q);
    if query.is_empty() {
        return Err(WebError::BadRequest("cần tham số q (tên hoặc mã đơn vị)".into()).into());
    }
    let found = state.store.search_units(&query, per_page, (page - 1) * per_page).await?;
    let parent_ids: Vec<i64> = found.units.iter().filter_map(|u| u.parent_id).collect();
    let parents = state.store.units_by_ids(&parent_ids).await?;
    let units = found
        .units
        .iter()
        .map(|u| UnitJson::new(u, u.parent_id.and_then(|p| parents.get(&p)).map(|p| p.code.clone())))
        .collect();
    Ok(Json(UnitListJson { total: found.total, page, per_page, units }))
}

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
    let scheme = crate::pages::find_scheme(&state, &code).await?;
    let criteria = scheme.def.targets.iter().map(|t: &Target| (t.code.clone(), t.criterion_text())).collect();
    Ok(Json(SchemeJson { def: scheme.def, criteria }))
}

pub async fn not_found() -> ApiError {
    ApiError(WebError::NotFound("không có địa chỉ API này".into()))
}
