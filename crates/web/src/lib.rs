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
use utoipa_swagger_ui::SwaggerUi;

use crate::shell::auth::AuthConfig;

pub mod accounts;
pub mod audit;
pub mod bloc;
pub mod community;
pub mod dashboard;
pub mod feedback;
pub mod openapi;
pub mod plans;
pub mod reviews;
pub mod roadmaps;
pub mod schemes;
pub mod shell;
pub mod site;
pub mod units;

pub use shell::{AppState, RouteInfo, Routes};
// The paths other crates and the tests name.
pub use shell::{auth, error, files, i18n};

/// Every route of every area, each registered with its access rule.
fn routes(state: AppState) -> Routes {
    let mut r = Routes::new(state);
    for area in [
        site::routes,
        units::routes,
        schemes::routes,
        accounts::routes,
        feedback::routes,
        bloc::routes,
        community::routes,
        reviews::routes,
        dashboard::routes,
        roadmaps::routes,
        plans::routes,
        audit::routes,
    ] {
        r = area(r);
    }
    r
}

/// Every route of the application with its access rule (for the authorisation matrix).
pub fn route_table(state: AppState) -> Vec<RouteInfo> {
    routes(state).info
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let all = routes(state.clone());
    let document = openapi::document(&all.info);
    let app = all.router.nest("/api/v1", Router::new().fallback(openapi::not_found));
    let docs: Router<AppState> = Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", document))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_DOCS),
        ));
    let hsts = state.auth.secure_cookies;
    let app = app
        .merge(docs)
        .fallback(site::not_found)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(error::api_errors_as_json))
        .layer(axum::middleware::from_fn(error::pages_in_frame))
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
