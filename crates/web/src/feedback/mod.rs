//! Citizens' feedback (ý kiến, kiến nghị): the public form and status page — the only
//! anonymous writes in the system — and the commune staff's inbox. Public pages and answers
//! never show a citizen's name, phone or email.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::Method;
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{Duration, NaiveDate, Utc};
use danvan_domain::access::Action;
use danvan_domain::feedback::{
    is_overdue, normalise_code, tracking_code, FeedbackInput, FeedbackStatus, CATEGORIES, MAX_ANSWER,
};
use danvan_domain::period::VIETNAM;
use danvan_domain::text;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::{Feedback, FeedbackStep, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::Access;
use crate::shell::auth::{client_address, may, CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::{done_message, province_of};
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx, Pager};

/// At most this many feedbacks from one address per hour.
pub const PER_HOUR: i64 = 5;

/// The largest public request body.
pub const MAX_PUBLIC_BODY: usize = 32 * 1024;

const PAGE_SIZE: usize = 25;

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

// ---- staff ---------------------------------------------------------------------------------

/// A feedback as staff see it. The citizen's name, phone and email only for the staff who
/// handle it (commune, district, province; never a viewer): otherwise null, and
/// `contacts_hidden` says so.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedbackJson {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub contacts_hidden: bool,
    pub hamlet: Option<String>,
    pub category: String,
    pub content: String,
    pub status: String,
    pub organisation: Option<String>,
    pub answer: Option<String>,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub answered_on_time: Option<bool>,
    pub version: i64,
}

/// Whether a user sees the contact details citizens left with a unit's feedback.
async fn sees_contacts(state: &AppState, user: &CurrentUser, unit: &Unit) -> Result<bool, WebError> {
    may(state, &user.user, unit.id, Action::Contacts).await
}

fn feedback_json(f: Feedback, contacts: bool) -> FeedbackJson {
    let answered = f.answered_at.map(|a| a.with_timezone(&VIETNAM).date_naive());
    let shown = |v: Option<String>| v.filter(|_| contacts);
    FeedbackJson {
        id: f.id,
        overdue: is_overdue(f.status, f.due_on, today()),
        answered_on_time: answered.map(|a| a <= f.due_on),
        code: f.code,
        name: shown(f.input.name),
        phone: shown(f.input.phone),
        email: shown(f.input.email),
        contacts_hidden: !contacts,
        hamlet: f.input.hamlet,
        category: f.input.category,
        content: f.input.content,
        status: f.status.as_str().into(),
        organisation: f.organisation,
        answer: f.answer,
        received_on: f.received_at.with_timezone(&VIETNAM).date_naive(),
        due_on: f.due_on,
        version: f.version,
    }
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    pub status: Option<String>,
    pub page: Option<usize>,
    pub done: Option<String>,
}

fn status_filter(s: Option<&str>) -> Result<Option<FeedbackStatus>, WebError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => FeedbackStatus::parse(s)
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("trạng thái \"{s}\" không hợp lệ"))),
    }
}

/// A commune's feedback, newest first (`?status=`, `?page=`, 25 a page).
#[utoipa::path(get, path = "/api/v1/units/{code}/feedback", params(("code" = String, Path), ("status" = Option<String>, Query), ("page" = Option<usize>, Query)),
    responses((status = 200, body = [FeedbackJson]), (status = 403, body = ErrorBody)), tag = "feedback")]
pub async fn api_inbox(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<InboxQuery>,
) -> Result<Json<Vec<FeedbackJson>>, ApiError> {
    let status = status_filter(q.status.as_deref())?;
    let page = q.page.unwrap_or(1).max(1);
    let (list, _) = state.store.feedback_of(unit.id, status, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let contacts = sees_contacts(&state, &user, &unit).await?;
    Ok(Json(list.into_iter().map(|f| feedback_json(f, contacts)).collect()))
}

async fn feedback_in(state: &AppState, unit: &Unit, id: i64) -> Result<Feedback, WebError> {
    state
        .store
        .feedback(id)
        .await?
        .filter(|f| f.unit_id == unit.id)
        .ok_or_else(|| WebError::NotFound(format!("không có ý kiến #{id}")))
}

/// A staff step's body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepBody {
    /// For assign: the member organisation; for answer: the answer; for close: the reason.
    #[serde(default)]
    pub text: String,
    /// The version read (optional).
    #[serde(default)]
    pub version: Option<i64>,
}

