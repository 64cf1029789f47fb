//! Units of the administrative hierarchy: the browser, a unit's page and history, and the
//! units of the API.

pub mod api;
pub mod history;
pub mod pages;

use danvan_domain::access::Action;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/units", Access::Public, pages::units)
        .get("/units/{code}", Access::Public, pages::unit)
        .get_fresh("/api/v1/units", Access::Public, api::search_units)
        .get_fresh("/api/v1/units/{code}", Access::Public, api::get_unit)
        .get_fresh("/api/v1/units/{code}/children", Access::Public, api::get_children)
        .get_fresh("/api/v1/units/{code}/lineage", Access::Public, api::get_lineage)
        // What a unit records: the unit must be in the user's scope.
        .get("/units/{code}/history", Access::Unit(Action::Read), history::unit_history)
        .get("/api/v1/units/{code}/history", Access::Unit(Action::Read), history::api_unit_history)
}
