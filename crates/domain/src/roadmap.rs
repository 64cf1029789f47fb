//! Roadmaps (lộ trình): for each target, a planned value per year from the baseline to the
//! scheme's last year, and the year the criterion will be met. Planned values are in the unit of
//! the target's measure: percent for ratios, a number for counts, 0/1 for yes/no, the grade's
//! position (0 = the worst) for levels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::achievement::criterion_measure;
use crate::scheme::{format_number, Criterion, Direction, SchemeDef, Target, TargetKind};

const MAX_REASON: usize = 2_000;

/// The plan for one target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetPlan {
    /// Planned value by year.
    #[serde(default)]
    pub planned: BTreeMap<i32, f64>,
    /// The year the criterion will be met, if it will be within the scheme.
    #[serde(default)]
    pub meet_year: Option<i32>,
    /// Why the plan steps backwards, or does not reach the criterion by the last year.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A unit's roadmap, by target code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    #[serde(default)]
    pub targets: BTreeMap<String, TargetPlan>,
}

impl Roadmap {
    /// The value planned for a target in a year, if any.
    pub fn planned(&self, code: &str, year: i32) -> Option<f64> {
        self.targets.get(code).and_then(|t| t.planned.get(&year)).copied()
    }

    /// Every value planned for a year, by target code (what an approval freezes).
    pub fn planned_in(&self, year: i32) -> BTreeMap<String, f64> {
        self.targets.keys().filter_map(|code| Some((code.clone(), self.planned(code, year)?))).collect()
    }
}

/// When a roadmap is due: with the baseline year's report, the scheme's report deadline after
/// the end of its first year. A roadmap submitted later is marked late.
pub fn deadline(def: &SchemeDef) -> chrono::NaiveDate {
    let end = chrono::NaiveDate::from_ymd_opt(def.first_year, 12, 31).unwrap_or_default();
    end + chrono::Duration::days(i64::from(def.report_deadline_days))
}

fn reaches(direction: Direction, value: f64, goal: f64) -> bool {
    match direction {
        Direction::Higher => value >= goal - 1e-9,
        Direction::Lower => value <= goal + 1e-9,
    }
}

/// Whether a planned value meets the target's criterion.
pub fn plan_meets(target: &Target, value: f64) -> bool {
    match target.criterion {
        Criterion::Answer(required) => (value >= 0.5) == required,
        _ => reaches(target.direction, value, criterion_measure(target)),
    }
}

