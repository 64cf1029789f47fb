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
pub mod notices;
pub mod openapi;
pub mod ops;
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
        ops::routes,
        notices::routes,
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
    let metrics = state.metrics.clone();
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
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(metrics, shell::metrics::track));
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
    pub files: danvan_store::FileStore,
    /// Where backups go, how many are kept, and how often (if on a schedule).
    pub backups: ops::BackupSchedule,
    /// An address of its own for `/metrics`, answered there without sign-in.
    pub metrics_bind: Option<SocketAddr>,
    /// Reminders: email, webhooks, the approvers' wait, how often.
    pub notify: shell::state::NotifyConfig,
}

impl Config {
    /// Default settings on `bind`, files in a folder.
    pub fn new(bind: SocketAddr, files: std::path::PathBuf) -> Self {
        Self {
            bind,
            auth: AuthConfig::default(),
            files: danvan_store::FileStore::Dir(files),
            backups: AppState::new_backups(),
            metrics_bind: None,
            notify: shell::state::NotifyConfig::default(),
        }
    }
}

/// How long a graceful stop waits for the requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// A built application: bound to its port, ready to serve.
pub struct App {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    router: Router,
    state: AppState,
}

impl App {
    pub async fn build(config: &Config, store: Store) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        let metrics_listener = match config.metrics_bind {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let sample = store.has_sample_data().await.map_err(std::io::Error::other)?;
        let state = AppState {
            sample,
            auth: config.auth.clone(),
            files: config.files.clone(),
            backups: config.backups.clone(),
            notify: config.notify.clone(),
            ..AppState::new(store)
        };
        Ok(Self { listener, metrics_listener, router: router(state.clone()), state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C or SIGTERM, then stops gracefully: no new connections, the requests
    /// in flight finished (up to 30 s), a running backup finished, the write-ahead log
    /// checkpointed, the database closed. Expired sessions and old failed logins are removed at
    /// start and every hour; scheduled backups and the reminders run meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_stop(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then stops as [`App::run_until_stopped`] does.
    pub async fn run_with_stop(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let swept = files::sweep_temporary(&state.files);
        if swept > 0 {
            tracing::info!(swept, "temporary files left by an interrupted upload removed");
        }
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let housekeeping = {
            let state = state.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    tokio::select! {
                        _ = every.tick() => {}
                        _ = stopped.changed() => return,
                    }
                    let now = chrono::Utc::now();
                    let sessions = state.store.purge_sessions(now, now - state.auth.idle).await;
                    let failures = state.store.purge_login_failures(now - chrono::Duration::days(1)).await;
                    if let (Err(e), _) | (_, Err(e)) = (&sessions, &failures) {
                        tracing::warn!(error = %e, "housekeeping failed");
                    }
                }
            })
        };
        let reminders = tokio::spawn(notices::run_schedule(state.clone(), stopped.clone()));
        let scheduled = state
            .backups
            .every
            .map(|_| tokio::spawn(ops::run_schedule(state.clone(), state.backups.clone(), stopped.clone())));
        if let Some(listener) = self.metrics_listener {
            let only_metrics =
                Router::new().route("/metrics", axum::routing::get(ops::metrics)).with_state(state.clone());
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let _ = axum::serve(listener, only_metrics)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    })
                    .await;
            });
        }
        let mut served = stopped.clone();
        let serving =
            axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = served.changed().await;
                });
        let server = tokio::spawn(async move { serving.await });
        tokio::pin!(stop);
        let mut server = server;
        let outcome = tokio::select! {
            done = &mut server => Some(done),
            _ = &mut stop => None,
        };
        let _ = stopping.send(true);
        let outcome = match outcome {
            Some(done) => done,
            None => {
                tracing::info!("stopping: no new connections, finishing the requests in flight");
                match tokio::time::timeout(DRAIN, &mut server).await {
                    Ok(done) => done,
                    Err(_) => {
                        tracing::warn!(
                            in_flight = state.metrics.in_flight(),
                            "requests still running after 30 s are cut off"
                        );
                        server.abort();
                        Ok(Ok(()))
                    }
                }
            }
        };
        let _ = housekeeping.await;
        // A run of the reminders in progress finishes (its sends claimed, none half-recorded).
        let _ = reminders.await;
        if let Some(job) = scheduled {
            let _ = job.await;
        }
        // A backup started from the system page is finished too.
        drop(state.backup_running.lock().await);
        if let Err(e) = state.store.checkpoint().await {
            tracing::warn!(error = %e, "the write-ahead log could not be checkpointed");
        }
        state.store.close().await;
        tracing::info!("stopped");
        outcome.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Serves on a free port of 127.0.0.1 in the background, with default settings (for
    /// tests): the base address, and a sender that stops the server.
    pub async fn spawn_local(
        store: Store,
        files: std::path::PathBuf,
    ) -> std::io::Result<(String, tokio::sync::oneshot::Sender<()>)> {
        let config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), files);
        let app = Self::build(&config, store).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Ok((base, tx))
    }

    /// Serves until the future completes (for tests), without the stop's draining.
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
