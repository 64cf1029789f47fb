//! What citizens see: the form, sending, and following an answer by its code. Never a
//! citizen's name, phone or email.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{Duration, NaiveDate, Utc};
use danvan_domain::feedback::{normalise_code, tracking_code, FeedbackInput, CATEGORIES};
use danvan_domain::period::VIETNAM;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::{Feedback, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::client_address;
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::province_of;
use crate::shell::AppState;
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx};

/// At most this many feedbacks from one address per hour.
pub const PER_HOUR: i64 = 5;

/// The address a request comes from, hashed: the rate limit counts by it, nobody reads it.
fn address_hash(ext: &Extensions) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("danvan-feedback:{}", client_address(ext)).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The commune a public form names (the unit valid today, else the newest with the code).
async fn commune(state: &AppState, code: &str) -> Result<Unit, WebError> {
    let unit = match state.store.unit_by_code(code, Some(today())).await? {
        Some(u) => Some(u),
        None => state.store.unit_by_code(code, None).await?,
    };
    unit.filter(|u| u.level == UnitLevel::Commune)
        .ok_or_else(|| WebError::NotFound(format!("không có xã, phường mã \"{code}\"")))
}

/// Why a public submission was refused.
enum Refusal {
    Problems(Vec<String>),
    TooMany,
}

/// Checks and stores a citizen's feedback: honeypot, rate limit, content; then a fresh code.
async fn submit(
    state: &AppState,
    ext: &Extensions,
    unit: &Unit,
    input: &FeedbackInput,
    honeypot: &str,
) -> Result<Result<Feedback, Refusal>, WebError> {
    if !honeypot.trim().is_empty() {
        // Only robots fill the hidden field; they get no hint of why.
        return Ok(Err(Refusal::Problems(vec!["không gửi được ý kiến; hãy thử lại".into()])));
    }
    let input = match input.cleaned() {
        Ok(i) => i,
        Err(p) => return Ok(Err(Refusal::Problems(p))),
    };
    let hash = address_hash(ext);
    if state.store.feedback_from_address_since(&hash, Utc::now() - Duration::hours(1)).await? >= PER_HOUR {
        return Ok(Err(Refusal::TooMany));
    }
    let days = state.store.feedback_answer_days(province_of(state, unit).await?).await?;
    for _ in 0..5 {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| WebError::Internal(Box::new(std::io::Error::other(e.to_string()))))?;
        match state
            .store
            .submit_feedback(unit.id, &tracking_code(&random), &input, &hash, Utc::now(), days)
            .await
        {
            Ok(f) => return Ok(Ok(f)),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(WebError::Internal(Box::new(std::io::Error::other("no free tracking code after 5 draws"))))
}

// ---- the public API ------------------------------------------------------------------------

/// A citizen's feedback as sent to the public API.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PublicFeedback {
    /// The commune's code.
    pub unit: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub hamlet: Option<String>,
    pub category: String,
    pub content: String,
    /// Leave empty (a field only robots fill).
    #[serde(default)]
    pub website: String,
}

/// The tracking code of a feedback sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CodeJson {
    pub code: String,
}

/// What anyone with the code may see: never the citizen's name, phone or email.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicStatus {
    pub code: String,
    pub unit: String,
    pub category: String,
    /// received, assigned, answered or closed.
    pub status: String,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub answer: Option<String>,
    pub answered_on: Option<NaiveDate>,
}

fn refusal_response(r: Refusal) -> Response {
    match r {
        Refusal::Problems(p) => unprocessable(p),
        Refusal::TooMany => ApiError(WebError::TooManyRequests(too_many())).into_response(),
    }
}

fn too_many() -> String {
    format!("đã nhận {PER_HOUR} ý kiến từ địa chỉ này trong một giờ; hãy thử lại sau")
}

/// Sends feedback to a commune, without an account; answers its tracking code.
#[utoipa::path(post, path = "/api/v1/public/feedback", request_body = PublicFeedback,
    responses((status = 201, body = CodeJson), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)), tag = "feedback")]
pub async fn api_submit(
    AxState(state): AxState<AppState>,
    ext: Extensions,
    Json(body): Json<PublicFeedback>,
) -> Result<Response, ApiError> {
    let unit = commune(&state, body.unit.trim()).await?;
    let input = FeedbackInput {
        name: body.name,
        phone: body.phone,
        email: body.email,
        hamlet: body.hamlet,
        category: body.category,
        content: body.content,
    };
    Ok(match submit(&state, &ext, &unit, &input, &body.website).await? {
        Ok(f) => (StatusCode::CREATED, Json(CodeJson { code: f.code })).into_response(),
        Err(r) => refusal_response(r),
    })
}

