//! What staff see: the inbox, an item, and its steps (assign, answer, close).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use danvan_domain::access::Action;
use danvan_domain::feedback::{is_overdue, FeedbackStatus, MAX_ANSWER};
use danvan_domain::period::VIETNAM;
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_store::{Feedback, FeedbackStep, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PAGE_SIZE;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::{done_message, province_of};
use crate::shell::{today, unprocessable, Outcome};
use crate::shell::{Layout, PageCtx, Pager};

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

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only the feedback in this state.
    #[param(value_type = Option<FeedbackStatus>)]
    pub status: Option<String>,
    /// Page number from 1 (25 a page).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<usize>,
    /// The notice a page shows after a step (pages only).
    #[param(ignore)]
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
#[utoipa::path(get, path = "/api/v1/units/{code}/feedback", params(("code" = String, Path), InboxQuery),
    responses((status = 200, body = [FeedbackJson]), (status = 403, body = ErrorBody)), tag = "feedback")]
pub async fn api_inbox(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<InboxQuery>,
) -> Result<Json<Vec<FeedbackJson>>, ApiError> {
    let status = status_filter(q.status.as_deref())?;
    let page = q.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(WebError::BadRequest("page phải từ 1 đến 1.000.000".into()).into());
    }
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
    #[serde(default, deserialize_with = "crate::shell::workflow::whole_version_opt")]
    pub version: Option<i64>,
}

async fn step(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    id: i64,
    kind: &str,
    body: &StepBody,
) -> Result<Outcome<Feedback>, WebError> {
    feedback_in(state, unit, id).await?;
    let step = match kind {
        "assign" => {
            let org = text::clean(&body.text);
            let known = state.store.organisations(province_of(state, unit).await?).await?;
            // The name as the list writes it, whatever the tone placement or case typed.
            let key = text::name_key(&org);
            let Some(org) = known.into_iter().find(|k| text::name_key(k) == key) else {
                return Ok(Outcome::Invalid(vec![format!(
                    "\"{org}\" không có trong danh sách tổ chức thành viên"
                )]));
            };
            FeedbackStep::Assign(org)
        }
        "answer" => {
            let answer = text::clean_multiline(&body.text).trim().to_string();
            let n = answer.chars().count();
            if n == 0 || n > MAX_ANSWER {
                return Ok(Outcome::Invalid(vec![format!("câu trả lời cần từ 1 đến {MAX_ANSWER} ký tự")]));
            }
            FeedbackStep::Answer(answer)
        }
        "close" => FeedbackStep::Close(Some(text::clean(&body.text)).filter(|r| !r.is_empty())),
        other => return Err(WebError::BadRequest(format!("bước \"{other}\" không có"))),
    };
    match state.store.feedback_step(&user.actor(), id, body.version, &step).await {
        Ok(f) => Ok(Outcome::Done(f)),
        Err(StoreError::Invalid(m)) => Ok(Outcome::Invalid(vec![m])),
        // A stale version, or a step the feedback's status does not allow.
        Err(StoreError::Conflict(m)) => Ok(Outcome::Conflict(m, None)),
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
        Outcome::Done(f) => {
            Json(feedback_json(f, sees_contacts(&state, &user, &unit).await?)).into_response()
        }
        Outcome::Invalid(p) => unprocessable(p),
        Outcome::Conflict(m, _) => crate::shell::conflicting(m),
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
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
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
        Outcome::Done(_) => {
            let done = match form.step.as_str() {
                "assign" => "assigned",
                "answer" => "answered",
                _ => "closed",
            };
            Ok(Redirect::to(&format!("/units/{}/feedback/{id}?done={done}", unit.code)).into_response())
        }
        refused => {
            let (status, problems) = match refused {
                Outcome::Conflict(m, _) => (StatusCode::CONFLICT, vec![m]),
                Outcome::Invalid(p) => (StatusCode::UNPROCESSABLE_ENTITY, p),
                Outcome::Done(_) => unreachable!("handled above"),
            };
            let page =
                item_page(&state, &ctx, &user, &unit, id, problems, String::new()).await.in_lang(lang)?;
            Ok((status, page).into_response())
        }
    }
}
