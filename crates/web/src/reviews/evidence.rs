//! A review's evidence files, for the pages and the API alike.

use crate::shell::auth::CurrentUser;
use crate::shell::error::WebError;
use crate::shell::files::{read_multipart, Upload};
use crate::shell::i18n::Lang;
use crate::shell::scheme_and_period;
use crate::shell::AppState;
use danvan_store::{Review, StoredScheme};

/// The review of the URL, which the evidence must belong to.
pub(crate) async fn review_of(
    state: &AppState,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
) -> Result<(StoredScheme, Review), WebError> {
    let (scheme, period) = scheme_and_period(state, scheme, period).await?;
    let review = state.store.review(scheme.id, unit.id, &period.to_string()).await?.ok_or_else(|| {
        WebError::NotFound(format!("chưa có bản rà soát kỳ {period}; hãy lưu bản nháp trước"))
    })?;
    Ok((scheme, review))
}

/// Keeps an uploaded evidence file (multipart: `target`, `file`) for a review, for the page and
/// the API alike.
pub(crate) async fn add_evidence(
    state: &AppState,
    user: &CurrentUser,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
    multipart: axum::extract::Multipart,
    lang: Lang,
) -> Result<danvan_store::Evidence, WebError> {
    let too_big = || WebError::PayloadTooLarge(lang.t("evidence-too-large"));
    let (_, review) = review_of(state, unit, scheme, period).await?;
    let Upload { mut fields, file } = read_multipart(multipart, too_big).await?;
    let target = fields.remove("target");
    let target = target.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let (Some(target), Some((name, bytes))) = (target, file) else {
        return Err(WebError::BadRequest(lang.t("evidence-missing")));
    };
    keep_evidence(state, user, review.id, &target, &name, &bytes, lang).await
}

/// Keeps one file as evidence of a target of a review.
pub(crate) async fn keep_evidence(
    state: &AppState,
    user: &CurrentUser,
    review_id: i64,
    target: &str,
    name: &str,
    bytes: &[u8],
    lang: Lang,
) -> Result<danvan_store::Evidence, WebError> {
    let (file, hold) = crate::shell::files::keep(&state.files, &state.file_lock, lang, name, bytes).await?;
    let new = danvan_store::NewEvidence {
        target_code: target.to_string(),
        filename: file.filename,
        content_type: file.content_type,
        size: file.size,
        sha256: file.sha256,
    };
    let ev = state
        .store
        .add_evidence(&user.actor(), review_id, &new, danvan_domain::evidence::MAX_REVIEW_BYTES)
        .await?;
    drop(hold);
    Ok(ev)
}

/// The evidence files of a review.
pub(crate) async fn evidence_list(
    state: &AppState,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
) -> Result<Vec<danvan_store::Evidence>, WebError> {
    let (_, review) = review_of(state, unit, scheme, period).await?;
    Ok(state.store.evidence_of(review.id).await?)
}

/// Removes an evidence file of a review (its bytes too, when nothing else keeps them).
pub(crate) async fn remove_evidence(
    state: &AppState,
    user: &CurrentUser,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
    id: i64,
) -> Result<danvan_store::Evidence, WebError> {
    let ev = evidence_in(state, unit, scheme, period, id).await?;
    let actor = user.actor();
    crate::shell::files::release(
        &state.files,
        &state.file_lock,
        &ev.sha256,
        state.store.remove_evidence(&actor, ev.id),
    )
    .await?;
    Ok(ev)
}

pub(crate) async fn evidence_in(
    state: &AppState,
    unit: &danvan_domain::units::Unit,
    scheme: &str,
    period: &str,
    id: i64,
) -> Result<danvan_store::Evidence, WebError> {
    let (_, review) = review_of(state, unit, scheme, period).await?;
    // An evidence id of another review (another unit's) is not found here.
    state
        .store
        .evidence(id)
        .await?
        .filter(|e| e.review_id == review.id)
        .ok_or_else(|| WebError::NotFound(format!("không có minh chứng #{id}")))
}
