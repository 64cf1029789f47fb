//! What was changed in a unit, from the audit log: as a page and in the API.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::ScopedUnit;
use crate::shell::error::{ApiError, InLang, PageError};
use crate::shell::history::event_rows;
use crate::shell::history::HistoryPage;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

/// The change history of a unit ("Lịch sử thay đổi").
pub async fn unit_history(
    State(state): State<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
) -> Result<HistoryPage, PageError> {
    let lang = ctx.lang;
    let events = state.store.entity_history("unit", &unit.id.to_string()).await.in_lang(lang)?;
    Ok(HistoryPage {
        layout: Layout::new(&ctx, &lang.t("history-title"), &format!("/units/{}/history", unit.code)),
        heading: unit.name.clone(),
        back: crate::shell::unit_href(&unit),
        events: event_rows(&state, &ctx, events).await.in_lang(lang)?,
    })
}

/// One recorded change.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct AuditEventJson {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The state before the change, as JSON text.
    pub before: Option<String>,
    /// The state after the change, as JSON text.
    pub after: Option<String>,
    pub reason: Option<String>,
}

/// The change history of a unit (needs the unit in the user's scope).
#[utoipa::path(get, path = "/api/v1/units/{code}/history", params(("code" = String, Path, description = "Official code")),
    responses((status = 200, body = [AuditEventJson]), (status = 401, body = crate::shell::error::ErrorBody), (status = 403, body = crate::shell::error::ErrorBody)), tag = "units")]
pub async fn api_unit_history(
    State(state): State<AppState>,
    ScopedUnit(unit): ScopedUnit,
) -> Result<Json<Vec<AuditEventJson>>, ApiError> {
    let events = state.store.entity_history("unit", &unit.id.to_string()).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| AuditEventJson {
                at: e.at,
                actor: e.actor,
                action: e.action,
                entity_type: e.entity_type,
                entity_id: e.entity_id,
                before: e.before_json,
                after: e.after_json,
                reason: e.reason,
            })
            .collect(),
    ))
}
