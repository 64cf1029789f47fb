//! The web face of danvan: server-rendered pages in Vietnamese and English, and a JSON API.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::Router;
use danvan_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod bloc;
pub mod cache;
pub mod community;
pub mod dashboard;
pub mod error;
pub mod feedback;
pub mod files;
pub mod i18n;
pub mod pages;
pub mod plan_sheet;
pub mod plans;
pub mod review_pages;
pub mod review_sheet;
pub mod reviews;
pub mod roadmaps;

use auth::{Access, AuthConfig, Guard};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use danvan_domain::access::Action;

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
struct Routes {
    state: AppState,
    router: Router<AppState>,
    info: Vec<RouteInfo>,
}

impl Routes {
    fn add<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_limited(method, path, access, handler, DEFAULT_BODY_LIMIT)
    }

    /// A route whose requests may carry up to `limit` bytes (uploads).
    fn add_limited<H, T>(
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

    fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::GET, path, access, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::POST, path, access, handler)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PUT, path, access, handler)
    }
}

fn routes(state: AppState) -> Routes {
    use Access::*;
    Routes { state, router: Router::new(), info: Vec::new() }
        // Public: the schemes, the hierarchy, signing in.
        .get("/", Public, pages::home)
        .get("/units", Public, pages::units)
        .get("/units/{code}", Public, pages::unit)
        .get("/schemes/{code}", Public, pages::scheme)
        .get("/lang/{code}", Public, pages::switch_lang)
        .get("/healthz", Public, pages::healthz)
        .get("/readyz", Public, pages::readyz)
        .get("/static/style.css", Public, pages::stylesheet)
        .get("/static/app.js", Public, pages::script)
        .get("/login", Public, account::login_form)
        .post("/login", Public, account::login_submit)
        .get("/api/v1/units", Public, api::search_units)
        .get("/api/v1/units/{code}", Public, api::get_unit)
        .get("/api/v1/units/{code}/children", Public, api::get_children)
        .get("/api/v1/units/{code}/lineage", Public, api::get_lineage)
        .get("/api/v1/schemes", Public, api::list_schemes)
        .get("/api/v1/schemes/{code}", Public, api::get_scheme)
        .post("/api/v1/auth/login", Public, account::api_login)
        // Citizens' feedback: the only anonymous writes.
        .get("/feedback/track", Public, feedback::track)
        .get("/feedback/{code}", Public, feedback::form)
        .add_limited(Method::POST, "/feedback/{code}", Public, feedback::send, feedback::MAX_PUBLIC_BODY)
        .add_limited(
            Method::POST,
            "/api/v1/public/feedback",
            Public,
            feedback::api_submit,
            feedback::MAX_PUBLIC_BODY,
        )
        .get("/api/v1/public/feedback/{code}", Public, feedback::api_status)
        // Signed in: one's own account.
        .post("/logout", SignedIn, account::logout)
        .get("/account", SignedIn, account::account)
        .post("/account/password", SignedIn, account::change_password)
        .post("/account/tokens", SignedIn, account::create_token)
        .post("/account/tokens/{id}/revoke", SignedIn, account::revoke_token)
        .post("/api/v1/auth/logout", SignedIn, account::api_logout)
        .get("/api/v1/me", SignedIn, account::api_me)
        .get("/schemes/{code}/history", SignedIn, admin::scheme_history)
        // What a unit records: the unit must be in the user's scope.
        .get("/units/{code}/history", Unit(Action::Read), admin::unit_history)
        .get("/api/v1/units/{code}/history", Unit(Action::Read), admin::api_unit_history)
        // The bloc of a commune.
        .get("/units/{code}/bloc", Unit(Action::Read), bloc::show)
        .post("/units/{code}/bloc/members", Unit(Action::Edit), bloc::add_member)
        .post("/units/{code}/bloc/members/{id}/end", Unit(Action::Edit), bloc::end_member)
        .post("/units/{code}/bloc/decisions", Unit(Action::Edit), bloc::add_decision)
        .get("/api/v1/units/{code}/bloc", Unit(Action::Read), bloc::api_bloc)
        .post("/api/v1/units/{code}/bloc/members", Unit(Action::Edit), bloc::api_add_member)
        .post("/api/v1/units/{code}/bloc/members/{id}/end", Unit(Action::Edit), bloc::api_end_member)
        .get("/units/{code}/hamlets", Unit(Action::Read), community::hamlets)
        .post("/units/{code}/hamlets", Unit(Action::Edit), community::add_hamlet)
        .post("/units/{code}/hamlets/{id}", Unit(Action::Edit), community::update_hamlet)
        .add_limited(
            Method::POST,
            "/units/{code}/hamlets/import",
            Unit(Action::Edit),
            community::import_hamlets,
            community::MAX_CSV_BYTES + 16 * 1024,
        )
        .get("/api/v1/units/{code}/hamlets", Unit(Action::Read), community::api_hamlets)
        .post("/api/v1/units/{code}/hamlets", Unit(Action::Edit), community::api_add_hamlets)
        .put("/api/v1/units/{code}/hamlets/{id}", Unit(Action::Edit), community::api_update_hamlet)
        .get("/units/{code}/meetings", Unit(Action::Read), community::meetings)
        .post("/units/{code}/meetings", Unit(Action::Edit), community::add_meeting)
        .get("/units/{code}/meetings/{id}", Unit(Action::Read), community::show_meeting)
        .post(
            "/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Unit(Action::Edit),
            community::conclusion_to_activity,
        )
        .get("/api/v1/units/{code}/meetings", Unit(Action::Read), community::api_meetings)
        .post("/api/v1/units/{code}/meetings", Unit(Action::Edit), community::api_add_meeting)
        .get("/api/v1/units/{code}/meetings/{id}", Unit(Action::Read), community::api_meeting)
        .post(
            "/api/v1/units/{code}/meetings/{id}/conclusions/{conclusion}/activity",
            Unit(Action::Edit),
            community::api_conclusion_activity,
        )
        .get("/units/{code}/feedback", Unit(Action::Read), feedback::inbox)
        .get("/units/{code}/feedback/{id}", Unit(Action::Read), feedback::item)
        .post("/units/{code}/feedback/{id}", Unit(Action::Edit), feedback::act)
        .get("/api/v1/units/{code}/feedback", Unit(Action::Read), feedback::api_inbox)
        .post("/api/v1/units/{code}/feedback/{id}/assign", Unit(Action::Edit), feedback::api_assign)
        .post("/api/v1/units/{code}/feedback/{id}/answer", Unit(Action::Edit), feedback::api_answer)
        .post("/api/v1/units/{code}/feedback/{id}/close", Unit(Action::Edit), feedback::api_close)
        // A province's member organisations and feedback deadline.
        .get("/units/{code}/organisations", Unit(Action::Read), community::organisations)
        .post("/units/{code}/organisations", Unit(Action::Edit), community::update_organisations)
        .get("/api/v1/units/{code}/organisations", Unit(Action::Read), community::api_settings)
        .post("/api/v1/units/{code}/organisations", Unit(Action::Edit), community::api_add_organisation)
        .put("/api/v1/units/{code}/organisations", Unit(Action::Edit), community::api_put_settings)
        .get(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}",
            Unit(Action::Read),
            reviews::get_review,
        )
        .put(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}",
            Unit(Action::Edit),
            reviews::put_review,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/submit",
            Unit(Action::Edit),
            reviews::submit_review,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/approve",
            Unit(Action::Approve),
            reviews::approve_review,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/return",
            Unit(Action::Approve),
            reviews::return_review,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/reviews/{period}/reopen",
            Unit(Action::Approve),
            reviews::reopen_review,
        )
        .get("/api/v1/schemes/{scheme}/units/{code}/rollup", Unit(Action::Read), reviews::rollup)
        .get("/schemes/{scheme}/units/{code}", Unit(Action::Read), dashboard::show)
        .get("/schemes/{scheme}/units/{code}/matrix.xlsx", Unit(Action::Read), dashboard::matrix_xlsx)
        .get("/schemes/{scheme}/units/{code}/matrix.csv", Unit(Action::Read), dashboard::matrix_csv)
        .get("/schemes/{scheme}/units/{code}/print", Unit(Action::Read), dashboard::print)
        .get("/schemes/{scheme}/units/{code}/report.docx", Unit(Action::Read), dashboard::report_docx)
        .get("/api/v1/schemes/{scheme}/units/{code}/dashboard", Unit(Action::Read), dashboard::api_dashboard)
        .get("/api/v1/schemes/{scheme}/units/{code}/roadmap", Unit(Action::Read), roadmaps::get_roadmap)
        .put("/api/v1/schemes/{scheme}/units/{code}/roadmap", Unit(Action::Edit), roadmaps::put_roadmap)
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/submit",
            Unit(Action::Edit),
            roadmaps::submit_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/revise",
            Unit(Action::Edit),
            roadmaps::revise_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/approve",
            Unit(Action::Approve),
            roadmaps::approve_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/return",
            Unit(Action::Approve),
            roadmaps::return_roadmap,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/roadmap/reopen",
            Unit(Action::Approve),
            roadmaps::reopen_roadmap,
        )
        .get("/schemes/{scheme}/units/{code}/roadmap", Unit(Action::Read), roadmaps::show)
        .post("/schemes/{scheme}/units/{code}/roadmap", Unit(Action::Edit), roadmaps::submit_form)
        .post("/schemes/{scheme}/units/{code}/roadmap/decide", Unit(Action::Approve), roadmaps::decide)
        .get("/schemes/{scheme}/units/{code}/roadmap/history", Unit(Action::Read), roadmaps::history)
        .get("/schemes/{scheme}/units/{code}/roadmaps", Unit(Action::Read), plans::overview)
        // Implementation plans.
        .get("/api/v1/schemes/{scheme}/units/{code}/plan/{year}", Unit(Action::Read), plans::api_list)
        .post("/api/v1/schemes/{scheme}/units/{code}/plan/{year}", Unit(Action::Edit), plans::api_create)
        .get("/api/v1/schemes/{scheme}/units/{code}/activities/{id}", Unit(Action::Read), plans::api_get)
        .put("/api/v1/schemes/{scheme}/units/{code}/activities/{id}", Unit(Action::Edit), plans::api_update)
        .add(
            Method::DELETE,
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}",
            Unit(Action::Edit),
            plans::api_delete,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/status",
            Unit(Action::Edit),
            plans::api_status,
        )
        .post(
            "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/notes",
            Unit(Action::Edit),
            plans::api_note,
        )
        .get("/schemes/{scheme}/units/{code}/plan/{year}", Unit(Action::Read), plans::show_plan)
        .post("/schemes/{scheme}/units/{code}/plan/{year}", Unit(Action::Edit), plans::add_activity)
        .post("/schemes/{scheme}/units/{code}/plan/{year}/copy", Unit(Action::Edit), plans::copy_plan)
        .get("/schemes/{scheme}/units/{code}/plan/{year}/xlsx", Unit(Action::Read), plan_sheet::download)
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/plan/{year}/xlsx",
            Unit(Action::Edit),
            plan_sheet::upload,
            review_sheet::MAX_TEMPLATE_BYTES + 64 * 1024,
        )
        .post("/schemes/{scheme}/units/{code}/plan/{year}/import", Unit(Action::Edit), plan_sheet::apply)
        .get("/schemes/{scheme}/units/{code}/activities/{id}", Unit(Action::Read), plans::show_activity)
        .post("/schemes/{scheme}/units/{code}/activities/{id}", Unit(Action::Edit), plans::update_activity)
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/status",
            Unit(Action::Edit),
            plans::change_status,
        )
        .post("/schemes/{scheme}/units/{code}/activities/{id}/notes", Unit(Action::Edit), plans::add_note)
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/delete",
            Unit(Action::Edit),
            plans::delete_activity,
        )
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/activities/{id}/files",
            Unit(Action::Edit),
            plans::upload_file,
            danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
        )
        .get(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}",
            Unit(Action::Read),
            plans::download_file,
        )
        .post(
            "/schemes/{scheme}/units/{code}/activities/{id}/files/{file}/delete",
            Unit(Action::Edit),
            plans::delete_file,
        )
        // Review pages.
        .get("/schemes/{scheme}/units/{code}/reviews", Unit(Action::Read), review_pages::list)
        .get("/schemes/{scheme}/units/{code}/reviews/{period}", Unit(Action::Read), review_pages::show)
        .post(
            "/schemes/{scheme}/units/{code}/reviews/{period}",
            Unit(Action::Edit),
            review_pages::submit_form,
        )
        .get(
            "/schemes/{scheme}/units/{code}/reviews/{period}/xlsx",
            Unit(Action::Read),
            review_sheet::download,
        )
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/reviews/{period}/xlsx",
            Unit(Action::Edit),
            review_sheet::upload,
            review_sheet::MAX_TEMPLATE_BYTES + 64 * 1024,
        )
        .post(
            "/schemes/{scheme}/units/{code}/reviews/{period}/decide",
            Unit(Action::Approve),
            review_pages::decide,
        )
        .get(
            "/schemes/{scheme}/units/{code}/reviews/{period}/history",
            Unit(Action::Read),
            review_pages::history,
        )
        .add_limited(
            Method::POST,
            "/schemes/{scheme}/units/{code}/reviews/{period}/evidence",
            Unit(Action::Edit),
            review_pages::upload_evidence,
            danvan_domain::evidence::MAX_FILE_BYTES + 64 * 1024,
        )
        .get(
            "/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}",
            Unit(Action::Read),
            review_pages::download_evidence,
        )
        .post(
            "/schemes/{scheme}/units/{code}/reviews/{period}/evidence/{id}/delete",
            Unit(Action::Edit),
            review_pages::delete_evidence,
        )
        .get("/schemes/{scheme}/inbox", Own(Action::ReviewInbox), review_pages::inbox)
        .post("/schemes/{scheme}/inbox", Own(Action::ReviewInbox), review_pages::bulk_approve)
        // Administration; handlers narrow to the target's scope.
        .get("/admin/users", Own(Action::ManageUsers), admin::users)
        .get("/admin/users/new", Own(Action::ManageUsers), admin::new_user)
        .post("/admin/users", Own(Action::ManageUsers), admin::create_user)
        .get("/admin/users/{id}", Own(Action::ManageUsers), admin::edit_user)
        .post("/admin/users/{id}", Own(Action::ManageUsers), admin::update_user)
        .post("/admin/users/{id}/password", Own(Action::ManageUsers), admin::reset_password)
        .post("/admin/users/{id}/move", Own(Action::ManageUsers), admin::move_user)
        .get("/admin/audit", Own(Action::Audit), admin::audit)
}

