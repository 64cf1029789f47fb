//! Units across a reorganisation: which unit version a code names in a given context, which
//! unit carried on which (the 2025 reform map), and how figures reported by the old units are
//! read under the new ones without losing or double-counting any.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text;
use crate::units::{each_row, parse_code, ListProblem, Unit, UnitLevel, MAX_PROBLEMS};

/// The day the 2025 two-level hierarchy took effect.
pub fn reform_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or(NaiveDate::MIN)
}

/// How an old unit went into a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Succession {
    /// The old unit went wholly into the new one.
    #[serde(rename = "whole")]
    Whole,
    /// The old unit was divided; this new unit carries most of it.
    #[serde(rename = "split-main")]
    SplitMain,
    /// The old unit was divided; this new unit took a smaller part.
    #[serde(rename = "split-part")]
    SplitPart,
}

impl Succession {
    pub const ALL: [Succession; 3] = [Self::Whole, Self::SplitMain, Self::SplitPart];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Whole => "whole",
            Self::SplitMain => "split-main",
            Self::SplitPart => "split-part",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the old unit's figures are counted under this successor (once, never twice).
    pub fn carries(self) -> bool {
        matches!(self, Self::Whole | Self::SplitMain)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Whole => "sáp nhập toàn bộ",
            Self::SplitMain => "chia tách (phần chính)",
            Self::SplitPart => "chia tách (một phần)",
        }
    }
}

impl fmt::Display for Succession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a reform map, before it is stored: codes, not yet unit versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRow {
    pub old_code: String,
    pub new_code: String,
    pub relation: Succession,
    pub line: u64,
}

/// The reform map's header (`data/units-2025-reform-map.csv`).
pub const MAP_COLUMNS: [&str; 3] = ["old_commune_code", "new_commune_code", "relation"];

/// Whether a CSV file starts with the reform map's header.
pub fn is_reform_map(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let cols: Vec<&str> = first.trim_end_matches('\r').split(',').map(str::trim).collect();
    cols == MAP_COLUMNS
}

/// Reads a reform map: every row checked (codes, relation, repeats), and for each old unit
/// exactly one successor that carries it (`whole`, or `split-main` beside its `split-part`s).
/// Any problem rejects the whole file, each named by its line.
pub fn parse_reform_map(bytes: &[u8]) -> Result<Vec<MapRow>, Vec<ListProblem>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let problem = |line: u64, field: Option<&str>, message: String| ListProblem {
        line,
        field: field.map(str::to_string),
        message,
    };
    if !is_reform_map(bytes) {
        return Err(vec![problem(
            1,
            None,
            format!("tiêu đề không đúng mẫu; cần: \"{}\"", MAP_COLUMNS.join(",")),
        )]);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let mut rows: Vec<MapRow> = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    each_row(reader.records(), MAP_COLUMNS.len(), &mut problems, |line, record, problems| {
        let field = |i: usize| text::clean(&record[i]);
        let code = |i: usize| {
            parse_code(UnitLevel::Commune, &field(i)).map_err(|m| problem(line, Some(MAP_COLUMNS[i]), m))
        };
        let (old_code, new_code) = match (code(0), code(1)) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(p), _) | (_, Err(p)) => return problems.push(p),
        };
        let raw = field(2);
        let Some(relation) = Succession::parse(&raw) else {
            return problems.push(problem(
                line,
                Some(MAP_COLUMNS[2]),
                format!("quan hệ \"{raw}\" không hợp lệ; cần một trong: whole, split-main, split-part"),
            ));
        };
        if let Some(first) = seen.insert((old_code.clone(), new_code.clone()), line) {
            return problems.push(problem(
                line,
                None,
                format!("cặp {old_code} → {new_code} lặp lại (đã có ở dòng {first})"),
            ));
        }
        rows.push(MapRow { old_code, new_code, relation, line });
    });
    if problems.is_empty() {
        let mut by_old: BTreeMap<&str, Vec<&MapRow>> = BTreeMap::new();
        for r in &rows {
            by_old.entry(&r.old_code).or_default().push(r);
        }
        for (old, rs) in by_old {
            let carriers = rs.iter().filter(|r| r.relation.carries()).count();
            let whole = rs.iter().any(|r| r.relation == Succession::Whole);
            let line = rs[0].line;
            let message = if carriers != 1 {
                Some(format!(
                    "xã cũ {old} cần đúng một đơn vị kế thừa chính (whole hoặc split-main), có {carriers}"
                ))
            } else if whole && rs.len() > 1 {
                Some(format!("xã cũ {old} đã sáp nhập toàn bộ (whole) thì không thể có thêm phần chia tách"))
            } else {
                None
            };
            if let Some(m) = message {
                problems.push(problem(line, Some(MAP_COLUMNS[0]), m));
                if problems.len() >= MAX_PROBLEMS {
                    break;
                }
            }
        }
    }
    if problems.is_empty() && rows.is_empty() {
        problems.push(problem(1, None, "tệp không có dòng nào".into()));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// A stored succession between two unit versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub old_unit_id: i64,
    pub new_unit_id: i64,
    pub relation: Succession,
    pub effective_on: NaiveDate,
}

