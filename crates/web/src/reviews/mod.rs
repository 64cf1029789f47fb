//! Target reviews: the API, the pages, and the Excel template.

pub mod api;
pub mod evidence;
pub mod pages;
pub mod sheet;

use axum::http::Method;
use danvan_domain::access::Action;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}",
        Access::Unit(Action::Read),
        api::get_review,
    )
    .put(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}",
        Access::Unit(Action::Edit),
        api::put_review,
    )
    .post(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/submit",
        Access::Unit(Action::Edit),
        api::submit_review,
    )
    .post(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/approve",
        Access::Unit(Action::Approve),
        api::approve_review,
    )
    .post(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/return",
        Access::Unit(Action::Approve),
        api::return_review,
    )
    .post(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/reopen",
        Access::Unit(Action::Approve),
        api::reopen_review,
    )
    .get(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/recompute",
        Access::Unit(Action::Edit),
        api::get_recompute,
    )
    .post(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/recompute",
        Access::Unit(Action::Edit),
        api::post_recompute,
    )
    .get(
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
        Access::Unit(Action::Read),
        api::api_evidence,
    )
    .add_limited(
        Method::POST,
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
        Access::Unit(Action::Edit),
        api::api_upload_evidence,
        danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
    )
    .add(
        Method::DELETE,
        "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}",
        Access::Unit(Action::Edit),
        api::api_delete_evidence,
    )
    .get("/api/v1/schemes/{scheme}/units/{code}/rollup", Access::Unit(Action::Read), api::rollup)
    // Review pages.
    .get("/schemes/{scheme}/units/{code}/reviews", Access::Unit(Action::Read), pages::list)
    .get("/schemes/{scheme}/units/{code}/reviews/{period}", Access::Unit(Action::Read), pages::show)
    // The review form carries its evidence files: up to a review's worth of them.
    .add_limited(
        Method::POST,
        "/schemes/{scheme}/units/{code}/reviews/{period}",
        Access::Unit(Action::Edit),
        pages::submit_form,
        danvan_domain::evidence::MAX_REVIEW_BYTES as usize + 256 * 1024,
    )
    .get("/schemes/{scheme}/units/{code}/reviews/{period}/xlsx", Access::Unit(Action::Read), sheet::download)
    .add_limited(
        Method::POST,
        "/schemes/{scheme}/units/{code}/reviews/{period}/xlsx",
        Access::Unit(Action::Edit),
        sheet::upload,
        crate::shell::files::MAX_TEMPLATE_BYTES + 64 * 1024,
    )
    .post(
        "/schemes/{scheme}/units/{code}/reviews/{period}/decide",
        Access::Unit(Action::Approve),
        pages::decide,
    )
    .get(
        "/schemes/{scheme}/units/{code}/reviews/{period}/recompute",
        Access::Unit(Action::Edit),
        pages::recompute_page,
    )
    .post(
        "/schemes/{scheme}/units/{code}/reviews/{period}/recompute",
        Access::Unit(Action::Edit),
        pages::recompute_form,
    )
    .post(
        "/schemes/{scheme}/units/{code}/reviews/{period}/entry",
        Access::Unit(Action::Approve),
        pages::reopen_entry,
    )
    .get(
        "/schemes/{scheme}/units/{code}/reviews/{period}/history",
        Access::Unit(Action::Read),
        pages::history,
    )
    .add_limited(
        Method::POST,
        "/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
        Access::Unit(Action::Edit),
        pages::upload_evidence,
        danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
    )
    .get(
        "/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}",
        Access::Unit(Action::Read),
        pages::download_evidence,
    )
    .post(
        "/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}/delete",
        Access::Unit(Action::Edit),
        pages::delete_evidence,
    )
    .get("/schemes/{scheme}/inbox", Access::Own(Action::ReviewInbox), pages::inbox)
    .post("/schemes/{scheme}/inbox", Access::Own(Action::ReviewInbox), pages::bulk_approve)
}