/// Every route of the application with its access rule (for the authorisation matrix).
pub fn route_table(state: AppState) -> Vec<RouteInfo> {
    routes(state).info
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let app = routes(state.clone()).router.nest("/api/v1", Router::new().fallback(api::not_found));
    let docs: Router<AppState> = Router::from(
        SwaggerUi::new("/api/docs").url("/api/openapi.json", api::ApiDoc::openapi()),
    )
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP_DOCS),
    ));
    let hsts = state.auth.secure_cookies;
    let app = app
        .merge(docs)
        .fallback(pages::not_found)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(auth::private_answers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(state, auth::csrf))
        .layer(CatchPanicLayer::custom(|_| {
            error::WebError::Internal("handler panicked".into()).page(i18n::Lang::Vi)
        }))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http());
    // Served over HTTPS (secure cookies): browsers are told to come back over HTTPS only.
    if hsts {
        app.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        app
    }
}

/// The Content-Security-Policy of every page: no inline script, nothing from elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
/// Swagger UI, which sets its style inline.
const CSP_DOCS: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; frame-ancestors 'none'; base-uri 'self'";

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub auth: AuthConfig,
    /// Where uploaded files are kept.
    pub files: std::path::PathBuf,
}

/// A built application: bound to its port, ready to serve.
pub struct App {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl App {
    pub async fn build(config: &Config, store: Store) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        let sample = store.has_sample_data().await.map_err(std::io::Error::other)?;
        let state = AppState {
            sample,
            auth: config.auth.clone(),
            files: config.files.clone(),
            ..AppState::new(store)
        };
        Ok(Self { listener, router: router(state.clone()), state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C or SIGTERM. Expired sessions and old failed logins are removed
    /// at start and every hour.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let swept = files::sweep_temporary(&state.files);
        if swept > 0 {
            tracing::info!(swept, "temporary files left by an interrupted upload removed");
        }
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                let now = chrono::Utc::now();
                let sessions = state.store.purge_sessions(now, now - state.auth.idle).await;
                let failures = state.store.purge_login_failures(now - chrono::Duration::days(1)).await;
                if let (Err(e), _) | (_, Err(e)) = (&sessions, &failures) {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
            }
        });
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
    }

    /// Serves on a free port of 127.0.0.1 in the background, with default settings (for
    /// tests): the base address, and a sender that stops the server.
    pub async fn spawn_local(
        store: Store,
        files: std::path::PathBuf,
    ) -> std::io::Result<(String, tokio::sync::oneshot::Sender<()>)> {
        let config =
            Config { bind: SocketAddr::from(([127, 0, 0, 1], 0)), auth: AuthConfig::default(), files };
        let app = Self::build(&config, store).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Ok((base, tx))
    }

    /// Serves until the future completes (for tests).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(stop)
            .await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