/// The versions of a code that a context allows: the one valid on `on` when a day is given,
/// otherwise those that exist at some time in `span` (a scheme's days), otherwise all.
pub fn versions_in_context(
    units: &[Unit],
    on: Option<NaiveDate>,
    span: Option<(NaiveDate, NaiveDate)>,
) -> Vec<&Unit> {
    match (on, span) {
        (Some(day), _) => units.iter().filter(|u| u.valid_on(day)).collect(),
        (None, Some((from, to))) => units
            .iter()
            .filter(|u| u.valid_from.is_none_or(|f| f <= to) && u.valid_to.is_none_or(|t| from <= t))
            .collect(),
        (None, None) => units.iter().collect(),
    }
}

/// What a code names in its context.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    One(&'a Unit),
    /// No version fits.
    None,
    /// Several fit and nothing in the context tells them apart: the caller lists them.
    Many(Vec<&'a Unit>),
}

/// Narrows the candidates by preferences tried in turn (each a test on a unit): the first
/// preference that leaves exactly one decides; one that leaves none is skipped.
pub fn resolve<'a>(candidates: Vec<&'a Unit>, preferences: &[&dyn Fn(&Unit) -> bool]) -> Resolved<'a> {
    match candidates.len() {
        0 => return Resolved::None,
        1 => return Resolved::One(candidates[0]),
        _ => {}
    }
    let mut left = candidates;
    for prefer in preferences {
        let kept: Vec<&Unit> = left.iter().copied().filter(|u| prefer(u)).collect();
        match kept.len() {
            0 => {}
            1 => return Resolved::One(kept[0]),
            _ => left = kept,
        }
    }
    Resolved::Many(left)
}

/// A line of "which versions does this code name": "Thị trấn Hậu Nghĩa, đến 30/06/2025".
pub fn version_label(u: &Unit) -> String {
    let d = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    match (u.valid_from, u.valid_to) {
        (_, Some(to)) => format!("{}, đến {}", u.name, d(to)),
        (Some(from), None) => format!("{}, từ {}", u.name, d(from)),
        (None, None) => u.name.clone(),
    }
}

/// A day on which a unit version exists, to name it unambiguously in a link (`?on=`).
pub fn a_day_of(u: &Unit) -> Option<NaiveDate> {
    u.valid_to.or(u.valid_from)
}

/// Where the figures of old units are read under new ones: each old unit under the one new unit
/// that carries it, and the split ones noted with every new unit they went into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Regrouping {
    /// Old unit → the new unit its figures count under.
    pub carrier: HashMap<i64, i64>,
    /// Old units that were divided → every new unit that took a part (the carrier first).
    pub split: HashMap<i64, Vec<i64>>,
}

impl Regrouping {
    pub fn new(links: &[Link]) -> Self {
        let mut r = Self::default();
        let mut sorted: Vec<&Link> = links.iter().collect();
        sorted.sort_by_key(|l| (l.old_unit_id, l.relation, l.new_unit_id));
        for l in sorted {
            if l.relation.carries() {
                r.carrier.entry(l.old_unit_id).or_insert(l.new_unit_id);
            }
            if l.relation != Succession::Whole {
                r.split.entry(l.old_unit_id).or_default().push(l.new_unit_id);
            }
        }
        r
    }

    /// The unit an old unit's figures count under: its carrier, or itself when it has none
    /// (so that nothing reported is ever dropped).
    pub fn target(&self, old: i64) -> i64 {
        self.carrier.get(&old).copied().unwrap_or(old)
    }

