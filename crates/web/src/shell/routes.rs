//! The route builder: every route is registered with its access rule, and the rule's guard
//! wraps its handler.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::on;
use axum::routing::MethodFilter;
use axum::Router;

use crate::shell::auth::Access;
use crate::shell::auth::Guard;
use crate::shell::AppState;

/// The largest request body, but for uploads.
const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A route as the authorisation matrix sees it: method, path, and who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Builds the router and, beside it, the list of every route with its access rule. Each route
/// is registered with its rule, and the rule's guard wraps its handler: no route without one.
pub struct Routes {
    state: AppState,
    pub(crate) router: Router<AppState>,
    pub(crate) info: Vec<RouteInfo>,
}

impl Routes {
    pub fn new(state: AppState) -> Self {
        Self { state, router: Router::new(), info: Vec::new() }
    }

    pub fn add<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_limited(method, path, access, handler, DEFAULT_BODY_LIMIT)
    }

    /// A route whose requests may carry up to `limit` bytes (uploads).
    pub fn add_limited<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
        limit: usize,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let guard = Guard { state: self.state.clone(), access };
        let route = on(filter, handler)
            .layer(axum::extract::DefaultBodyLimit::max(limit))
            .route_layer(axum::middleware::from_fn_with_state(guard, crate::shell::auth::guard))
            .route_layer(axum::middleware::from_fn(crate::shell::metrics::note_route));
        self.router = self.router.route(path, route);
        self.info.push(RouteInfo { method, path, access });
        self
    }

    /// A GET route answered `304 Not Modified` while nothing it shows has changed (see
    /// [`crate::shell::conditional`]): its answer must depend only on what the change counters
    /// count, the day, the address, the language and the user.
    pub fn get_fresh<H, T>(mut self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let guard = Guard { state: self.state.clone(), access };
        let fresh = crate::shell::conditional::Fresh {
            store: self.state.store.clone(),
            kept: self.state.kept.clone(),
        };
        let route = on(MethodFilter::GET, handler)
            .layer(axum::extract::DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
            .route_layer(axum::middleware::from_fn_with_state(guard, crate::shell::auth::guard))
            // Outside the guard: a tag names the user (id, role, scope), the address, the day and
            // every counter — the hierarchy's and the schemes' among them — so a client holding
            // it was let in, by the same rule on the same data, when it got the answer; a 304
            // tells it nothing new and spares the guard's queries.
            .route_layer(axum::middleware::from_fn_with_state(fresh, crate::shell::conditional::conditional))
            .route_layer(axum::middleware::from_fn(crate::shell::metrics::note_route));
        self.router = self.router.route(path, route);
        self.info.push(RouteInfo { method: Method::GET, path, access });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::GET, path, access, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::POST, path, access, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PUT, path, access, handler)
    }
}
