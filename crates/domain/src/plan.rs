//! Implementation plans (kế hoạch triển khai): a unit's activities for a year, each linked to
//! targets, led by an organisation, with dates and a status.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::scheme::SchemeDef;
use crate::text;

const MAX_TITLE: usize = 300;
const MAX_TEXT: usize = 5_000;
const MAX_SHORT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityStatus {
    NotStarted,
    InProgress,
    Done,
    Cancelled,
}

impl ActivityStatus {
    pub const ALL: [ActivityStatus; 4] = [Self::NotStarted, Self::InProgress, Self::Done, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::NotStarted => "Chưa bắt đầu",
            Self::InProgress => "Đang thực hiện",
            Self::Done => "Hoàn thành",
            Self::Cancelled => "Đã hủy",
        }
    }

    /// Whether the activity is finished one way or the other.
    pub fn closed(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled)
    }
}

/// Overdue: past its due date and neither done nor cancelled.
pub fn is_overdue(status: ActivityStatus, due: NaiveDate, today: NaiveDate) -> bool {
    !status.closed() && due < today
}

/// When a year's plan is due for approval: by the scheme's report deadline after the year
/// begins (the plan of a year is made at its start). A plan first submitted later is late.
pub fn plan_deadline(year: i32, report_deadline_days: u32) -> chrono::NaiveDate {
    let first = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    first + chrono::Duration::days(i64::from(report_deadline_days))
}

/// What a person writes about an activity.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Codes of the targets the activity serves.
    #[serde(default)]
    pub targets: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub lead_org: String,
    #[serde(default)]
    pub supporting_orgs: Vec<String>,
    /// Free text for now; a bloc member once members exist.
    #[serde(default)]
    pub responsible: String,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    )]
    pub start: NaiveDate,
    pub due: NaiveDate,
}

