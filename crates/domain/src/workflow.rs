//! The approval workflow shared by reviews and roadmaps: draft → submitted → approved (locked)
//! or returned with a reason → draft …; an approver may reopen an approved item with a reason.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Being written by the unit; editable.
    Draft,
    /// Sent for approval; not editable.
    Submitted,
    /// Approved: locked, counts in official roll-ups.
    Approved,
    /// Sent back with a reason; editable again.
    Returned,
}

impl State {
    pub const ALL: [State; 4] = [Self::Draft, Self::Submitted, Self::Approved, Self::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Draft => "Đang soạn",
            Self::Submitted => "Đã gửi, chờ duyệt",
            Self::Approved => "Đã duyệt",
            Self::Returned => "Bị trả lại",
        }
    }

    /// Whether the unit may change the content.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Submit,
    Approve,
    Return,
    Reopen,
    /// Roadmaps only: the unit starts revising an approved roadmap, which stays in force until
    /// the revision is approved.
    Revise,
}

impl Transition {
    pub const ALL: [Transition; 5] = [Self::Submit, Self::Approve, Self::Return, Self::Reopen, Self::Revise];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Reopen => "reopen",
            Self::Revise => "revise",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the transition needs a written reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Return | Self::Reopen)
    }

    /// Whether the unit itself makes it (submit), rather than its approver.
    pub fn by_unit(self) -> bool {
        matches!(self, Self::Submit | Self::Revise)
    }
}

/// The state a transition leads to from a state, or why it cannot be made. A reason, where
/// one is needed, must be given (not blank).
pub fn apply(from: State, t: Transition, reason: Option<&str>) -> Result<State, String> {
    let Some(next) = next_state(from, t) else {
        return Err(format!(
            "không thể {} khi đang ở trạng thái \"{}\"",
            match t {
                Transition::Submit => "gửi",
                Transition::Approve => "duyệt",
                Transition::Return => "trả lại",
                Transition::Reopen => "mở lại",
                Transition::Revise => "sửa đổi",
            },
            from.label_vi()
        ));
    };
    if t.needs_reason() && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(match t {
            Transition::Return => "cần ghi lý do trả lại".into(),
            _ => "cần ghi lý do mở lại".into(),
        });
    }
    Ok(next)
}

/// Where a transition leads from a state, if it can be made from there at all. A step the
/// state does not allow is a conflict (someone else moved the record on), not a bad request.
pub fn next_state(from: State, t: Transition) -> Option<State> {
    match (from, t) {
        (State::Draft | State::Returned, Transition::Submit) => Some(State::Submitted),
        (State::Submitted, Transition::Approve) => Some(State::Approved),
        (State::Submitted, Transition::Return) => Some(State::Returned),
        (State::Approved, Transition::Reopen | Transition::Revise) => Some(State::Draft),
        _ => None,
    }
}

/// What an item still lacks before it can be submitted: a value for every target the unit
/// reports itself, and evidence where a target requires it. Messages name the target.
pub fn missing_for_submit(
    targets: &[crate::scheme::Target],
    has_value: impl Fn(&str) -> bool,
    has_evidence: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for t in targets.iter().filter(|t| t.source == crate::scheme::Source::Reported) {
        if !has_value(&t.code) {
            out.push(format!("Chỉ tiêu {} ({}) chưa có giá trị", t.code, t.name));
        }
        if t.evidence_required && !has_evidence(&t.code) {
            out.push(format!("Chỉ tiêu {} ({}) cần tệp minh chứng", t.code, t.name));
        }
    }
    out
}

/// The target a problem message is about: messages about one target begin "Chỉ tiêu {code}"
/// (as [`missing_for_submit`] and the value checks write them), so that a form can show the
/// message at the target's field.
pub fn target_of_problem<'a>(message: &str, codes: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let rest = message.strip_prefix("Chỉ tiêu ")?;
    codes.into_iter().find(|c| {
        rest.strip_prefix(c).is_some_and(|after| after.is_empty() || after.starts_with([' ', ':', ',']))
    })
}

