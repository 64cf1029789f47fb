//! Reporting periods: a year, a half-year, a quarter or a month ("2018", "2018-H1",
//! "2018-Q3", "2018-05"), each with its report deadline.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::scheme::{PeriodType, SchemeDef};

/// Vietnam's time zone (UTC+7, no daylight saving): deadlines and dates shown are in it.
pub const VIETNAM: chrono::FixedOffset = match chrono::FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub year: i32,
    /// The part of the year: 0 for the whole year, else the half (1-2), quarter (1-4) or
    /// month (1-12), as `kind` says.
    pub part: u8,
    pub kind: PeriodType,
}

impl Period {
    pub fn year(year: i32) -> Self {
        Self { year, part: 0, kind: PeriodType::Year }
    }

    /// Reads a period written as the scheme's period type requires.
    pub fn parse(raw: &str, kind: PeriodType) -> Result<Self, String> {
        let raw = raw.trim();
        let bad = || {
            let example = match kind {
                PeriodType::Year => "2018",
                PeriodType::HalfYear => "2018-H1",
                PeriodType::Quarter => "2018-Q3",
                PeriodType::Month => "2018-05",
            };
            format!("kỳ báo cáo \"{raw}\" không hợp lệ; cần dạng {example}")
        };
        let (year, rest) = match raw.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (raw, None),
        };
        let year: i32 = year.parse().ok().filter(|y| (1945..=2100).contains(y)).ok_or_else(bad)?;
        let part = match (kind, rest) {
            (PeriodType::Year, None) => 0,
            (PeriodType::HalfYear, Some(r)) => r
                .strip_prefix('H')
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=2).contains(n))
                .ok_or_else(bad)?,
            (PeriodType::Quarter, Some(r)) => r
                .strip_prefix('Q')
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=4).contains(n))
                .ok_or_else(bad)?,
            (PeriodType::Month, Some(r)) if r.len() == 2 => {
                r.parse().ok().filter(|n| (1..=12).contains(n)).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        Ok(Self { year, part, kind })
    }

    /// The first and last months of the period.
    fn months(&self) -> (u32, u32) {
        let p = u32::from(self.part);
        match self.kind {
            PeriodType::Year => (1, 12),
            PeriodType::HalfYear => (6 * p - 5, 6 * p),
            PeriodType::Quarter => (3 * p - 2, 3 * p),
            PeriodType::Month => (p, p),
        }
    }

    pub fn start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.months().0, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn end(&self) -> NaiveDate {
        let (_, last) = self.months();
        let next = if last == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, last + 1, 1)
        };
        next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    /// The day a report for this period is due: so many days after the period ends.
    pub fn deadline(&self, days_after: u32) -> NaiveDate {
        self.end() + Duration::days(i64::from(days_after))
    }

    /// Whether a report submitted on a day is late.
    pub fn is_late(&self, days_after: u32, submitted: NaiveDate) -> bool {
        submitted > self.deadline(days_after)
    }

    /// The period containing a day.
    pub fn containing(day: NaiveDate, kind: PeriodType) -> Self {
        let m = day.month() as u8;
        let part = match kind {
            PeriodType::Year => 0,
            PeriodType::HalfYear => m.div_ceil(6),
            PeriodType::Quarter => m.div_ceil(3),
            PeriodType::Month => m,
        };
        Self { year: day.year(), part, kind }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodType::Year => write!(f, "{}", self.year),
            PeriodType::HalfYear => write!(f, "{}-H{}", self.year, self.part),
            PeriodType::Quarter => write!(f, "{}-Q{}", self.year, self.part),
            PeriodType::Month => write!(f, "{}-{:02}", self.year, self.part),
        }
    }
}

/// A day as people type it: `2019-06-01` (ISO, as date inputs send it) or `01/06/2019`, within
/// [`FIRST_DAY`]–[`LAST_DAY`].
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
        .filter(|d| day_in_range(*d))
}

/// The days anything recorded may fall on: a member's service, a meeting, a note, an activity.
/// A year 0, a negative year or year 10000 is a typing mistake, never a record.
pub const FIRST_DAY: NaiveDate = day_or_min(1900, 1, 1);
pub const LAST_DAY: NaiveDate = day_or_min(2100, 12, 31);

/// A day known at compile time, without a panic path (both days above are real ones).
const fn day_or_min(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(day) => day,
        None => NaiveDate::MIN,
    }
}

pub fn day_in_range(day: NaiveDate) -> bool {
    (FIRST_DAY..=LAST_DAY).contains(&day)
}

