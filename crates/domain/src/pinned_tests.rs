//! Issue 16, item 14: rules that a mutation run (`cargo mutants -p danvan-domain` on
//! achievement, value, period, roadmap, workflow and access) found unpinned, each pinned here
//! by an assertion that a change to the rule would break.
//!
//! Survivors left on purpose, as equivalent mutants (no input tells them apart):
//! - `Rollup::merge`: `self.grades.len() < other.grades.len()` → `<=`: resizing a list to its
//!   own length changes nothing.
//! - `parse_number`: `body.is_empty() || !…all(digit or separator)` → `&&`: whatever slips past
//!   is refused by the digit checks further down, with the same message.
//! - `parse_number`: `last_dot > last_comma` → `>=`: in that branch both are present at
//!   different places, so they are never equal.
//!
//! Measured on this tree (cargo-mutants 27): 550 viable mutants of the six files, 547 caught
//! (99.5 %); the three alive are the equivalents above.

use std::collections::BTreeMap;

use crate::access::Role;
use crate::achievement::{meets, rank, rollup_targets, MarksTally, Rollup, Status, UnitReview};
use crate::roadmap::{check, deadline, plan_meets, Roadmap, TargetPlan};
use crate::scheme::{parse_scheme, Criterion, Direction, SchemeDef, Target};
use crate::value::{check_value, parse_number, Milli, RawValue, Value, MAX_QUANTITY};
use crate::workflow::{apply, State, Transition};

fn scheme() -> SchemeDef {
    parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml"))
        .expect("the sample scheme")
}

fn target(code: &str) -> Target {
    scheme().targets.into_iter().find(|t| t.code == code).expect("a sample target")
}

#[test]
fn names_of_roles_and_statuses() {
    let roles: Vec<(&str, &str, String)> =
        Role::ALL.iter().map(|r| (r.as_str(), r.label_vi(), r.to_string())).collect();
    assert_eq!(
        roles,
        [
            ("admin", "Quản trị hệ thống", "admin".to_string()),
            ("province", "Cấp tỉnh", "province".to_string()),
            ("district", "Cấp huyện", "district".to_string()),
            ("commune", "Cấp xã", "commune".to_string()),
            ("viewer", "Chỉ xem", "viewer".to_string()),
        ]
    );
    let statuses: Vec<(&str, &str)> =
        [Status::Achieved, Status::OnTrack, Status::Behind, Status::NotReported]
            .iter()
            .map(|s| (s.as_str(), s.label_vi()))
            .collect();
    assert_eq!(
        statuses,
        [
            ("achieved", "Đạt"),
            ("on_track", "Đúng tiến độ"),
            ("behind", "Chậm tiến độ"),
            ("not_reported", "Chưa báo cáo")
        ]
    );
}

#[test]
fn a_grade_criterion_is_at_least_that_grade_whatever_the_direction() {
    let mut level = target("3.4"); // ≥ Khá (grade 3)
    level.direction = Direction::Lower;
    assert!(meets(&level, &Value::Level { grade: 4 }));
    assert!(!meets(&level, &Value::Level { grade: 1 }));
}

#[test]
fn merged_rollups_add_sums_answers_and_grades_of_any_length() {
    let mut a = Rollup { sum: Milli(2000), yes: 1, ..Default::default() };
    let b = Rollup {
        sum: Milli(3000),
        yes: 2,
        numerator: Milli(5000),
        denominator: Milli(10_000),
        grades: vec![1, 2, 3],
        ..Default::default()
    };
    a.merge(&b);
    assert_eq!((a.sum, a.yes, a.grades.clone()), (Milli(5000), 3, vec![1, 2, 3]));
    a.merge(&b);
    assert_eq!((a.sum, a.yes, a.grades.clone()), (Milli(8000), 5, vec![2, 4, 6]));
    assert_eq!(a.pooled_ratio(), Some(50.0));
    // Nothing reported: no ratio, not 0/0.
    assert_eq!(Rollup::default().pooled_ratio(), None);
}

#[test]
fn on_time_counts_the_reviews_that_were_not_late() {
    let t = target("1.2");
    let values: BTreeMap<String, Value> = [("1.2".to_string(), Value::Count { count: Milli(2000) })].into();
    let reviews: Vec<UnitReview<'_>> = [(1, false), (2, false), (3, true)]
        .iter()
        .map(|&(unit_id, late)| UnitReview { unit_id, late, values: &values })
        .collect();
    let rolled = rollup_targets(std::slice::from_ref(&t), 5, &reviews, &|_, _| None);
    assert_eq!((rolled[0].received, rolled[0].on_time, rolled[0].sum), (3, 2, Milli(6000)));
    let mut tally = MarksTally::new(2);
    tally.add(false, "10");
    tally.add(false, "11");
    tally.add(true, "01");
    assert_eq!((tally.received, tally.on_time, tally.met.clone()), (3, 2, vec![2, 2]));
}

#[test]
fn units_without_a_score_rank_after_a_score_of_zero() {
    let ranked = rank(&[("Xã A", None), ("Xã B", Some(0.0)), ("Xã C", Some(0.5))]);
    let order: Vec<usize> = ranked.iter().map(|(_, i)| *i).collect();
    assert_eq!(order, [2, 1, 0]);
    // In either order of the input.
    for units in [[("Xã A", None), ("Xã B", Some(0.5))], [("Xã B", Some(0.5)), ("Xã A", None)]] {
        let ranked = rank(&units);
        assert_eq!(units[ranked[0].1].0, "Xã B", "{units:?}");
        assert_eq!((ranked[0].0, ranked[1].0), (1, 2));
    }
}

