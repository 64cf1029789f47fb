//! One error type for the web layer, rendered as a Vietnamese (or English) page for browsers and
//! as JSON for the API. Internal causes are logged, never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use danvan_store::StoreError;
use serde::Serialize;

use crate::shell::i18n::Lang;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Well-formed JSON whose content is refused (a version that is no whole number).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A code that names several units, none chosen by the context: the caller picks one.
    #[error("mã \"{code}\" chỉ nhiều đơn vị ở các thời kỳ khác nhau; hãy chọn một")]
    Ambiguous { code: String, choices: Vec<UnitChoice> },
    /// The database is busy: nothing was done; the client may retry after a moment.
    #[error("{0}")]
    Unavailable(String),
    #[error("lỗi hệ thống")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(m) => Self::BadRequest(m),
            busy @ StoreError::Busy => Self::Unavailable(busy.to_string()),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Ambiguous { .. } => StatusCode::MULTIPLE_CHOICES,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn choices(&self) -> Vec<UnitChoice> {
        match self {
            Self::Ambiguous { choices, .. } => choices.clone(),
            _ => Vec::new(),
        }
    }

    fn log(&self) {
        if let Self::Internal(cause) = self {
            let mut chain = cause.to_string();
            let mut source = cause.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain, "internal error");
        }
    }

    /// The message safe to show a user.
    fn public_message(&self, lang: Lang) -> String {
        match self {
            Self::Internal(_) => lang.t("error-500-text"),
            other => other.to_string(),
        }
    }

    /// Renders this error as an HTML page in the given language.
    pub fn page(self, lang: Lang) -> Response {
        self.log();
        let status = self.status();
        let (title, text) = match status {
            StatusCode::NOT_FOUND => (lang.t("error-404-title"), lang.t("error-404-text")),
            StatusCode::FORBIDDEN => (lang.t("error-403-title"), lang.t("error-403-text")),
            StatusCode::UNAUTHORIZED => (lang.t("error-401-title"), String::new()),
            StatusCode::INTERNAL_SERVER_ERROR => (lang.t("error-500-title"), lang.t("error-500-text")),
            StatusCode::MULTIPLE_CHOICES => (lang.t("error-300-title"), lang.t("error-300-text")),
            StatusCode::SERVICE_UNAVAILABLE => (lang.t("error-503-title"), String::new()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (lang.t("error-415-title"), String::new()),
            StatusCode::PAYLOAD_TOO_LARGE => (lang.t("error-413-title"), String::new()),
            _ => (lang.t("error-400-title"), String::new()),
        };
        let detail = match &self {
            Self::Internal(_) => String::new(),
            _ => self.public_message(lang),
        };
        let choices = self.choices();
        let parts = ErrorParts { status, title, text, detail, choices };
        let page = parts.clone().page(crate::shell::Layout::bare(lang, &parts.title, "/"), None);
        let mut res = with_retry_after(render(page, status));
        // Drawn without the request's user; `pages_in_frame` draws it again in the user's frame.
        res.extensions_mut().insert(parts);
        res
    }
}

/// What an error page says, kept with the answer so that it can be drawn in the user's frame.
#[derive(Clone)]
struct ErrorParts {
    status: StatusCode,
    title: String,
    text: String,
    detail: String,
    choices: Vec<UnitChoice>,
}

impl ErrorParts {
    fn page(self, layout: crate::shell::Layout, back: Option<String>) -> ErrorPage {
        let ErrorParts { status, title, text, detail, choices } = self;
        ErrorPage { layout, status: status.as_u16(), title, text, detail, choices, back }
    }
}

/// An error page of a page request is drawn in the frame of the signed-in user (their name and
/// menu, not "Đăng nhập" as if signed out), with a link back to the page the form was sent from
/// (same site only), so that the place in the work is not lost.
pub async fn pages_in_frame(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_string();
    let (mut parts, body) = req.into_parts();
    let ctx = crate::shell::PageCtx::without_counts(&mut parts).await;
    let back = same_site_referer(&parts.headers).filter(|b| *b != path);
    let res = next.run(axum::extract::Request::from_parts(parts, body)).await;
    if path.starts_with("/api/") || ctx.user.is_none() && back.is_none() {
        return res;
    }
    let Some(error) = res.extensions().get::<ErrorParts>().cloned() else { return res };
    let status = error.status;
    let layout = crate::shell::Layout::new(&ctx, &error.title, &path);
    let mut out = with_retry_after(render(error.page(layout, back), status));
    for (name, value) in res.headers() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// The path (and query) of the page a request came from, when that page is on this site.
fn same_site_referer(headers: &axum::http::HeaderMap) -> Option<String> {
    let referer = headers.get(axum::http::header::REFERER)?.to_str().ok()?;
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    let origin = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str()?),
        None => url.host_str()?.to_string(),
    };
    (origin == host && matches!(url.scheme(), "http" | "https")).then(|| match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

/// Seconds a client should wait before sending again a request the busy database refused.
pub const RETRY_AFTER_SECS: u32 = 2;

/// A 503 answer tells when to try again; other answers pass unchanged.
fn with_retry_after(mut res: Response) -> Response {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
    }
    res
}

/// One of the units a code names: what it is called, when it existed, and a link to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitChoice {
    pub code: String,
    pub name: String,
    pub valid_from: Option<chrono::NaiveDate>,
    pub valid_to: Option<chrono::NaiveDate>,
    /// "Thị trấn Hậu Nghĩa, đến 30/06/2025".
    pub label: String,
    /// The same address, naming this unit by a day it existed (`?on=`).
    pub href: String,
}

