//! The OpenAPI document of the JSON API under `/api/v1` (served at `/api/openapi.json`), and
//! the API's answer to an address that leads nowhere.

use utoipa::OpenApi;

use crate::shell::error::{ApiError, ErrorBody, WebError};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "danvan API",
        description = "Đề án, chỉ tiêu và đơn vị hành chính / schemes, targets and administrative units"
    ),
    paths(
        crate::units::api::get_unit,
        crate::units::api::get_children,
        crate::units::api::get_lineage,
        crate::units::api::search_units,
        crate::schemes::api::list_schemes,
        crate::schemes::api::get_scheme,
        crate::accounts::account::api_login,
        crate::accounts::account::api_logout,
        crate::accounts::account::api_me,
        crate::units::history::api_unit_history,
        crate::reviews::api::get_review,
        crate::reviews::api::put_review,
        crate::reviews::api::submit_review,
        crate::reviews::api::approve_review,
        crate::reviews::api::return_review,
        crate::reviews::api::reopen_review,
        crate::reviews::api::rollup,
        crate::reviews::api::get_recompute,
        crate::reviews::api::post_recompute,
        crate::dashboard::api::api_dashboard,
        crate::roadmaps::api::get_roadmap,
        crate::roadmaps::api::put_roadmap,
        crate::roadmaps::api::submit_roadmap,
        crate::roadmaps::api::revise_roadmap,
        crate::roadmaps::api::approve_roadmap,
        crate::roadmaps::api::return_roadmap,
        crate::roadmaps::api::reopen_roadmap,
        crate::bloc::api_bloc,
        crate::bloc::api_add_member,
        crate::bloc::api_end_member,
        crate::community::hamlets::api_hamlets,
        crate::community::hamlets::api_add_hamlets,
        crate::community::hamlets::api_update_hamlet,
        crate::community::meetings::api_meetings,
        crate::community::meetings::api_meeting,
        crate::community::meetings::api_add_meeting,
        crate::community::meetings::api_conclusion_activity,
        crate::community::organisations::api_settings,
        crate::community::organisations::api_add_organisation,
        crate::community::organisations::api_put_settings,
        crate::feedback::public::api_submit,
        crate::feedback::public::api_status,
        crate::feedback::staff::api_inbox,
        crate::feedback::staff::api_assign,
        crate::feedback::staff::api_answer,
        crate::feedback::staff::api_close,
        crate::plans::api::api_list,
        crate::plans::api::api_create,
        crate::plans::api::api_get,
        crate::plans::api::api_update,
        crate::plans::api::api_delete,
        crate::plans::api::api_status,
        crate::plans::api::api_note,
    ),
    components(schemas(
        crate::units::api::UnitJson,
        crate::units::api::UnitListJson,
        crate::units::api::LineageJson,
        crate::units::api::LinkedUnitJson,
        crate::schemes::api::SchemeSummaryJson,
        crate::schemes::api::SchemeJson,
        ErrorBody
    ))
)]
pub struct ApiDoc;

pub async fn not_found() -> ApiError {
    ApiError(WebError::NotFound("không có địa chỉ API này".into()))
}