/// Rounds a planned value to what the target's kind can hold.
fn fit(target: &Target, v: f64) -> f64 {
    match target.kind {
        TargetKind::Ratio => (v * 10.0).round() / 10.0,
        TargetKind::Count | TargetKind::Level => v.round(),
        TargetKind::YesNo => {
            if v >= 0.5 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// The suggested roadmap: from each target's baseline (its measure in the baseline review, of
/// year `baseline_year`) in a straight line to the criterion in the scheme's last year. Yes/no
/// targets switch in the last year. A target without a baseline starts from nothing (or, when
/// lower is better, is planned at its criterion throughout).
pub fn suggest(def: &SchemeDef, baseline_year: i32, baseline: impl Fn(&str) -> Option<f64>) -> Roadmap {
    let last = def.last_year;
    let targets = def
        .targets
        .iter()
        .map(|t| {
            let goal = criterion_measure(t);
            let start = baseline(&t.code).or(match t.direction {
                Direction::Higher => Some(0.0),
                Direction::Lower => None,
            });
            let planned: BTreeMap<i32, f64> = def
                .years()
                .map(|y| {
                    let v = match start {
                        Some(b) if !plan_meets(t, b) => {
                            if y <= baseline_year {
                                b
                            } else if t.kind == TargetKind::YesNo {
                                if y == last {
                                    goal
                                } else {
                                    b
                                }
                            } else {
                                let span = f64::from(last - baseline_year).max(1.0);
                                b + (goal - b) * f64::from(y - baseline_year) / span
                            }
                        }
                        Some(b) => b,
                        None => goal,
                    };
                    (y, fit(t, v))
                })
                .collect();
            let meet_year = planned.iter().find(|(_, v)| plan_meets(t, **v)).map(|(y, _)| *y);
            (t.code.clone(), TargetPlan { planned, meet_year, reason: None })
        })
        .collect();
    Roadmap { targets }
}

/// Checks a roadmap against its scheme. Messages are Vietnamese and name the target. With
/// `complete`, every target must be planned for every year (before submitting).
pub fn check(def: &SchemeDef, roadmap: &Roadmap, complete: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (code, plan) in &roadmap.targets {
        let Some(t) = def.targets.iter().find(|t| &t.code == code) else {
            problems.push(format!("đề án không có chỉ tiêu mã \"{code}\""));
            continue;
        };
        let name = format!("Chỉ tiêu {code} ({})", t.name);
        let has_reason = plan.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
        if plan.reason.as_deref().is_some_and(|r| r.chars().count() > MAX_REASON) {
            problems.push(format!("{name}: lý do dài quá {MAX_REASON} ký tự"));
        }
        for (year, v) in &plan.planned {
            if *year < def.first_year || *year > def.last_year {
                problems.push(format!(
                    "{name}: năm {year} nằm ngoài thời gian đề án {}-{}",
                    def.first_year, def.last_year
                ));
                continue;
            }
            let bad = !v.is_finite()
                || *v < 0.0
                || match t.kind {
                    TargetKind::Ratio => *v > 100.0,
                    TargetKind::Count => v.fract() != 0.0 || *v > crate::value::MAX_QUANTITY,
                    TargetKind::YesNo => *v != 0.0 && *v != 1.0,
                    TargetKind::Level => v.fract() != 0.0 || *v >= t.grades.len() as f64,
                };
            if bad {
                let expected = match t.kind {
                    TargetKind::Ratio => "một tỷ lệ từ 0 đến 100".to_string(),
                    TargetKind::Count => "một số nguyên không âm".to_string(),
                    TargetKind::YesNo => "Có hoặc Không".to_string(),
                    TargetKind::Level => format!("một mức trong: {}", t.grades.join(", ")),
                };
                problems.push(format!("{name}: giá trị năm {year} phải là {expected}"));
            }
        }
        let backwards =
            plan.planned.iter().zip(plan.planned.iter().skip(1)).find(|((_, a), (_, b))| match t.direction {
                Direction::Higher => **b < **a,
                Direction::Lower => **b > **a,
            });
        if let Some(((y1, a), (y2, b))) = backwards {
            if !has_reason {
                problems.push(format!(
                    "{name}: năm {y2} ({}) lùi so với năm {y1} ({}); cần ghi lý do",
                    format_number(*b),
                    format_number(*a)
                ));
            }
        }
        if let Some(last) = plan.planned.get(&def.last_year) {
            if !plan_meets(t, *last) && !has_reason {
                problems.push(format!(
                    "{name}: năm cuối {} chưa đạt tiêu chí {}; cần ghi lý do",
                    def.last_year,
                    t.criterion_text()
                ));
            }
        }
        if let Some(y) = plan.meet_year {
            if y < def.first_year || y > def.last_year {
                problems.push(format!("{name}: năm đạt {y} nằm ngoài thời gian đề án"));
            } else if plan.planned.get(&y).is_some_and(|v| !plan_meets(t, *v)) {
                problems
                    .push(format!("{name}: năm đạt là {y} nhưng giá trị kế hoạch năm đó chưa đạt tiêu chí"));
            }
        }
    }
    if complete {
        for t in &def.targets {
            let plan = roadmap.targets.get(&t.code);
            let missing: Vec<String> = def
                .years()
                .filter(|y| plan.is_none_or(|p| !p.planned.contains_key(y)))
                .map(|y| y.to_string())
                .collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "Chỉ tiêu {} ({}): chưa có giá trị kế hoạch năm {}",
                    t.code,
                    t.name,
                    missing.join(", ")
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::achievement::{assess, Status};
    use crate::scheme::parse_scheme;
    use crate::value::{Milli, Value};

    fn def() -> SchemeDef {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml")).unwrap()
    }

    fn target<'a>(d: &'a SchemeDef, code: &str) -> &'a Target {
        d.targets.iter().find(|t| t.code == code).unwrap()
    }

    #[test]
    fn the_suggestion_runs_straight_from_the_baseline_to_the_criterion() {
        let d = def();
        // 2.1 is a ratio target "≥ 95%" (see the sample); baseline 30% in 2017.
        let goal = criterion_measure(target(&d, "2.1"));
        let r = suggest(&d, 2017, |c| (c == "2.1").then_some(30.0));
        let p = &r.targets["2.1"];
        assert_eq!(p.planned[&2017], 30.0);
        assert_eq!(p.planned[&2020], goal);
        let step = (goal - 30.0) / 3.0;
        assert_eq!(p.planned[&2018], ((30.0 + step) * 10.0).round() / 10.0);
        assert_eq!(p.meet_year, Some(2020));
        // Yes/no targets switch in the last year; the suggestion passes its own checks.
        let yes = &r.targets["1.1"];
        assert_eq!(yes.planned.values().copied().collect::<Vec<_>>(), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(check(&d, &r, true), Vec::<String>::new());
        // A target already met stays met.
        let met = suggest(&d, 2017, |c| (c == "2.1").then_some(100.0));
        assert!(met.targets["2.1"].planned.values().all(|v| *v == 100.0));
        assert_eq!(met.targets["2.1"].meet_year, Some(2017));
    }

    #[test]
    fn steps_backwards_and_a_short_last_year_need_a_reason() {
        let d = def();
        let mut r = suggest(&d, 2017, |_| None);
        let p = r.targets.get_mut("2.1").unwrap();
        p.planned.insert(2019, 10.0);
        let problems = check(&d, &r, true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("Chỉ tiêu 2.1") && problems[0].contains("lùi"), "{problems:?}");
        r.targets.get_mut("2.1").unwrap().reason = Some("Sáp nhập ấp".into());
        assert!(check(&d, &r, true).is_empty());

        let mut r = suggest(&d, 2017, |_| None);
        r.targets.get_mut("2.1").unwrap().planned.insert(2020, 50.0);
        r.targets.get_mut("2.1").unwrap().meet_year = None;
        let problems = check(&d, &r, true);
        assert!(problems.iter().any(|p| p.contains("năm cuối 2020")), "{problems:?}");
    }

    #[test]
    fn values_out_of_kind_years_out_of_scheme_and_gaps_are_refused() {
        let d = def();
        let mut r = Roadmap::default();
        let plan = |pairs: &[(i32, f64)]| TargetPlan {
            planned: pairs.iter().copied().collect(),
            meet_year: None,
            reason: Some("x".into()),
        };
        r.targets.insert("2.1".into(), plan(&[(2018, 120.0)]));
        r.targets.insert("1.2".into(), plan(&[(2018, 1.5)]));
        r.targets.insert("1.1".into(), plan(&[(2018, 0.5)]));
        r.targets.insert("3.4".into(), plan(&[(2018, 4.0)]));
        r.targets.insert("6.3".into(), plan(&[(2030, 50.0), (2018, f64::NAN)]));
        r.targets.insert("9.9".into(), plan(&[]));
        let problems = check(&d, &r, false);
        for needle in ["2.1", "1.2", "1.1", "3.4", "năm 2030", "9.9"] {
            assert!(problems.iter().any(|p| p.contains(needle)), "{needle}: {problems:?}");
        }
        assert_eq!(problems.len(), 7, "{problems:?}");
        assert!(check(&d, &Roadmap::default(), true).len() == d.targets.len());
    }

    #[test]
    fn an_approved_plan_makes_a_value_below_the_criterion_on_track() {
        let d = def();
        let t = target(&d, "2.1");
        let v = Value::Ratio {
            numerator: Milli::from_f64(60.0).unwrap(),
            denominator: Milli::from_f64(100.0).unwrap(),
        };
        assert_eq!(assess(t, Some(&v), None).status, Status::Behind);
        assert_eq!(assess(t, Some(&v), Some(55.0)).status, Status::OnTrack);
        assert_eq!(assess(t, Some(&v), Some(70.0)).status, Status::Behind);
    }
}