async fn step(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    id: i64,
    kind: &str,
    body: &StepBody,
) -> Result<Result<Feedback, Vec<String>>, WebError> {
    feedback_in(state, unit, id).await?;
    let step = match kind {
        "assign" => {
            let org = text::clean(&body.text);
            let known = state.store.organisations(province_of(state, unit).await?).await?;
            // The name as the list writes it, whatever the tone placement or case typed.
            let key = text::name_key(&org);
            let Some(org) = known.into_iter().find(|k| text::name_key(k) == key) else {
                return Ok(Err(vec![format!("\"{org}\" không có trong danh sách tổ chức thành viên")]));
            };
            FeedbackStep::Assign(org)
        }
        "answer" => {
            let answer = text::clean_multiline(&body.text).trim().to_string();
            let n = answer.chars().count();
            if n == 0 || n > MAX_ANSWER {
                return Ok(Err(vec![format!("câu trả lời cần từ 1 đến {MAX_ANSWER} ký tự")]));
            }
            FeedbackStep::Answer(answer)
        }
        "close" => FeedbackStep::Close(Some(text::clean(&body.text)).filter(|r| !r.is_empty())),
        other => return Err(WebError::BadRequest(format!("bước \"{other}\" không có"))),
    };
    match state.store.feedback_step(&user.actor(), id, body.version, &step).await {
        Ok(f) => Ok(Ok(f)),
        Err(StoreError::Invalid(m)) | Err(StoreError::Conflict(m)) => Ok(Err(vec![m])),
        Err(e) => Err(e.into()),
    }
}

async fn api_step(
    state: AppState,
    user: CurrentUser,
    unit: Unit,
    id: i64,
    kind: &str,
    body: StepBody,
) -> Result<Response, ApiError> {
    Ok(match step(&state, &user, &unit, id, kind, &body).await? {
        Ok(f) => Json(feedback_json(f, sees_contacts(&state, &user, &unit).await?)).into_response(),
        Err(p) => unprocessable(p),
    })
}

/// Hands a feedback to a member organisation.
#[utoipa::path(post, path = "/api/v1/units/{code}/feedback/{id}/assign", request_body = StepBody, params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = FeedbackJson), (status = 422, body = ErrorBody)), tag = "feedback")]
pub async fn api_assign(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(body): Json<StepBody>,
) -> Result<Response, ApiError> {
    api_step(state, user, unit, id, "assign", body).await
}

/// Publishes the answer to a feedback.
#[utoipa::path(post, path = "/api/v1/units/{code}/feedback/{id}/answer", request_body = StepBody, params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = FeedbackJson), (status = 422, body = ErrorBody)), tag = "feedback")]
pub async fn api_answer(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(body): Json<StepBody>,
) -> Result<Response, ApiError> {
    api_step(state, user, unit, id, "answer", body).await
}

/// Closes a feedback (unanswered ones need a reason).
#[utoipa::path(post, path = "/api/v1/units/{code}/feedback/{id}/close", request_body = StepBody, params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = FeedbackJson), (status = 422, body = ErrorBody)), tag = "feedback")]
pub async fn api_close(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(body): Json<StepBody>,
) -> Result<Response, ApiError> {
    api_step(state, user, unit, id, "close", body).await
}

pub struct InboxRow {
    pub href: String,
    pub code: String,
    pub received: String,
    pub category: String,
    pub hamlet: String,
    pub status: String,
    pub status_class: &'static str,
    pub organisation: String,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "feedback/feedback_inbox.html")]
