//! Files attached to an activity, for the pages and the API alike.

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use danvan_domain::units::Unit;
use danvan_store::{ActivityFile, StoredScheme};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::activity_in;
use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{ApiError, ErrorBody, InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::{find_scheme, PageCtx};

/// The most an activity's files may weigh together.
pub const MAX_ACTIVITY_BYTES: i64 = 50 * 1024 * 1024;

/// Keeps an uploaded file (multipart: `file`) for an activity of the unit and scheme.
async fn add_file(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    scheme: &str,
    id: i64,
    multipart: axum::extract::Multipart,
    lang: Lang,
) -> Result<(StoredScheme, ActivityFile), WebError> {
    let scheme = find_scheme(state, scheme).await?;
    activity_in(state, &scheme, unit, id).await?;
    let too_big = || WebError::PayloadTooLarge(lang.t("evidence-too-large"));
    let upload = crate::shell::files::read_multipart(multipart, too_big).await?;
    let Some((name, bytes)) = upload.file else {
        return Err(WebError::BadRequest(lang.t("evidence-missing")));
    };
    let (file, hold) = crate::shell::files::keep(&state.files, &state.file_lock, lang, &name, &bytes).await?;
    let kept = state.store.add_activity_file(&user.actor(), id, &file, MAX_ACTIVITY_BYTES).await?;
    drop(hold);
    Ok((scheme, kept))
}

async fn file_in(
    state: &AppState,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
    file: i64,
) -> Result<ActivityFile, WebError> {
    activity_in(state, scheme, unit, id).await?;
    state
        .store
        .activity_file(file)
        .await?
        .filter(|f| f.activity_id == id)
        .ok_or_else(|| WebError::NotFound(format!("không có tệp #{file}")))
}

/// Removes a file of an activity (its bytes too, when nothing else keeps them).
async fn remove_file(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    scheme: &str,
    id: i64,
    file: i64,
) -> Result<StoredScheme, WebError> {
    let scheme = find_scheme(state, scheme).await?;
    let f = file_in(state, &scheme, unit, id, file).await?;
    let actor = user.actor();
    crate::shell::files::release(
        &state.files,
        &state.file_lock,
        &f.sha256,
        state.store.remove_activity_file(&actor, f.id),
    )
    .await?;
    Ok(scheme)
}

/// Uploads an evidence file of an activity (multipart: `file`).
pub async fn upload_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, _) = add_file(&state, &user, &unit, &scheme, id, multipart, lang).await.in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file", scheme.def.code))
        .into_response())
}

/// Downloads an activity's file: only with its unit in scope, always as an attachment.
pub async fn download_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id, file)): Path<(String, String, i64, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let f = file_in(&state, &scheme, &unit, id, file).await.in_lang(lang)?;
    let bytes = crate::shell::files::read(&state.files, &f.sha256).await.in_lang(lang)?;
    Ok(crate::shell::files::attachment(&f.content_type, &f.filename, bytes))
}

pub async fn delete_file(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id, file)): Path<(String, String, i64, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = remove_file(&state, &user, &unit, &scheme, id, file).await.in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file-deleted", scheme.def.code))
        .into_response())
}

// ---- the API --------------------------------------------------------------------------------

/// A file of an activity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivityFileJson {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    /// Where the file is downloaded (as the pages serve it).
    pub href: String,
}

fn file_json(scheme: &str, unit: &str, f: ActivityFile) -> ActivityFileJson {
    ActivityFileJson {
        href: format!("/schemes/{scheme}/units/{unit}/activities/{}/files/{}", f.activity_id, f.id),
        id: f.id,
        filename: f.filename,
        content_type: f.content_type,
        size: f.size,
        uploaded_at: f.uploaded_at,
    }
}

/// A multipart upload of an activity's file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ActivityFileUpload {
    /// PDF, image, Word or Excel; at most 10 MB, 50 MB for an activity.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The files of an activity.
#[utoipa::path(get, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files",
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Vec<ActivityFileJson>), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_files(
    AxState(state): AxState<AppState>,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
) -> Result<Json<Vec<ActivityFileJson>>, ApiError> {
    let scheme = find_scheme(&state, &scheme).await?;
    activity_in(&state, &scheme, &unit, id).await?;
    let list = state.store.activity_files(id).await?;
    Ok(Json(list.into_iter().map(|f| file_json(&scheme.def.code, &code, f)).collect()))
}

/// Uploads a file of an activity (multipart: `file`).
#[utoipa::path(post, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files",
    request_body(content = ActivityFileUpload, content_type = "multipart/form-data"),
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path)),
    responses((status = 201, body = ActivityFileJson), (status = 413, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_upload_file(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let (scheme, f) = add_file(&state, &user, &unit, &scheme, id, multipart, Lang::Vi).await?;
    Ok((StatusCode::CREATED, Json(file_json(&scheme.def.code, &code, f))).into_response())
}

/// Deletes a file of an activity.
#[utoipa::path(delete, path = "/api/v1/schemes/{scheme}/units/{code}/activities/{id}/files/{file}",
    params(("scheme" = String, Path), ("code" = String, Path), ("id" = i64, Path), ("file" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)), tag = "plans")]
pub async fn api_delete_file(
    AxState(state): AxState<AppState>,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id, file)): Path<(String, String, i64, i64)>,
) -> Result<StatusCode, ApiError> {
    remove_file(&state, &user, &unit, &scheme, id, file).await?;
    Ok(StatusCode::NO_CONTENT)
}
