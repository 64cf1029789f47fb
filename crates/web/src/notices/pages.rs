//! The notification centre (`/thong-bao`): one's notifications newest first, unread marked,
//! each leading to its place (and read once opened), all read at once; one's email settings;
//! and the one-click unsubscribe of an email's link, which needs no sign-in.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use danvan_store::NotifySettings;
use serde::Deserialize;

use super::send::{kind_label, token_ok, MAY_BE_IMMEDIATE};
use crate::shell::auth::CurrentUser;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::{done_message, AppState, Layout, MessageQuery, PageCtx, Pager};

/// Notifications on a page of the centre.
const PER_PAGE: usize = 20;

/// One notification as the centre lists it.
pub struct Row {
    pub id: i64,
    pub title: String,
    pub detail: String,
    pub when: String,
    pub unread: bool,
    pub kind: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notices/centre.html")]
pub struct CentrePage {
    layout: Layout,
    rows: Vec<Row>,
    unread: i64,
    pager: Option<Pager>,
    message: String,
    /// Email is set up on this server.
    email_on: bool,
}

#[derive(Deserialize)]
pub struct CentreQuery {
    pub page: Option<usize>,
    pub done: Option<String>,
}

pub async fn centre(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<CentreQuery>,
) -> Result<CentrePage, PageError> {
    let lang = ctx.lang;
    let id = user.user.id;
    let total = state.store.count_notifications(id).await.in_lang(lang)?;
    let page = q.page.unwrap_or(1).clamp(1, (total as usize).div_ceil(PER_PAGE).max(1));
    let list = state
        .store
        .notifications_of(id, PER_PAGE as i64, ((page - 1) * PER_PAGE) as i64)
        .await
        .in_lang(lang)?;
    let rows = list
        .into_iter()
        .map(|n| Row {
            id: n.id,
            title: n.title,
            detail: n.detail,
            when: n
                .created_at
                .with_timezone(&danvan_domain::period::VIETNAM)
                .format("%H:%M %d/%m/%Y")
                .to_string(),
            unread: n.read_at.is_none(),
            kind: lang.t(&format!("notice-kind-{}", n.kind.replace('_', "-"))),
        })
        .collect();
    Ok(CentrePage {
        layout: Layout::new(&ctx, &lang.t("notices-title"), "/thong-bao"),
        rows,
        unread: ctx.unread,
        pager: Pager::new(lang, "/thong-bao", page, total as usize, PER_PAGE),
        message: done_message(lang, "notices", q.done.as_deref()),
        email_on: state.notify.smtp.is_some(),
    })
}

/// Marks one of the user's notifications read (another's is not found): where it leads.
async fn mark_read(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
) -> Result<String, PageError> {
    let lang = ctx.lang;
    let Some(n) = state.store.notification_of(user.user.id, id).await.in_lang(lang)? else {
        return Err(WebError::NotFound(lang.t("notices-not-found"))).in_lang(lang);
    };
    state.store.mark_notification_read(user.user.id, id, Utc::now()).await.in_lang(lang)?;
    Ok(n.href)
}

/// Opens a notification: marks it read and goes to its place.
pub async fn open(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let href = mark_read(&state, &ctx, &user, id).await?;
    Ok(Redirect::to(&href).into_response())
}

/// Marks one notification read, back to the centre.
pub async fn read_one(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    mark_read(&state, &ctx, &user, id).await?;
    Ok(Redirect::to("/thong-bao?done=read").into_response())
}

/// Marks all of one's notifications read.
pub async fn read_all(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response, PageError> {
    state.store.mark_all_notifications_read(user.user.id, Utc::now()).await.in_lang(ctx.lang)?;
    Ok(Redirect::to("/thong-bao?done=all-read").into_response())
}

// ---- email settings ------------------------------------------------------------------------

/// A kind one may take at once, as the settings form shows it.
pub struct KindChoice {
    pub kind: &'static str,
    pub label: String,
    pub on: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "notices/settings.html")]
pub struct SettingsPage {
    layout: Layout,
    email: String,
    delivery: String,
    immediate: Vec<KindChoice>,
    muted: Vec<String>,
    error: String,
    message: String,
    email_on: bool,
}

fn settings_page(
    ctx: &PageCtx,
    state: &AppState,
    s: &NotifySettings,
    error: String,
    message: String,
) -> SettingsPage {
    SettingsPage {
        layout: Layout::new(ctx, &ctx.lang.t("notices-settings-title"), "/thong-bao/cai-dat"),
        email: s.email.clone(),
        delivery: s.delivery.clone(),
        immediate: MAY_BE_IMMEDIATE
            .iter()
            .map(|k| KindChoice {
                kind: k,
                label: kind_label(k),
                on: s.immediate_kinds.iter().any(|x| x == k),
            })
            .collect(),
        muted: s.muted_kinds.iter().map(|k| kind_label(k)).collect(),
        error,
        message,
        email_on: state.notify.smtp.is_some(),
    }
}

pub async fn settings(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<SettingsPage, PageError> {
    let s = state.store.notify_settings(user.user.id).await.in_lang(ctx.lang)?;
    let message = done_message(ctx.lang, "notices", q.done.as_deref());
    Ok(settings_page(&ctx, &state, &s, String::new(), message))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub immediate_returned: Option<String>,
    #[serde(default)]
    pub immediate_feedback_late: Option<String>,
    /// Take back every unsubscription.
    #[serde(default)]
    pub unmute: Option<String>,
}

/// Whether text looks like one email address: something@domain.tld, no spaces, within 254
/// characters (the SMTP server is the judge of the rest).
pub fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
        && !domain.contains('@')
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let before = state.store.notify_settings(user.user.id).await.in_lang(lang)?;
    let email = form.email.trim().to_string();
    let mut immediate = Vec::new();
    if form.immediate_returned.is_some() {
        immediate.push("returned".to_string());
    }
    if form.immediate_feedback_late.is_some() {
        immediate.push("feedback_late".to_string());
    }
    let wanted = NotifySettings {
        email: email.clone(),
        delivery: form.delivery.clone(),
        immediate_kinds: immediate,
        muted_kinds: if form.unmute.is_some() { Vec::new() } else { before.muted_kinds.clone() },
    };
    let error = if !email.is_empty() && !plausible_email(&email) {
        lang.t("notices-email-invalid")
    } else if !matches!(form.delivery.as_str(), "immediate" | "daily" | "weekly" | "off") {
        lang.t("notices-delivery-invalid")
    } else {
        String::new()
    };
    if !error.is_empty() {
        // What was typed comes back with the error; nothing is saved.
        let page = settings_page(&ctx, &state, &wanted, error, String::new());
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    state.store.set_notify_settings(&user.actor(), user.user.id, &wanted).await.in_lang(lang)?;
    Ok(Redirect::to("/thong-bao/cai-dat?done=saved").into_response())
}

// ---- one-click unsubscribe -----------------------------------------------------------------

#[derive(Deserialize)]
pub struct UnsubscribeQuery {
    #[serde(default)]
    pub u: String,
    #[serde(default)]
    pub k: String,
    #[serde(default)]
    pub t: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notices/unsubscribe.html")]
pub struct UnsubscribePage {
    layout: Layout,
    u: String,
    k: String,
    t: String,
    kind: String,
    done: bool,
}

/// Reads and checks an unsubscribe link: the user and kind it names, when its token is the
/// server's.
async fn checked(state: &AppState, q: &UnsubscribeQuery) -> Result<Option<(i64, String)>, WebError> {
    let Ok(user) = q.u.parse::<i64>() else { return Ok(None) };
    if q.k.is_empty() || q.k.len() > 40 || !q.k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Ok(None);
    }
    let secret = state.store.server_secret("unsubscribe").await?;
    Ok(token_ok(&secret, user, &q.k, &q.t).then(|| (user, q.k.clone())))
}

/// The page an email's link opens: what it unsubscribes from, and a button (a link alone
/// changes nothing: mail scanners follow links).
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<UnsubscribeQuery>,
) -> Result<UnsubscribePage, PageError> {
    let lang = ctx.lang;
    let Some((_, kind)) = checked(&state, &q).await.in_lang(lang)? else {
        return Err(WebError::BadRequest(lang.t("notices-link-invalid"))).in_lang(lang);
    };
    Ok(UnsubscribePage {
        layout: Layout::new(&ctx, &lang.t("notices-unsubscribe-title"), "/thong-bao/huy"),
        kind: kind_label(&kind),
        u: q.u,
        k: q.k,
        t: q.t,
        done: false,
    })
}

/// Unsubscribes: from the page's button, or from a mail program's one-click POST (RFC 8058,
/// the link's query and a `List-Unsubscribe=One-Click` body).
pub async fn unsubscribe(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<UnsubscribeQuery>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let form: UnsubscribeQuery = serde_urlencoded_form(&body).unwrap_or(UnsubscribeQuery {
        u: String::new(),
        k: String::new(),
        t: String::new(),
    });
    let q = if form.u.is_empty() { query } else { form };
    let Some((user, kind)) = checked(&state, &q).await.in_lang(lang)? else {
        return Err(WebError::BadRequest(lang.t("notices-link-invalid"))).in_lang(lang);
    };
    let mut s = state.store.notify_settings(user).await.in_lang(lang)?;
    if !s.muted_kinds.contains(&kind) {
        s.muted_kinds.push(kind.clone());
        let actor = danvan_store::Actor::system("unsubscribe-link");
        state.store.set_notify_settings(&actor, user, &s).await.in_lang(lang)?;
    }
    Ok(UnsubscribePage {
        layout: Layout::new(&ctx, &lang.t("notices-unsubscribe-title"), "/thong-bao/huy"),
        kind: kind_label(&kind),
        u: String::new(),
        k: String::new(),
        t: String::new(),
        done: true,
    }
    .into_response())
}

fn serde_urlencoded_form(body: &[u8]) -> Option<UnsubscribeQuery> {
    let mut q = UnsubscribeQuery { u: String::new(), k: String::new(), t: String::new() };
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "u" => q.u = v.into_owned(),
            "k" => q.k = v.into_owned(),
            "t" => q.t = v.into_owned(),
            _ => {}
        }
    }
    (!q.u.is_empty()).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::plausible_email;

    #[test]
    fn email_addresses_are_checked_for_their_shape() {
        assert!(plausible_email("can.bo@xa-hau-nghia.tayninh.gov.vn"));
        assert!(plausible_email("nguyen.van.a+dv@gmail.com"));
        for bad in
            ["", "a", "a@b", "@b.vn", "a@.vn", "a@b.", "a b@c.vn", "a@b@c.vn", "<a@b.vn>", "a@b.vn,c@d.vn"]
        {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
}
