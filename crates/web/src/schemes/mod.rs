//! Schemes: a scheme's page and history, and the schemes of the API.

pub mod api;
pub mod pages;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/schemes/{code}", Access::Public, pages::scheme)
        .get_fresh("/api/v1/schemes", Access::Public, api::list_schemes)
        .get_fresh("/api/v1/schemes/{code}", Access::Public, api::get_scheme)
        .get("/schemes/{code}/history", Access::SignedIn, pages::scheme_history)
}
