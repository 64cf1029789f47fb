//! Roadmaps (lộ trình): the API, the editor (a target × year grid that works on a phone, one
//! target at a time), the approver's decisions, and the district's view of its communes'
//! roadmaps and overdue activities. The workflow is the reviews' own (`Outcome`, the store's
//! shared workflow step).

pub mod api;
pub mod pages;

use danvan_domain::access::Action;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/schemes/{scheme}/units/{code}/roadmap", Access::Unit(Action::Read), api::get_roadmap)
        .put("/api/v1/schemes/{scheme}/units/{code}/roadmap", Access::Unit(Action::Edit), api::put_roadmap)
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/submit",
            Access::Unit(Action::Edit),
            api::submit_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/revise",
            Access::Unit(Action::Edit),
            api::revise_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/approve",
            Access::Unit(Action::Approve),
            api::approve_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/return",
            Access::Unit(Action::Approve),
            api::return_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/reopen",
            Access::Unit(Action::Approve),
            api::reopen_roadmap,
        )
        .get("/schemes/{scheme}/units/{code}/roadmap", Access::Unit(Action::Read), pages::show)
        .post("/schemes/{scheme}/units/{code}/roadmap", Access::Unit(Action::Edit), pages::submit_form)
        .post("/schemes/{scheme}/units/{code}/roadmap/decide", Access::Unit(Action::Approve), pages::decide)
        .get("/schemes/{scheme}/units/{code}/roadmap/history", Access::Unit(Action::Read), pages::history)
}
