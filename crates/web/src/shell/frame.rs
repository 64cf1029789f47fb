//! The frame every page is drawn in: its language, its user, its title.

use chrono::NaiveDate;
use danvan_domain::access::Action;

use crate::shell::i18n::Lang;
use crate::shell::user::{may_own, CurrentUser, MaybeUser};

/// The request as every page sees it: its language and its user.
pub struct PageCtx {
    pub lang: Lang,
    pub user: Option<CurrentUser>,
    /// The database holds sample data.
    pub sample: bool,
    /// For an approver: how many submissions wait below their unit (the menu's badge).
    pub waiting: i64,
    /// The user's unread notifications (the menu's count).
    pub unread: i64,
    /// For an admin: the last backup failed (when, and why), shown on every page until one
    /// succeeds.
    pub backup_failed: Option<String>,
}

impl<S> axum::extract::FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    danvan_store::Store: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &S,
    ) -> Result<Self, Self::Rejection> {
        let store = <danvan_store::Store as axum::extract::FromRef<S>>::from_ref(s);
        let ctx = Self::without_counts(parts).await;
        // A badge is a comfort: a failure to count leaves it out and the page is drawn.
        let waiting = match ctx
            .user
            .as_ref()
            .filter(|u| crate::shell::user::has_inbox(u))
            .and_then(|u| u.user.scope_unit_id)
        {
            Some(root) => store.waiting_within(root).await.map(|w| w.total()).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the waiting count could not be read");
                0
            }),
            None => 0,
        };
        let unread = match ctx.user.as_ref() {
            Some(u) => store.unread_notifications(u.user.id).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the unread notifications could not be counted");
                0
            }),
            None => 0,
        };
        let operates = ctx.user.as_ref().is_some_and(|u| may_own(&u.user, Action::Operate));
        let backup_failed = if operates {
            match store.recent_backups(1).await {
                Ok(last) => last.into_iter().find(|b| !b.ok).map(|b| {
                    let at = (b.finished_at + chrono::Duration::hours(7)).format("%H:%M %d/%m/%Y");
                    format!("{at} — {}", b.message)
                }),
                Err(e) => {
                    tracing::warn!(error = %e, "the last backup could not be read");
                    None
                }
            }
        } else {
            None
        };
        Ok(Self { waiting, unread, backup_failed, ..ctx })
    }
}

impl PageCtx {
    /// The language and the user, without the menu's counts (for a frame drawn around an
    /// error, where no query is worth its cost).
    pub async fn without_counts(parts: &mut axum::http::request::Parts) -> Self {
        use axum::extract::FromRequestParts;
        let lang = Lang::from_headers(&parts.headers);
        let user = match MaybeUser::from_request_parts(parts, &()).await {
            Ok(MaybeUser(user)) => user,
            Err(never) => match never {},
        };
        let sample = parts.extensions.get::<crate::shell::user::SampleData>().is_some_and(|s| s.0);
        Self { lang, user, sample, waiting: 0, unread: 0, backup_failed: None }
    }
}

/// The signed-in user as the page frame shows them.
pub struct NavUser {
    pub display_name: String,
    /// Submissions waiting for this approver (0: no badge).
    pub waiting: i64,
    /// Unread notifications.
    pub unread: i64,
    pub manages_users: bool,
    pub audits: bool,
    /// An admin: the system page is in the menu.
    pub operates: bool,
    /// The last backup failed: when and why.
    pub backup_failed: Option<String>,
}

/// What every page's frame needs: language, user, title, and the current address (for the
/// language switch).
pub struct Layout {
    pub lang: Lang,
    pub title: String,
    pub path: String,
    pub user: Option<NavUser>,
    /// Say on the page that its figures are sample data.
    pub sample: bool,
}

impl Layout {
    pub fn new(ctx: &PageCtx, title: &str, path: &str) -> Self {
        let user = ctx.user.as_ref().map(|u| NavUser {
            display_name: u.user.display_name.clone(),
            waiting: ctx.waiting,
            unread: ctx.unread,
            manages_users: may_own(&u.user, Action::ManageUsers),
            audits: may_own(&u.user, Action::Audit),
            operates: may_own(&u.user, Action::Operate),
            backup_failed: ctx.backup_failed.clone(),
        });
        Self { lang: ctx.lang, title: title.to_string(), path: path.to_string(), user, sample: ctx.sample }
    }

    /// A frame without a user (error pages drawn outside a handler).
    pub fn bare(lang: Lang, title: &str, path: &str) -> Self {
        Self { lang, title: title.to_string(), path: path.to_string(), user: None, sample: false }
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn date(&self, d: NaiveDate) -> String {
        self.lang.date(d)
    }

    /// The link that switches to the other language and comes back here.
    pub fn switch_href(&self) -> String {
        let other = self.lang.t("lang-switch-code");
        format!(
            "/lang/{other}?next={}",
            url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect::<String>()
        )
    }
}