/// The approver's comments on single targets, read from a reason: each line that begins with
/// a target's code and a colon ("2.1: thiếu danh sách hộ"; a leading "-" or "•" is allowed)
/// is that target's. The reason itself stays whole in the history.
pub fn target_comments<'a>(
    reason: &str,
    codes: impl IntoIterator<Item = &'a str> + Clone,
) -> Vec<(&'a str, String)> {
    let mut out = Vec::new();
    for line in reason.lines() {
        let line = line.trim().trim_start_matches(['-', '•', '*']).trim_start();
        let found = codes.clone().into_iter().find_map(|c| {
            let rest = line.strip_prefix(c)?.trim_start();
            let text = rest.strip_prefix(':')?.trim();
            (!text.is_empty()).then(|| (c, text.to_string()))
        });
        out.extend(found);
    }
    out
}

/// Whether a unit of this level reports under a scheme that applies to `applies_to` (a
/// scheme of communes takes no district's review or roadmap).
pub fn check_reporting_level(
    applies_to: crate::units::UnitLevel,
    level: crate::units::UnitLevel,
    unit_name: &str,
) -> Result<(), String> {
    if level == applies_to {
        Ok(())
    } else {
        Err(format!("đề án áp dụng cho cấp {applies_to}, không cho {unit_name}"))
    }
}

/// What a save means given whether the record exists: the first save (from version 0) starts
/// it; later saves name the version they started from; a version for a record that does not
/// exist finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFrom {
    /// Create the record (it starts at version 1), then save over that version.
    Start,
    /// Save over this version of the existing record.
    Version(i64),
    /// A version of something that was never started.
    NotStarted,
}

pub fn save_from(exists: bool, version: i64) -> SaveFrom {
    match (exists, version) {
        (true, v) => SaveFrom::Version(v),
        (false, 0) => SaveFrom::Start,
        (false, _) => SaveFrom::NotStarted,
    }
}

/// Whether a step records the submission as late. Lateness belongs to the first submission for
/// the period: a resubmission after a return or a reopening keeps that verdict
/// (`first_submission_late`, `None` before the first one); a first submission is late past the
/// period's deadline (`deadline_days` after its end, counted in Vietnam). Other steps are never
/// late.
pub fn submitted_late(
    t: Transition,
    first_submission_late: Option<bool>,
    period: &crate::period::Period,
    deadline_days: u32,
    today: chrono::NaiveDate,
) -> bool {
    submitted_late_by(t, first_submission_late, period.deadline(deadline_days), today)
}

