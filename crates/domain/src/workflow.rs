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
}

impl Transition {
    pub const ALL: [Transition; 4] = [Self::Submit, Self::Approve, Self::Return, Self::Reopen];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Reopen => "reopen",
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
        self == Self::Submit
    }
}

/// The state a transition leads to from a state, or why it cannot be made. A reason, where
/// one is needed, must be given (not blank).
pub fn apply(from: State, t: Transition, reason: Option<&str>) -> Result<State, String> {
    if t.needs_reason() && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(match t {
            Transition::Return => "cần ghi lý do trả lại".into(),
            _ => "cần ghi lý do mở lại".into(),
        });
    }
    match (from, t) {
        (State::Draft | State::Returned, Transition::Submit) => Ok(State::Submitted),
        (State::Submitted, Transition::Approve) => Ok(State::Approved),
        (State::Submitted, Transition::Return) => Ok(State::Returned),
        (State::Approved, Transition::Reopen) => Ok(State::Draft),
        (from, t) => Err(format!(
            "không thể {} khi đang ở trạng thái \"{}\"",
            match t {
                Transition::Submit => "gửi",
                Transition::Approve => "duyệt",
                Transition::Return => "trả lại",
                Transition::Reopen => "mở lại",
            },
            from.label_vi()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;
    use Transition::*;

    #[test]
    fn the_whole_table() {
        for from in State::ALL {
            for t in Transition::ALL {
                let expected = match (from, t) {
                    (Draft | Returned, Submit) => Some(Submitted),
                    (Submitted, Approve) => Some(Approved),
                    (Submitted, Return) => Some(Returned),
                    (Approved, Reopen) => Some(Draft),
                    _ => None,
                };
                assert_eq!(apply(from, t, Some("lý do")).ok(), expected, "{from:?} {t:?}");
            }
        }
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
}
