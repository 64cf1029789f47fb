//! The dashboard of a unit for a scheme and period: headline figures, coverage per target
//! against its goal, the ranking of child units, lagging units, the trend over periods, a
//! units × targets matrix and a map. Live: computed from the approved reviews on every request.

pub mod api;
pub mod exports;
pub mod pages;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use danvan_domain::access::Action;
use danvan_domain::achievement::{lagging_reasons, marks_score, rank, MarksTally};
use danvan_domain::lineage::Regrouping;
use danvan_domain::period::{scheme_periods, Period};
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::StoredScheme;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::Access;
use crate::shell::error::WebError;
use crate::shell::AppState;
use crate::shell::Routes;
use crate::shell::{scheme_and_period, today};

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    /// 2018, 2018-H1…; the latest period that has ended by default.
    pub period: Option<String>,
    /// Read the figures under the units of this day (yyyy-mm-dd, e.g. 2025-07-01: after the
    /// reform) instead of the units they were reported by.
    pub units: Option<String>,
}

impl DashboardQuery {
    fn units_on(&self) -> Result<Option<NaiveDate>, WebError> {
        crate::shell::parse_on(self.units.as_deref())
    }
}

/// A target's figures in a unit's subtree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetFigure {
    pub code: String,
    pub name: String,
    pub group: String,
    /// Units meeting it / units expected, in percent.
    pub coverage: Option<f64>,
    /// The year's coverage goal, in percent.
    pub goal: Option<f64>,
    pub meets_goal: Option<bool>,
    pub met: u64,
    pub expected: u64,
}

/// A child unit's line: its score, rank, completeness, and per target its coverage.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChildFigure {
    pub code: String,
    pub name: String,
    /// province, district or commune.
    pub level: String,
    /// Mean score of its reporting units (percent of targets met; unreported targets count as not met).
    pub score: Option<f64>,
    pub rank: usize,
    pub expected: u64,
    pub received: u64,
    /// Per target, in the scheme's order: coverage in percent.
    pub coverage: Vec<Option<f64>>,
    /// Why it is lagging, if it is.
    pub lagging: Vec<String>,
    /// Read under later units: the former units whose reports are counted here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former: Vec<String>,
    /// Read under later units: per target, how many of the former units met it ("k of n").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub met: Vec<u64>,
}

/// Everything a dashboard shows, as the API serves it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardJson {
    pub scheme: String,
    pub unit: String,
    pub unit_name: String,
    pub period: String,
    pub expected: u64,
    pub received: u64,
    pub on_time: u64,
    pub completeness: Option<f64>,
    pub timeliness: Option<f64>,
    /// Mean score of the units that report (percent of targets met).
    pub score: Option<f64>,
    /// Targets whose coverage reaches the year's goal / targets with a goal.
    pub targets_meeting_goal: u64,
    pub targets_with_goal: u64,
    pub targets: Vec<TargetFigure>,
    pub children: Vec<ChildFigure>,
    /// Score per period of the scheme up to this one.
    pub trend: Vec<(String, Option<f64>)>,
    /// The day whose units the figures are read under, when not those that reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_on: Option<NaiveDate>,
    /// Read under later units: the units that were divided, and where their figures are counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A dot of the dashboard's map: a reporting unit at its point, or on the national dashboard a
/// province at the centre of its communes.
pub struct Dot {
    pub code: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub score: Option<f64>,
}

/// The latest period of the scheme that has ended (the first one before any has).
fn default_period(scheme: &StoredScheme) -> Option<Period> {
    let periods = scheme_periods(&scheme.def);
    let day = today();
    periods.iter().rev().find(|p| p.end() < day).or(periods.first()).cloned()
}

pub async fn compute(
    state: &AppState,
    scheme: &StoredScheme,
    root: &Unit,
    period: &Period,
    units_on: Option<NaiveDate>,
) -> Result<DashboardJson, WebError> {
    Ok(compute_with_map(state, scheme, root, period, units_on).await?.0)
}

