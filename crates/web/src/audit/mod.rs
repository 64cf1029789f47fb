//! The audit log, filtered and paged, within the reader's scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use danvan_domain::access::{Action, Role};
use danvan_domain::text;
use danvan_store::{AuditFilter, User};
use serde::Deserialize;

use crate::shell::auth::Access;
use crate::shell::auth::{may, CurrentUser};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::history::event_rows;
use crate::shell::history::EventRow;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::PAGE_SIZE;
use crate::shell::{Layout, PageCtx, Pager};

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub unit: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<usize>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/audit.html")]
pub struct AuditPage {
    layout: Layout,
    q: AuditQuery,
    events: Vec<EventRow>,
    total: usize,
    pager: Option<Pager>,
}

fn parse_day(raw: Option<&str>, end_of_day: bool) -> Result<Option<DateTime<Utc>>, WebError> {
    let Some(d) = crate::shell::parse_on(raw)? else { return Ok(None) };
    let time = if end_of_day { d.and_hms_opt(23, 59, 59) } else { d.and_hms_opt(0, 0, 0) };
    // Days are Vietnam's days (UTC+7).
    Ok(time.map(|t| (t - chrono::Duration::hours(7)).and_utc()))
}

/// Builds the audit filter of a request; a user who is not an admin sees only their scope.
async fn audit_filter(state: &AppState, me: &User, q: &AuditQuery) -> Result<AuditFilter, WebError> {
    // Cleaned like every text that comes in (a NUL would be refused by PostgreSQL).
    let given = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
    let mut f = AuditFilter {
        entity_type: given(&q.entity),
        entity_id: given(&q.entity_id),
        from: parse_day(q.from.as_deref(), false)?,
        to: parse_day(q.to.as_deref(), true)?,
        ..Default::default()
    };
    if let Some(name) = given(&q.user) {
        let user = state.store.user_by_username(&name.to_lowercase()).await?;
        // An unknown user matches nothing.
        f.actor_id = Some(user.map(|u| u.id).unwrap_or(-1));
    }
    if let Some(code) = q.unit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let unit = state
            .store
            .unit_by_code(code, None)
            .await?
            .ok_or_else(|| WebError::BadRequest(format!("không có đơn vị mã \"{code}\"")))?;
        if !may(state, me, unit.id, Action::Audit).await? {
            return Err(WebError::Forbidden(format!("đơn vị \"{}\" nằm ngoài phạm vi của bạn", unit.name)));
        }
        f.unit_id = Some(unit.id);
    } else if me.role != Role::Admin {
        f.unit_id = me.scope_unit_id.or(Some(-1));
    }
    Ok(f)
}

pub async fn audit(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, PageError> {
    let lang = ctx.lang;
    let filter = audit_filter(&state, &me.user, &q).await.in_lang(lang)?;
    let page = q.page.unwrap_or(1).max(1);
    let found = state.store.audit_events(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await.in_lang(lang)?;
    let base = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("user", &q.user),
            ("unit", &q.unit),
            ("entity", &q.entity),
            ("entity_id", &q.entity_id),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        format!("/admin/audit?{}", s.finish())
    };
    Ok(AuditPage {
        layout: Layout::new(&ctx, &lang.t("audit-title"), "/admin/audit"),
        events: event_rows(&state, &ctx, found.events).await.in_lang(lang)?,
        total: found.total,
        pager: Pager::new(lang, &base, page, found.total, PAGE_SIZE),
        q,
    })
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/admin/audit", Access::Own(Action::Audit), audit)
}
