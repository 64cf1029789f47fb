//! How far a unit meets a target in a period, and the roll-up of many units to the level
//! above. Pure functions: the same inputs give the same answer on any database.

use serde::{Deserialize, Serialize};

use crate::scheme::{Criterion, Direction, Target};
use crate::value::{Milli, Value};

/// The level of achievement (mức độ đạt) of a target in a unit for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The criterion is met (đạt).
    Achieved,
    /// Not met, but at or beyond the planned value of an approved roadmap (đúng tiến độ).
    OnTrack,
    /// Neither (chậm tiến độ / chưa đạt).
    Behind,
    /// No value (chưa báo cáo).
    NotReported,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Achieved => "achieved",
            Self::OnTrack => "on_track",
            Self::Behind => "behind",
            Self::NotReported => "not_reported",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Achieved => "Đạt",
            Self::OnTrack => "Đúng tiến độ",
            Self::Behind => "Chậm tiến độ",
            Self::NotReported => "Chưa báo cáo",
        }
    }
}

/// The assessment of one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub status: Status,
    /// The value as its criterion is stated — a rate in percent for a ratio (94,9 against
    /// "≥ 95 %"), a count for a count ("3" against "≥ 1 lần") — for numeric kinds.
    pub value: Option<f64>,
    /// The value an approved roadmap plans for the period, in the same unit.
    pub planned: Option<f64>,
    /// How much of the plan is reached, in percent (100 and more when reached): shown only as
    /// "đạt … % kế hoạch", never as the rate itself.
    pub percent_of_plan: Option<f64>,
}

fn at_least(direction: Direction, measure: f64, goal: f64) -> bool {
    match direction {
        Direction::Higher => measure >= goal,
        Direction::Lower => measure <= goal,
    }
}

fn percent_of(direction: Direction, measure: f64, goal: f64) -> f64 {
    match direction {
        Direction::Higher if goal == 0.0 => 100.0,
        Direction::Higher => measure / goal * 100.0,
        Direction::Lower if measure == 0.0 => 100.0,
        Direction::Lower => goal / measure * 100.0,
    }
}

/// The criterion of a target as the number its values' measure is compared with.
pub fn criterion_measure(target: &Target) -> f64 {
    match target.criterion {
        Criterion::Percent(v) | Criterion::Count(v) => v,
        Criterion::Answer(b) => f64::from(u8::from(b)),
        Criterion::Grade(g) => g as f64,
    }
}

/// Whether a value meets its target's criterion.
pub fn meets(target: &Target, value: &Value) -> bool {
    match (&target.criterion, value) {
        (Criterion::Answer(required), Value::YesNo { yes }) => required == yes,
        (Criterion::Grade(min), Value::Level { grade }) => grade >= min,
        _ => at_least(target.direction, value.measure(), criterion_measure(target)),
    }
}

/// Assesses a value against its target and, when an approved roadmap plans a value for the
/// period, against that plan (in the same unit as the measure: percent, count…).
pub fn assess(target: &Target, value: Option<&Value>, planned: Option<f64>) -> Assessment {
    let Some(value) = value else {
        return Assessment { status: Status::NotReported, value: None, planned, percent_of_plan: None };
    };
    let measure = value.measure();
    let numeric = !matches!(value, Value::YesNo { .. } | Value::Level { .. });
    let percent_of_plan = planned.filter(|_| numeric).map(|p| percent_of(target.direction, measure, p));
    let status = if meets(target, value) {
        Status::Achieved
    } else if planned.is_some_and(|p| at_least(target.direction, measure, p)) {
        Status::OnTrack
    } else {
        Status::Behind
    };
    Assessment { status, value: numeric.then_some(measure), planned, percent_of_plan }
}

/// One unit's result for a target, as the roll-up takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    pub value: Option<Value>,
    pub status: Status,
    /// Whether its report arrived by the deadline (None: not received).
    pub on_time: Option<bool>,
}

