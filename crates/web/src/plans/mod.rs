//! Implementation plans: the activities API, the plan page (filters, an SVG timeline, adding
//! and carrying over activities), an activity's page (edit, status, progress notes), and the
//! district's view of its communes' roadmaps and overdue activities.

pub mod api;
pub mod approval;
pub mod files;
pub mod pages;
pub mod sheet;

use axum::http::Method;
use danvan_domain::access::Action;
use danvan_domain::units::Unit;
use danvan_store::{Activity, StoredScheme};

use crate::shell::auth::Access;
use crate::shell::error::WebError;
use crate::shell::find_scheme;
use crate::shell::AppState;
use crate::shell::Routes;

/// The standard member organisations of a commune's bloc, offered when typing.
pub use danvan_domain::bloc::STANDARD_ORGANISATIONS as ORGANISATIONS;

pub(crate) async fn scheme_and_year(
    state: &AppState,
    scheme: &str,
    year: i32,
) -> Result<StoredScheme, WebError> {
    let scheme = find_scheme(state, scheme).await?;
    if year < scheme.def.first_year || year > scheme.def.last_year {
        return Err(WebError::BadRequest(format!(
            "năm {year} nằm ngoài thời gian đề án {}-{}",
            scheme.def.first_year, scheme.def.last_year
        )));
    }
    Ok(scheme)
}

/// The organisations an activity of a unit's plan may name: its bloc's member organisations
/// today; while the bloc has no members recorded, the province's list (standard and its own).
pub(crate) async fn organisations_for(
    state: &AppState,
    unit: &danvan_domain::units::Unit,
) -> Result<Vec<String>, WebError> {
    let mut orgs: Vec<String> = Vec::new();
    for m in state.store.members_on(unit.id, crate::shell::today()).await? {
        if !m.input.organisation.trim().is_empty() && !orgs.contains(&m.input.organisation) {
            orgs.push(m.input.organisation);
        }
    }
    if orgs.is_empty() {
        orgs = state.store.organisations(crate::shell::province_of(state, unit).await?).await?;
    }
    Ok(orgs)
}

/// The activity of the URL: it must belong to the scheme and the unit of the path.
async fn activity_in(
    state: &AppState,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
) -> Result<Activity, WebError> {
    state
        .store
        .activity(id)
        .await?
        .filter(|a| a.unit_id == unit.id && a.scheme_id == scheme.id)
        .ok_or_else(|| WebError::NotFound(format!("không có hoạt động #{id}")))
}

/// A date as a date input sends it (2018-03-01) or as people write it (1/3/2018).
pub use danvan_domain::period::parse_day as parse_date;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/schemes/{scheme}/units/{code}/roadmaps", Access::Unit(Action::Read), pages::overview)
        // Implementation plans.
        .get("/api/v1/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Read), api::api_list)
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}",
            Access::Unit(Action::Edit),
            api::api_create,
        )
        .get(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Read),
            api::api_get,
        )
        .put(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Edit),
            api::api_update,
        )
        .add(
            Method::DELETE,
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Edit),
            api::api_delete,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/status",
            Access::Unit(Action::Edit),
            api::api_status,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/notes",
            Access::Unit(Action::Edit),
            api::api_note,
        )
        .get(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files",
            Access::Unit(Action::Read),
            files::api_files,
        )
        .add_limited(
            Method::POST,
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files",
            Access::Unit(Action::Edit),
            files::api_upload_file,
            danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
        )
        .add(
            Method::DELETE,
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files/{file}",
            Access::Unit(Action::Edit),
            files::api_delete_file,
        )
        .get("/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Read), pages::show_plan)
        .post("/schemes/{scheme}/units/{code}/plan/{year}", Access::Unit(Action::Edit), pages::add_activity)
        .post("/schemes/{scheme}/units/{code}/plan/{year}/copy", Access::Unit(Action::Edit), pages::copy_plan)
        .post(
            "/schemes/{scheme}/units/{code}/plan/{year}/submit",
            Access::Unit(Action::Edit),
            approval::submit_plan,
        )
        .post(
            "/schemes/{scheme}/units/{code}/plan/{year}/decide",
            Access::Unit(Action::Approve),
            approval::decide_plan,
        )
        .get(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/state",
            Access::Unit(Action::Read),
            approval::api_plan_state,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/submit",
            Access::Unit(Action::Edit),
            approval::api_submit_plan,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/revise",
            Access::Unit(Action::Edit),
            approval::api_revise_plan,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/approve",
            Access::Unit(Action::Approve),
            approval::api_approve_plan,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/return",
            Access::Unit(Action::Approve),
            approval::api_return_plan,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/plan/{year}/reopen",
            Access::Unit(Action::Approve),
            approval::api_reopen_plan,
        )
        .get("/schemes/{scheme}/units/{code}/plan/{year}/xlsx", Access::Unit(Action::Read), sheet::download)
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/plan/{year}/xlsx",
            Access::Unit(Action::Edit),
            sheet::upload,
            crate::shell::files::MAX_TEMPLATE_BYTES + 64 * 1024,
        )
        .post("/schemes/{scheme}/units/{code}/plan/{year}/import", Access::Unit(Action::Edit), sheet::apply)
        .get(
            "/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Read),
            pages::show_activity,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}",
            Access::Unit(Action::Edit),
            pages::update_activity,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/status",
            Access::Unit(Action::Edit),
            pages::change_status,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/notes",
            Access::Unit(Action::Edit),
            pages::add_note,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/delete",
            Access::Unit(Action::Edit),
            pages::delete_activity,
        )
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/activities/{id}/files",
            Access::Unit(Action::Edit),
            files::upload_file,
            danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
        )
        .get(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}",
            Access::Unit(Action::Read),
            files::download_file,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}/delete",
            Access::Unit(Action::Edit),
            files::delete_file,
        )
}

/// Whether a plan in this state can be sent (the unit's button).
pub(crate) fn can_submit(p: Option<&danvan_store::PlanRecord>) -> bool {
    p.is_none_or(|p| p.state.editable())
}

/// Whether an approved plan can be revised by its unit.
pub(crate) fn can_revise(p: Option<&danvan_store::PlanRecord>) -> bool {
    p.is_some_and(|p| p.state == danvan_domain::workflow::State::Approved)
}