/// Checks a day given in a record; the message names the field ("ngày họp").
pub fn check_day(what: &str, day: NaiveDate) -> Result<NaiveDate, String> {
    if day_in_range(day) {
        Ok(day)
    } else {
        Err(format!("{what} {day} nằm ngoài khoảng cho phép (01/01/1900 – 31/12/2100)"))
    }
}

/// Every period of a scheme, in order. The first is the baseline's.
pub fn scheme_periods(scheme: &SchemeDef) -> Vec<Period> {
    let parts: &[u8] = match scheme.period {
        PeriodType::Year => &[0],
        PeriodType::HalfYear => &[1, 2],
        PeriodType::Quarter => &[1, 2, 3, 4],
        PeriodType::Month => &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    };
    scheme
        .years()
        .flat_map(|year| parts.iter().map(move |&part| Period { year, part, kind: scheme.period }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16, item 14: Vietnam is UTC+7 all year (no summer time): 17:00 UTC is already the
    /// next day there.
    #[test]
    fn vietnam_is_seven_hours_ahead_of_utc() {
        use chrono::{TimeZone, Utc};
        assert_eq!(VIETNAM.local_minus_utc(), 7 * 3600);
        let evening = Utc.with_ymd_and_hms(2019, 1, 15, 17, 0, 0).unwrap();
        assert_eq!(
            evening.with_timezone(&VIETNAM).date_naive(),
            NaiveDate::from_ymd_opt(2019, 1, 16).unwrap()
        );
        let before = Utc.with_ymd_and_hms(2019, 1, 15, 16, 59, 59).unwrap();
        assert_eq!(
            before.with_timezone(&VIETNAM).date_naive(),
            NaiveDate::from_ymd_opt(2019, 1, 15).unwrap()
        );
    }

    #[test]
    fn days_are_bounded_to_1900_through_2100() {
        for ok in ["1900-01-01", "2019-06-01", "01/06/2019", "2100-12-31"] {
            assert!(parse_day(ok).is_some(), "{ok}");
        }
        for bad in ["0000-01-01", "-0001-01-01", "+10000-01-01", "1899-12-31", "2101-01-01", "31/12/1899"] {
            assert!(parse_day(bad).is_none(), "{bad}");
        }
        let d = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        assert_eq!(check_day("ngày họp", d(2020)), Ok(d(2020)));
        let e = check_day("ngày họp", d(0)).unwrap_err();
        assert!(e.starts_with("ngày họp") && e.contains("1900") && e.contains("2100"), "{e}");
        assert!(check_day("x", d(-1)).is_err() && check_day("x", d(10000)).is_err());
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parse_and_print_every_kind() {
        for (raw, kind) in [
            ("2018", PeriodType::Year),
            ("2018-H1", PeriodType::HalfYear),
            ("2018-Q3", PeriodType::Quarter),
            ("2018-05", PeriodType::Month),
        ] {
            assert_eq!(Period::parse(raw, kind).unwrap().to_string(), raw);
        }
        assert!(Period::parse("2018-Q5", PeriodType::Quarter).is_err());
        assert!(Period::parse("2018", PeriodType::Quarter).is_err());
        assert!(Period::parse("2018-H1", PeriodType::Year).is_err());
        assert!(Period::parse("2018-5", PeriodType::Month).is_err());
        assert!(Period::parse("18", PeriodType::Year).is_err());
        let e = Period::parse("2018-Q9", PeriodType::Quarter).unwrap_err();
        assert!(e.contains("2018-Q3"), "{e}");
    }

    #[test]
    fn bounds_and_deadlines() {
        let q3 = Period::parse("2018-Q3", PeriodType::Quarter).unwrap();
        assert_eq!((q3.start(), q3.end()), (d(2018, 7, 1), d(2018, 9, 30)));
        let feb = Period::parse("2020-02", PeriodType::Month).unwrap();
        assert_eq!(feb.end(), d(2020, 2, 29));
        let y = Period::year(2019);
        assert_eq!((y.start(), y.end()), (d(2019, 1, 1), d(2019, 12, 31)));
        assert_eq!(y.deadline(15), d(2020, 1, 15));
        assert!(!y.is_late(15, d(2020, 1, 15)));
        assert!(y.is_late(15, d(2020, 1, 16)));
        let h2 = Period::parse("2019-H2", PeriodType::HalfYear).unwrap();
        assert_eq!((h2.start(), h2.end()), (d(2019, 7, 1), d(2019, 12, 31)));
        assert_eq!(Period::containing(d(2019, 8, 3), PeriodType::Quarter).to_string(), "2019-Q3");
        assert_eq!(Period::containing(d(2019, 8, 3), PeriodType::HalfYear).to_string(), "2019-H2");
    }
}
