//! Citizens' feedback (ý kiến, kiến nghị): the public form and status page — the only
//! anonymous writes in the system — and the commune staff's inbox. Public pages and answers
//! never show a citizen's name, phone or email.

pub mod public;
pub mod staff;

use axum::http::Method;
use danvan_domain::access::Action;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The largest public request body.
pub const MAX_PUBLIC_BODY: usize = 32 * 1024;

const PAGE_SIZE: usize = 25;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r
        // Citizens' feedback: the only anonymous writes.
        .get("/feedback/track", Access::Public, public::track)
        .get("/feedback/{code}", Access::Public, public::form)
        .add_limited(Method::POST, "/feedback/{code}", Access::Public, public::send, MAX_PUBLIC_BODY)
        .add_limited(
            Method::POST,
            "/api/v1/public/feedback",
            Access::Public,
            public::api_submit,
            MAX_PUBLIC_BODY,
        )
        .get("/api/v1/public/feedback/{code}", Access::Public, public::api_status)
        .get("/units/{code}/feedback", Access::Unit(Action::Read), staff::inbox)
        .get("/units/{code}/feedback/{id}", Access::Unit(Action::Read), staff::item)
        .post("/units/{code}/feedback/{id}", Access::Unit(Action::Edit), staff::act)
        .get("/api/v1/units/{code}/feedback", Access::Unit(Action::Read), staff::api_inbox)
        .post("/api/v1/units/{code}/feedback/{id}/assign", Access::Unit(Action::Edit), staff::api_assign)
        .post("/api/v1/units/{code}/feedback/{id}/answer", Access::Unit(Action::Edit), staff::api_answer)
        .post("/api/v1/units/{code}/feedback/{id}/close", Access::Unit(Action::Edit), staff::api_close)
}