/// The roll-up of many units' results for one target and period. Every field is a sum, so
/// roll-ups merge: the roll-up of district roll-ups equals the roll-up of all their communes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// Units expected to report.
    pub expected: u64,
    /// Units whose report was received.
    pub received: u64,
    /// Units whose report arrived by the deadline.
    pub on_time: u64,
    /// Units meeting the criterion.
    pub met: u64,
    /// Units on track with their roadmap (not met).
    pub on_track: u64,
    /// Σ numerators and Σ denominators of ratio targets.
    pub numerator: Milli,
    pub denominator: Milli,
    /// Σ counts of count targets.
    pub sum: Milli,
    /// Units answering yes, for yes/no targets.
    pub yes: u64,
    /// Units per grade (worst first), for level targets.
    pub grades: Vec<u64>,
}

impl Rollup {
    /// The roll-up of a set of units' results. `expected` counts units that should report,
    /// including those in `results` and those that sent nothing.
    pub fn of(target: &Target, expected: u64, results: &[UnitResult]) -> Self {
        let mut r = Rollup { expected, grades: vec![0; target.grades.len()], ..Default::default() };
        for u in results {
            if u.on_time.is_some() {
                r.received += 1;
            }
            if u.on_time == Some(true) {
                r.on_time += 1;
            }
            match u.status {
                Status::Achieved => r.met += 1,
                Status::OnTrack => r.on_track += 1,
                _ => {}
            }
            match u.value {
                Some(Value::Ratio { numerator, denominator }) => {
                    r.numerator.0 += numerator.0;
                    r.denominator.0 += denominator.0;
                }
                Some(Value::Count { count }) => r.sum.0 += count.0,
                Some(Value::YesNo { yes }) => r.yes += u64::from(yes),
                Some(Value::Level { grade }) => {
                    if let Some(slot) = r.grades.get_mut(grade) {
                        *slot += 1;
                    }
                }
                None => {}
            }
        }
        r
    }

    /// Adds another roll-up of the same target and period (e.g. two districts).
    pub fn merge(&mut self, other: &Rollup) {
        self.expected += other.expected;
        self.received += other.received;
        self.on_time += other.on_time;
        self.met += other.met;
        self.on_track += other.on_track;
        self.numerator.0 += other.numerator.0;
        self.denominator.0 += other.denominator.0;
        self.sum.0 += other.sum.0;
        self.yes += other.yes;
        if self.grades.len() < other.grades.len() {
            self.grades.resize(other.grades.len(), 0);
        }
        for (a, b) in self.grades.iter_mut().zip(&other.grades) {
            *a += b;
        }
    }

    fn share(part: u64, whole: u64) -> Option<f64> {
        (whole > 0).then(|| part as f64 / whole as f64 * 100.0)
    }

    /// Percent of expected units meeting the criterion (units that sent nothing count as not).
    pub fn coverage(&self) -> Option<f64> {
        Self::share(self.met, self.expected)
    }

    /// Whether the coverage reaches a goal (percent of units).
    pub fn meets_goal(&self, goal: f64) -> bool {
        self.coverage().is_some_and(|c| c >= goal)
    }

    /// Report completeness: received / expected, in percent.
    pub fn completeness(&self) -> Option<f64> {
        Self::share(self.received, self.expected)
    }

    /// Timeliness: on time / expected, in percent.
    pub fn timeliness(&self) -> Option<f64> {
        Self::share(self.on_time, self.expected)
    }

    /// The pooled ratio Σ numerators / Σ denominators, in percent.
    pub fn pooled_ratio(&self) -> Option<f64> {
        (self.denominator.0 > 0).then(|| self.numerator.0 as f64 / self.denominator.0 as f64 * 100.0)
    }
}

/// One unit's review as the roll-up of a whole scheme takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitReview<'a> {
    pub unit_id: i64,
    pub late: bool,
    /// By target code.
    pub values: &'a std::collections::BTreeMap<String, Value>,
}

