//! Files attached to an activity.

use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use danvan_domain::units::Unit;
use danvan_store::StoredScheme;

use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::AppState;
use crate::shell::{find_scheme, PageCtx};

// ---- evidence files of an activity ---------------------------------------------------------

use super::activity_in;

/// The most an activity's files may weigh together.
pub const MAX_ACTIVITY_BYTES: i64 = 50 * 1024 * 1024;

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
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let too_big = || WebError::PayloadTooLarge(lang.t("evidence-too-large"));
    let upload = crate::shell::files::read_multipart(multipart, too_big).await.in_lang(lang)?;
    let Some((name, bytes)) = upload.file else {
        return Err(WebError::BadRequest(lang.t("evidence-missing"))).in_lang(lang);
    };
    let (file, hold) =
        crate::shell::files::keep(&state.files, &state.file_lock, lang, &name, &bytes).await.in_lang(lang)?;
    state.store.add_activity_file(&user.actor(), id, &file, MAX_ACTIVITY_BYTES).await.in_lang(lang)?;
    drop(hold);
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file", scheme.def.code))
        .into_response())
}

async fn file_in(
    state: &AppState,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
    file: i64,
) -> Result<danvan_store::ActivityFile, WebError> {
    activity_in(state, scheme, unit, id).await?;
    state
        .store
        .activity_file(file)
        .await?
        .filter(|f| f.activity_id == id)
        .ok_or_else(|| WebError::NotFound(format!("không có tệp #{file}")))
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
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let f = file_in(&state, &scheme, &unit, id, file).await.in_lang(lang)?;
    let actor = user.actor();
    crate::shell::files::release(
        &state.files,
        &state.file_lock,
        &f.sha256,
        state.store.remove_activity_file(&actor, f.id),
    )
    .await
    .in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/activities/{id}?done=file-deleted", scheme.def.code))
        .into_response())
}
