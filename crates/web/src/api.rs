//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use danvan_domain::lineage::{a_day_of, versions_in_context};
use danvan_domain::scheme::{SchemeDef, Target};
use danvan_domain::units::Unit;
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
        get_lineage,
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
    components(schemas(
        UnitJson,
        UnitListJson,
        LineageJson,
        LinkedUnitJson,
        SchemeSummaryJson,
        SchemeJson,
        ErrorBody
    ))
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
    /// A date (yyyy-mm-dd): the unit valid on that day. Without it, a code that several units
    /// have borne (before and after a reorganisation) answers 300 with the list to choose from.
    pub on: Option<String>,
}

async fn find_unit(state: &AppState, code: &str, on: Option<&str>, path: &str) -> Result<Unit, ApiError> {
    let on = parse_on(on)?;
    let all = state.store.units_with_code(code).await?;
    let found = versions_in_context(&all, on, None);
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let when = on.map(|d| format!(" vào ngày {}", d.format("%d/%m/%Y"))).unwrap_or_default();
            Err(ApiError(WebError::NotFound(format!("không có đơn vị mã \"{code}\"{when}"))))
        }
        many => Err(ApiError(WebError::Ambiguous {
            code: code.to_string(),
            choices: crate::auth::choices(many, path, None),
        })),
    }
}

/// The day whose units are the children of a unit: the one asked for, else today when the unit
/// exists today, else a day it existed.
pub fn children_day(unit: &Unit, on: Option<NaiveDate>) -> NaiveDate {
    let today = crate::reviews::today();
    on.unwrap_or_else(|| if unit.valid_on(today) { today } else { a_day_of(unit).unwrap_or(today) })
}

async fn parent_code(state: &AppState, u: &Unit) -> Result<Option<String>, ApiError> {
    Ok(match u.parent_id {
        Some(p) => state.store.unit(p).await?.map(|p| p.code),
        None => None,
    })
}

/// One unit by its code.
#[utoipa::path(get, path = "/api/v1/units/{code}", params(("code" = String, Path, description = "Official code"), OnParam),
    responses((status = 200, body = UnitJson), (status = 300, body = ErrorBody, description = "The code names several units; choose one by its day"), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)), tag = "units")]
pub async fn get_unit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<OnParam>,
) -> Result<Json<UnitJson>, ApiError> {
    let unit = find_unit(&state, &code, q.on.as_deref(), &format!("/api/v1/units/{code}")).await?;
    let parent = parent_code(&state, &unit).await?;
    Ok(Json(UnitJson::new(&unit, parent)))
}

/// The units directly under a unit that exist on the day asked for (today by default), in
/// Vietnamese alphabetical order: the country's children on 2024-01-01 are the 63 provinces of
/// then, on 2025-07-01 the 34 of now.
#[utoipa::path(get, path = "/api/v1/units/{code}/children", params(("code" = String, Path, description = "Official code"), OnParam),
    responses((status = 200, body = [UnitJson]), (status = 300, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "units")]
pub async fn get_children(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<OnParam>,
) -> Result<Json<Vec<UnitJson>>, ApiError> {
    let on = parse_on(q.on.as_deref())?;
    let unit = find_unit(&state, &code, q.on.as_deref(), &format!("/api/v1/units/{code}/children")).await?;
    let day = children_day(&unit, on);
    let children = state.store.children(unit.id).await?;
    Ok(Json(
        children
            .iter()
            .filter(|c| c.valid_on(day))
            .map(|c| UnitJson::new(c, Some(unit.code.clone())))
            .collect(),
    ))
}

/// A unit before or after a reorganisation.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct LinkedUnitJson {
    pub unit: UnitJson,
    /// whole, split-main or split-part for a commune; absent for a province or district, whose
    /// links come from those of its communes.
    pub relation: Option<String>,
    pub effective_on: NaiveDate,
}

/// The units a unit came from and went into.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct LineageJson {
    pub unit: UnitJson,
    pub predecessors: Vec<LinkedUnitJson>,
    pub successors: Vec<LinkedUnitJson>,
}

/// The predecessors and successors of a unit (the 2025 reform map), with dates and relations.
#[utoipa::path(get, path = "/api/v1/units/{code}/lineage", params(("code" = String, Path, description = "Official code"), OnParam),
    responses((status = 200, body = LineageJson), (status = 300, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "units")]
pub async fn get_lineage(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<OnParam>,
) -> Result<Json<LineageJson>, ApiError> {
    let unit = find_unit(&state, &code, q.on.as_deref(), &format!("/api/v1/units/{code}/lineage")).await?;
    let lineage = state.store.unit_lineage(&unit).await?;
    let ids: Vec<i64> = lineage
        .predecessors
        .iter()
        .chain(&lineage.successors)
        .filter_map(|l| l.unit.parent_id)
        .chain(unit.parent_id)
        .collect();
    let parents = state.store.units_by_ids(&ids).await?;
    let json = |u: &Unit| UnitJson::new(u, u.parent_id.and_then(|p| parents.get(&p)).map(|p| p.code.clone()));
    let linked = |list: &[danvan_store::LinkedUnit]| {
        list.iter()
            .map(|l| LinkedUnitJson {
                unit: json(&l.unit),
                relation: l.relation.map(|r| r.as_str().to_string()),
                effective_on: l.effective_on,
            })
            .collect()
    };
    Ok(Json(LineageJson {
        unit: json(&unit),
        predecessors: linked(&lineage.predecessors),
        successors: linked(&lineage.successors),
    }))
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
