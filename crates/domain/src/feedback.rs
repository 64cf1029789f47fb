//! Citizens' feedback (ý kiến, kiến nghị): what a citizen sends, its status, its deadline.
//! The citizen's name, phone and email are kept for staff only; public pages never show them.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::bloc::parse_phone;
use crate::text;

/// The categories offered on the public form.
pub const CATEGORIES: [&str; 8] = [
    "Đất đai",
    "Môi trường",
    "An ninh, trật tự",
    "Chính sách xã hội",
    "Hạ tầng, giao thông",
    "Thủ tục hành chính",
    "Cán bộ, công chức",
    "Khác",
];

pub const MAX_CONTENT: usize = 4000;
pub const MIN_CONTENT: usize = 10;
pub const MAX_ANSWER: usize = 8000;
/// The answer deadline when the province has not set its own, in days from receipt.
pub const DEFAULT_ANSWER_DAYS: u32 = 30;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    Received,
    Assigned,
    Answered,
    Closed,
}

impl FeedbackStatus {
    pub const ALL: [FeedbackStatus; 4] = [Self::Received, Self::Assigned, Self::Answered, Self::Closed];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Assigned => "assigned",
            Self::Answered => "answered",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Still waiting for an answer.
    pub fn open(self) -> bool {
        matches!(self, Self::Received | Self::Assigned)
    }
}

/// What a citizen sends through the public form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FeedbackInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub hamlet: Option<String>,
    pub category: String,
    pub content: String,
}

fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref().map(text::clean).filter(|s| !s.is_empty())
}

/// A plausible email address: one @, something before it, a dotted domain after, no spaces.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 200
}

impl FeedbackInput {
    pub fn cleaned(&self) -> Result<FeedbackInput, Vec<String>> {
        let mut problems = Vec::new();
        let name = optional(&self.name);
        let hamlet = optional(&self.hamlet);
        let email = optional(&self.email).map(|e| e.to_lowercase());
        let phone = match optional(&self.phone) {
            None => None,
            Some(p) => match parse_phone(&p) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
        };
        if let Some(e) = &email {
            if !valid_email(e) {
                problems.push(format!("\"{e}\" không phải địa chỉ email"));
            }
        }
        let category = text::clean(&self.category);
        if !CATEGORIES.contains(&category.as_str()) {
            problems.push("hãy chọn một lĩnh vực trong danh sách".into());
        }
        let content = text::clean_multiline(&self.content).trim().to_string();
        let n = content.chars().count();
        if n < MIN_CONTENT {
            problems.push(format!("nội dung cần ít nhất {MIN_CONTENT} ký tự"));
        }
        if n > MAX_CONTENT {
            problems.push(format!("nội dung dài {n} ký tự, tối đa {MAX_CONTENT}"));
        }
        for (what, v) in [("họ tên", &name), ("ấp, khu phố", &hamlet)] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 100) {
                problems.push(format!("{what} dài quá 100 ký tự"));
            }
        }
        if problems.is_empty() {
            Ok(FeedbackInput { name, phone, email, hamlet, category, content })
        } else {
            Err(problems)
        }
    }
}

/// The last day an answer is on time.
pub fn due_on(received: NaiveDate, days: u32) -> NaiveDate {
    received.checked_add_days(Days::new(days.into())).unwrap_or(received)
}

/// Overdue: still open after its last day.
pub fn is_overdue(status: FeedbackStatus, due: NaiveDate, today: NaiveDate) -> bool {
    status.open() && today > due
}

/// The letters of a tracking code: no 0/O, 1/I/L, so it can be read out over the phone.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A tracking code from random bytes: "PA-" and eight letters in two groups ("PA-7KQ2-M9XD").
pub fn tracking_code(random: &[u8; 8]) -> String {
    let letters: String =
        random.iter().map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char).collect();
    format!("PA-{}-{}", &letters[..4], &letters[4..])
}

/// A code as a citizen types it: case, spaces and a missing prefix forgiven.
pub fn normalise_code(raw: &str) -> Option<String> {
    let s: String = raw.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    let s = s.strip_prefix("PA").unwrap_or(&s);
    (s.len() == 8 && s.bytes().all(|b| CODE_ALPHABET.contains(&b)))
        .then(|| format!("PA-{}-{}", &s[..4], &s[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_is_cleaned_and_checked() {
        let input = FeedbackInput {
            name: Some("  ".into()),
            phone: Some("0912 345 678".into()),
            email: Some(" Dan@Example.VN ".into()),
            hamlet: Some("Ấp 3".into()),
            category: "Đất đai".into(),
            content: "  Đường vào ấp 3 bị ngập.  \n\n\n".into(),
        };
        let ok = input.cleaned().unwrap();
        assert_eq!(ok.name, None);
        assert_eq!(ok.phone.as_deref(), Some("0912345678"));
        assert_eq!(ok.email.as_deref(), Some("dan@example.vn"));
        assert_eq!(ok.content, "Đường vào ấp 3 bị ngập.");
        let bad = FeedbackInput {
            email: Some("a@b".into()),
            category: "Khác lạ".into(),
            content: "ngắn".into(),
            ..input.clone()
        };
        assert_eq!(bad.cleaned().unwrap_err().len(), 3);
        let long = FeedbackInput { content: "a".repeat(MAX_CONTENT + 1), ..input };
        assert!(long.cleaned().unwrap_err()[0].contains("tối đa 4000"));
    }

    #[test]
    fn codes_are_readable_and_forgiving() {
        let code = tracking_code(&[0, 1, 2, 30, 31, 200, 255, 7]);
        assert_eq!(code, "PA-234Z-2G99");
        assert_eq!(normalise_code(" pa 234z 2g99 ").as_deref(), Some("PA-234Z-2G99"));
        assert_eq!(normalise_code("234Z2G99").as_deref(), Some("PA-234Z-2G99"));
        assert_eq!(normalise_code("PA-234Z-2G90"), None);
        assert_eq!(normalise_code("PA-2345"), None);
    }

    #[test]
    fn deadline_and_overdue() {
        let d = NaiveDate::from_ymd_opt(2019, 1, 31).unwrap();
        let due = due_on(d, 30);
        assert_eq!(due, NaiveDate::from_ymd_opt(2019, 3, 2).unwrap());
        assert!(!is_overdue(FeedbackStatus::Assigned, due, due));
        assert!(is_overdue(FeedbackStatus::Assigned, due, due.succ_opt().unwrap()));
        assert!(!is_overdue(FeedbackStatus::Answered, due, due.succ_opt().unwrap()));
    }
}
