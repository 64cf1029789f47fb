//! A commune's hamlets and their mass mobilization teams: the API, the page, the CSV import.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use danvan_domain::access::Action;
use danvan_domain::community::{parse_hamlet_csv, HamletInput, TeamInput};
use danvan_domain::text;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::Hamlet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::commune_only;
use super::refused;
use super::store_refusal;
use super::DoneQuery;
use super::MAX_CSV_BYTES;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::done_message;
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::files::read_multipart;
use crate::shell::parse_date;
use crate::shell::AppState;
use crate::shell::{today, unprocessable};
use crate::shell::{Layout, PageCtx};

// ---- hamlets -------------------------------------------------------------------------------

/// A hamlet as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HamletJson {
    pub id: i64,
    #[serde(flatten)]
    #[schema(inline)]
    pub input: HamletInput,
}

fn hamlet_json(h: Hamlet) -> HamletJson {
    HamletJson { id: h.id, input: h.input }
}

fn clean_hamlets(list: &[HamletInput]) -> Result<Vec<HamletInput>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for h in list {
        match h.cleaned() {
            Ok(h) => out.push(h),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A commune's hamlets and their teams.
#[utoipa::path(get, path = "/api/v1/units/{code}/hamlets", params(("code" = String, Path)),
    responses((status = 200, body = [HamletJson]), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_hamlets(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
) -> Result<Json<Vec<HamletJson>>, ApiError> {
    commune_only(&unit)?;
    Ok(Json(state.store.hamlets_of(unit.id).await?.into_iter().map(hamlet_json).collect()))
}

/// Adds hamlets (with their teams) to a commune: all or none.
#[utoipa::path(post, path = "/api/v1/units/{code}/hamlets", request_body = Vec<HamletInput>, params(("code" = String, Path)),
    responses((status = 201, body = [HamletJson]), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "bloc")]
pub async fn api_add_hamlets(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Json(list): Json<Vec<HamletInput>>,
) -> Result<Response, ApiError> {
    commune_only(&unit)?;
    let list = match clean_hamlets(&list) {
        Ok(l) => l,
        Err(p) => return Ok(unprocessable(p)),
    };
    if let Err(e) = state.store.add_hamlets(&user.actor(), unit.id, &list).await {
        return Ok(unprocessable(store_refusal(e)?));
    }
    let all = state.store.hamlets_of(unit.id).await?;
    let added: Vec<HamletJson> =
        all.into_iter().filter(|h| list.iter().any(|n| n.name == h.input.name)).map(hamlet_json).collect();
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn hamlet_in(state: &AppState, unit: &Unit, id: i64) -> Result<Hamlet, WebError> {
    state
        .store
        .hamlet(id)
        .await?
        .filter(|h| h.unit_id == unit.id)
        .ok_or_else(|| WebError::NotFound(format!("không có ấp, khu phố #{id}")))
}

/// Changes a hamlet's name, kind or team.
#[utoipa::path(put, path = "/api/v1/units/{code}/hamlets/{id}", request_body = HamletInput, params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = HamletJson), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "bloc")]
pub async fn api_update_hamlet(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Json(input): Json<HamletInput>,
) -> Result<Response, ApiError> {
    hamlet_in(&state, &unit, id).await?;
    let input = match input.cleaned() {
        Ok(i) => i,
        Err(p) => return Ok(unprocessable(p)),
    };
    match state.store.update_hamlet(&user.actor(), id, &input).await {
        Ok(h) => Ok(Json(hamlet_json(h)).into_response()),
        Err(e) => Ok(unprocessable(store_refusal(e)?)),
    }
}

pub struct HamletRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub leader: String,
    pub deputies: String,
    pub members: String,
    pub decision: String,
    pub formed_on: String,
    pub formed_iso: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/hamlets.html")]
pub struct HamletsPage {
    layout: Layout,
    action: String,
    unit_name: String,
    unit_base: String,
    /// `?on=…` naming the unit when it no longer exists today (empty otherwise).
    unit_q: String,
    rows: Vec<HamletRow>,
    with_team: usize,
    kinds: Vec<&'static str>,
    csv_header: String,
    editable: bool,
    today: String,
    problems: Vec<String>,
    message: String,
}

async fn hamlets_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
    message: String,
) -> Result<HamletsPage, WebError> {
    commune_only(unit)?;
    let lang = ctx.lang;
    let path = format!("/units/{}/hamlets", unit.code);
    let hamlets = state.store.hamlets_of(unit.id).await?;
    Ok(HamletsPage {
        layout: Layout::new(ctx, &format!("{} · {}", lang.t("hamlets-title"), unit.name), &path),
        action: path,
        unit_name: unit.name.clone(),
        unit_base: format!("/units/{}", unit.code),
        unit_q: crate::shell::unit_query(unit),
        with_team: hamlets.iter().filter(|h| h.input.team.is_some()).count(),
        rows: hamlets
            .into_iter()
            .map(|h| {
                let t = h.input.team.as_ref();
                HamletRow {
                    id: h.id,
                    leader: t.map(|t| t.leader.clone()).unwrap_or_default(),
                    deputies: t.map(|t| t.deputies.join("; ")).unwrap_or_default(),
                    members: t.map(|t| t.member_count.to_string()).unwrap_or_default(),
                    decision: t.and_then(|t| t.decision.clone()).unwrap_or_default(),
                    formed_on: t.map(|t| lang.date(t.formed_on)).unwrap_or_default(),
                    formed_iso: t.map(|t| t.formed_on.to_string()).unwrap_or_default(),
                    name: h.input.name,
                    kind: h.input.kind,
                }
            })
            .collect(),
        kinds: UnitLevel::Hamlet.kinds().to_vec(),
        csv_header: danvan_domain::community::HAMLET_CSV_HEADER.join(","),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        today: today().to_string(),
        problems,
        message,
    })
}

pub async fn hamlets(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Query(q): Query<DoneQuery>,
) -> Result<HamletsPage, PageError> {
    let message = done_message(ctx.lang, "hamlets", q.done.as_deref());
    hamlets_page(&state, &ctx, &user, &unit, Vec::new(), message).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct HamletForm {
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub deputies: String,
    #[serde(default)]
    pub member_count: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub formed_on: String,
}

impl HamletForm {
    /// The hamlet as typed; a team only when a leader is named.
    fn input(&self) -> Result<HamletInput, Vec<String>> {
        let mut problems = Vec::new();
        let team = if text::clean(&self.leader).is_empty() {
            None
        } else {
            let count = self.member_count.trim().parse::<u32>();
            if count.is_err() {
                problems.push(format!("số thành viên \"{}\" không phải số nguyên", self.member_count.trim()));
            }
            let formed = parse_date(&self.formed_on);
            if formed.is_none() {
                problems.push(format!("ngày thành lập \"{}\" không hợp lệ", self.formed_on.trim()));
            }
            Some(TeamInput {
                leader: self.leader.clone(),
                deputies: self.deputies.split([';', '\n']).map(str::to_string).collect(),
                member_count: count.unwrap_or(0),
                decision: Some(self.decision.clone()),
                formed_on: formed.unwrap_or_default(),
            })
        };
        let input = HamletInput { name: self.name.clone(), kind: self.kind.clone(), team };
        match input.cleaned() {
            Ok(i) if problems.is_empty() => Ok(i),
            Ok(_) => Err(problems),
            Err(p) => {
                problems.extend(p);
                Err(problems)
            }
        }
    }
}

async fn hamlets_refused(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    unit: &Unit,
    problems: Vec<String>,
) -> Result<Response, PageError> {
    let page = hamlets_page(state, ctx, user, unit, problems, String::new()).await.in_lang(ctx.lang)?;
    Ok(refused(page))
}

pub async fn add_hamlet(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Form(form): Form<HamletForm>,
) -> Result<Response, PageError> {
    commune_only(&unit).in_lang(ctx.lang)?;
    let input = match form.input() {
        Ok(i) => i,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.add_hamlets(&user.actor(), unit.id, &[input]).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=added", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}

pub async fn update_hamlet(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((_code, id)): Path<(String, i64)>,
    Form(form): Form<HamletForm>,
) -> Result<Response, PageError> {
    hamlet_in(&state, &unit, id).await.in_lang(ctx.lang)?;
    let input = match form.input() {
        Ok(i) => i,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.update_hamlet(&user.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=updated", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}

/// Imports a hamlet list (CSV, multipart field `file`): every line checked, all or none.
pub async fn import_hamlets(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    multipart: Multipart,
) -> Result<Response, PageError> {
    commune_only(&unit).in_lang(ctx.lang)?;
    let too_big = || WebError::PayloadTooLarge(format!("tệp lớn quá {} KB", MAX_CSV_BYTES / 1024));
    let upload = read_multipart(multipart, too_big).await.in_lang(ctx.lang)?;
    let bytes = upload.file.map(|(_, b)| b).unwrap_or_default();
    if bytes.is_empty() {
        return hamlets_refused(&state, &ctx, &user, &unit, vec!["hãy chọn tệp CSV".into()]).await;
    }
    let list = match parse_hamlet_csv(&bytes) {
        Ok(l) => l,
        Err(p) => return hamlets_refused(&state, &ctx, &user, &unit, p).await,
    };
    match state.store.add_hamlets(&user.actor(), unit.id, &list).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{}/hamlets?done=imported", unit.code)).into_response()),
        Err(e) => {
            let p = store_refusal(e).in_lang(ctx.lang)?;
            hamlets_refused(&state, &ctx, &user, &unit, p).await
        }
    }
}