/// The roll-up of every target of a scheme over a set of units: `expected` units should
/// report; `reviews` are those received (at most one per unit). Planned values of approved
/// roadmaps, when known, come by (unit, target code).
pub fn rollup_targets(
    targets: &[Target],
    expected: u64,
    reviews: &[UnitReview<'_>],
    planned: &dyn Fn(i64, &str) -> Option<f64>,
) -> Vec<Rollup> {
    targets
        .iter()
        .map(|t| {
            let results: Vec<UnitResult> = reviews
                .iter()
                .map(|r| {
                    let value = r.values.get(&t.code);
                    UnitResult {
                        value: value.cloned(),
                        status: assess(t, value, planned(r.unit_id, &t.code)).status,
                        on_time: Some(!r.late),
                    }
                })
                .collect();
            Rollup::of(t, expected, &results)
        })
        .collect()
}

/// Which targets a review meets, as kept beside an approved review so that roll-ups need not
/// re-assess every value: one character per target in the scheme's order, '1' met, '0'
/// reported and not met, '.' not reported.
pub fn met_marks(targets: &[Target], values: &std::collections::BTreeMap<String, Value>) -> String {
    targets
        .iter()
        .map(|t| match values.get(&t.code) {
            None => '.',
            Some(v) if meets(t, v) => '1',
            Some(_) => '0',
        })
        .collect()
}

/// The score of a review from its marks (see [`met_marks`]): the percent of targets met.
pub fn marks_score(marks: &str) -> Option<f64> {
    let n = marks.len();
    (n > 0).then(|| marks.bytes().filter(|b| *b == b'1').count() as f64 / n as f64 * 100.0)
}

/// The roll-up of approved reviews' marks over a set of units for one period: the sums a
/// dashboard shows, added one review at a time. Its coverage and score equal those of
/// [`Rollup`] and [`mean_score`] over the same reviews.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MarksTally {
    /// Units expected to report (set by the caller).
    pub expected: u64,
    pub received: u64,
    pub on_time: u64,
    /// Units meeting each target, in the scheme's order.
    pub met: Vec<u64>,
    score_sum: f64,
}

impl MarksTally {
    pub fn new(targets: usize) -> Self {
        MarksTally { met: vec![0; targets], ..Default::default() }
    }

    /// Adds one unit's approved review.
    pub fn add(&mut self, late: bool, marks: &str) {
        self.received += 1;
        self.on_time += u64::from(!late);
        for (slot, mark) in self.met.iter_mut().zip(marks.bytes()) {
            *slot += u64::from(mark == b'1');
        }
        self.score_sum += marks_score(marks).unwrap_or(0.0);
    }

    /// The mean score of the units that reported.
    pub fn score(&self) -> Option<f64> {
        (self.received > 0).then(|| self.score_sum / self.received as f64)
    }

    /// Percent of expected units meeting target `i` (units that sent nothing count as not).
    pub fn coverage(&self, i: usize) -> Option<f64> {
        Rollup::share(self.met.get(i).copied().unwrap_or(0), self.expected)
    }

    /// Whether target `i`'s coverage reaches a goal (percent of units).
    pub fn meets_goal(&self, i: usize, goal: f64) -> bool {
        self.coverage(i).is_some_and(|c| c >= goal)
    }

    /// Report completeness: received / expected, in percent.
    pub fn completeness(&self) -> Option<f64> {
        Rollup::share(self.received, self.expected)
    }

    /// Timeliness: on time / expected, in percent.
    pub fn timeliness(&self) -> Option<f64> {
        Rollup::share(self.on_time, self.expected)
    }
}

/// A unit's score: the percent of its assessed targets that are met.
pub fn score(statuses: &[Status]) -> Option<f64> {
    let met = statuses.iter().filter(|s| **s == Status::Achieved).count();
    (!statuses.is_empty()).then(|| met as f64 / statuses.len() as f64 * 100.0)
}

