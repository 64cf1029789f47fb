//! The bloc's work in a commune, as pages and API: hamlets and their teams (added one by one or
//! from a CSV list), meetings with attendance and conclusions (a conclusion becomes a plan
//! activity in one step), and a province's own member organisations and feedback deadline.

pub mod hamlets;
pub mod meetings;
pub mod organisations;

use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use danvan_domain::access::Action;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::StoreError;
use serde::Deserialize;

use crate::shell::auth::Access;
use crate::shell::error::WebError;
use crate::shell::Routes;

/// The largest hamlet list accepted (CSV).
pub const MAX_CSV_BYTES: usize = 512 * 1024;

fn commune_only(unit: &Unit) -> Result<(), WebError> {
    if unit.level == UnitLevel::Commune {
        Ok(())
    } else {
        Err(WebError::NotFound(format!(
            "{} không phải cấp xã: khối dân vận, ấp và cuộc họp thuộc cấp xã",
            unit.name
        )))
    }
}

/// What a refused form comes to: the page again with the problems, and nothing changed.
fn refused<P: IntoResponse>(page: P) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

fn store_refusal(e: StoreError) -> Result<Vec<String>, WebError> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => Ok(vec![m]),
        other => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    pub done: Option<String>,
    pub year: Option<String>,
    pub on: Option<String>,
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/units/{code}/hamlets", Access::Unit(Action::Read), hamlets::hamlets)
        .post("/units/{code}/hamlets", Access::Unit(Action::Edit), hamlets::add_hamlet)
        .post("/units/{code}/hamlets/{id}", Access::Unit(Action::Edit), hamlets::update_hamlet)
        .add_limited(
            Method::POST,
            "/units/{code}/hamlets/import",
            Access::Unit(Action::Edit),
            hamlets::import_hamlets,
            MAX_CSV_BYTES + 16 * 1024,
        )
        .get("/api/v1/units/{code}/hamlets", Access::Unit(Action::Read), hamlets::api_hamlets)
        .post("/api/v1/units/{code}/hamlets", Access::Unit(Action::Edit), hamlets::api_add_hamlets)
        .put("/api/v1/units/{code}/hamlets/{id}", Access::Unit(Action::Edit), hamlets::api_update_hamlet)
        .get("/units/{code}/meetings", Access::Unit(Action::Read), meetings::meetings)
        .post("/units/{code}/meetings", Access::Unit(Action::Edit), meetings::add_meeting)
        .get("/units/{code}/meetings/{id}", Access::Unit(Action::Read), meetings::show_meeting)
        .post(
            "/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Access::Unit(Action::Edit),
            meetings::conclusion_to_activity,
        )
        .get("/api/v1/units/{code}/meetings", Access::Unit(Action::Read), meetings::api_meetings)
        .post("/api/v1/units/{code}/meetings", Access::Unit(Action::Edit), meetings::api_add_meeting)
        .get("/api/v1/units/{code}/meetings/{id}", Access::Unit(Action::Read), meetings::api_meeting)
        .post(
            "/api/v1/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Access::Unit(Action::Edit),
            meetings::api_conclusion_activity,
        )
        // A province's member organisations and feedback deadline.
        .get("/units/{code}/organisations", Access::Unit(Action::Read), organisations::organisations)
        .post("/units/{code}/organisations", Access::Unit(Action::Edit), organisations::update_organisations)
        .get("/api/v1/units/{code}/organisations", Access::Unit(Action::Read), organisations::api_settings)
        .post(
            "/api/v1/units/{code}/organisations",
            Access::Unit(Action::Edit),
            organisations::api_add_organisation,
        )
        .put(
            "/api/v1/units/{code}/organisations",
            Access::Unit(Action::Edit),
            organisations::api_put_settings,
        )
}