impl ActivityInput {
    /// [`cleaned`](Self::cleaned), and the lead and supporting organisations must be among the
    /// bloc's member organisations `orgs` (compared after NFC): free text is refused, so that
    /// the plan can be read by organisation.
    pub fn cleaned_for(
        &self,
        def: &SchemeDef,
        year: i32,
        orgs: &[String],
    ) -> Result<ActivityInput, Vec<String>> {
        let out = self.cleaned(def, year)?;
        let known = |o: &str| orgs.iter().any(|k| text::clean(k) == o);
        let mut problems = Vec::new();
        for o in std::iter::once(&out.lead_org).chain(&out.supporting_orgs) {
            if !o.is_empty() && !known(o) {
                problems.push(format!(
                    "\"{o}\" không phải tổ chức thành viên của khối; chọn một trong: {}",
                    orgs.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }

    /// Cleans the text (NFC, spaces), drops empty organisations and repeated targets, then
    /// checks it against the scheme and the plan's year. Messages are Vietnamese.
    pub fn cleaned(&self, def: &SchemeDef, year: i32) -> Result<ActivityInput, Vec<String>> {
        let mut out = ActivityInput {
            title: text::clean(&self.title),
            description: text::clean_multiline(&self.description),
            targets: Vec::new(),
            lead_org: text::clean(&self.lead_org),
            supporting_orgs: self
                .supporting_orgs
                .iter()
                .map(|o| text::clean(o))
                .filter(|o| !o.is_empty())
                .collect(),
            responsible: text::clean(&self.responsible),
            start: self.start,
            due: self.due,
        };
        for t in &self.targets {
            let t = text::clean(t);
            if !t.is_empty() && !out.targets.contains(&t) {
                out.targets.push(t);
            }
        }
        let mut problems = Vec::new();
        if out.title.is_empty() {
            problems.push("cần ghi tên hoạt động".to_string());
        }
        if out.title.chars().count() > MAX_TITLE {
            problems.push(format!("tên hoạt động dài quá {MAX_TITLE} ký tự"));
        }
        if out.description.chars().count() > MAX_TEXT {
            problems.push(format!("mô tả dài quá {MAX_TEXT} ký tự"));
        }
        if out.lead_org.is_empty() {
            problems.push("cần ghi tổ chức chủ trì".to_string());
        }
        for (what, day) in [("ngày bắt đầu", out.start), ("hạn hoàn thành", out.due)] {
            if let Err(e) = crate::period::check_day(what, day) {
                problems.push(e);
            }
        }
        for (what, v) in [("tổ chức chủ trì", &out.lead_org), ("người phụ trách", &out.responsible)]
        {
            if v.chars().count() > MAX_SHORT {
                problems.push(format!("{what} dài quá {MAX_SHORT} ký tự"));
            }
        }
        if out.supporting_orgs.iter().any(|o| o.chars().count() > MAX_SHORT) || out.supporting_orgs.len() > 30
        {
            problems.push("danh sách tổ chức phối hợp quá dài".to_string());
        }
        for code in &out.targets {
            if !def.targets.iter().any(|t| &t.code == code) {
                problems.push(format!("đề án không có chỉ tiêu mã \"{code}\""));
            }
        }
        if out.due < out.start {
            problems.push(format!(
                "hạn hoàn thành {} trước ngày bắt đầu {}",
                out.due.format("%d/%m/%Y"),
                out.start.format("%d/%m/%Y")
            ));
        }
        if out.start.year() > year || out.due.year() < year {
            problems.push(format!("thời gian hoạt động phải nằm trong (hoặc chạm) năm kế hoạch {year}"));
        }
        if year < def.first_year || year > def.last_year {
            problems
                .push(format!("năm {year} nằm ngoài thời gian đề án {}-{}", def.first_year, def.last_year));
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

/// The same day a year later (28 February for 29 February).
pub fn next_year(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() + 1).or_else(|| NaiveDate::from_ymd_opt(d.year() + 1, d.month(), 28)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::parse_scheme;

    fn def() -> SchemeDef {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml")).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn input() -> ActivityInput {
        ActivityInput {
            title: "  Hội nghị  quán triệt đề án ".into(),
            description: String::new(),
            targets: vec!["2.1".into(), "2.1".into(), " ".into()],
            lead_org: "Đảng ủy".into(),
            supporting_orgs: vec!["UBMTTQ".into(), "".into()],
            responsible: "Bí thư".into(),
            start: d(2018, 3, 1),
            due: d(2018, 3, 31),
        }
    }

    #[test]
    fn input_is_cleaned_and_checked() {
        let ok = input().cleaned(&def(), 2018).unwrap();
        assert_eq!(ok.title, "Hội nghị quán triệt đề án");
        assert_eq!(ok.targets, ["2.1"]);
        assert_eq!(ok.supporting_orgs, ["UBMTTQ"]);

        let mut bad = input();
        bad.title = " ".into();
        bad.lead_org = String::new();
        bad.targets = vec!["9.9".into()];
        bad.due = d(2018, 2, 1);
        let problems = bad.cleaned(&def(), 2018).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("9.9")));
        assert!(input().cleaned(&def(), 2019).unwrap_err()[0].contains("năm kế hoạch 2019"));
        assert!(input().cleaned(&def(), 2030).is_err());
    }

    #[test]
    fn organisations_come_from_the_bloc() {
        let bloc = ["Đảng ủy".to_string(), "UBMTTQ".to_string()];
        assert!(input().cleaned_for(&def(), 2018, &bloc).is_ok());
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Đảng ủy").collect();
        let mut typed = input();
        typed.lead_org = nfd;
        assert!(typed.cleaned_for(&def(), 2018, &bloc).is_ok(), "NFD is the same name");
        let mut free = input();
        free.supporting_orgs = vec!["Hội Người cao tuổi".into()];
        let e = free.cleaned_for(&def(), 2018, &bloc).unwrap_err();
        assert!(e[0].starts_with("\"Hội Người cao tuổi\" không phải tổ chức thành viên"), "{e:?}");
    }

    #[test]
    fn overdue_means_past_due_and_still_open() {
        let due = d(2018, 3, 31);
        assert!(is_overdue(ActivityStatus::InProgress, due, d(2018, 4, 1)));
        assert!(is_overdue(ActivityStatus::NotStarted, due, d(2018, 4, 1)));
        assert!(!is_overdue(ActivityStatus::InProgress, due, d(2018, 3, 31)));
        assert!(!is_overdue(ActivityStatus::Done, due, d(2019, 1, 1)));
        assert!(!is_overdue(ActivityStatus::Cancelled, due, d(2019, 1, 1)));
    }

    #[test]
    fn a_year_later() {
        assert_eq!(next_year(d(2018, 3, 1)), d(2019, 3, 1));
        assert_eq!(next_year(d(2020, 2, 29)), d(2021, 2, 28));
    }
}
