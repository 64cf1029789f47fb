//! The dashboard page: figures, the matrix, the map.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use danvan_domain::period::scheme_periods;
use danvan_domain::units::Unit;
use danvan_store::StoredScheme;

use super::compute;
use super::compute_with_map;
use super::resolve;
use super::ChildFigure;
use super::DashboardJson;
use super::DashboardQuery;
use crate::shell::auth::ScopedUnit;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

pub struct MatrixRow {
    pub href: String,
    pub name: String,
    pub rank: usize,
    pub score: String,
    pub completeness: String,
    pub cells: Vec<(String, &'static str)>,
    pub lagging: String,
    /// Read under later units: the former units counted in this row.
    pub former: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    d: DashboardJson,
    scheme_title: String,
    sample: bool,
    periods: Vec<String>,
    crumbs: Vec<(String, String)>,
    headline: Vec<(String, String)>,
    bars: String,
    trend: String,
    map: String,
    /// The map's legend: a class (its colour) and what it means.
    legend: Vec<(&'static str, String)>,
    codes: Vec<String>,
    rows: Vec<MatrixRow>,
    lagging: Vec<MatrixRow>,
    /// How many more units need attention than are listed.
    lagging_more: usize,
    child_label: String,
    /// The dashboard's address without its query, and the query (for the files and print view).
    files: String,
    query: String,
    /// Before / after the reorganisation: both addresses, and whether the later units are shown.
    regroup: Option<(String, String, bool)>,
}

/// How many units the "needs attention" list names (worst first).
const LAGGING_SHOWN: usize = 5;

pub(crate) fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{}%", v.round())).unwrap_or_else(|| "—".into())
}

/// A cell's class (for colour) from a coverage against the year's goal (100 % without one).
fn cell_class(coverage: Option<f64>, goal: Option<f64>) -> &'static str {
    match coverage {
        None => "none",
        Some(c) if c >= goal.unwrap_or(100.0) => "good",
        Some(c) if c >= goal.unwrap_or(100.0) / 2.0 => "fair",
        Some(_) => "poor",
    }
}

pub async fn show(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<DashboardPage, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = resolve(&state, &scheme, q.period.as_deref()).await.in_lang(lang)?;
    let units_on = q.units_on().in_lang(lang)?;
    let (d, dots) = compute_with_map(&state, &scheme, &unit, &period, units_on).await.in_lang(lang)?;
    let base = |code: &str| format!("/schemes/{}/units/{code}", scheme.def.code);
    let as_reported = format!("?period={}", d.period);
    let query = match units_on {
        Some(day) => format!("?period={}&units={day}", d.period),
        None => as_reported.clone(),
    };
    // Read under later units, a row is a unit outside the scheme's hierarchy: its page.
    let child_href = |code: &str| match units_on {
        Some(day) => format!("/units/{code}?on={day}"),
        None => format!("{}{query}", base(code)),
    };
    let lineage = state.store.lineage(unit.id).await.in_lang(lang)?;
    let crumbs = lineage
        .iter()
        .take(lineage.len().saturating_sub(1))
        .filter(|u| state_within(&scheme, u, &lineage))
        .map(|u| (u.name.clone(), format!("{}{query}", base(&u.code))))
        .collect();
    let bars = danvan_report::charts::coverage_bars(
        &d.targets
            .iter()
            .map(|t| danvan_report::charts::BarRow { label: &t.code, value: t.coverage, goal: t.goal })
            .collect::<Vec<_>>(),
        &lang.t("dashboard-goal"),
        &lang.t("dashboard-coverage"),
    );
    let trend = danvan_report::charts::trend_line(&d.trend, &lang.t("dashboard-trend"));
    let hrefs: Vec<String> = dots.iter().map(|p| child_href(&p.code)).collect();
    let points: Vec<danvan_report::charts::MapPoint<'_>> = dots
        .iter()
        .zip(&hrefs)
        .map(|(p, href)| danvan_report::charts::MapPoint {
            label: &p.name,
            href,
            lat: p.lat,
            lon: p.lon,
            score: p.score,
        })
        .collect();
    let legend = ["good", "fair", "poor", "none"]
        .into_iter()
        .map(|k| (k, lang.t(&format!("dashboard-legend-{k}"))))
        .collect();
    let map = danvan_report::charts::dot_map(&points, &lang.t("dashboard-map"));
    let goals: Vec<Option<f64>> = d.targets.iter().map(|t| t.goal).collect();
    let mut rows: Vec<MatrixRow> = d
        .children
        .iter()
        .map(|c| MatrixRow {
            href: child_href(&c.code),
            name: c.name.clone(),
            rank: c.rank,
            score: if c.received == 0 { "—".into() } else { pct(c.score) },
            completeness: format!("{}/{}", c.received, c.expected),
            // Read under later units: "k/n" of the former units met the target.
            cells: c
                .coverage
                .iter()
                .zip(&goals)
                .enumerate()
                .map(|(i, (v, g))| {
                    // Nothing reported is not "0 % met": a grey dash, told apart in the legend.
                    if c.received == 0 {
                        return ("—".to_string(), "none");
                    }
                    let text = match c.met.get(i) {
                        Some(k) => format!("{k}/{}", c.received),
                        None => pct(*v),
                    };
                    (text, cell_class(*v, *g))
                })
                .collect(),
            lagging: c.lagging.join("; "),
            former: c.former.join(", "),
        })
        .collect();
    rows.sort_by_key(|r| r.rank);
    // The units that need attention, worst first, the first few only (all are in the table).
    let lagging_all = rows.iter().filter(|r| !r.lagging.is_empty()).count();
    let lagging_more = lagging_all.saturating_sub(LAGGING_SHOWN);
    let lagging = rows
        .iter()
        .rev()
        .filter(|r| !r.lagging.is_empty())
        .take(LAGGING_SHOWN)
        .map(|r| MatrixRow {
            href: r.href.clone(),
            name: r.name.clone(),
            rank: r.rank,
            score: r.score.clone(),
            completeness: r.completeness.clone(),
            cells: Vec::new(),
            lagging: r.lagging.clone(),
            former: r.former.clone(),
        })
        .collect();
    let headline = vec![
        (
            lang.t("dashboard-completeness"),
            format!("{} ({}/{})", pct(d.completeness), d.received, d.expected),
        ),
        (lang.t("dashboard-timeliness"), pct(d.timeliness)),
        (lang.t("dashboard-score"), pct(d.score)),
        (lang.t("dashboard-goals"), format!("{}/{}", d.targets_meeting_goal, d.targets_with_goal)),
    ];
    let child_label = match d.children.first().map(|c| c.level.as_str()) {
        Some("district") => lang.t("dashboard-districts"),
        Some("province") => lang.t("dashboard-provinces"),
        _ => lang.t("dashboard-communes"),
    };
    let path = base(&unit.code);
    Ok(DashboardPage {
        layout: Layout::new(
            &ctx,
            &format!("{} · {}", unit.name, scheme.def.title),
            &format!("{path}{query}"),
        ),
        scheme_title: scheme.def.title.clone(),
        sample: scheme.def.sample,
        periods: scheme_periods(&scheme.def).iter().map(|p| p.to_string()).collect(),
        crumbs,
        headline,
        bars,
        trend,
        map,
        legend,
        codes: d.targets.iter().map(|t| t.code.clone()).collect(),
        rows,
        lagging,
        lagging_more,
        child_label,
        files: path.clone(),
        query: query.clone(),
        // The switch between the units that reported and today's, once the root's hierarchy ended.
        regroup: unit.valid_to.map(|_| {
            let after = danvan_domain::lineage::reform_date()
                .max(unit.valid_to.unwrap_or_default().succ_opt().unwrap_or_default());
            (format!("{path}{as_reported}"), format!("{path}{as_reported}&units={after}"), units_on.is_some())
        }),
        d,
    })
}

