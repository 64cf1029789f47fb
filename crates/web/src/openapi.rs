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