#[derive(Template)]
#[template(path = "shell/error.html")]
struct ErrorPage {
    layout: crate::shell::Layout,
    status: u16,
    title: String,
    text: String,
    detail: String,
    choices: Vec<UnitChoice>,
    /// The page the request came from, to go back to.
    back: Option<String>,
}

/// The plain page of a status, in the frame of the request's user.
pub fn error_page_in(ctx: &crate::shell::PageCtx, status: StatusCode) -> Response {
    let (title, text) = match status {
        StatusCode::FORBIDDEN => (ctx.lang.t("error-403-title"), ctx.lang.t("error-403-text")),
        _ => (ctx.lang.t("error-404-title"), ctx.lang.t("error-404-text")),
    };
    render_error(crate::shell::Layout::new(ctx, &title, "/"), status, title, text, String::new())
}

pub fn error_page(lang: Lang, status: StatusCode, title: String, text: String, detail: String) -> Response {
    render_error(crate::shell::Layout::bare(lang, &title, "/"), status, title, text, detail)
}

fn render_error(
    layout: crate::shell::Layout,
    status: StatusCode,
    title: String,
    text: String,
    detail: String,
) -> Response {
    render(
        ErrorPage { layout, status: status.as_u16(), title, text, detail, choices: Vec::new(), back: None },
        status,
    )
}

fn render(page: ErrorPage, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            (status, status.canonical_reason().unwrap_or("error")).into_response()
        }
    }
}

/// An error answered as JSON, for the API.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// HTTP status code.
    pub status: u16,
    /// What went wrong, in Vietnamese.
    pub error: String,
    /// With 300 Multiple Choices: the units the code names, to choose from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<UnitChoice>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let body = ErrorBody {
            status: status.as_u16(),
            error: self.0.public_message(Lang::Vi),
            choices: self.0.choices(),
        };
        with_retry_after((status, Json(body)).into_response())
    }
}

/// A page handler's error: rendered in the language of the request.
pub struct PageError {
    pub lang: Lang,
    pub error: WebError,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.error.page(self.lang)
    }
}

/// Attaches the request's language to an error.
pub trait InLang<T> {
    fn in_lang(self, lang: Lang) -> Result<T, PageError>;
}

impl<T, E: Into<WebError>> InLang<T> for Result<T, E> {
    fn in_lang(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError { lang, error: e.into() })
    }
}

/// What a refusal by the framework itself (a body that is not JSON, a missing field, a wrong
/// Content-Type, a query that does not parse) means, for an API client in its language.
fn framework_message(lang: Lang, status: StatusCode, detail: &str) -> String {
    let (vi, en) = match status {
        StatusCode::BAD_REQUEST => ("Yêu cầu không hợp lệ", "Bad request"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "Cần gửi nội dung JSON (Content-Type: application/json) hoặc biểu mẫu đúng loại",
            "Send JSON (Content-Type: application/json) or a form of the right kind",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => {
            ("Nội dung không đúng mẫu", "The body does not match what is expected")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("Nội dung gửi lên quá lớn", "The body is too large"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("Địa chỉ này không nhận phương thức đó", "This address does not take that method")
        }
        StatusCode::REQUEST_TIMEOUT => {
            ("Yêu cầu quá thời gian; hãy thử lại", "The request took too long; try again")
        }
        _ => ("Yêu cầu không thực hiện được", "The request could not be carried out"),
    };
    let head = if lang == Lang::En { en } else { vi };
    let detail = detail.trim();
    if detail.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {detail}")
    }
}

/// Every error of the API answers as JSON (`ErrorBody`) in the user's language, including the
/// framework's own refusals, which come as English text/plain.
pub async fn api_errors_as_json(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/") && !req.uri().path().starts_with("/api/docs");
    let lang = Lang::from_headers(req.headers());
    let res = next.run(req).await;
    let status = res.status();
    let json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let detail: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
    let body = ErrorBody {
        status: status.as_u16(),
        error: framework_message(lang, status, &detail),
        choices: Vec::new(),
    };
    let mut out = (status, Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    #[tokio::test]
    async fn internal_errors_show_a_page_without_their_cause() {
        let err = WebError::Internal("password=hunter2 connection refused".into());
        let res = err.page(Lang::En);
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(body.contains("Server error"));
        assert!(!body.contains("hunter2"));
        let res = ApiError(WebError::Internal("secret cause".into())).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(!body.contains("secret cause"));
        assert!(body.contains("\"status\":500"));
    }

    /// Issue 14, defect 4: a busy database answered 500; it is 503 with Retry-After, as a page
    /// and as JSON.
    #[tokio::test]
    async fn a_busy_database_answers_503_with_retry_after() {
        for res in [
            WebError::from(StoreError::Busy).page(Lang::Vi),
            ApiError::from(StoreError::Busy).into_response(),
        ] {
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.headers()[axum::http::header::RETRY_AFTER], RETRY_AFTER_SECS.to_string().as_str());
            let body = String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
            assert!(body.contains("đang bận"), "{body}");
        }
        // Other answers carry no Retry-After.
        let res = WebError::Conflict("x".into()).page(Lang::Vi);
        assert!(!res.headers().contains_key(axum::http::header::RETRY_AFTER));
    }
}