/// The mean score of a group of units: the mean of the scores that exist (a unit that has not
/// reported has none); `None` when no unit has one.
pub fn mean_score(scores: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = scores.into_iter().flatten().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Why a group of units needs attention (in Vietnamese): under half of its targets met,
/// reports still missing after the deadline, activities overdue. Empty when none applies.
pub fn lagging_reasons(
    score: Option<f64>,
    missing_after_deadline: u64,
    overdue_activities: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if score.is_some_and(|s| s < 50.0) {
        out.push("dưới một nửa chỉ tiêu đạt".to_string());
    }
    if missing_after_deadline > 0 {
        out.push(format!("thiếu {missing_after_deadline} báo cáo quá hạn"));
    }
    if overdue_activities > 0 {
        out.push(format!("{overdue_activities} hoạt động quá hạn"));
    }
    out
}

/// Ranks units by score (highest first; units without a score last), ties in Vietnamese
/// alphabetical order of their names. Returns (rank from 1, index into the input).
pub fn rank(units: &[(&str, Option<f64>)]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        let (na, sa) = units[a];
        let (nb, sb) = units[b];
        sb.unwrap_or(-1.0)
            .partial_cmp(&sa.unwrap_or(-1.0))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| crate::text::compare_vi(na, nb))
    });
    let mut out = Vec::with_capacity(order.len());
    let mut rank = 0;
    let mut last: Option<Option<f64>> = None;
    for (pos, idx) in order.into_iter().enumerate() {
        let s = units[idx].1;
        if last != Some(s) {
            rank = pos + 1;
            last = Some(s);
        }
        out.push((rank, idx));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::parse_scheme;
    use proptest::prelude::*;

    fn sample_target(code: &str) -> Target {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml"))
            .unwrap()
            .targets
            .into_iter()
            .find(|t| t.code == code)
            .unwrap()
    }

    fn ratio(n: i64, d: i64) -> Value {
        Value::Ratio { numerator: Milli(n * 1000), denominator: Milli(d * 1000) }
    }

    #[test]
    fn assessment_of_each_kind() {
        let t = sample_target("2.1"); // ratio ≥ 95%
        assert_eq!(assess(&t, Some(&ratio(19, 20)), None).status, Status::Achieved);
        let behind = assess(&t, Some(&ratio(8, 10)), None);
        assert_eq!(behind.status, Status::Behind);
        assert_eq!(behind.value, Some(80.0));
        assert_eq!(assess(&t, Some(&ratio(8, 10)), Some(75.0)).status, Status::OnTrack);
        assert_eq!(assess(&t, Some(&ratio(8, 10)), Some(85.0)).status, Status::Behind);
        assert_eq!(
            assess(&t, None, Some(1.0)),
            Assessment {
                status: Status::NotReported,
                value: None,
                planned: Some(1.0),
                percent_of_plan: None
            }
        );

        let lower = sample_target("5.2"); // ratio ≤ 5%
        assert_eq!(assess(&lower, Some(&ratio(1, 50)), None).status, Status::Achieved);
        assert_eq!(assess(&lower, Some(&ratio(5, 50)), None).status, Status::Behind);
        assert_eq!(assess(&lower, Some(&ratio(5, 50)), Some(12.0)).status, Status::OnTrack);
        assert_eq!(assess(&lower, Some(&ratio(5, 50)), None).value, Some(10.0));
        assert_eq!(assess(&lower, Some(&ratio(5, 50)), Some(12.0)).percent_of_plan, Some(120.0));

        let zero = sample_target("5.3"); // count ≤ 0
        assert_eq!(assess(&zero, Some(&Value::Count { count: Milli(0) }), None).status, Status::Achieved);
        assert_eq!(assess(&zero, Some(&Value::Count { count: Milli(1000) }), None).status, Status::Behind);

        let yes = sample_target("1.1");
        assert_eq!(assess(&yes, Some(&Value::YesNo { yes: true }), None).status, Status::Achieved);
        assert_eq!(assess(&yes, Some(&Value::YesNo { yes: false }), None).status, Status::Behind);
        let level = sample_target("3.4"); // ≥ Khá
        assert_eq!(assess(&level, Some(&Value::Level { grade: 3 }), None).status, Status::Achieved);
        assert_eq!(assess(&level, Some(&Value::Level { grade: 1 }), None).status, Status::Behind);
    }

    /// Issue 16, item 14: rules the mutation run found unpinned.
    #[test]
    fn edges_of_the_rules_are_pinned() {
        // 10/10 meets "≥ 95 %"; so does exactly the criterion.
        let t = sample_target("2.1");
        assert_eq!(assess(&t, Some(&ratio(10, 10)), None).status, Status::Achieved);
        assert_eq!(assess(&t, Some(&ratio(19, 20)), None).value, Some(95.0));
        // A yes/no criterion of "no": a "no" meets it, a "yes" does not.
        let mut no = sample_target("1.1");
        no.criterion = Criterion::Answer(false);
        assert!(meets(&no, &Value::YesNo { yes: false }));
        assert!(!meets(&no, &Value::YesNo { yes: true }));
        // Lower is better, at 0: the best there is.
        assert_eq!(percent_of(Direction::Lower, 0.0, 5.0), 100.0);
        assert_eq!(percent_of(Direction::Higher, 3.0, 0.0), 100.0);
        assert_eq!(percent_of(Direction::Higher, 3.0, 1.0), 300.0);
        assert_eq!(percent_of(Direction::Lower, 10.0, 5.0), 50.0);
    }

    /// Issue 16, item 1: the rate is shown as itself beside the criterion, never as a percent of
    /// the criterion (1.234/1.300 against ≥ 95 % read "99,92 %", 16/16 "105,26 %", 3 times
    /// against ≥ 1 "300 %"); a percent of the plan is its own, named figure.
    #[test]
    fn the_value_is_shown_as_itself_beside_its_criterion() {
        let t = sample_target("2.1"); // ratio ≥ 95%
        let a = assess(&t, Some(&ratio(1234, 1300)), None);
        assert_eq!(a.status, Status::Behind);
        assert_eq!(t.measure_text(a.value.unwrap()), "94,9%");
        assert_eq!(t.criterion_text(), "≥ 95%");
        assert_eq!(t.measure_text(assess(&t, Some(&ratio(16, 16)), None).value.unwrap()), "100%");
        // 94,96 % is not rounded up to the 95 % it misses.
        assert_eq!(t.measure_text(94.96), "94,9%");
        let lower = sample_target("5.2"); // ratio ≤ 5%
        assert_eq!(lower.measure_text(5.04), "5,1%");
        let mut times = sample_target("5.3");
        times.direction = Direction::Higher;
        times.criterion = Criterion::Count(1.0);
        times.unit_label = Some("lần".into());
        let a = assess(&times, Some(&Value::Count { count: Milli(3000) }), None);
        assert_eq!((a.status, times.measure_text(a.value.unwrap())), (Status::Achieved, "3 lần".to_string()));
        assert_eq!(a.percent_of_plan, None);
        // With a plan of 95 for the period, 1.234/1.300 reaches 99,9 % of the plan.
        let planned = assess(&t, Some(&ratio(1234, 1300)), Some(95.0));
        assert_eq!(planned.status, Status::Behind);
        assert!((planned.percent_of_plan.unwrap() - 99.919).abs() < 0.001);
        // Yes/no and level values have no number to show.
        assert_eq!(assess(&sample_target("1.1"), Some(&Value::YesNo { yes: true }), Some(1.0)).value, None);
    }

    /// Issue 16, item 14: the roll-ups of count, yes/no and level targets, and on time against
    /// late, each asserted (the property tests use one ratio target only).
    #[test]
    fn rollups_of_every_kind_sum_their_own_slot() {
        let result = |value: Value, status: Status, on_time: Option<bool>| UnitResult {
            value: Some(value),
            status,
            on_time,
        };
        let count = sample_target("4.2");
        let r = Rollup::of(
            &count,
            4,
            &[
                result(Value::Count { count: Milli(2000) }, Status::Achieved, Some(true)),
                result(Value::Count { count: Milli(1500) }, Status::Behind, Some(false)),
                result(Value::Count { count: Milli(500) }, Status::OnTrack, Some(false)),
            ],
        );
        assert_eq!((r.expected, r.received, r.on_time, r.met, r.on_track), (4, 3, 1, 1, 1));
        assert_eq!(r.sum, Milli(4000));
        assert_eq!((r.yes, r.numerator, r.denominator), (0, Milli(0), Milli(0)));
        let yes = sample_target("1.1");
        let r = Rollup::of(
            &yes,
            3,
            &[
                result(Value::YesNo { yes: true }, Status::Achieved, Some(true)),
                result(Value::YesNo { yes: false }, Status::Behind, Some(true)),
                result(Value::YesNo { yes: true }, Status::Achieved, None),
            ],
        );
        assert_eq!((r.yes, r.received, r.on_time, r.met), (2, 2, 2, 2));
        let level = sample_target("3.4");
        let r = Rollup::of(
            &level,
            3,
            &[
                result(Value::Level { grade: 0 }, Status::Behind, Some(false)),
                result(Value::Level { grade: 3 }, Status::Achieved, Some(false)),
                result(Value::Level { grade: 3 }, Status::Achieved, Some(true)),
            ],
        );
        let mut expected = vec![0; level.grades.len()];
        expected[0] = 1;
        expected[3] = 2;
        assert_eq!(r.grades, expected);
        assert_eq!((r.on_time, r.received), (1, 3), "late reports are received, not on time");
    }

    #[test]
    fn marks_tell_met_targets_and_give_the_same_score_as_the_statuses() {
        let targets = vec![sample_target("2.1"), sample_target("1.1"), sample_target("5.3")];
        let values: std::collections::BTreeMap<String, Value> =
            [("2.1".to_string(), ratio(19, 20)), ("5.3".to_string(), Value::Count { count: Milli(2000) })]
                .into();
        let marks = met_marks(&targets, &values);
        assert_eq!(marks, "1.0");
        let statuses: Vec<Status> =
            targets.iter().map(|t| assess(t, values.get(&t.code), None).status).collect();
        assert_eq!(marks_score(&marks), score(&statuses));
        assert!((marks_score(&marks).unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(marks_score(""), None);
    }

    #[test]
    fn a_tally_of_marks_agrees_with_the_rollup_and_the_mean_score() {
        let targets = vec![sample_target("2.1"), sample_target("1.1")];
        let a: std::collections::BTreeMap<String, Value> =
            [("2.1".to_string(), ratio(19, 20)), ("1.1".to_string(), Value::YesNo { yes: false })].into();
        let b: std::collections::BTreeMap<String, Value> = [("2.1".to_string(), ratio(20, 20))].into();
        let reviews = [
            UnitReview { unit_id: 1, late: false, values: &a },
            UnitReview { unit_id: 2, late: true, values: &b },
        ];
        let mut tally = MarksTally::new(targets.len());
        tally.expected = 4;
        for r in &reviews {
            tally.add(r.late, &met_marks(&targets, r.values));
        }
        let rollups = rollup_targets(&targets, 4, &reviews, &|_, _| None);
        for (i, r) in rollups.iter().enumerate() {
            assert_eq!((tally.met[i], tally.coverage(i)), (r.met, r.coverage()));
        }
        assert_eq!((tally.received, tally.on_time), (2, 1));
        assert_eq!(
            (tally.completeness(), tally.timeliness()),
            (rollups[0].completeness(), rollups[0].timeliness())
        );
        assert_eq!(tally.meets_goal(0, 50.0), rollups[0].meets_goal(50.0));
        assert!(tally.meets_goal(0, 50.0) && !tally.meets_goal(0, 51.0));
        let scores = reviews.iter().map(|r| {
            score(&targets.iter().map(|t| assess(t, r.values.get(&t.code), None).status).collect::<Vec<_>>())
        });
        assert_eq!(tally.score(), mean_score(scores));
        assert_eq!(tally.score(), Some(50.0));
        assert_eq!(MarksTally::new(2).score(), None);
        assert_eq!(MarksTally::new(2).coverage(0), None);
    }

    #[test]
    fn rollup_figures() {
        let t = sample_target("2.1");
        let results = [
            UnitResult { value: Some(ratio(19, 20)), status: Status::Achieved, on_time: Some(true) },
            UnitResult { value: Some(ratio(1, 10)), status: Status::Behind, on_time: Some(false) },
        ];
        let r = Rollup::of(&t, 4, &results);
        assert_eq!((r.expected, r.received, r.on_time, r.met), (4, 2, 1, 1));
        assert_eq!(r.coverage(), Some(25.0));
        assert_eq!(r.completeness(), Some(50.0));
        assert_eq!(r.timeliness(), Some(25.0));
        assert!((r.pooled_ratio().unwrap() - 20.0 / 30.0 * 100.0).abs() < 1e-9);
        assert!(r.meets_goal(25.0) && !r.meets_goal(26.0));
        assert_eq!(Rollup::of(&t, 0, &[]).coverage(), None);
    }

    #[test]
    fn a_whole_scheme_rolls_up() {
        let targets = vec![sample_target("2.1"), sample_target("1.1")];
        let a: std::collections::BTreeMap<String, Value> =
            [("2.1".to_string(), ratio(19, 20)), ("1.1".to_string(), Value::YesNo { yes: true })].into();
        let b: std::collections::BTreeMap<String, Value> = [("2.1".to_string(), ratio(1, 20))].into();
        let reviews = [
            UnitReview { unit_id: 1, late: false, values: &a },
            UnitReview { unit_id: 2, late: true, values: &b },
        ];
        let r = rollup_targets(&targets, 3, &reviews, &|_, _| None);
        assert_eq!((r[0].expected, r[0].received, r[0].on_time, r[0].met), (3, 2, 1, 1));
        assert_eq!(r[0].pooled_ratio(), Some(50.0));
        assert_eq!(
            (r[1].received, r[1].met, r[1].yes),
            (2, 1, 1),
            "a review without the value counts as received, not met"
        );
        let planned =
            rollup_targets(&targets, 3, &reviews, &|unit, code| (unit == 2 && code == "2.1").then_some(1.0));
        assert_eq!(planned[0].on_track, 1);
    }

    #[test]
    fn scores_and_ranks() {
        use Status::*;
        assert_eq!(score(&[Achieved, Behind, Achieved, NotReported]), Some(50.0));
        assert_eq!(score(&[]), None);
        let ranked = rank(&[
            ("Xã Đức Lập Hạ", Some(50.0)),
            ("Xã An Ninh Đông", Some(50.0)),
            ("Xã Tân Mỹ", Some(90.0)),
            ("Xã Lộc Giang", None),
        ]);
        assert_eq!(ranked, [(1, 2), (2, 1), (2, 0), (4, 3)]);
    }

    fn arb_result() -> impl Strategy<Value = UnitResult> {
        (0i64..50, 1i64..50, prop::option::of(any::<bool>()), 0u8..4).prop_map(|(n, d, on_time, s)| {
            let n = n.min(d);
            UnitResult {
                value: on_time.map(|_| ratio(n, d)),
                status: [Status::Achieved, Status::OnTrack, Status::Behind, Status::NotReported][s as usize],
                on_time,
            }
        })
    }

    proptest! {
        #[test]
        fn districts_pool_to_the_province(groups in prop::collection::vec(prop::collection::vec(arb_result(), 0..20), 1..8)) {
            let t = sample_target("2.1");
            let mut pooled = Rollup::of(&t, 0, &[]);
            for g in &groups {
                pooled.merge(&Rollup::of(&t, g.len() as u64, g));
            }
            let all: Vec<UnitResult> = groups.concat();
            prop_assert_eq!(pooled, Rollup::of(&t, all.len() as u64, &all));
        }

        #[test]
        fn row_order_does_not_matter(mut rows in prop::collection::vec(arb_result(), 0..40), seed in any::<u64>()) {
            let t = sample_target("2.1");
            let before = Rollup::of(&t, rows.len() as u64, &rows);
            // A deterministic shuffle.
            let n = rows.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                rows.swap(i, j);
            }
            prop_assert_eq!(before, Rollup::of(&t, n as u64, &rows));
        }

        #[test]
        fn flipping_direction_mirrors_the_status(crit in 0u32..100, value in 0u32..100, plan in prop::option::of(0u32..100)) {
            // A count target, higher-is-better with value v, has the status of the same target
            // lower-is-better with the value, criterion and plan mirrored around 100.
            let mut t = sample_target("4.3");
            t.criterion = Criterion::Count(f64::from(crit));
            let v = Value::Count { count: Milli(i64::from(value) * 1000) };
            let higher = assess(&t, Some(&v), plan.map(f64::from));
            t.direction = Direction::Lower;
            t.criterion = Criterion::Count(f64::from(200 - crit));
            let mirrored = Value::Count { count: Milli(i64::from(200 - value) * 1000) };
            let lower = assess(&t, Some(&mirrored), plan.map(|p| f64::from(200 - p)));
            prop_assert_eq!(higher.status, lower.status);
        }
    }

    #[test]
    fn group_scores_and_reasons_for_attention() {
        assert_eq!(mean_score([Some(50.0), None, Some(100.0)]), Some(75.0));
        assert_eq!(mean_score([None, None]), None);
        assert!(lagging_reasons(Some(50.0), 0, 0).is_empty());
        assert_eq!(
            lagging_reasons(Some(49.9), 2, 1),
            ["dưới một nửa chỉ tiêu đạt", "thiếu 2 báo cáo quá hạn", "1 hoạt động quá hạn"]
        );
        assert!(lagging_reasons(None, 0, 0).is_empty(), "no score is not lagging by itself");
    }
}