/// The dashboard's figures and its map's dots. Reads the units of the subtree and the marks of
/// its approved reviews (every period, for the trend) once, then rolls them up in one pass per
/// period. With `units_on`, the reporting units are read under the units of that day (the
/// regrouping of [`Regrouping`]): the totals stay the same, the children are the later units.
pub async fn compute_with_map(
    state: &AppState,
    scheme: &StoredScheme,
    root: &Unit,
    period: &Period,
    units_on: Option<NaiveDate>,
) -> Result<(DashboardJson, Vec<Dot>), WebError> {
    let def = &scheme.def;
    if !state.store.is_within(root.id, scheme.root_unit_id).await? {
        return Err(WebError::NotFound(format!("{} không thuộc phạm vi đề án {}", root.name, def.code)));
    }
    let n = def.targets.len();
    let marks_counter = danvan_store::marks_counter(scheme.id);
    let counters = state.store.change_counters(&[danvan_store::UNITS_COUNTER, &marks_counter]).await?;
    // The units of the period's end, or of the root's last day when it ended before.
    let day = root.valid_to.map_or(period.end(), |t| t.min(period.end()));
    let tree = state.cache.units_on(&state.store, day, counters[0]).await?;
    let subtree = tree.subtree(root.id);
    let reporting_level = def.applies_to;
    let reporting: Vec<&Unit> = subtree.iter().copied().filter(|u| u.level == reporting_level).collect();
    let Grouping { children, reporter_child, former, notes } = match units_on {
        None => as_reported(root, &tree, &subtree, &reporting, reporting_level),
        Some(on) => {
            let all = state.cache.links(&state.store, counters[0]).await?;
            let links: Vec<_> = all.iter().filter(|l| l.effective_on <= on).copied().collect();
            let later = state.cache.units_on(&state.store, on, counters[0]).await?;
            under_later_units(root, &tree, &later, &reporting, &Regrouping::new(&links))
        }
    };
    let reporters: HashMap<i64, (&Unit, Option<usize>)> =
        reporting.iter().map(|u| (u.id, (*u, reporter_child.get(&u.id).copied().flatten()))).collect();

    let marks = state.cache.marks(&state.store, scheme.id, counters[1]).await?;
    let this = period.to_string();
    let mut total = MarksTally::new(n);
    total.expected = reporters.len() as u64;
    let mut per_child = vec![MarksTally::new(n); children.len()];
    for (_, (_, child)) in reporters.iter() {
        if let Some(c) = child {
            per_child[*c].expected += 1;
        }
    }
    let mut unit_scores: HashMap<i64, Option<f64>> = HashMap::new();
    let mut trend_tallies: BTreeMap<&str, MarksTally> = BTreeMap::new();
    for ((unit_id, p), (late, met)) in marks.iter() {
        let Some((_, child)) = reporters.get(unit_id) else { continue };
        trend_tallies.entry(p.as_str()).or_insert_with(|| MarksTally::new(n)).add(*late, met);
        if *p == this {
            total.add(*late, met);
            if let Some(c) = child {
                per_child[*c].add(*late, met);
            }
            unit_scores.insert(*unit_id, marks_score(met));
        }
    }

    let targets: Vec<TargetFigure> = def
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let goal = t.coverage.get(&period.year).copied();
            let coverage = total.coverage(i);
            TargetFigure {
                code: t.code.clone(),
                name: t.name.clone(),
                group: t.group.clone(),
                coverage,
                goal,
                meets_goal: goal.map(|g| total.meets_goal(i, g)),
                met: total.met[i],
                expected: total.expected,
            }
        })
        .collect();

    // Child units: their figures, scores and reasons for lagging.
    let deadline_passed = period.deadline(def.report_deadline_days) < today();
    // Overdue activities of each child: its own and its reporting units'.
    let child_index: HashMap<i64, usize> = children.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut late_activities = vec![0u64; children.len()];
    for (unit, k) in state.store.overdue_counts_within(scheme.id, root.id, today()).await? {
        let child = child_index.get(&unit).copied().or_else(|| reporters.get(&unit).and_then(|(_, c)| *c));
        if let Some(c) = child {
            late_activities[c] += k;
        }
    }
    let mut child_figures: Vec<ChildFigure> = Vec::with_capacity(children.len());
    for (((c, tally), late), former) in children.iter().zip(&per_child).zip(&late_activities).zip(former) {
        let missing = if deadline_passed { tally.expected - tally.received } else { 0 };
        child_figures.push(ChildFigure {
            code: c.code.clone(),
            name: c.name.clone(),
            level: c.level.as_str().to_string(),
            score: tally.score(),
            rank: 0,
            expected: tally.expected,
            received: tally.received,
            coverage: (0..n).map(|i| tally.coverage(i)).collect(),
            lagging: lagging_reasons(tally.score(), missing, *late as usize),
            met: if units_on.is_some() { tally.met.clone() } else { Vec::new() },
            former,
        });
    }
    let ranked = rank(&child_figures.iter().map(|c| (c.name.as_str(), c.score)).collect::<Vec<_>>());
    for (r, idx) in ranked {
        child_figures[idx].rank = r;
    }

    // The trend: this unit's score in every period up to this one.
    let trend = scheme_periods(def)
        .into_iter()
        .filter(|p| p.start() <= period.start())
        .map(|p| {
            let key = p.to_string();
            let score = trend_tallies.get(key.as_str()).and_then(MarksTally::score);
            (key, score)
        })
        .collect();

    // The map: provinces on the national dashboard, the reporting units elsewhere (the later
    // units, at their own points, when read under them).
    let dots = if units_on.is_some() && root.level != UnitLevel::Country {
        let mut dots: Vec<Dot> = children
            .iter()
            .zip(&child_figures)
            .filter_map(|(c, f)| {
                Some(Dot {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    lat: c.lat?,
                    lon: c.lon?,
                    score: f.score,
                })
            })
            .collect();
        dots.sort_by(|a, b| a.code.cmp(&b.code));
        dots
    } else if root.level == UnitLevel::Country {
        // A province's dot is at the centre of its communes' points.
        let mut sums = vec![(0.0, 0.0, 0usize); children.len()];
        for (u, c) in reporters.values() {
            if let (Some(c), Some(lat), Some(lon)) = (c, u.lat, u.lon) {
                sums[*c].0 += lat;
                sums[*c].1 += lon;
                sums[*c].2 += 1;
            }
        }
        children
            .iter()
            .zip(&child_figures)
            .zip(&sums)
            .filter(|(_, (_, _, k))| *k > 0)
            .map(|((c, f), (lat, lon, k))| Dot {
                code: c.code.clone(),
                name: c.name.clone(),
                lat: lat / *k as f64,
                lon: lon / *k as f64,
                score: f.score,
            })
            .collect()
    } else {
        let mut dots: Vec<Dot> = reporters
            .values()
            .filter_map(|(u, _)| {
                Some(Dot {
                    code: u.code.clone(),
                    name: u.name.clone(),
                    lat: u.lat?,
                    lon: u.lon?,
                    score: unit_scores.get(&u.id).copied().flatten(),
                })
            })
            .collect();
        dots.sort_by(|a, b| a.code.cmp(&b.code));
        dots
    };

    let json = DashboardJson {
        scheme: def.code.clone(),
        unit: root.code.clone(),
        unit_name: root.name.clone(),
        period: this,
        expected: total.expected,
        received: total.received,
        on_time: total.on_time,
        completeness: total.completeness(),
        timeliness: total.timeliness(),
        score: total.score(),
        targets_meeting_goal: targets.iter().filter(|t| t.meets_goal == Some(true)).count() as u64,
        targets_with_goal: targets.iter().filter(|t| t.goal.is_some()).count() as u64,
        targets,
        children: child_figures,
        trend,
        units_on,
        notes,
    };
    Ok((json, dots))
}

