//! The value a unit reports for a target, and how it is read from what a person typed.
//!
//! Quantities are kept as whole thousandths (`Milli`), so that sums over thousands of units are
//! exact and do not depend on the order of the rows.

use serde::{Deserialize, Serialize};

use crate::scheme::{Target, TargetKind};

/// A non-negative quantity in thousandths: 1.234,5 is `Milli(1_234_500)`. In JSON it is the
/// plain number (1234.5), so that what is recorded reads as it was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Milli(pub i64);

impl Serialize for Milli {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_whole() {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Milli {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Milli::from_f64(v).ok_or_else(|| serde::de::Error::custom("number out of range"))
    }
}

/// The largest quantity accepted: a trillion. Anything above is a typing mistake.
pub const MAX_QUANTITY: f64 = 1e12;

impl Milli {
    pub fn from_f64(v: f64) -> Option<Self> {
        (v.is_finite() && v.abs() <= MAX_QUANTITY).then(|| Self((v * 1000.0).round() as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn is_whole(self) -> bool {
        self.0 % 1000 == 0
    }
}

/// Reads a number written the Vietnamese way ("1.234,5") or the English way ("1234.5",
/// "1,234.5"). A single "." followed by exactly three digits is a thousands separator
/// ("1.234" is one thousand two hundred thirty-four, as Vietnamese writes it); a single ","
/// is a decimal comma. Spaces are ignored.
pub fn parse_number(raw: &str) -> Result<f64, String> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let bad = || format!("\"{}\" không phải là một số", raw.trim());
    if s.is_empty() {
        return Err("chưa nhập số".into());
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return Err(bad());
    }
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    let (thousands, decimal) = match (dots, commas) {
        (0, 0) => (None, None),
        (_, 0) if dots > 1 => (Some('.'), None),
        (1, 0) => {
            let after = body.split('.').nth(1).unwrap_or("");
            if after.len() == 3 {
                (Some('.'), None)
            } else {
                (None, Some('.'))
            }
        }
        (0, _) if commas > 1 => (Some(','), None),
        (0, 1) => (None, Some(',')),
        _ => {
            // Both: the last one is the decimal separator.
            let last_dot = body.rfind('.');
            let last_comma = body.rfind(',');
            if last_dot > last_comma {
                (Some(','), Some('.'))
            } else {
                (Some('.'), Some(','))
            }
        }
    };
    let (int_part, frac_part) = match decimal {
        Some(d) => {
            let mut it = body.rsplitn(2, d);
            let frac = it.next().unwrap_or("");
            (it.next().unwrap_or(""), Some(frac))
        }
        None => (body, None),
    };
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
    }
    let digits: String = match thousands {
        Some(t) => {
            let groups: Vec<&str> = int_part.split(t).collect();
            let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
            if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
                return Err(bad());
            }
            groups.concat()
        }
        None => int_part.to_string(),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let text = match frac_part {
        Some(f) => format!("{digits}.{f}"),
        None => digits,
    };
    let v: f64 = text.parse().map_err(|_| bad())?;
    let v = if negative { -v } else { v };
    if !v.is_finite() || v.abs() > MAX_QUANTITY {
        return Err(format!("\"{}\" quá lớn", raw.trim()));
    }
    Ok(v)
}

/// A reported value, in the form its target's kind requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Value {
    Ratio {
        numerator: Milli,
        denominator: Milli,
    },
    Count {
        count: Milli,
    },
    YesNo {
        yes: bool,
    },
    /// A grade, by its position in the target's grades (worst first).
    Level {
        grade: usize,
    },
}

impl Value {
    /// The number compared with the criterion: a percent, a count, 1/0, or a grade position.
    pub fn measure(&self) -> f64 {
        match *self {
            Self::Ratio { numerator, denominator } => {
                if denominator.0 == 0 {
                    0.0
                } else {
                    numerator.0 as f64 / denominator.0 as f64 * 100.0
                }
            }
            Self::Count { count } => count.as_f64(),
            Self::YesNo { yes } => f64::from(u8::from(yes)),
            Self::Level { grade } => grade as f64,
        }
    }
}

/// What a person entered for a target, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawValue {
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub count: Option<String>,
    pub yes: Option<bool>,
    pub level: Option<String>,
}

