//! The server-rendered pages: home, the unit browser, a unit, a scheme, language switch.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use danvan_domain::lineage::versions_in_context;
use danvan_domain::scheme::{Direction, SchemeDef, Source, Target, TargetKind};
use danvan_domain::units::Unit;
use serde::Deserialize;

use crate::auth::{may_own, CurrentUser, MaybeUser};
use crate::error::{InLang, PageError, WebError};
use crate::i18n::{Lang, LANG_COOKIE};
use crate::AppState;
use danvan_domain::access::Action;

/// The request as every page sees it: its language and its user.
pub struct PageCtx {
    pub lang: Lang,
    pub user: Option<CurrentUser>,
    /// The database holds sample data.
    pub sample: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &S,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(&parts.headers);
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, s).await?;
        let sample = parts.extensions.get::<crate::auth::SampleData>().is_some_and(|s| s.0);
        Ok(Self { lang, user, sample })
    }
}

/// The signed-in user as the page frame shows them.
pub struct NavUser {
    pub display_name: String,
    pub manages_users: bool,
    pub audits: bool,
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
            manages_users: may_own(&u.user, Action::ManageUsers),
            audits: may_own(&u.user, Action::Audit),
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

/// A unit in a list.
pub struct UnitItem {
    pub name: String,
    pub code: String,
    pub href: String,
    pub kind: String,
    pub children: i64,
    pub context: String,
}

/// The address of a unit's page: a unit no longer in force is addressed on its last day, so
/// that a code reused after the 2025 reform still leads to the right unit.
/// The address of a unit's page: a unit that does not exist today is named by a day it did.
pub fn unit_href(u: &Unit) -> String {
    format!("/units/{}{}", u.code, unit_query(u))
}

/// The query that names a unit in its pages' addresses: `?on=` a day it existed when it does
/// not exist today (its code may name another unit now), nothing otherwise.
pub fn unit_query(u: &Unit) -> String {
    if u.valid_on(crate::reviews::today()) {
        return String::new();
    }
    danvan_domain::lineage::a_day_of(u).map(|day| format!("?on={day}")).unwrap_or_default()
}

fn validity_label(lang: Lang, u: &Unit) -> String {
    match (u.valid_from, u.valid_to) {
        (_, Some(to)) => lang.t_args("units-until", &[("date", lang.date(to))]),
        (Some(from), None) => lang.t_args("units-from", &[("date", lang.date(from))]),
        (None, None) => lang.t("unit-valid-always"),
    }
}

async fn unit_items(
    state: &AppState,
    lang: Lang,
    units: &[Unit],
    with_parent: bool,
) -> Result<Vec<UnitItem>, WebError> {
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let counts = state.store.child_counts(&ids).await?;
    let parent_ids: Vec<i64> =
        if with_parent { units.iter().filter_map(|u| u.parent_id).collect() } else { Vec::new() };
    let parents = state.store.units_by_ids(&parent_ids).await?;
    Ok(units
        .iter()
        .map(|u| UnitItem {
            name: u.name.clone(),
            code: u.code.clone(),
            href: unit_href(u),
            kind: u.kind.clone(),
            children: counts.get(&u.id).copied().unwrap_or(0),
            // In search results: the parent, and the period of a unit no longer in force.
            context: if with_parent {
                let parent = u.parent_id.and_then(|p| parents.get(&p)).map(|p| p.name.clone());
                let period = u.valid_to.map(|_| validity_label(lang, u));
                parent.into_iter().chain(period).collect::<Vec<_>>().join(" · ")
            } else {
                String::new()
            },
        })
        .collect())
}

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
#[template(path = "home.html")]
pub struct HomePage {
    layout: Layout,
    schemes: Vec<SchemeCard>,
    /// For a user of a commune: its bloc.
    my_bloc: Option<String>,
    /// For a user of a province: its member organisations and feedback deadline.
    my_organisations: Option<String>,
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<HomePage, PageError> {
    let lang = ctx.lang;
    let schemes = state.store.schemes().await.in_lang(lang)?;
    let my_unit = match ctx.user.as_ref().and_then(|u| u.user.scope_unit_id) {
        Some(id) => state.store.unit(id).await.in_lang(lang)?,
        None => None,
    };
    let inbox = ctx.user.as_ref().is_some_and(crate::review_pages::has_inbox);
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
    Ok(HomePage {
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
                    crate::reviews::today().format("%Y").to_string().parse().unwrap_or(s.first_year);
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

// ---- unit browser --------------------------------------------------------------------------

pub const PAGE_SIZE: usize = 50;

#[derive(Deserialize)]
pub struct UnitsQuery {
    pub q: Option<String>,
    pub page: Option<usize>,
}

pub struct RootGroup {
    pub label: String,
    pub units: Vec<UnitItem>,
}

pub struct Pager {
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(lang: Lang, base: &str, page: usize, total: usize, size: usize) -> Option<Self> {
        let pages = total.div_ceil(size).max(1);
        if pages <= 1 {
            return None;
        }
        let sep = if base.ends_with('?') {
            ""
        } else if base.contains('?') {
            "&"
        } else {
            "?"
        };
        let link = |p: usize| format!("{base}{sep}page={p}");
        Some(Self {
            label: lang.t_args("pager-page", &[("page", page.to_string()), ("pages", pages.to_string())]),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "units.html")]
pub struct UnitsPage {
    layout: Layout,
    query: String,
    results_heading: String,
    results: Vec<UnitItem>,
    pager: Option<Pager>,
    groups: Vec<RootGroup>,
}

pub async fn units(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<UnitsQuery>,
) -> Result<UnitsPage, PageError> {
    let lang = ctx.lang;
    let query = danvan_domain::text::clean(q.q.as_deref().unwrap_or(""));
    let page = q.page.unwrap_or(1).max(1);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let path = if query.is_empty() { "/units".to_string() } else { format!("/units?q={}", enc(&query)) };
    let mut out = UnitsPage {
        layout: Layout::new(&ctx, &lang.t("units-title"), &path),
        query: query.clone(),
        results_heading: String::new(),
        results: Vec::new(),
        pager: None,
        groups: Vec::new(),
    };
    if !query.is_empty() {
        let found =
            state.store.search_units(&query, PAGE_SIZE, (page - 1) * PAGE_SIZE).await.in_lang(lang)?;
        out.results_heading = if found.total == 0 {
            lang.t_args("units-no-results", &[("query", query.clone())])
        } else {
            lang.t_args("units-results", &[("query", query.clone()), ("total", found.total.to_string())])
        };
        out.results = unit_items(&state, lang, &found.units, true).await.in_lang(lang)?;
        out.pager = Pager::new(lang, &path, page, found.total, PAGE_SIZE);
        return Ok(out);
    }
    let roots = state.store.roots(None).await.in_lang(lang)?;
    // One group per validity period: the current list first, then older ones.
    let mut periods: Vec<(Option<NaiveDate>, Option<NaiveDate>)> =
        roots.iter().map(|u| (u.valid_from, u.valid_to)).collect();
    periods.sort_by(|a, b| b.1.is_none().cmp(&a.1.is_none()).then(b.1.cmp(&a.1)));
    periods.dedup();
    for period in periods {
        let members: Vec<Unit> =
            roots.iter().filter(|u| (u.valid_from, u.valid_to) == period).cloned().collect();
        let label = match period {
            (_, None) => lang.t("units-current"),
            (_, Some(to)) => lang.t_args("units-until", &[("date", lang.date(to))]),
        };
        out.groups
            .push(RootGroup { label, units: unit_items(&state, lang, &members, false).await.in_lang(lang)? });
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct OnQuery {
    pub on: Option<String>,
}

/// A date from `?on=`, as yyyy-mm-dd or dd/mm/yyyy.
pub fn parse_on(on: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    let Some(raw) = on.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| {
            WebError::BadRequest(format!("ngày \"{raw}\" không hợp lệ; dùng dạng 2019-06-30 hoặc 30/06/2019"))
        })
}

pub struct Crumb {
    pub name: String,
    pub href: String,
}

pub struct OtherVersion {
    pub name: String,
    pub href: String,
    pub validity: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "unit.html")]
pub struct UnitPage {
    layout: Layout,
    unit: Unit,
    validity: String,
    point: String,
    area: String,
    crumbs: Vec<Crumb>,
    children: Vec<UnitItem>,
    others: Vec<OtherVersion>,
    predecessors: Vec<LinkedItem>,
    successors: Vec<LinkedItem>,
    /// Citizens may write to the unit (it exists today, or nothing has replaced it).
    current: bool,
}

/// A unit before or after a reorganisation, as the unit page lists it.
pub struct LinkedItem {
    pub name: String,
    pub code: String,
    pub href: String,
    /// How (for communes): "sáp nhập toàn bộ", "chia tách (phần chính)"…
    pub relation: String,
    pub date: String,
}

pub async fn unit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<OnQuery>,
) -> Result<UnitPage, PageError> {
    let lang = ctx.lang;
    let on = parse_on(q.on.as_deref()).in_lang(lang)?;
    let all = state.store.units_with_code(&code).await.in_lang(lang)?;
    // The unit of the day asked for, else of today; a code whose every unit has ended names
    // its only one, or lists them.
    let today = crate::reviews::today();
    let found = versions_in_context(&all, Some(on.unwrap_or(today)), None);
    let unit = match (found.as_slice(), on) {
        ([one], _) => (*one).clone(),
        ([], None) if all.len() == 1 => all[0].clone(),
        ([], Some(d)) => {
            return Err(WebError::NotFound(format!(
                "không có đơn vị mã \"{code}\" vào ngày {}",
                d.format("%d/%m/%Y")
            )))
            .in_lang(lang)
        }
        ([], None) if all.is_empty() => {
            return Err(WebError::NotFound(format!("không có đơn vị mã \"{code}\""))).in_lang(lang)
        }
        (_, _) => {
            let list: Vec<&Unit> = if found.is_empty() { all.iter().collect() } else { found };
            let choices = crate::auth::choices(&list, &format!("/units/{code}"), None);
            return Err(WebError::Ambiguous { code, choices }).in_lang(lang);
        }
    };
    let lineage = state.store.lineage(unit.id).await.in_lang(lang)?;
    let crumbs = lineage
        .iter()
        .take(lineage.len().saturating_sub(1))
        // The list of provinces, first in the trail, stands for the country.
        .filter(|u| u.level != danvan_domain::units::UnitLevel::Country)
        .map(|u| Crumb { name: u.name.clone(), href: unit_href(u) })
        .collect();
    let day = crate::api::children_day(&unit, on);
    let mut children = state.store.children(unit.id).await.in_lang(lang)?;
    children.retain(|c| c.valid_on(day));
    let children = unit_items(&state, lang, &children, false).await.in_lang(lang)?;
    let lineage_links = state.store.unit_lineage(&unit).await.in_lang(lang)?;
    let linked = |list: &[danvan_store::LinkedUnit]| -> Vec<LinkedItem> {
        list.iter()
            .map(|l| LinkedItem {
                name: l.unit.name.clone(),
                code: l.unit.code.clone(),
                href: unit_href(&l.unit),
                relation: l.relation.map(|r| lang.t(&format!("lineage-{}", r.as_str()))).unwrap_or_default(),
                date: lang.date(l.effective_on),
            })
            .collect()
    };
    let predecessors = linked(&lineage_links.predecessors);
    let successors = linked(&lineage_links.successors);
    let others = all
        .iter()
        .filter(|u| u.id != unit.id)
        .map(|u| OtherVersion { name: u.name.clone(), href: unit_href(u), validity: validity_label(lang, u) })
        .collect();
    let point = match (unit.lat, unit.lon) {
        (Some(lat), Some(lon)) => format!("{lat:.4}, {lon:.4}"),
        _ => String::new(),
    };
    let area =
        unit.area_km2.map(|a| format!("{} km²", danvan_domain::scheme::format_number(a))).unwrap_or_default();
    // Citizens write to today's units: an ended unit that a recorded reorganisation carried on
    // takes no feedback (its successor does); one of a list not yet followed by another still does.
    let current = unit.valid_on(today) || lineage_links.successors.is_empty();
    Ok(UnitPage {
        layout: Layout::new(&ctx, &unit.name, &unit_href(&unit)),
        validity: validity_label(lang, &unit),
        unit,
        point,
        area,
        crumbs,
        children,
        others,
        predecessors,
        successors,
        current,
    })
}

/// A scheme by its code, or a clear 404.
pub async fn find_scheme(state: &AppState, code: &str) -> Result<danvan_store::StoredScheme, WebError> {
    state.store.scheme(code).await?.ok_or_else(|| WebError::NotFound(format!("không có đề án mã \"{code}\"")))
}

// ---- scheme --------------------------------------------------------------------------------

pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub criterion: String,
    pub notes: Vec<String>,
    pub source: String,
    pub evidence: String,
    pub coverage: Vec<String>,
}

pub struct GroupView {
    pub code: String,
    pub name: String,
    pub targets: Vec<TargetRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "scheme.html")]
pub struct SchemePage {
    layout: Layout,
    def: SchemeDef,
    root_name: String,
    root_href: String,
    applies_to: String,
    period: String,
    deadline: String,
    years: Vec<i32>,
    groups: Vec<GroupView>,
}

fn target_row(lang: Lang, t: &Target, years: &[i32]) -> TargetRow {
    let mut notes = Vec::new();
    if t.direction == Direction::Lower {
        notes.push(lang.t("direction-lower"));
    }
    if t.kind == TargetKind::Count && t.accumulation == danvan_domain::scheme::Accumulation::Cumulative {
        notes.push(lang.t("cumulative"));
    }
    if let (Some(n), Some(d)) = (&t.numerator_label, &t.denominator_label) {
        notes.push(format!("{n} / {d}"));
    }
    if t.kind == TargetKind::Level {
        notes.push(t.grades.join(" < "));
    }
    let source = match t.source {
        Source::Reported => lang.t("source-reported"),
        Source::Computed(rule) => format!("{} ({})", lang.t("source-computed"), rule.as_str()),
    };
    TargetRow {
        code: t.code.clone(),
        name: t.name.clone(),
        description: t.description.clone().unwrap_or_default(),
        kind: lang.t(&format!("kind-{}", t.kind.as_str())),
        criterion: t.criterion_text(),
        notes,
        source,
        evidence: lang.t(if t.evidence_required { "evidence-required" } else { "evidence-optional" }),
        coverage: years
            .iter()
            .map(|y| {
                t.coverage
                    .get(y)
                    .map(|p| format!("{}%", danvan_domain::scheme::format_number(*p)))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

pub async fn scheme(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<SchemePage, PageError> {
    let lang = ctx.lang;
    let scheme = crate::pages::find_scheme(&state, &code).await.in_lang(lang)?;
    let root = state.store.unit(scheme.root_unit_id).await.in_lang(lang)?;
    let def = scheme.def;
    let years: Vec<i32> = def.years().collect();
    let groups = def
        .groups
        .iter()
        .map(|g| GroupView {
            code: g.code.clone(),
            name: g.name.clone(),
            targets: def.targets_of(&g.code).map(|t| target_row(lang, t, &years)).collect(),
        })
        .collect();
    Ok(SchemePage {
        layout: Layout::new(&ctx, &def.title, &format!("/schemes/{}", def.code)),
        root_name: root.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        root_href: root.as_ref().map(unit_href).unwrap_or_default(),
        applies_to: lang.t(&format!("level-{}", def.applies_to.as_str())),
        period: lang.t(&format!("period-{}", def.period.as_str())),
        deadline: lang.t_args("scheme-deadline-days", &[("days", def.report_deadline_days.to_string())]),
        years,
        groups,
        def,
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
        include_str!("../static/style.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

pub async fn not_found(lang: Lang) -> Response {
    WebError::NotFound(String::new()).page(lang)
}