/// The child units a dashboard's figures are grouped by, and for each reporting unit the child
/// it counts under (None on a reporting unit's own dashboard).
struct Grouping {
    children: Vec<Unit>,
    reporter_child: HashMap<i64, Option<usize>>,
    /// Read under later units: the former units each child counts.
    former: Vec<Vec<String>>,
    /// Read under later units: the units that were divided.
    notes: Vec<String>,
}

/// The children of the hierarchy the figures were reported in.
fn as_reported(
    root: &Unit,
    tree: &crate::shell::cache::UnitTree,
    subtree: &[&Unit],
    reporting: &[&Unit],
    reporting_level: UnitLevel,
) -> Grouping {
    let mut children: Vec<&Unit> = if root.level == reporting_level {
        Vec::new()
    } else {
        subtree
            .iter()
            .copied()
            .filter(|u| u.parent_id == Some(root.id) && u.level <= reporting_level)
            .collect()
    };
    danvan_domain::text::sort_vi_by(&mut children, |u| &u.name);
    let index: HashMap<i64, usize> = children.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let reporter_child = reporting
        .iter()
        .map(|u| (u.id, tree.child_toward(root.id, u.id).and_then(|c| index.get(&c).copied())))
        .collect();
    let n = children.len();
    Grouping {
        children: children.into_iter().cloned().collect(),
        reporter_child,
        former: vec![Vec::new(); n],
        notes: Vec::new(),
    }
}