/// The same rule against a deadline day (a roadmap's: with the baseline year's report).
pub fn submitted_late_by(
    t: Transition,
    first_submission_late: Option<bool>,
    deadline: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> bool {
    t == Transition::Submit && first_submission_late.unwrap_or(today > deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;
    use Transition::*;

    #[test]
    fn who_reports_where_a_save_starts_and_what_is_late() {
        use crate::units::UnitLevel;
        assert!(check_reporting_level(UnitLevel::Commune, UnitLevel::Commune, "Xã A").is_ok());
        let e = check_reporting_level(UnitLevel::Commune, UnitLevel::District, "Huyện Đức Hòa").unwrap_err();
        assert!(e.contains("Huyện Đức Hòa"), "{e}");
        assert_eq!(save_from(false, 0), SaveFrom::Start);
        assert_eq!(save_from(false, 3), SaveFrom::NotStarted);
        assert_eq!(save_from(true, 0), SaveFrom::Version(0), "a stale 0 is a conflict, not a new record");
        assert_eq!(save_from(true, 4), SaveFrom::Version(4));
        let p = crate::period::Period::year(2019);
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!submitted_late(Submit, None, &p, 15, day(2020, 1, 15)));
        assert!(submitted_late(Submit, None, &p, 15, day(2020, 1, 16)));
        assert!(!submitted_late(Approve, None, &p, 15, day(2021, 1, 1)), "only a submission is late");
        // Issue 16, item 3: a resubmission keeps the verdict of the first submission.
        assert!(!submitted_late(Submit, Some(false), &p, 15, day(2026, 12, 1)), "on time, reopened, resent");
        assert!(submitted_late(Submit, Some(true), &p, 15, day(2020, 1, 2)), "late stays late");
        // A roadmap's deadline is a day: the same rule.
        assert!(!submitted_late_by(Submit, None, day(2018, 1, 15), day(2018, 1, 15)));
        assert!(submitted_late_by(Submit, None, day(2018, 1, 15), day(2018, 1, 16)));
        assert!(
            !submitted_late_by(Submit, Some(false), day(2018, 1, 15), day(2026, 1, 1)),
            "on time, reopened, resent"
        );
        assert!(!submitted_late_by(Approve, Some(true), day(2018, 1, 15), day(2026, 1, 1)));
    }

    /// Issue 14, item 13: who makes a transition (the unit, or its approver) and the names stored
    /// in the database are pinned.
    #[test]
    fn who_makes_each_transition_and_the_stored_names() {
        let by_unit: Vec<Transition> = Transition::ALL.into_iter().filter(|t| t.by_unit()).collect();
        assert_eq!(by_unit, [Submit, Revise]);
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
        }
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(states, ["draft", "submitted", "approved", "returned"]);
        let transitions: Vec<&str> = Transition::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(transitions, ["submit", "approve", "return", "reopen", "revise"]);
        assert_eq!(State::parse("Draft"), None);
    }

    #[test]
    fn the_whole_table() {
        for from in State::ALL {
            for t in Transition::ALL {
                let expected = match (from, t) {
                    (Draft | Returned, Submit) => Some(Submitted),
                    (Submitted, Approve) => Some(Approved),
                    (Submitted, Return) => Some(Returned),
                    (Approved, Reopen | Revise) => Some(Draft),
                    _ => None,
                };
                assert_eq!(apply(from, t, Some("lý do")).ok(), expected, "{from:?} {t:?}");
            }
        }
    }

    #[test]
    fn submission_needs_values_and_evidence() {
        let scheme =
            crate::scheme::parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml"))
                .unwrap();
        let all = missing_for_submit(&scheme.targets, |_| false, |_| false);
        // 15 reported targets without values, 9 of them without required evidence.
        assert_eq!(all.len(), 15 + 9);
        assert!(!all.iter().any(|m| m.contains("3.1")), "computed targets are not asked for");
        assert!(missing_for_submit(&scheme.targets, |_| true, |_| true).is_empty());
        let only_evidence = missing_for_submit(&scheme.targets, |_| true, |c| c != "1.3");
        assert_eq!(only_evidence.len(), 1);
        assert!(only_evidence[0].starts_with("Chỉ tiêu 1.3") && only_evidence[0].contains("minh chứng"));
    }

    #[test]
    fn return_and_reopen_need_a_reason() {
        assert!(apply(Submitted, Return, None).unwrap_err().contains("lý do"));
        assert!(apply(Submitted, Return, Some("   ")).is_err());
        assert!(apply(Approved, Reopen, None).is_err());
        assert_eq!(apply(Submitted, Approve, None), Ok(Approved));
        assert!(apply(Approved, Submit, None).unwrap_err().contains("Đã duyệt"));
        assert!(Draft.editable() && Returned.editable() && !Submitted.editable() && !Approved.editable());
    }

    #[test]
    fn a_problem_names_its_target() {
        let codes = ["1.1", "1.10", "2.1"];
        assert_eq!(target_of_problem("Chỉ tiêu 1.10 (Họp) chưa có giá trị", codes), Some("1.10"));
        assert_eq!(target_of_problem("Chỉ tiêu 1.1: ghi chú dài quá 2000 ký tự", codes), Some("1.1"));
        assert_eq!(target_of_problem("Chỉ tiêu 2.1 (Hộ) cần tệp minh chứng", codes), Some("2.1"));
        assert_eq!(target_of_problem("Chỉ tiêu 3.1 (Hộ) chưa có giá trị", codes), None);
        assert_eq!(target_of_problem("Phần I dài quá", codes), None);
    }

    #[test]
    fn comments_on_targets_are_read_from_the_reason() {
        let codes = ["1.1", "1.10", "2.1"];
        let reason = "Chưa đạt yêu cầu.\n2.1: thiếu danh sách hộ\n- 1.10 : biên bản không có chữ ký\n1.1 cần bổ sung\n3.1: không có";
        assert_eq!(
            target_comments(reason, codes),
            [("2.1", "thiếu danh sách hộ".to_string()), ("1.10", "biên bản không có chữ ký".to_string())]
        );
        assert!(target_comments("2.1:   ", codes).is_empty());
    }
}
