//! A province's member organisations and its feedback deadline.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use danvan_domain::access::Action;
use danvan_domain::text;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refused;
use super::store_refusal;
use super::DoneQuery;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::done_message;
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::unprocessable;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

// ---- a province's organisations and settings -----------------------------------------------

fn province_only(unit: &Unit) -> Result<(), WebError> {
    if unit.level == UnitLevel::Province {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("{} không phải cấp tỉnh: danh sách tổ chức đặt theo tỉnh", unit.name)))
    }
}

/// A province's settings for the bloc's work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProvinceSettings {
    /// The member organisations offered: the standard list, then the province's own.
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Days a commune has to answer a citizen's feedback.
    pub feedback_answer_days: u32,
}

/// A province's member organisations and feedback deadline.
#[utoipa::path(get, path = "/api/v1/units/{code}/organisations", params(("code" = String, Path)),
    responses((status = 200, body = ProvinceSettings), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_settings(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
) -> Result<Json<ProvinceSettings>, ApiError> {
    province_only(&unit)?;
    Ok(Json(ProvinceSettings {
        organisations: state.store.organisations(Some(unit.id)).await?,
        feedback_answer_days: state.store.feedback_answer_days(Some(unit.id)).await?,
    }))
}

/// An organisation to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrganisationBody {
    pub name: String,
}

fn organisation_name(raw: &str) -> Result<String, Vec<String>> {
    let name = text::clean(raw);
    if name.is_empty() || name.chars().count() > 100 {
        Err(vec!["cần ghi tên tổ chức (tối đa 100 ký tự)".into()])
    } else {
        Ok(name)
    }
}

/// Adds an organisation to a province's list.
#[utoipa::path(post, path = "/api/v1/units/{code}/organisations", request_body = OrganisationBody, params(("code" = String, Path)),
    responses((status = 201, body = ProvinceSettings), (status = 422, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_organisation(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(body): Json<OrganisationBody>,
) -> Result<Response, ApiError> {
    province_only(&unit)?;
    let name = match organisation_name(&body.name) {
        Ok(n) => n,
        Err(p) => return Ok(unprocessable(p)),
    };
    if let Err(e) = state.store.add_organisation(&user.actor(), unit.id, &name).await {
        return Ok(unprocessable(store_refusal(e)?));
    }
    let settings = api_settings(AxState(state), ScopedUnit(unit)).await?;
    Ok((StatusCode::CREATED, settings).into_response())
}

/// Sets a province's feedback deadline (1 to 365 days).
#[utoipa::path(put, path = "/api/v1/units/{code}/organisations", request_body = ProvinceSettings, params(("code" = String, Path)),
    responses((status = 200, body = ProvinceSettings), (status = 422, body = ErrorBody)), tag = "bloc")]
pub async fn api_put_settings(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(body): Json<ProvinceSettings>,
) -> Result<Response, ApiError> {
    province_only(&unit)?;
    if let Err(e) =
        state.store.set_feedback_answer_days(&user.actor(), unit.id, body.feedback_answer_days).await
    {
        return Ok(unprocessable(store_refusal(e)?));
    }
    Ok(api_settings(AxState(state), ScopedUnit(unit)).await?.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "community/organisations.html")]
pub struct OrganisationsPage {
    layout: Layout,
    action: String,
    unit_name: String,
    standard: Vec<&'static str>,
    own: Vec<String>,
    days: u32,
    editable: bool,
    problems: Vec<String>,
    message: String,
}

async fn organisations_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
    message: String,
) -> Result<OrganisationsPage, WebError> {
    province_only(unit)?;
    let path = format!("/units/{}/organisations", unit.code);
    let all = state.store.organisations(Some(unit.id)).await?;
    let standard = danvan_domain::bloc::STANDARD_ORGANISATIONS.to_vec();
    Ok(OrganisationsPage {
        layout: Layout::new(ctx, &format!("{} · {}", ctx.lang.t("organisations-title"), unit.name), &path),
        action: path,
        unit_name: unit.name.clone(),
        own: all.into_iter().filter(|o| !standard.contains(&o.as_str())).collect(),
        standard,
        days: state.store.feedback_answer_days(Some(unit.id)).await?,
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
    })
}

pub async fn organisations(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<OrganisationsPage, PageError> {
    let message = done_message(ctx.lang, "organisations", q.done.as_deref());
    organisations_page(&state, &ctx, &user, &unit, Vec::new(), message).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub days: Option<String>,
}

/// Adds an organisation (`name`) or sets the feedback deadline (`days`).
pub async fn update_organisations(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    province_only(&unit).in_lang(lang)?;
    let outcome = match (form.name.as_deref(), form.days.as_deref()) {
        (Some(name), _) => match organisation_name(name) {
            Ok(name) => state.store.add_organisation(&user.actor(), unit.id, &name).await.map(|_| "added"),
            Err(p) => Err(StoreError::Invalid(p.join("; "))),
        },
        (None, Some(days)) => match days.trim().parse::<u32>() {
            Ok(d) => state.store.set_feedback_answer_days(&user.actor(), unit.id, d).await.map(|_| "days"),
            Err(_) => Err(StoreError::Invalid(format!("số ngày \"{}\" không hợp lệ", days.trim()))),
        },
        (None, None) => Err(StoreError::Invalid("không có gì để lưu".into())),
    };
    match outcome {
        Ok(done) => {
            Ok(Redirect::to(&format!("/units/{}/organisations?done={done}", unit.code)).into_response())
        }
        Err(e) => {
            let p = store_refusal(e).in_lang(lang)?;
            let page =
                organisations_page(&state, &ctx, &user, &unit, p, String::new()).await.in_lang(lang)?;
            Ok(refused(page))
        }
    }
}