/// The children of a later day's hierarchy: each reporting unit under the unit that carries it
/// (itself when none does); on the national dashboard, under that unit's province.
fn under_later_units(
    root: &Unit,
    tree: &crate::shell::cache::UnitTree,
    later: &crate::shell::cache::UnitTree,
    reporting: &[&Unit],
    regrouping: &Regrouping,
) -> Grouping {
    let find = |id: i64| later.get(id).or_else(|| tree.get(id));
    let national = root.level == UnitLevel::Country;
    let group_of = |reporter: i64| -> Option<&Unit> {
        let mut cur = find(regrouping.target(reporter))?;
        while national && cur.level > UnitLevel::Province {
            cur = find(cur.parent_id?)?;
        }
        Some(cur)
    };
    // The former units named in a row: the communes a commune came from; on the national
    // dashboard, the provinces a province's communes came from.
    let former_of = |r: &Unit| -> Option<String> {
        if national {
            tree.child_toward(root.id, r.id).and_then(|p| tree.get(p)).map(|p| p.name.clone())
        } else {
            Some(r.name.clone())
        }
    };
    let mut groups: BTreeMap<i64, (&Unit, Vec<String>)> = BTreeMap::new();
    let mut group_id: HashMap<i64, Option<i64>> = HashMap::new();
    let mut notes = Vec::new();
    for r in reporting {
        let group = group_of(r.id);
        if let Some(g) = group {
            let names = &mut groups.entry(g.id).or_insert((g, Vec::new())).1;
            if let Some(name) = former_of(r).filter(|n| !names.contains(n)) {
                names.push(name);
            }
        }
        group_id.insert(r.id, group.map(|g| g.id));
        let parts: Vec<&str> = regrouping
            .split
            .get(&r.id)
            .map(|ps| ps.iter().filter_map(|p| later.get(*p).map(|u| u.name.as_str())).collect())
            .unwrap_or_default();
        if let Some((main, rest)) = parts.split_first() {
            notes.push(if rest.is_empty() {
                format!("{} được chia tách; số liệu tính một lần cho {main}.", r.name)
            } else {
                format!(
                    "{} được chia tách vào {main} và {}; số liệu tính một lần cho {main}.",
                    r.name,
                    rest.join(", ")
                )
            });
        }
    }
    notes.sort();
    // Alphabetical, as the reported view.
    let mut list: Vec<(&Unit, Vec<String>)> = groups.into_values().collect();
    list.sort_by(|a, b| danvan_domain::text::compare_vi(&a.0.name, &b.0.name));
    let index: HashMap<i64, usize> = list.iter().enumerate().map(|(i, (u, _))| (u.id, i)).collect();
    let reporter_child =
        group_id.into_iter().map(|(r, g)| (r, g.and_then(|g| index.get(&g).copied()))).collect();
    let (children, mut former): (Vec<Unit>, Vec<Vec<String>>) =
        list.into_iter().map(|(u, names)| (u.clone(), names)).unzip();
    for f in &mut former {
        danvan_domain::text::sort_vi_by(f, |s| s);
    }
    Grouping { children, reporter_child, former, notes }
}

async fn resolve(
    state: &AppState,
    scheme: &str,
    period: Option<&str>,
) -> Result<(StoredScheme, Period), WebError> {
    match period.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => scheme_and_period(state, scheme, p).await,
        None => {
            let scheme = crate::shell::find_scheme(state, scheme).await?;
            let period = default_period(&scheme)
                .ok_or_else(|| WebError::NotFound("đề án chưa có kỳ báo cáo".into()))?;
            Ok((scheme, period))
        }
    }
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get_fresh("/schemes/{scheme}/units/{code}", Access::Unit(Action::Read), pages::show)
        .get_fresh(
            "/schemes/{scheme}/units/{code}/matrix.xlsx",
            Access::Unit(Action::Read),
            exports::matrix_xlsx,
        )
        .get_fresh(
            "/schemes/{scheme}/units/{code}/matrix.csv",
            Access::Unit(Action::Read),
            exports::matrix_csv,
        )
        .get_fresh("/schemes/{scheme}/units/{code}/print", Access::Unit(Action::Read), exports::print)
        .get_fresh(
            "/schemes/{scheme}/units/{code}/report.docx",
            Access::Unit(Action::Read),
            exports::report_docx,
        )
        .get_fresh(
            "/api/v1/schemes/{scheme}/units/{code}/dashboard",
            Access::Unit(Action::Read),
            api::api_dashboard,
        )
}
