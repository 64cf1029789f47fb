//! The unit browser and a unit's page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use danvan_domain::lineage::versions_in_context;
use danvan_domain::units::Unit;
use serde::Deserialize;

use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::parse_on;
use crate::shell::unit_href;
use crate::shell::AppState;
use crate::shell::Layout;
use crate::shell::OnQuery;
use crate::shell::PageCtx;
use crate::shell::Pager;
use crate::shell::PAGE_SIZE;

/// A unit in a list.
pub struct UnitItem {
    pub name: String,
    pub code: String,
    pub href: String,
    pub kind: String,
    pub children: i64,
    pub context: String,
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

#[derive(Deserialize)]
pub struct UnitsQuery {
    pub q: Option<String>,
    pub page: Option<usize>,
}

pub struct RootGroup {
    pub label: String,
    pub units: Vec<UnitItem>,
}

#[derive(Template, WebTemplate)]
#[template(path = "units/units.html")]
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
#[template(path = "units/unit.html")]
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
    let today = crate::shell::today();
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
            let choices = crate::shell::auth::choices(&list, &format!("/units/{code}"), None);
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
    let day = super::api::children_day(&unit, on);
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