pub struct InboxPage {
    layout: Layout,
    action: String,
    unit_name: String,
    unit_base: String,
    /// `?on=…` naming the unit when it no longer exists today (empty otherwise).
    unit_q: String,
    public_href: String,
    rows: Vec<InboxRow>,
    total: i64,
    statuses: Vec<(&'static str, String)>,
    status: String,
    pager: Option<Pager>,
    problems: Vec<String>,
    message: String,
}

fn status_label(lang: Lang, s: FeedbackStatus) -> String {
    lang.t(&format!("feedback-status-{}", s.as_str()))
}

pub async fn inbox(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<InboxQuery>,
) -> Result<InboxPage, PageError> {
    let lang = ctx.lang;
    let status = status_filter(q.status.as_deref()).in_lang(lang)?;
    let page = q.page.unwrap_or(1).max(1);
    let (list, total) =
        state.store.feedback_of(unit.id, status, PAGE_SIZE, (page - 1) * PAGE_SIZE).await.in_lang(lang)?;
    let path = format!("/units/{}/feedback", unit.code);
    let base = match status {
        Some(s) => format!("{path}?status={}", s.as_str()),
        None => path.clone(),
    };
    let day = today();
    Ok(InboxPage {
        layout: Layout::new(&ctx, &format!("{} · {}", lang.t("feedback-inbox-title"), unit.name), &path),
        rows: list
            .into_iter()
            .map(|f| InboxRow {
                href: format!("{path}/{}", f.id),
                overdue: is_overdue(f.status, f.due_on, day),
                code: f.code,
                received: lang.date(f.received_at.with_timezone(&VIETNAM).date_naive()),
                category: f.input.category,
                hamlet: f.input.hamlet.unwrap_or_default(),
                status: status_label(lang, f.status),
                status_class: f.status.as_str(),
                organisation: f.organisation.unwrap_or_default(),
                due: lang.date(f.due_on),
            })
            .collect(),
        pager: Pager::new(lang, &base, page, total.max(0) as usize, PAGE_SIZE),
        action: path,
        unit_name: unit.name.clone(),
        unit_base: format!("/units/{}", unit.code),
        unit_q: crate::shell::unit_query(&unit),
        public_href: format!("/feedback/{}", unit.code),
        total,
        statuses: FeedbackStatus::ALL.iter().map(|s| (s.as_str(), status_label(lang, *s))).collect(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        problems: Vec::new(),
        message: done_message(lang, "feedback", q.done.as_deref()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "feedback/feedback_item.html")]
pub struct ItemPage {
    layout: Layout,
    action: String,
    back_href: String,
    item: FeedbackJson,
    status_label: String,
    received: String,
    due: String,
    organisations: Vec<String>,
    editable: bool,
    problems: Vec<String>,
    message: String,
}

async fn item_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    id: i64,
    problems: Vec<String>,
    message: String,
) -> Result<ItemPage, WebError> {
    let lang = ctx.lang;
    let f = feedback_in(state, unit, id).await?;
    let path = format!("/units/{}/feedback/{id}", unit.code);
    let closed = f.status == FeedbackStatus::Closed;
    Ok(ItemPage {
        layout: Layout::new(ctx, &format!("{} {}", lang.t("feedback-item-title"), f.code), &path),
        action: path,
        back_href: format!("/units/{}/feedback", unit.code),
        status_label: status_label(lang, f.status),
        received: lang.date(f.received_at.with_timezone(&VIETNAM).date_naive()),
        due: lang.date(f.due_on),
        item: feedback_json(f, sees_contacts(state, user, unit).await?),
        organisations: state.store.organisations(province_of(state, unit).await?).await?,
        editable: !closed && may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
    })
}

pub async fn item(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Query(q): Query<InboxQuery>,
) -> Result<ItemPage, PageError> {
    let lang = ctx.lang;
    let message = done_message(lang, "feedback", q.done.as_deref());
    item_page(&state, &ctx, &user, &unit, id, Vec::new(), message).await.in_lang(lang)
}

#[derive(Deserialize)]
pub struct StepForm {
    pub step: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub version: Option<i64>,
}

pub async fn act(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let body = StepBody { text: form.text, version: form.version };
    match step(&state, &user, &unit, id, &form.step, &body).await.in_lang(lang)? {
        Ok(_) => {
            let done = match form.step.as_str() {
                "assign" => "assigned",
                "answer" => "answered",
                _ => "closed",
            };
            Ok(Redirect::to(&format!("/units/{}/feedback/{id}?done={done}", unit.code)).into_response())
        }
        Err(p) => {
            let page = item_page(&state, &ctx, &user, &unit, id, p, String::new()).await.in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r
        // Citizens' feedback: the only anonymous writes.
        .get("/feedback/track", Access::Public, track)
        .get("/feedback/{code}", Access::Public, form)
        .add_limited(Method::POST, "/feedback/{code}", Access::Public, send, MAX_PUBLIC_BODY)
        .add_limited(Method::POST, "/api/v1/public/feedback", Access::Public, api_submit, MAX_PUBLIC_BODY)
        .get("/api/v1/public/feedback/{code}", Access::Public, api_status)
        .get("/units/{code}/feedback", Access::Unit(Action::Read), inbox)
        .get("/units/{code}/feedback/{id}", Access::Unit(Action::Read), item)
        .post("/units/{code}/feedback/{id}", Access::Unit(Action::Edit), act)
        .get("/api/v1/units/{code}/feedback", Access::Unit(Action::Read), api_inbox)
        .post("/api/v1/units/{code}/feedback/{id}/assign", Access::Unit(Action::Edit), api_assign)
        .post("/api/v1/units/{code}/feedback/{id}/answer", Access::Unit(Action::Edit), api_answer)
        .post("/api/v1/units/{code}/feedback/{id}/close", Access::Unit(Action::Edit), api_close)
}