#[test]
fn a_roadmap_plans_by_target_and_year_and_is_due_with_the_baseline_report() {
    let mut r = Roadmap::default();
    r.targets.insert(
        "2.1".into(),
        TargetPlan { planned: [(2018, 55.0), (2019, 70.0)].into(), meet_year: None, reason: None },
    );
    assert_eq!(r.planned("2.1", 2018), Some(55.0));
    assert_eq!(r.planned("2.1", 2019), Some(70.0));
    assert_eq!(r.planned("2.1", 2020), None);
    assert_eq!(r.planned("1.1", 2018), None);
    assert_eq!(r.planned_in(2019), BTreeMap::from([("2.1".to_string(), 70.0)]));
    assert!(r.planned_in(2020).is_empty());
    let def = scheme();
    assert_eq!(deadline(&def), chrono::NaiveDate::from_ymd_opt(2018, 1, 15).unwrap());
}

#[test]
fn a_planned_no_does_not_meet_a_criterion_of_no_when_it_says_yes() {
    let mut no = target("1.1");
    no.criterion = Criterion::Answer(false);
    assert!(plan_meets(&no, 0.0));
    assert!(!plan_meets(&no, 1.0));
}

fn plan_of(code: &str, planned: &[(i32, f64)], meet_year: Option<i32>, reason: Option<String>) -> Roadmap {
    let mut r = Roadmap::default();
    r.targets
        .insert(code.into(), TargetPlan { planned: planned.iter().copied().collect(), meet_year, reason });
    r
}

#[test]
fn roadmap_checks_at_their_edges() {
    let def = scheme();
    // A reason of exactly the longest length is taken; one more character is not.
    let long = "a".repeat(2_000);
    let ok = check(&def, &plan_of("2.1", &[(2017, 50.0)], None, Some(long.clone())), false);
    assert!(!ok.iter().any(|p| p.contains("dài quá")), "{ok:?}");
    let over = check(&def, &plan_of("2.1", &[(2017, 50.0)], None, Some(long + "a")), false);
    assert!(over.iter().any(|p| p.contains("dài quá")), "{over:?}");
    // The last year is within the scheme; the year after is not.
    let last = check(&def, &plan_of("2.1", &[(2020, 95.0)], None, None), false);
    assert!(!last.iter().any(|p| p.contains("nằm ngoài")), "{last:?}");
    let after = check(&def, &plan_of("2.1", &[(2021, 95.0)], None, None), false);
    assert!(after.iter().any(|p| p.contains("nằm ngoài")), "{after:?}");
    // Lower is better (5.2, ≤ 5 %): rising is a step backwards, falling is not.
    let rising = check(&def, &plan_of("5.2", &[(2017, 10.0), (2018, 12.0)], None, None), false);
    assert!(rising.iter().any(|p| p.contains("lùi")), "{rising:?}");
    let falling = check(&def, &plan_of("5.2", &[(2017, 12.0), (2018, 10.0)], None, None), false);
    assert!(!falling.iter().any(|p| p.contains("lùi")), "{falling:?}");
    // A count planned at the largest quantity is taken; a ratio of exactly 100 % too.
    let most = check(&def, &plan_of("1.2", &[(2017, MAX_QUANTITY)], None, None), false);
    assert!(!most.iter().any(|p| p.contains("phải là")), "{most:?}");
    let full = check(&def, &plan_of("2.1", &[(2017, 100.0)], None, None), false);
    assert!(!full.iter().any(|p| p.contains("phải là")), "{full:?}");
    // A year to meet the criterion outside the scheme, on either side.
    for y in [2016, 2021] {
        let p = check(&def, &plan_of("2.1", &[(2017, 50.0)], Some(y), None), false);
        assert!(p.iter().any(|p| p.contains(&format!("năm đạt {y} nằm ngoài"))), "{y}: {p:?}");
    }
}

#[test]
fn numbers_at_their_edges() {
    assert_eq!(Milli::from_f64(f64::NAN), None);
    assert_eq!(Milli::from_f64(f64::INFINITY), None);
    assert_eq!(Milli::from_f64(2e12), None);
    assert_eq!(Milli::from_f64(MAX_QUANTITY), Some(Milli(1_000_000_000_000_000)));
    assert!(parse_number("-").is_err());
    assert!(parse_number("12a").is_err());
    assert_eq!(parse_number("1.5"), Ok(1.5));
    assert_eq!(parse_number("1000000000000"), Ok(1e12));
    assert!(parse_number("1000000000001").is_err());
    // 10/10 is a ratio that can be entered.
    let raw = RawValue { numerator: Some("10".into()), denominator: Some("10".into()), ..Default::default() };
    assert_eq!(
        check_value(&target("2.1"), &raw),
        Ok(Value::Ratio { numerator: Milli(10_000), denominator: Milli(10_000) })
    );
}

#[test]
fn a_return_without_a_reason_says_so() {
    assert_eq!(apply(State::Submitted, Transition::Return, None), Err("cần ghi lý do trả lại".into()));
    assert_eq!(apply(State::Approved, Transition::Reopen, Some(" ")), Err("cần ghi lý do mở lại".into()));
}
