//! The web face of danvan: server-rendered pages in Vietnamese and English, and a JSON API.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use danvan_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub mod api;
pub mod error;
pub mod i18n;
pub mod pages;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/units", get(api::search_units))
        .route("/units/{code}", get(api::get_unit))
        .route("/units/{code}/children", get(api::get_children))
        .route("/schemes", get(api::list_schemes))
        .route("/schemes/{code}", get(api::get_scheme))
        .fallback(api::not_found);
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/units", get(pages::units))
        .route("/units/{code}", get(pages::unit))
        .route("/schemes/{code}", get(pages::scheme))
        .route("/lang/{code}", get(pages::switch_lang))
        .route("/healthz", get(pages::healthz))
        .route("/static/style.css", get(pages::stylesheet));
    let docs: Router<AppState> =
        Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", api::ApiDoc::openapi()))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP_DOCS),
            ));
    Router::new()
        .merge(pages)
        .nest("/api/v1", api)
        .merge(docs)
        .fallback(pages::not_found)
        .with_state(state)
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
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// The Content-Security-Policy of every page: no inline script, nothing from elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
/// Swagger UI, which sets its style inline.
const CSP_DOCS: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; frame-ancestors 'none'; base-uri 'self'";

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
}

/// A built application: bound to its port, ready to serve.
pub struct App {
    listener: TcpListener,
    router: Router,
}

impl App {
    pub async fn build(config: &Config, store: Store) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        Ok(Self {
            listener,
            router: router(AppState { store }),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }

    /// Serves until the future completes (for tests).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
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
