//! The units of the API: one unit, its children, its lineage, a search.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use danvan_domain::lineage::{a_day_of, versions_in_context};
use danvan_domain::units::Unit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::shell::error::{ApiError, ErrorBody, WebError};
use crate::shell::parse_api_day;
use crate::shell::AppState;

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
    #[param(value_type = Option<chrono::NaiveDate>, pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub on: Option<String>,
}

async fn find_unit(state: &AppState, code: &str, on: Option<&str>, path: &str) -> Result<Unit, ApiError> {
    let on = parse_api_day(on)?;
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
            choices: crate::shell::auth::choices(many, path, None),
        })),
    }
}

/// The day whose units are the children of a unit: the one asked for, else today when the unit
/// exists today, else a day it existed.
pub fn children_day(unit: &Unit, on: Option<NaiveDate>) -> NaiveDate {
    let today = crate::shell::today();
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
    let on = parse_api_day(q.on.as_deref())?;
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
    #[param(min_length = 1, max_length = 100, pattern = "[0-9A-Za-z\u{00C0}-\u{1EF9}]")]
    pub q: String,
    /// Page number from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<usize>,
    /// Results per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
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
    let page = q.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(WebError::BadRequest("page phải từ 1 đến 1.000.000".into()).into());
    }
    let query = danvan_domain::text::clean(&q.q);
    if q.q.chars().count() > 100 {
        return Err(WebError::BadRequest("tham số q dài quá 100 ký tự".into()).into());
    }
    // The document's pattern: at least one Latin letter or digit, Vietnamese letters included.
    if !query.chars().any(|c| c.is_ascii_alphanumeric() || ('\u{00C0}'..='\u{1EF9}').contains(&c)) {
        return Err(WebError::BadRequest(
            "cần tham số q (tên hoặc mã đơn vị, có ít nhất một chữ hoặc số)".into(),
        )
        .into());
    }
    let offset = (page - 1)
        .checked_mul(per_page)
        .filter(|o| *o <= 1_000_000_000)
        .ok_or_else(|| WebError::BadRequest("page quá lớn".into()))?;
    let found = state.store.search_units(&query, per_page, offset).await?;
    let parent_ids: Vec<i64> = found.units.iter().filter_map(|u| u.parent_id).collect();
    let parents = state.store.units_by_ids(&parent_ids).await?;
    let units = found
        .units
        .iter()
        .map(|u| UnitJson::new(u, u.parent_id.and_then(|p| parents.get(&p)).map(|p| p.code.clone())))
        .collect();
    Ok(Json(UnitListJson { total: found.total, page, per_page, units }))
}