/// Whether a unit of the lineage lies within the scheme (at or below its root).
fn state_within(scheme: &StoredScheme, u: &Unit, lineage: &[Unit]) -> bool {
    let root = lineage.iter().position(|l| l.id == scheme.root_unit_id);
    let here = lineage.iter().position(|l| l.id == u.id);
    matches!((root, here), (Some(r), Some(h)) if h >= r)
}

// ---- files and print -----------------------------------------------------------------------

/// The dashboard's matrix as the report crate takes it; the caller keeps the owned parts.
pub(crate) fn with_matrix<T>(
    scheme: &StoredScheme,
    d: &DashboardJson,
    f: impl FnOnce(&danvan_report::matrix::MatrixView<'_>) -> T,
) -> T {
    use danvan_report::matrix::{MatrixLine, MatrixTarget, MatrixView};
    let groups: Vec<(&str, &str)> =
        scheme.def.groups.iter().map(|g| (g.code.as_str(), g.name.as_str())).collect();
    let targets: Vec<MatrixTarget<'_>> = d
        .targets
        .iter()
        .map(|t| MatrixTarget {
            code: &t.code,
            name: &t.name,
            group: &t.group,
            goal: t.goal,
            coverage: t.coverage,
        })
        .collect();
    let mut children: Vec<&ChildFigure> = d.children.iter().collect();
    children.sort_by_key(|c| c.rank);
    // A reporting unit (a commune) has no lines below it: its matrix is its own line.
    let own: Vec<Option<f64>> = d.targets.iter().map(|t| t.coverage).collect();
    let own_line = (children.is_empty() && d.expected > 0).then(|| MatrixLine {
        code: &d.unit,
        name: &d.unit_name,
        rank: 1,
        score: d.score,
        received: d.received,
        expected: d.expected,
        coverage: &own,
    });
    let lines: Vec<MatrixLine<'_>> = children
        .iter()
        .map(|c| MatrixLine {
            code: &c.code,
            name: &c.name,
            rank: c.rank,
            score: c.score,
            received: c.received,
            expected: c.expected,
            coverage: &c.coverage,
        })
        .chain(own_line)
        .collect();
    f(&MatrixView {
        scheme_title: &scheme.def.title,
        unit_name: &d.unit_name,
        period: &d.period,
        sample: scheme.def.sample,
        groups: &groups,
        targets: &targets,
        lines: &lines,
    })
}

pub(crate) async fn figures(
    state: &AppState,
    scheme: &str,
    unit: &Unit,
    q: &DashboardQuery,
) -> Result<(StoredScheme, DashboardJson), WebError> {
    let (scheme, period) = resolve(state, scheme, q.period.as_deref()).await?;
    let d = compute(state, &scheme, unit, &period, q.units_on()?).await?;
    Ok((scheme, d))
}
