//! The bloc itself (khối dân vận): its members over time, with their role, organisation,
//! phone and training. Ending a membership keeps it; the bloc on any past date can be shown.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text;

/// The standard member organisations of a commune's bloc, seeded for every province.
pub const STANDARD_ORGANISATIONS: [&str; 10] = [
    "Đảng ủy",
    "UBND",
    "UBMTTQ",
    "Hội Nông dân",
    "Hội Liên hiệp Phụ nữ",
    "Đoàn Thanh niên",
    "Hội Cựu chiến binh",
    "Công đoàn",
    "Công an xã",
    "Ban Chỉ huy Quân sự",
];

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlocRole {
    Head,
    Deputy,
    Member,
}

impl BlocRole {
    pub const ALL: [BlocRole; 3] = [Self::Head, Self::Deputy, Self::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Deputy => "deputy",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Head => "Trưởng khối",
            Self::Deputy => "Phó khối",
            Self::Member => "Thành viên",
        }
    }
}

/// A Vietnamese phone number in its national form: a mobile number (10 digits, 03/05/07/08/09)
/// or a landline (11 digits, 02…). Spaces, dots, dashes and a +84 or 84 prefix are accepted.
pub fn parse_phone(raw: &str) -> Result<String, String> {
    let bad = || format!("\"{}\" không phải số điện thoại Việt Nam (ví dụ 0912 345 678)", raw.trim());
    let s: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}')).collect();
    let s = if let Some(rest) = s.strip_prefix("+84") {
        format!("0{rest}")
    } else if s.starts_with("84") && s.len() == 11 {
        format!("0{}", &s[2..])
    } else {
        s
    };
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mobile = s.len() == 10 && matches!(&s[..2], "03" | "05" | "07" | "08" | "09");
    let landline = s.len() == 11 && s.starts_with("02");
    if mobile || landline {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// A phone number with its middle hidden, as records that outlive the need to call keep it
/// (the audit log): the first three and the last three digits stay, "0912345678" → "091****678".
/// Anything shorter than seven characters is hidden whole.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let (head, rest) = chars.split_at(3);
    let (middle, tail) = rest.split_at(rest.len() - 3);
    head.iter().chain(std::iter::repeat_n(&'*', middle.len())).chain(tail).collect()
}

/// Hides the middle of every string under a key named "phone", at any depth of a JSON text
/// (an audit record's before or after). Text that is not JSON is returned as it is.
pub fn mask_phones_in_json(json: &str) -> String {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(s) if k == "phone" => *s = mask_phone(s),
                        other => walk(other),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if !json.contains("\"phone\"") {
        return json.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(mut v) => {
            walk(&mut v);
            v.to_string()
        }
        Err(_) => json.to_string(),
    }
}

/// A membership as a person writes it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub full_name: String,
    /// Their post, e.g. "Phó Bí thư Thường trực Đảng ủy".
    #[serde(default)]
    pub position: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub organisation: String,
    pub role: BlocRole,
    #[serde(default)]
    pub phone: Option<String>,
    /// Trained in mass mobilization skills, and when.
    #[serde(default)]
    pub trained: bool,
    #[serde(default)]
    pub trained_on: Option<NaiveDate>,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    )]
    pub from: NaiveDate,
}

impl MemberInput {
    /// Cleans the text (NFC, spaces), normalises the phone, and checks the rest.
    pub fn cleaned(&self) -> Result<MemberInput, Vec<String>> {
        let mut problems = Vec::new();
        let phone = match self.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => match parse_phone(p) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
        };
        let out = MemberInput {
            full_name: text::clean(&self.full_name),
            position: text::clean(&self.position),
            organisation: text::clean(&self.organisation),
            role: self.role,
            phone,
            trained: self.trained || self.trained_on.is_some(),
            trained_on: self.trained_on,
            from: self.from,
        };
        if out.full_name.is_empty() {
            problems.push("cần ghi họ và tên".into());
        }
        let days = [("ngày bắt đầu", Some(out.from)), ("ngày tập huấn", out.trained_on)];
        for (what, day) in days {
            if let Some(Err(e)) = day.map(|d| crate::period::check_day(what, d)) {
                problems.push(e);
            }
        }
        if out.organisation.is_empty() {
            problems.push("cần ghi tổ chức thành viên".into());
        }
        for (what, v) in
            [("họ và tên", &out.full_name), ("chức vụ", &out.position), ("tổ chức", &out.organisation)]
        {
            if v.chars().count() > 200 {
                problems.push(format!("{what} dài quá 200 ký tự"));
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

/// Whether a membership from `from` to `to` (the last day; none while it lasts) holds on `on`.
pub fn serves_on(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from <= on && to.is_none_or(|t| on <= t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("0912345678"), "091****678");
        assert_eq!(mask_phone("02723822123"), "027*****123");
        assert_eq!(mask_phone("12345"), "*****");
        let json = r#"{"full_name":"Nguyễn Văn A","phone":"0912345678","nested":[{"phone":"02723822123"}],"phones":"x"}"#;
        let masked = mask_phones_in_json(json);
        assert!(!masked.contains("0912345678") && !masked.contains("02723822123"), "{masked}");
        assert!(
            masked.contains("091****678")
                && masked.contains("027*****123")
                && masked.contains("Nguyễn Văn A")
        );
        assert!(masked.contains(r#""phones":"x""#));
        assert_eq!(mask_phones_in_json(r#"{"phone":null}"#), r#"{"phone":null}"#);
        assert_eq!(mask_phones_in_json("not json \"phone\""), "not json \"phone\"");
    }

    #[test]
    fn phones_in_every_common_writing() {
        for ok in
            ["0912345678", "0912 345 678", "091.234.5678", "+84 912 345 678", "84912345678", "0272 3822 123"]
        {
            assert!(parse_phone(ok).is_ok(), "{ok}");
        }
        assert_eq!(parse_phone("+84 912 345 678").unwrap(), "0912345678");
        assert_eq!(parse_phone("0272.3822.123").unwrap(), "02723822123");
        for bad in ["12345", "0112345678", "091234567", "09123456789", "hotline", "0912-345-67x"] {
            assert!(parse_phone(bad).unwrap_err().contains("không phải số điện thoại"), "{bad}");
        }
    }

    #[test]
    fn membership_input_is_cleaned_and_checked() {
        let d = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
        let input = MemberInput {
            full_name: "  Nguyễn  Văn A ".into(),
            position: "Phó Bí thư".into(),
            organisation: "Đảng ủy".into(),
            role: BlocRole::Head,
            phone: Some("+84 912 345 678".into()),
            trained: false,
            trained_on: Some(d),
            from: d,
        };
        let ok = input.cleaned().unwrap();
        assert_eq!(
            (ok.full_name.as_str(), ok.phone.as_deref(), ok.trained),
            ("Nguyễn Văn A", Some("0912345678"), true)
        );
        let bad = MemberInput { full_name: " ".into(), phone: Some("123".into()), ..input };
        assert_eq!(bad.cleaned().unwrap_err().len(), 2);
    }

    #[test]
    fn service_dates_include_both_ends() {
        let d = |m| NaiveDate::from_ymd_opt(2018, m, 1).unwrap();
        assert!(serves_on(d(1), None, d(12)));
        assert!(serves_on(d(1), Some(d(6)), d(6)));
        assert!(!serves_on(d(1), Some(d(6)), d(7)));
        assert!(!serves_on(d(2), None, d(1)));
    }
}
