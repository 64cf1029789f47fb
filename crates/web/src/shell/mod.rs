//! What every area of the web crate uses, and that uses no area: the application state and
//! the route builder, the page frame, errors, the guard and current user, languages, dates,
//! forms shared by several areas, file keeping and the audit history view.

pub mod auth;
pub mod cache;
pub mod error;
pub mod files;
pub mod format;
pub mod history;
pub mod i18n;
pub mod page;
pub mod workflow;

pub use danvan_domain::period::parse_day as parse_date;
pub use page::{
    done_message, parse_on, unit_href, unit_query, DecideForm, Layout, MessageQuery, OnQuery, PageCtx, Pager,
    PAGE_SIZE,
};
pub use workflow::{unprocessable, Outcome, TransitionBody};

use crate::shell::auth::Access;
use crate::shell::auth::AuthConfig;
use crate::shell::auth::Guard;
use crate::shell::error::WebError;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::on;
use axum::routing::MethodFilter;
use axum::Router;
use chrono::Utc;
use danvan_domain::period::Period;
use danvan_domain::units::Unit;
use danvan_domain::units::UnitLevel;
use danvan_store::Store;
use danvan_store::StoredScheme;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: AuthConfig,
    /// Where uploaded files are kept (named by their SHA-256).
    pub files: std::path::PathBuf,
    /// Orders uploads and deletions of kept files (see [`files`]).
    pub file_lock: files::FileLock,
    /// The database holds generated sample data (read when the app is built).
    pub sample: bool,
    /// The dashboards' units and marks, kept while their change counters stand.
    pub cache: std::sync::Arc<cache::Cache>,
}

impl AppState {
    /// A state with default settings and files in a folder of the system's temporary folder.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            auth: AuthConfig::default(),
            files: std::env::temp_dir().join("danvan-files"),
            file_lock: Default::default(),
            sample: false,
            cache: Default::default(),
        }
    }
}

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
            .route_layer(axum::middleware::from_fn_with_state(guard, auth::guard));
        self.router = self.router.route(path, route);
        self.info.push(RouteInfo { method, path, access });
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

/// Today in Vietnam (UTC+7), for deadlines.
pub fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&danvan_domain::period::VIETNAM).date_naive()
}

pub async fn scheme_and_period(
    state: &AppState,
    code: &str,
    period: &str,
) -> Result<(StoredScheme, Period), WebError> {
    let scheme = crate::shell::find_scheme(state, code).await?;
    let p = Period::parse(period, scheme.def.period).map_err(WebError::BadRequest)?;
    if p.year < scheme.def.first_year || p.year > scheme.def.last_year {
        return Err(WebError::BadRequest(format!(
            "kỳ {period} nằm ngoài thời gian đề án {}-{}",
            scheme.def.first_year, scheme.def.last_year
        )));
    }
    Ok((scheme, p))
}

/// This year, within the scheme's years (the plan a page opens on).
pub fn current_year(def: &danvan_domain::scheme::SchemeDef) -> i32 {
    use chrono::Datelike;
    today().year().clamp(def.first_year, def.last_year)
}

/// A scheme by its code, or a clear 404.
pub async fn find_scheme(state: &AppState, code: &str) -> Result<danvan_store::StoredScheme, WebError> {
    state.store.scheme(code).await?.ok_or_else(|| WebError::NotFound(format!("không có đề án mã \"{code}\"")))
}

/// The province a unit belongs to (itself for a province).
pub(crate) async fn province_of(state: &AppState, unit: &Unit) -> Result<Option<i64>, WebError> {
    Ok(state.store.lineage(unit.id).await?.into_iter().find(|u| u.level == UnitLevel::Province).map(|u| u.id))
}
