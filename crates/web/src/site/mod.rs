//! The site itself: the home page, the language switch, health, the stylesheet and script,
//! the page for addresses that lead nowhere.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::shell::auth::Access;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::i18n::{Lang, LANG_COOKIE};
use crate::shell::AppState;
use crate::shell::Layout;
use crate::shell::PageCtx;
use crate::shell::Routes;

pub mod tasks;

// ---- home ----------------------------------------------------------------------------------

pub struct SchemeCard {
    /// For a user whose unit reviews under the scheme: their reviews.
    pub my_reviews: Option<String>,
    /// For the same users: their roadmap and this year's plan.
    pub my_roadmap: Option<String>,
    pub my_plan: Option<String>,
    /// For a user of a level above: the roadmaps and overdue activities of the units below.
    pub overview: Option<String>,
    /// For an approver: the inbox.
    pub inbox: Option<String>,
    /// For a signed-in user: the dashboard of their unit (of the scheme's root without one).
    pub dashboard: Option<String>,
    pub code: String,
    pub title: String,
    pub issuing_body: String,
    pub years: String,
    pub targets: i64,
    pub sample: bool,
    /// The scheme's years are over: its figures are history.
    pub ended: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "site/home.html")]
pub struct HomePage {
    layout: Layout,
    schemes: Vec<SchemeCard>,
    /// For a user of a commune: its bloc.
    my_bloc: Option<String>,
    /// For a user of a province: its member organisations and feedback deadline.
    my_organisations: Option<String>,
    /// What this user should do next.
    tasks: Vec<tasks::Task>,
    /// The user's unit, named over the task list.
    unit_name: String,
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<HomePage, PageError> {
    let lang = ctx.lang;
    let schemes = state.store.schemes().await.in_lang(lang)?;
    let my_unit = match ctx.user.as_ref().and_then(|u| u.user.scope_unit_id) {
        Some(id) => state.store.unit(id).await.in_lang(lang)?,
        None => None,
    };
    let inbox = ctx.user.as_ref().is_some_and(crate::shell::user::has_inbox);
    let my_bloc = my_unit
        .as_ref()
        .filter(|u| u.level == danvan_domain::units::UnitLevel::Commune)
        .map(|u| format!("/units/{}/bloc", u.code));
    let mut roots = std::collections::HashMap::new();
    for s in &schemes {
        if let Some(u) = state.store.unit(s.root_unit_id).await.in_lang(lang)? {
            roots.insert(s.root_unit_id, u.code);
        }
    }
    let signed_in = ctx.user.is_some();
    let my_organisations = my_unit
        .as_ref()
        .filter(|u| u.level == danvan_domain::units::UnitLevel::Province)
        .map(|u| format!("/units/{}/organisations", u.code));
    let mut tasks = match ctx.user.as_ref() {
        Some(u) => tasks::tasks_of(&state, u, my_unit.as_ref(), &schemes, lang, crate::shell::today())
            .await
            .in_lang(lang)?,
        None => Vec::new(),
    };
    // The notification centre, as the last of the tasks while something there is unread.
    if ctx.unread > 0 {
        tasks.push(tasks::Task {
            kind: "info",
            text: lang.t_args("task-notices", &[("count", ctx.unread.to_string())]),
            detail: String::new(),
            href: "/thong-bao".into(),
            id: "task-notices".into(),
        });
    }
    Ok(HomePage {
        tasks,
        unit_name: my_unit.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        my_bloc,
        my_organisations,
        layout: Layout::new(&ctx, &lang.t("home-title"), "/"),
        schemes: schemes
            .into_iter()
            .map(|s| {
                // A user's own links go to a scheme that ran while their unit existed; the
                // history of the units theirs came from is read from the scheme's dashboard.
                let span = (
                    NaiveDate::from_ymd_opt(s.first_year, 1, 1).unwrap_or(NaiveDate::MIN),
                    NaiveDate::from_ymd_opt(s.last_year, 12, 31).unwrap_or(NaiveDate::MAX),
                );
                let mine = my_unit.as_ref().filter(|u| {
                    u.valid_from.is_none_or(|f| f <= span.1) && u.valid_to.is_none_or(|t| span.0 <= t)
                });
                let reporting = mine.filter(|u| u.level == s.applies_to);
                let this_year: i32 =
                    crate::shell::today().format("%Y").to_string().parse().unwrap_or(s.first_year);
                SchemeCard {
                    dashboard: signed_in
                        .then(|| mine.map(|u| u.code.clone()).or_else(|| roots.get(&s.root_unit_id).cloned()))
                        .flatten()
                        .map(|unit| format!("/schemes/{}/units/{unit}", s.code)),
                    my_reviews: reporting.map(|u| format!("/schemes/{}/units/{}/reviews", s.code, u.code)),
                    my_roadmap: reporting.map(|u| format!("/schemes/{}/units/{}/roadmap", s.code, u.code)),
                    my_plan: reporting.map(|u| {
                        format!(
                            "/schemes/{}/units/{}/plan/{}",
                            s.code,
                            u.code,
                            this_year.clamp(s.first_year, s.last_year)
                        )
                    }),
                    overview: mine
                        .filter(|u| u.level != s.applies_to)
                        .map(|u| format!("/schemes/{}/units/{}/roadmaps", s.code, u.code)),
                    inbox: inbox.then(|| format!("/schemes/{}/inbox", s.code)),
                    years: format!("{}-{}", s.first_year, s.last_year),
                    ended: s.last_year < this_year,
                    code: s.code,
                    title: s.title,
                    issuing_body: s.issuing_body,
                    targets: s.target_count,
                    sample: s.sample,
                }
            })
            .collect(),
    })
}

// ---- language, health, assets, 404 --------------------------------------------------------

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// Sets the language cookie and goes back to the page the user was on (a local path only).
pub async fn switch_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

/// Ready to serve: the database takes writes (`/healthz` only says the process answers and the
/// database reads).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ready().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database does not take writes").into_response()
        }
    }
}

pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/style.css"),
    )
        .into_response()
}

/// The print view's stylesheet (A4, the Party's layout), a file so that the CSP stays strict.
pub async fn print_stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/print.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

pub async fn not_found(lang: Lang) -> Response {
    WebError::NotFound(String::new()).page(lang)
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r
        // Access::Public: the schemes, the hierarchy, signing in.
        .get("/", Access::Public, home)
        .get("/lang/{code}", Access::Public, switch_lang)
        .get("/healthz", Access::Public, healthz)
        .get("/readyz", Access::Public, readyz)
        .get("/static/style.css", Access::Public, stylesheet)
        .get("/static/app.js", Access::Public, script)
        .get("/static/print.css", Access::Public, print_stylesheet)
}