async fn public_status(state: &AppState, raw: &str) -> Result<PublicStatus, WebError> {
    let not_found = || WebError::NotFound(format!("không có ý kiến mã \"{}\"", raw.trim()));
    let code = normalise_code(raw).ok_or_else(not_found)?;
    let f = state.store.feedback_by_code(&code).await?.ok_or_else(not_found)?;
    let unit = state.store.unit(f.unit_id).await?.map(|u| u.name).unwrap_or_default();
    Ok(PublicStatus {
        code: f.code,
        unit,
        category: f.input.category,
        status: f.status.as_str().into(),
        received_on: f.received_at.with_timezone(&VIETNAM).date_naive(),
        due_on: f.due_on,
        answer: f.answer,
        answered_on: f.answered_at.map(|a| a.with_timezone(&VIETNAM).date_naive()),
    })
}

/// The status and published answer of a feedback, by its tracking code.
#[utoipa::path(get, path = "/api/v1/public/feedback/{code}", params(("code" = String, Path)),
    responses((status = 200, body = PublicStatus), (status = 404, body = ErrorBody)), tag = "feedback")]
pub async fn api_status(
    AxState(state): AxState<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicStatus>, ApiError> {
    Ok(Json(public_status(&state, &code).await?))
}

// ---- the public pages ----------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "feedback/feedback_form.html")]
pub struct FormPage {
    layout: Layout,
    action: String,
    unit_name: String,
    categories: Vec<&'static str>,
    hamlets: Vec<String>,
    form: FeedbackForm,
    problems: Vec<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct FeedbackForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub hamlet: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub website: String,
}

async fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    unit: &Unit,
    form: FeedbackForm,
    problems: Vec<String>,
) -> Result<FormPage, WebError> {
    let path = format!("/feedback/{}", unit.code);
    Ok(FormPage {
        layout: Layout::new(ctx, &format!("{} · {}", ctx.lang.t("feedback-title"), unit.name), &path),
        action: path,
        unit_name: unit.name.clone(),
        categories: CATEGORIES.to_vec(),
        hamlets: state.store.hamlets_of(unit.id).await?.into_iter().map(|h| h.input.name).collect(),
        form,
        problems,
    })
}

pub async fn form(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<FormPage, PageError> {
    let unit = commune(&state, &code).await.in_lang(ctx.lang)?;
    form_page(&state, &ctx, &unit, FeedbackForm::default(), Vec::new()).await.in_lang(ctx.lang)
}

pub async fn send(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ext: Extensions,
    Path(code): Path<String>,
    Form(form): Form<FeedbackForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let unit = commune(&state, &code).await.in_lang(lang)?;
    let some = |s: &str| Some(s.to_string());
    let input = FeedbackInput {
        name: some(&form.name),
        phone: some(&form.phone),
        email: some(&form.email),
        hamlet: some(&form.hamlet),
        category: form.category.clone(),
        content: form.content.clone(),
    };
    let (status, problems) = match submit(&state, &ext, &unit, &input, &form.website).await.in_lang(lang)? {
        Ok(f) => return Ok(Redirect::to(&format!("/feedback/track?code={}&sent=1", f.code)).into_response()),
        Err(Refusal::Problems(p)) => (StatusCode::UNPROCESSABLE_ENTITY, p),
        Err(Refusal::TooMany) => (StatusCode::TOO_MANY_REQUESTS, vec![too_many()]),
    };
    let page = form_page(&state, &ctx, &unit, form, problems).await.in_lang(lang)?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct TrackQuery {
    pub code: Option<String>,
    pub sent: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "feedback/feedback_status.html")]
pub struct StatusPage {
    layout: Layout,
    code: String,
    sent: bool,
    found: Option<PublicStatus>,
    status_label: String,
    received_on: String,
    due_on: String,
    answered_on: String,
    problem: String,
}

pub async fn track(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    Query(q): Query<TrackQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let code = q.code.unwrap_or_default();
    let mut page = StatusPage {
        layout: Layout::new(&ctx, &lang.t("feedback-track-title"), "/feedback/track"),
        code: code.trim().to_string(),
        sent: q.sent.is_some(),
        found: None,
        status_label: String::new(),
        received_on: String::new(),
        due_on: String::new(),
        answered_on: String::new(),
        problem: String::new(),
    };
    if code.trim().is_empty() {
        return Ok(page.into_response());
    }
    match public_status(&state, &code).await {
        Ok(s) => {
            page.status_label = lang.t(&format!("feedback-status-{}", s.status));
            page.received_on = lang.date(s.received_on);
            page.due_on = lang.date(s.due_on);
            page.answered_on = s.answered_on.map(|d| lang.date(d)).unwrap_or_default();
            page.code = s.code.clone();
            page.found = Some(s);
            Ok(page.into_response())
        }
        Err(WebError::NotFound(m)) => {
            page.problem = m;
            Ok((StatusCode::NOT_FOUND, page).into_response())
        }
        Err(e) => Err(e).in_lang(lang),
    }
}