/// Checks an entry against its target. Messages are Vietnamese and name the target.
pub fn check_value(target: &Target, raw: &RawValue) -> Result<Value, String> {
    let name = format!("Chỉ tiêu {} ({})", target.code, target.name);
    let number = |label: &str, v: &Option<String>| -> Result<Milli, String> {
        let text = v
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{name}: chưa nhập {label}"))?;
        let n = parse_number(text).map_err(|e| format!("{name}: {label} {e}"))?;
        if n < 0.0 {
            return Err(format!("{name}: {label} không được âm"));
        }
        Milli::from_f64(n).ok_or_else(|| format!("{name}: {label} quá lớn"))
    };
    match target.kind {
        TargetKind::Ratio => {
            let numerator = number("tử số", &raw.numerator)?;
            let denominator = number("mẫu số", &raw.denominator)?;
            // A ratio counts people, households, hamlets, meetings: no 1.234,5 cadres.
            for (label, v) in [("tử số", numerator), ("mẫu số", denominator)] {
                if !v.is_whole() {
                    return Err(format!(
                        "{name}: {label} phải là số nguyên (số người, số hộ, số ấp… được đếm)"
                    ));
                }
            }
            if denominator.0 == 0 {
                return Err(format!("{name}: mẫu số phải lớn hơn 0"));
            }
            if numerator > denominator {
                return Err(format!("{name}: tử số không được lớn hơn mẫu số"));
            }
            Ok(Value::Ratio { numerator, denominator })
        }
        TargetKind::Count => {
            let count = number("số lượng", &raw.count)?;
            if !count.is_whole() {
                return Err(format!("{name}: số lượng phải là số nguyên"));
            }
            Ok(Value::Count { count })
        }
        TargetKind::YesNo => {
            raw.yes.map(|yes| Value::YesNo { yes }).ok_or_else(|| format!("{name}: chưa chọn có hoặc không"))
        }
        TargetKind::Level => {
            let chosen = raw.level.as_deref().map(crate::text::clean).unwrap_or_default();
            if chosen.is_empty() {
                return Err(format!("{name}: chưa chọn mức xếp loại"));
            }
            target.grades.iter().position(|g| *g == chosen).map(|grade| Value::Level { grade }).ok_or_else(
                || format!("{name}: mức \"{chosen}\" không có trong thang ({})", target.grades.join(", ")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::parse_scheme;

    #[test]
    fn quantities_read_as_entered_in_json() {
        assert_eq!(serde_json::to_string(&Milli(2000)).unwrap(), "2");
        assert_eq!(serde_json::to_string(&Milli(1_234_500)).unwrap(), "1234.5");
        assert_eq!(serde_json::from_str::<Milli>("1234.5").unwrap(), Milli(1_234_500));
        let v = Value::Count { count: Milli(12_000) };
        let back: Value = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn numbers_both_ways() {
        for (raw, v) in [
            ("1.234,5", 1234.5),
            ("1234.5", 1234.5),
            ("1,234.5", 1234.5),
            ("1.234", 1234.0),
            ("1.234.567", 1_234_567.0),
            ("1,5", 1.5),
            ("12.5", 12.5),
            ("0,25", 0.25),
            (" 2 000 ", 2000.0),
            ("1,234,567", 1_234_567.0),
            ("-3", -3.0),
            ("7", 7.0),
            // Issue 16, item 14: a decimal comma without thousands; a dot with other than three
            // digits after it is a decimal point.
            ("1234,5", 1234.5),
            ("1234.56", 1234.56),
        ] {
            assert_eq!(parse_number(raw), Ok(v), "{raw}");
        }
        for raw in [
            "",
            "abc",
            "1.2.3",
            "1..2",
            "NaN",
            "inf",
            "1e5",
            "1,2,3.4.5",
            ",5",
            "5,",
            "1.23,4.5",
            // Three digits after one dot would be thousands, but "1234" is no group of three:
            // neither 1.234.567 nor 1234,567 can be told, so it is refused (issue 16, item 14).
            "1234.567",
            "99999999999999999",
        ] {
            assert!(parse_number(raw).is_err(), "{raw} should be refused");
        }
    }

    fn sample() -> crate::scheme::SchemeDef {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml")).unwrap()
    }

    fn target(code: &str) -> Target {
        sample().targets.into_iter().find(|t| t.code == code).unwrap()
    }

    #[test]
    fn values_are_checked_against_their_target() {
        let ratio = target("2.1");
        let raw = |n: &str, d: &str| RawValue {
            numerator: Some(n.into()),
            denominator: Some(d.into()),
            ..Default::default()
        };
        assert_eq!(
            check_value(&ratio, &raw("8", "10")),
            Ok(Value::Ratio { numerator: Milli(8000), denominator: Milli(10000) })
        );
        let e = check_value(&ratio, &raw("11", "10")).unwrap_err();
        assert!(e.starts_with("Chỉ tiêu 2.1 (") && e.contains("tử số không được lớn hơn mẫu số"), "{e}");
        assert!(check_value(&ratio, &raw("0", "0")).unwrap_err().contains("mẫu số phải lớn hơn 0"));
        assert!(check_value(&ratio, &raw("-1", "5")).unwrap_err().contains("không được âm"));
        assert!(check_value(&ratio, &raw("NaN", "5")).is_err());
        // Issue 17, item 9: a ratio counts people; 1.234,5 cadres is refused, 1.234 is not.
        let e = check_value(&ratio, &raw("1.234,5", "1.300")).unwrap_err();
        assert!(e.contains("tử số phải là số nguyên"), "{e}");
        assert!(check_value(&ratio, &raw("12", "40,5")).unwrap_err().contains("mẫu số phải là số nguyên"));
        assert!(check_value(&ratio, &raw("1.234", "1.300")).is_ok());

        let count = target("4.3");
        let c = |s: &str| RawValue { count: Some(s.into()), ..Default::default() };
        assert_eq!(check_value(&count, &c("1.000")), Ok(Value::Count { count: Milli(1_000_000) }));
        assert!(check_value(&count, &c("2,5")).unwrap_err().contains("số nguyên"));
        assert!(check_value(&count, &c("")).unwrap_err().contains("chưa nhập"));
        assert!(check_value(&count, &c("1e300")).is_err());

        let yes = target("1.1");
        assert_eq!(
            check_value(&yes, &RawValue { yes: Some(true), ..Default::default() }),
            Ok(Value::YesNo { yes: true })
        );
        assert!(check_value(&yes, &RawValue::default()).is_err());

        let level = target("3.4");
        let l = |s: &str| RawValue { level: Some(s.into()), ..Default::default() };
        assert_eq!(check_value(&level, &l("Khá")), Ok(Value::Level { grade: 2 }));
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Khá").collect();
        assert_eq!(check_value(&level, &l(&nfd)), Ok(Value::Level { grade: 2 }), "NFD input");
        assert!(check_value(&level, &l("Xuất sắc")).unwrap_err().contains("không có trong thang"));
    }

    #[test]
    fn periods_of_the_sample_scheme() {
        let periods = crate::period::scheme_periods(&sample());
        let shown: Vec<String> = periods.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["2017", "2018", "2019", "2020"]);
    }
}