    /// Groups values by the unit they count under, merging with `pool`. Each old unit's value is
    /// used exactly once.
    pub fn regroup<T: Clone>(&self, values: &HashMap<i64, T>, pool: impl Fn(&mut T, &T)) -> HashMap<i64, T> {
        let mut out: HashMap<i64, T> = HashMap::new();
        let mut keys: Vec<&i64> = values.keys().collect();
        keys.sort();
        for old in keys {
            let v = &values[old];
            match out.entry(self.target(*old)) {
                std::collections::hash_map::Entry::Occupied(mut e) => pool(e.get_mut(), v),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v.clone());
                }
            }
        }
        out
    }

    /// The old units counted under a new one, in id order.
    pub fn sources(&self, new: i64, olds: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut v: Vec<i64> = olds.into_iter().filter(|o| self.target(*o) == new).collect();
        v.sort();
        v
    }
}

/// Per-unit roll-ups (one per target, in the scheme's order) read under later units: merged
/// predecessors pool — Σ numerators, Σ denominators, Σ counts, units meeting each target — and
/// each old unit is counted once, under the unit that carries it.
pub fn regroup_rollups(
    regrouping: &Regrouping,
    per_unit: &HashMap<i64, Vec<crate::achievement::Rollup>>,
) -> HashMap<i64, Vec<crate::achievement::Rollup>> {
    regrouping.regroup(per_unit, |into, from| {
        for (a, b) in into.iter_mut().zip(from) {
            a.merge(b);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit(id: i64, from: Option<(i32, u32, u32)>, to: Option<(i32, u32, u32)>) -> Unit {
        let d = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Unit {
            id,
            code: "27931".into(),
            name: format!("Unit {id}"),
            short_name: String::new(),
            kind: "Xã".into(),
            level: UnitLevel::Commune,
            parent_id: None,
            lat: None,
            lon: None,
            area_km2: None,
            valid_from: from.map(d),
            valid_to: to.map(d),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_map_is_read_and_checked_by_line() {
        let ok = "old_commune_code,new_commune_code,relation\n27931,27931,whole\n27691,27694,split-main\n27691,25459,split-part\n";
        let rows = parse_reform_map(ok.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].relation, Succession::SplitPart);
        assert_eq!(rows[2].line, 4);
        assert!(is_reform_map(ok.as_bytes()));
        assert!(!is_reform_map(b"province_code,province_name\n"));

        let bad = "old_commune_code,new_commune_code,relation\n27931,27931,whole\n2793,27931,whole\n27932,27931,merged\n27931,27931,whole\n27933,27940,split-part\n";
        let problems = parse_reform_map(bad.as_bytes()).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{problems:?}");
        assert!(problems[1].message.contains("merged"));
        // Checked after the rows: an old commune without a main successor.
        let bad = "old_commune_code,new_commune_code,relation\n27933,27940,split-part\n27934,27940,whole\n27934,27941,split-part\n";
        let problems = parse_reform_map(bad.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains("27933"));
        assert_eq!(problems[1].line, 3);
        assert!(parse_reform_map(b"old_commune_code,new_commune_code,relation\n").is_err());
    }

    #[test]
    fn a_code_resolves_in_its_context() {
        let old = unit(1, None, Some((2025, 6, 30)));
        let new = unit(2, Some((2025, 7, 1)), None);
        let all = vec![old.clone(), new.clone()];
        assert_eq!(versions_in_context(&all, Some(day(2020, 1, 1)), None), vec![&old]);
        assert_eq!(versions_in_context(&all, Some(day(2026, 1, 1)), None), vec![&new]);
        // A scheme of 2017-2020 sees the old one, of 2026-2030 the new, of 2021-2025 both.
        assert_eq!(versions_in_context(&all, None, Some((day(2017, 1, 1), day(2020, 12, 31)))), vec![&old]);
        assert_eq!(versions_in_context(&all, None, Some((day(2026, 1, 1), day(2030, 12, 31)))), vec![&new]);
        let both = versions_in_context(&all, None, Some((day(2021, 1, 1), day(2025, 12, 31))));
        assert_eq!(both.len(), 2);
        assert_eq!(resolve(both.clone(), &[&|u: &Unit| u.id == 1]), Resolved::One(&old));
        // A preference that matches none is skipped; one that keeps both does not decide.
        assert_eq!(resolve(both.clone(), &[&|_: &Unit| false, &|u: &Unit| u.id == 2]), Resolved::One(&new));
        assert_eq!(resolve(both.clone(), &[&|_: &Unit| true]), Resolved::Many(both));
        assert_eq!(resolve(vec![], &[]), Resolved::None);
        assert_eq!(version_label(&old), "Unit 1, đến 30/06/2025");
        assert_eq!(version_label(&new), "Unit 2, từ 01/07/2025");
        assert_eq!(a_day_of(&old), Some(day(2025, 6, 30)));
    }

    fn link(old: i64, new: i64, relation: Succession) -> Link {
        Link { old_unit_id: old, new_unit_id: new, relation, effective_on: reform_date() }
    }

    #[test]
    fn merged_units_pool_and_a_split_one_counts_once() {
        let links = vec![
            link(1, 10, Succession::Whole),
            link(2, 10, Succession::Whole),
            link(3, 11, Succession::SplitMain),
            link(3, 10, Succession::SplitPart),
        ];
        let r = Regrouping::new(&links);
        let values: HashMap<i64, u64> = [(1, 5), (2, 7), (3, 100), (4, 1)].into_iter().collect();
        let out = r.regroup(&values, |a, b| *a += b);
        assert_eq!(out[&10], 12);
        assert_eq!(out[&11], 100);
        // A unit with no successor keeps its own figures.
        assert_eq!(out[&4], 1);
        assert_eq!(r.split[&3], vec![11, 10]);
        assert_eq!(r.sources(10, [1, 2, 3, 4]), vec![1, 2]);
    }

    #[test]
    fn ratios_pool_their_numerators_and_denominators() {
        use crate::achievement::Rollup;
        use crate::value::Milli;
        let r = Regrouping::new(&[link(1, 10, Succession::Whole), link(2, 10, Succession::Whole)]);
        let unit = |n: i64, d: i64, met: u64| Rollup {
            expected: 1,
            received: 1,
            met,
            numerator: Milli(n),
            denominator: Milli(d),
            ..Default::default()
        };
        let per: HashMap<i64, Vec<Rollup>> =
            [(1, vec![unit(9_000, 10_000, 1)]), (2, vec![unit(1_000, 10_000, 0)])].into_iter().collect();
        let out = regroup_rollups(&r, &per);
        let pooled = &out[&10][0];
        // 9 of 10 and 1 of 10 pool to 10 of 20 (50 %), not the mean of 90 % and 10 % by chance.
        assert_eq!((pooled.numerator, pooled.denominator), (Milli(10_000), Milli(20_000)));
        assert_eq!(pooled.pooled_ratio(), Some(50.0));
        assert_eq!((pooled.met, pooled.expected), (1, 2), "1 of 2 former communes met");
    }

    proptest! {
        /// Whatever the lineage, the totals are the same read either way: nothing lost, nothing
        /// counted twice.
        #[test]
        fn regrouping_conserves_totals(
            olds in proptest::collection::vec((0u64..1000, 0u64..1000), 1..60),
            choices in proptest::collection::vec((0i64..20, 0u8..3, proptest::collection::vec(0i64..20, 0..3)), 60),
        ) {
            let mut links = Vec::new();
            let values: HashMap<i64, (u64, u64)> =
                olds.iter().enumerate().map(|(i, v)| (i as i64, *v)).collect();
            for (i, (new, kind, parts)) in choices.iter().enumerate().take(olds.len()) {
                let old = i as i64;
                match kind {
                    0 => {} // no successor
                    1 => links.push(link(old, 1000 + new, Succession::Whole)),
                    _ => {
                        links.push(link(old, 1000 + new, Succession::SplitMain));
                        for p in parts.iter().filter(|p| *p != new) {
                            links.push(link(old, 1000 + p, Succession::SplitPart));
                        }
                    }
                }
            }
            let r = Regrouping::new(&links);
            let out = r.regroup(&values, |a, b| { a.0 += b.0; a.1 += b.1; });
            let sum = |m: &HashMap<i64, (u64, u64)>| m.values().fold((0, 0), |s, v| (s.0 + v.0, s.1 + v.1));
            prop_assert_eq!(sum(&values), sum(&out));
            let sources: usize = out.keys().map(|n| r.sources(*n, values.keys().copied()).len()).sum();
            prop_assert_eq!(sources, values.len());
        }
    }
}
