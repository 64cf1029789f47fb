//! Schemes (đề án), their task groups and targets (chỉ tiêu), and the TOML file that defines
//! them. The file format is documented in `docs/scheme-format.md`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use toml_edit::{ImDocument, Item, TableLike};

use crate::text;
use crate::units::UnitLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Year,
    HalfYear,
    Quarter,
    Month,
}

impl PeriodType {
    pub const ALL: [PeriodType; 4] = [Self::Year, Self::HalfYear, Self::Quarter, Self::Month];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::HalfYear => "half_year",
            Self::Quarter => "quarter",
            Self::Month => "month",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Ratio,
    Count,
    YesNo,
    Level,
}

impl TargetKind {
    pub const ALL: [TargetKind; 4] = [Self::Ratio, Self::Count, Self::YesNo, Self::Level];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ratio => "ratio",
            Self::Count => "count",
            Self::YesNo => "yes_no",
            Self::Level => "level",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Higher => "higher",
            Self::Lower => "lower",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Higher, Self::Lower].into_iter().find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Accumulation {
    PerPeriod,
    Cumulative,
}

impl Accumulation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerPeriod => "per_period",
            Self::Cumulative => "cumulative",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::PerPeriod, Self::Cumulative].into_iter().find(|a| a.as_str() == s)
    }
}

/// The records-based rules a target's value can be computed from (`source = "computed:<rule>"`).
/// The rules themselves are computed by the bloc's records; each fixes the kind of its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputedRule {
    MeetingsHeld,
    MembersTrainedShare,
    HamletsWithTeamShare,
    FeedbackAnsweredOnTimeShare,
    ActivitiesDoneShare,
}

impl ComputedRule {
    pub const ALL: [ComputedRule; 5] = [
        Self::MeetingsHeld,
        Self::MembersTrainedShare,
        Self::HamletsWithTeamShare,
        Self::FeedbackAnsweredOnTimeShare,
        Self::ActivitiesDoneShare,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MeetingsHeld => "meetings_held",
            Self::MembersTrainedShare => "members_trained_share",
            Self::HamletsWithTeamShare => "hamlets_with_team_share",
            Self::FeedbackAnsweredOnTimeShare => "feedback_answered_on_time_share",
            Self::ActivitiesDoneShare => "activities_done_share",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// The kind of target a rule produces.
    pub fn kind(self) -> TargetKind {
        match self {
            Self::MeetingsHeld => TargetKind::Count,
            _ => TargetKind::Ratio,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "rule")]
pub enum Source {
    Reported,
    Computed(ComputedRule),
}

impl Source {
    pub fn as_string(self) -> String {
        match self {
            Self::Reported => "reported".into(),
            Self::Computed(rule) => format!("computed:{}", rule.as_str()),
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        if s == "reported" {
            return Some(Self::Reported);
        }
        s.strip_prefix("computed:").and_then(ComputedRule::parse).map(Self::Computed)
    }
}

/// What one unit must reach to meet a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// A ratio, in percent (numerator / denominator × 100).
    Percent(f64),
    /// A count.
    Count(f64),
    /// The answer required of a yes/no target.
    Answer(bool),
    /// The lowest acceptable grade of a level target, by its position in `grades`.
    Grade(usize),
}

impl Criterion {
    /// The criterion as one number, for storage: percent, count, 1/0, or grade position.
    pub fn to_number(&self) -> f64 {
        match *self {
            Self::Percent(v) | Self::Count(v) => v,
            Self::Answer(b) => f64::from(u8::from(b)),
            Self::Grade(i) => i as f64,
        }
    }

    pub fn from_number(kind: TargetKind, v: f64) -> Self {
        match kind {
            TargetKind::Ratio => Self::Percent(v),
            TargetKind::Count => Self::Count(v),
            TargetKind::YesNo => Self::Answer(v != 0.0),
            TargetKind::Level => Self::Grade(v.max(0.0) as usize),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskGroup {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub code: String,
    pub group: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: TargetKind,
    pub direction: Direction,
    pub accumulation: Accumulation,
    pub criterion: Criterion,
    /// For level targets: the grades from the worst to the best.
    pub grades: Vec<String>,
    pub numerator_label: Option<String>,
    pub denominator_label: Option<String>,
    pub unit_label: Option<String>,
    pub evidence_required: bool,
    pub source: Source,
    /// Coverage goal per year for the level above: the percent of units meeting the criterion.
    pub coverage: BTreeMap<i32, f64>,
}

impl Target {
    /// The criterion for one unit as officials write it: "≥ 80%", "≤ 2 vụ", "Có", "≥ Khá".
    pub fn criterion_text(&self) -> String {
        let op = match self.direction {
            Direction::Higher => "≥",
            Direction::Lower => "≤",
        };
        match &self.criterion {
            Criterion::Percent(v) => format!("{op} {}%", format_number(*v)),
            Criterion::Count(v) => match &self.unit_label {
                Some(u) => format!("{op} {} {u}", format_number(*v)),
                None => format!("{op} {}", format_number(*v)),
            },
            Criterion::Answer(true) => "Có".into(),
            Criterion::Answer(false) => "Không".into(),
            Criterion::Grade(i) => {
                let grade = self.grades.get(*i).map(String::as_str).unwrap_or("?");
                format!("≥ {grade}")
            }
        }
    }

    /// A measured value as its criterion states it: "94,9%" for a rate, "3 lần" for a count.
    /// Rates keep one decimal, so 1.234/1.300 reads 94,9% and is not rounded up to the 95 % it
    /// fails to reach (and a rate above a "≤" criterion is not rounded down to it).
    pub fn measure_text(&self, measure: f64) -> String {
        match &self.criterion {
            Criterion::Percent(_) => {
                let tenths = match self.direction {
                    Direction::Higher => (measure * 10.0 + 1e-9).floor(),
                    Direction::Lower => (measure * 10.0 - 1e-9).ceil(),
                };
                format!("{}%", format_number(tenths / 10.0))
            }
            _ => match &self.unit_label {
                Some(u) => format!("{} {u}", format_number(measure)),
                None => format_number(measure),
            },
        }
    }
}

/// A number the Vietnamese way: "." between thousands, "," before decimals (1.234,5).
pub fn format_number(v: f64) -> String {
    let negative = v < 0.0;
    let rounded = (v.abs() * 100.0).round() / 100.0;
    let whole = rounded.trunc() as u64;
    let frac = ((rounded - rounded.trunc()) * 100.0).round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if frac > 0 {
        let f = format!("{frac:02}");
        out.push(',');
        out.push_str(f.trim_end_matches('0'));
    }
    if negative && (whole > 0 || frac > 0) {
        out.insert(0, '-');
    }
    out
}

/// A scheme as its file defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeDef {
    pub code: String,
    pub title: String,
    pub issuing_body: String,
    pub document_number: Option<String>,
    /// The code of the unit whose subtree the scheme covers.
    pub root_unit: String,
    pub first_year: i32,
    pub last_year: i32,
    /// The day the scheme starts, when not 1 January of its first year: its root and units are
    /// those that exist on that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<chrono::NaiveDate>,
    pub applies_to: UnitLevel,
    pub period: PeriodType,
    /// Reports are due this many days after the end of their period.
    pub report_deadline_days: u32,
    /// Entry of a period closes this many days after its deadline (none: never); after that
    /// only the approver reopens it for a unit, with a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_after_days: Option<u32>,
    /// The targets are a sample (chỉ tiêu mẫu) to be replaced by the province's own.
    pub sample: bool,
    pub objectives: Vec<String>,
    pub groups: Vec<TaskGroup>,
    pub targets: Vec<Target>,
}

impl SchemeDef {
    /// The day the scheme starts: `starts_on`, or 1 January of its first year.
    pub fn start_day(&self) -> chrono::NaiveDate {
        self.starts_on
            .or_else(|| chrono::NaiveDate::from_ymd_opt(self.first_year, 1, 1))
            .unwrap_or(chrono::NaiveDate::MIN)
    }

    /// The days the scheme runs: from its start to 31 December of its last year.
    pub fn span(&self) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let end = chrono::NaiveDate::from_ymd_opt(self.last_year, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
        (self.start_day(), end)
    }

    pub fn years(&self) -> impl Iterator<Item = i32> {
        self.first_year..=self.last_year
    }
    pub fn targets_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Target> + 'a {
        self.targets.iter().filter(move |t| t.group == group)
    }
}

/// One problem in a scheme file: the field path, the line where known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeProblem {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for SchemeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (dòng {line}): {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

const SCHEME_KEYS: &[&str] = &[
    "code",
    "title",
    "issuing_body",
    "document_number",
    "root_unit",
    "first_year",
    "last_year",
    "starts_on",
    "applies_to",
    "period",
    "report_deadline_days",
    "lock_after_days",
    "sample",
    "objectives",
];
const GROUP_KEYS: &[&str] = &["code", "name"];
const TARGET_KEYS: &[&str] = &[
    "code",
    "group",
    "name",
    "description",
    "kind",
    "direction",
    "accumulation",
    "criterion",
    "grades",
    "numerator_label",
    "denominator_label",
    "unit_label",
    "evidence_required",
    "source",
    "coverage",
];

/// Reads and checks a scheme file. Every problem is reported, each with its field path and
/// line; nothing is returned unless the whole file is right.
pub fn parse_scheme(source: &str) -> Result<SchemeDef, Vec<SchemeProblem>> {
    let doc = match ImDocument::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let line = e.span().map(|s| line_of(source, s.start));
            let message = e.message().trim().to_string();
            return Err(vec![SchemeProblem {
                path: "(tệp)".into(),
                line,
                message: format!("lỗi cú pháp TOML: {message}"),
            }]);
        }
    };
    let mut r = Reader { src: source, problems: Vec::new() };
    let root = doc.as_table();
    r.unknown_keys(root, "", &["scheme", "groups", "targets"]);

    let scheme = match root.get("scheme").and_then(Item::as_table_like) {
        Some(t) => t,
        None => {
            r.problem("scheme", None, "thiếu bảng [scheme]");
            return Err(r.problems);
        }
    };
    r.unknown_keys(scheme, "scheme.", SCHEME_KEYS);
    let code = r.string(scheme, "scheme.code", true);
    if let Some(c) = &code {
        if !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            r.problem(
                "scheme.code",
                scheme.get("code"),
                "mã đề án chỉ gồm chữ cái không dấu, chữ số, '-' và '_'",
            );
        }
    }
    let title = r.string(scheme, "scheme.title", true);
    let issuing_body = r.string(scheme, "scheme.issuing_body", true);
    let document_number = r.string(scheme, "scheme.document_number", false);
    let root_unit = r.string(scheme, "scheme.root_unit", true);
    if let Some(u) = &root_unit {
        if u != crate::units::COUNTRY_CODE && !u.chars().all(|c| c.is_ascii_digit()) {
            r.problem(
                "scheme.root_unit",
                scheme.get("root_unit"),
                "mã đơn vị chỉ gồm chữ số (hoặc VN cho toàn quốc)",
            );
        }
    }
    let first_year = r.year(scheme, "scheme.first_year");
    let last_year = r.year(scheme, "scheme.last_year");
    if let (Some(f), Some(l)) = (first_year, last_year) {
        if l < f {
            r.problem("scheme.last_year", scheme.get("last_year"), "năm kết thúc trước năm bắt đầu");
        }
    }
    let starts_on = match scheme.get("starts_on") {
        None => None,
        Some(item) => {
            let raw = match item.as_datetime() {
                Some(dt) => Some(dt.to_string()),
                None => item.as_str().map(str::to_string),
            };
            match raw.as_deref().and_then(|s| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()) {
                Some(d) if first_year.is_none_or(|y| d.year() == y) => Some(d),
                Some(_) => {
                    r.problem(
                        "scheme.starts_on",
                        Some(item),
                        "ngày bắt đầu phải thuộc năm bắt đầu (first_year)",
                    );
                    None
                }
                None => {
                    r.problem("scheme.starts_on", Some(item), "cần một ngày dạng 2026-01-01");
                    None
                }
            }
        }
    };
    let applies_to = r
        .choice(scheme, "scheme.applies_to", &["province", "district", "commune", "hamlet"], Some("commune"))
        .and_then(|s| UnitLevel::parse(&s));
    let period = r
        .choice(scheme, "scheme.period", &["year", "half_year", "quarter", "month"], Some("year"))
        .and_then(|s| PeriodType::parse(&s));
    let report_deadline_days = match scheme.get("report_deadline_days") {
        None => Some(15),
        Some(item) => match item.as_integer() {
            Some(d) if (0..=366).contains(&d) => Some(d as u32),
            _ => {
                r.problem("scheme.report_deadline_days", Some(item), "cần một số ngày từ 0 đến 366");
                None
            }
        },
    };
    let lock_after_days = match scheme.get("lock_after_days") {
        None => None,
        Some(item) => match item.as_integer() {
            Some(d) if (0..=366).contains(&d) => Some(d as u32),
            _ => {
                r.problem("scheme.lock_after_days", Some(item), "cần một số ngày từ 0 đến 366");
                None
            }
        },
    };
    let sample = r.boolean(scheme, "scheme.sample", false);
    let objectives = r.string_list(scheme, "scheme.objectives", false);

    // Task groups.
    let mut groups = Vec::new();
    let mut group_codes = HashSet::new();
    match root.get("groups") {
        None => r.problem("groups", None, "cần ít nhất một nhóm nhiệm vụ, giải pháp ([[groups]])"),
        Some(item) => match item.as_array_of_tables() {
            None => r.problem("groups", Some(item), "cần một danh sách [[groups]]"),
            Some(arr) => {
                for (i, t) in arr.iter().enumerate() {
                    let p = format!("groups[{i}]");
                    r.unknown_keys(t, &format!("{p}."), GROUP_KEYS);
                    let code = r.string(t, &format!("{p}.code"), true);
                    let name = r.string(t, &format!("{p}.name"), true);
                    if let Some(c) = &code {
                        if !group_codes.insert(c.clone()) {
                            r.problem(
                                &format!("{p}.code"),
                                t.get("code"),
                                &format!("mã nhóm \"{c}\" bị trùng"),
                            );
                        }
                    }
                    if let (Some(code), Some(name)) = (code, name) {
                        groups.push(TaskGroup { code, name });
                    }
                }
            }
        },
    }

    // Targets.
    let mut targets = Vec::new();
    let mut target_codes = HashSet::new();
    match root.get("targets") {
        None => r.problem("targets", None, "cần ít nhất một chỉ tiêu ([[targets]])"),
        Some(item) => match item.as_array_of_tables() {
            None => r.problem("targets", Some(item), "cần một danh sách [[targets]]"),
            Some(arr) => {
                for (i, t) in arr.iter().enumerate() {
                    let p = format!("targets[{i}]");
                    if let Some(code) = t.get("code").and_then(Item::as_str) {
                        let code = text::clean(code);
                        if !target_codes.insert(code.clone()) {
                            r.problem(
                                &format!("{p}.code"),
                                t.get("code"),
                                &format!("mã chỉ tiêu \"{code}\" bị trùng"),
                            );
                        }
                    }
                    let years = first_year.zip(last_year);
                    if let Some(target) = r.target(t, &p, &group_codes, years) {
                        targets.push(target);
                    }
                }
            }
        },
    }

    if !r.problems.is_empty() {
        r.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        return Err(r.problems);
    }
    match (
        code,
        title,
        issuing_body,
        root_unit,
        first_year,
        last_year,
        applies_to,
        period,
        report_deadline_days,
    ) {
        (
            Some(code),
            Some(title),
            Some(issuing_body),
            Some(root_unit),
            Some(first_year),
            Some(last_year),
            Some(applies_to),
            Some(period),
            Some(report_deadline_days),
        ) => Ok(SchemeDef {
            code,
            title,
            issuing_body,
            document_number,
            root_unit,
            first_year,
            last_year,
            starts_on,
            applies_to,
            period,
            report_deadline_days,
            lock_after_days,
            sample,
            objectives,
            groups,
            targets,
        }),
        // Each missing part has been reported as a problem above.
        _ => {
            Err(vec![SchemeProblem {
                path: "scheme".into(), line: None, message: "tệp chưa đầy đủ".into()
            }])
        }
    }
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

struct Reader<'a> {
    src: &'a str,
    problems: Vec<SchemeProblem>,
}

impl Reader<'_> {
    fn line(&self, span: Option<Range<usize>>) -> Option<usize> {
        span.map(|s| line_of(self.src, s.start))
    }

    fn problem(&mut self, path: &str, item: Option<&Item>, message: &str) {
        let line = self.line(item.and_then(Item::span));
        self.problems.push(SchemeProblem { path: path.into(), line, message: message.into() });
    }

    fn problem_in(&mut self, path: &str, table: &dyn TableLike, message: &str) {
        let line = table.iter().filter_map(|(_, item)| item.span()).map(|s| line_of(self.src, s.start)).min();
        self.problems.push(SchemeProblem { path: path.into(), line, message: message.into() });
    }

    fn unknown_keys(&mut self, table: &dyn TableLike, prefix: &str, known: &[&str]) {
        for (key, item) in table.iter() {
            if !known.contains(&key) {
                let path = format!("{prefix}{key}");
                self.problem(
                    &path,
                    Some(item),
                    &format!("khóa \"{key}\" không được biết; các khóa hợp lệ: {}", known.join(", ")),
                );
            }
        }
    }

    fn key(path: &str) -> &str {
        path.rsplit('.').next().unwrap_or(path)
    }

    /// A text field, NFC-normalised and trimmed; reports a missing required one or a wrong type.
    fn string(&mut self, t: &dyn TableLike, path: &str, required: bool) -> Option<String> {
        match t.get(Self::key(path)) {
            None => {
                if required {
                    self.problem_in(path, t, "thiếu trường bắt buộc");
                }
                None
            }
            Some(item) => match item.as_str().map(text::clean) {
                Some(s) if !s.is_empty() => Some(s),
                Some(_) => {
                    if required {
                        self.problem(path, Some(item), "không được để trống");
                    }
                    None
                }
                None => {
                    self.problem(path, Some(item), "cần một chuỗi ký tự");
                    None
                }
            },
        }
    }

    fn choice(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        allowed: &[&str],
        default: Option<&str>,
    ) -> Option<String> {
        let value = match (t.get(Self::key(path)), default) {
            (None, Some(d)) => return Some(d.to_string()),
            _ => self.string(t, path, true)?,
        };
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            let item = t.get(Self::key(path));
            self.problem(
                path,
                item,
                &format!("giá trị \"{value}\" không hợp lệ; cần một trong: {}", allowed.join(", ")),
            );
            None
        }
    }

    fn boolean(&mut self, t: &dyn TableLike, path: &str, default: bool) -> bool {
        match t.get(Self::key(path)) {
            None => default,
            Some(item) => item.as_bool().unwrap_or_else(|| {
                self.problem(path, Some(item), "cần true hoặc false");
                default
            }),
        }
    }

    fn year(&mut self, t: &dyn TableLike, path: &str) -> Option<i32> {
        match t.get(Self::key(path)) {
            None => {
                self.problem_in(path, t, "thiếu trường bắt buộc");
                None
            }
            Some(item) => match item.as_integer() {
                Some(y) if (1945..=2100).contains(&y) => Some(y as i32),
                _ => {
                    self.problem(path, Some(item), "cần một năm từ 1945 đến 2100");
                    None
                }
            },
        }
    }

    fn number(item: &Item) -> Option<f64> {
        item.as_float().or_else(|| item.as_integer().map(|i| i as f64)).filter(|v| v.is_finite())
    }

    fn string_list(&mut self, t: &dyn TableLike, path: &str, required: bool) -> Vec<String> {
        let Some(item) = t.get(Self::key(path)) else {
            if required {
                self.problem_in(path, t, "thiếu trường bắt buộc");
            }
            return Vec::new();
        };
        let Some(arr) = item.as_array() else {
            self.problem(path, Some(item), "cần một danh sách chuỗi ký tự");
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v.as_str().map(text::clean) {
                Some(s) if !s.is_empty() => out.push(s),
                _ => {
                    let line = self.line(v.span());
                    self.problems.push(SchemeProblem {
                        path: path.into(),
                        line,
                        message: "mỗi phần tử phải là một chuỗi ký tự không rỗng".into(),
                    });
                }
            }
        }
        out
    }

    fn target(
        &mut self,
        t: &toml_edit::Table,
        p: &str,
        groups: &HashSet<String>,
        years: Option<(i32, i32)>,
    ) -> Option<Target> {
        let before = self.problems.len();
        self.unknown_keys(t, &format!("{p}."), TARGET_KEYS);
        let path = |k: &str| format!("{p}.{k}");
        let code = self.string(t, &path("code"), true);
        let group = self.string(t, &path("group"), true);
        if let Some(g) = &group {
            if !groups.contains(g) {
                self.problem(&path("group"), t.get("group"), &format!("không có nhóm nhiệm vụ mã \"{g}\""));
            }
        }
        let name = self.string(t, &path("name"), true);
        let description = self.string(t, &path("description"), false);
        let kind = self
            .choice(t, &path("kind"), &["ratio", "count", "yes_no", "level"], None)
            .and_then(|k| TargetKind::parse(&k));
        let direction = self
            .choice(t, &path("direction"), &["higher", "lower"], Some("higher"))
            .and_then(|d| Direction::parse(&d));
        let accumulation = self
            .choice(t, &path("accumulation"), &["per_period", "cumulative"], Some("per_period"))
            .and_then(|a| Accumulation::parse(&a));
        let grades = self.string_list(t, &path("grades"), kind == Some(TargetKind::Level));
        let numerator_label = self.string(t, &path("numerator_label"), false);
        let denominator_label = self.string(t, &path("denominator_label"), false);
        let unit_label = self.string(t, &path("unit_label"), false);
        let evidence_required = self.boolean(t, &path("evidence_required"), false);
        let source_text = self.string(t, &path("source"), false).unwrap_or_else(|| "reported".into());
        let source = Source::parse(&source_text);
        if source.is_none() {
            let rules: Vec<String> =
                ComputedRule::ALL.iter().map(|r| format!("computed:{}", r.as_str())).collect();
            self.problem(
                &path("source"),
                t.get("source"),
                &format!(
                    "nguồn \"{source_text}\" không hợp lệ; cần \"reported\" hoặc một trong: {}",
                    rules.join(", ")
                ),
            );
        }

        let criterion = kind.and_then(|kind| self.criterion(t, p, kind, &grades));
        if let Some(kind) = kind {
            if kind != TargetKind::Count && accumulation == Some(Accumulation::Cumulative) {
                self.problem(
                    &path("accumulation"),
                    t.get("accumulation"),
                    "chỉ chỉ tiêu đếm (count) mới có thể cộng dồn",
                );
            }
            if matches!(kind, TargetKind::YesNo | TargetKind::Level) && direction == Some(Direction::Lower) {
                self.problem(
                    &path("direction"),
                    t.get("direction"),
                    "chỉ tiêu có/không và xếp loại không có chiều \"lower\": đặt criterion = false, hoặc xếp các mức từ thấp đến cao",
                );
            }
            if kind != TargetKind::Level && t.contains_key("grades") {
                self.problem(
                    &path("grades"),
                    t.get("grades"),
                    "chỉ chỉ tiêu xếp loại (level) mới có các mức",
                );
            }
            if let Some(Source::Computed(rule)) = source {
                if rule.kind() != kind {
                    self.problem(
                        &path("source"),
                        t.get("source"),
                        &format!(
                            "quy tắc \"{}\" cho ra chỉ tiêu loại \"{}\", không phải \"{}\"",
                            rule.as_str(),
                            rule.kind().as_str(),
                            kind.as_str()
                        ),
                    );
                }
            }
        }
        let mut seen = HashSet::new();
        for g in &grades {
            if !seen.insert(g) {
                self.problem(&path("grades"), t.get("grades"), &format!("mức \"{g}\" bị trùng"));
            }
        }
        let coverage = self.coverage(t, &path("coverage"), years);

        if self.problems.len() > before {
            return None;
        }
        Some(Target {
            code: code?,
            group: group?,
            name: name?,
            description,
            kind: kind?,
            direction: direction?,
            accumulation: accumulation?,
            criterion: criterion?,
            grades,
            numerator_label,
            denominator_label,
            unit_label,
            evidence_required,
            source: source?,
            coverage,
        })
    }

    fn criterion(
        &mut self,
        t: &toml_edit::Table,
        p: &str,
        kind: TargetKind,
        grades: &[String],
    ) -> Option<Criterion> {
        let path = format!("{p}.criterion");
        let Some(item) = t.get("criterion") else {
            self.problem_in(&path, t, "thiếu trường bắt buộc");
            return None;
        };
        let bad = |s: &mut Self, m: &str| {
            s.problem(&path, Some(item), m);
            None
        };
        match kind {
            TargetKind::Ratio => match Self::number(item) {
                Some(v) if (0.0..=100.0).contains(&v) => Some(Criterion::Percent(v)),
                _ => bad(self, "chỉ tiêu tỷ lệ cần một phần trăm từ 0 đến 100"),
            },
            TargetKind::Count => match Self::number(item) {
                Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= 1e9 => Some(Criterion::Count(v)),
                _ => bad(self, "chỉ tiêu đếm cần một số nguyên không âm"),
            },
            TargetKind::YesNo => match item.as_bool() {
                Some(b) => Some(Criterion::Answer(b)),
                None => bad(self, "chỉ tiêu có/không cần true hoặc false"),
            },
            TargetKind::Level => match item.as_str().map(text::clean) {
                Some(g) => match grades.iter().position(|x| *x == g) {
                    Some(i) => Some(Criterion::Grade(i)),
                    None if grades.is_empty() => None,
                    None => bad(self, &format!("mức \"{g}\" không có trong grades ({})", grades.join(", "))),
                },
                None => bad(self, "chỉ tiêu xếp loại cần tên một mức trong grades"),
            },
        }
    }

    fn coverage(
        &mut self,
        t: &toml_edit::Table,
        path: &str,
        years: Option<(i32, i32)>,
    ) -> BTreeMap<i32, f64> {
        let mut out = BTreeMap::new();
        let Some(item) = t.get("coverage") else {
            self.problem_in(
                path,
                t,
                "thiếu mục tiêu bao phủ theo năm (ví dụ coverage = { 2019 = 90, 2020 = 100 })",
            );
            return out;
        };
        let Some(table) = item.as_table_like() else {
            self.problem(path, Some(item), "cần một bảng năm = phần trăm, ví dụ { 2019 = 90, 2020 = 100 }");
            return out;
        };
        for (year, v) in table.iter() {
            let p = format!("{path}.{year}");
            let y: Option<i32> = year.parse().ok();
            match (y, years) {
                (Some(y), Some((first, last))) if y < first || y > last => {
                    self.problem(&p, Some(v), &format!("năm {y} nằm ngoài thời gian đề án {first}-{last}"));
                }
                (None, _) => self.problem(&p, Some(v), "khóa phải là một năm"),
                _ => {}
            }
            match Self::number(v) {
                Some(pct) if (0.0..=100.0).contains(&pct) => {
                    if let Some(y) = y {
                        out.insert(y, pct);
                    }
                }
                _ => self.problem(&p, Some(v), "cần một phần trăm từ 0 đến 100"),
            }
        }
        if out.is_empty() && table.is_empty() {
            self.problem(path, Some(item), "cần ít nhất một năm");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[scheme]
code = "TEST-1"
title = "Đề án thử"
issuing_body = "Tỉnh ủy"
root_unit = "80"
first_year = 2017
last_year = 2020
sample = true
objectives = ["Mục tiêu một"]

[[groups]]
code = "1"
name = "Nhóm một"

[[targets]]
code = "1.1"
group = "1"
name = "Tỷ lệ thành viên được tập huấn"
kind = "ratio"
criterion = 80
coverage = { 2019 = 90, 2020 = 100 }

[[targets]]
code = "1.2"
group = "1"
name = "Xếp loại khối"
kind = "level"
grades = ["Yếu", "Trung bình", "Khá", "Tốt"]
criterion = "Khá"
coverage = { 2020 = 100 }

[[targets]]
code = "1.3"
group = "1"
name = "Số vụ khiếu kiện đông người"
kind = "count"
direction = "lower"
criterion = 0
unit_label = "vụ"
source = "reported"
coverage = { 2020 = 100 }
"#;

    #[test]
    fn a_good_file_parses() {
        let s = parse_scheme(GOOD).unwrap();
        assert_eq!(s.code, "TEST-1");
        assert_eq!(s.period, PeriodType::Year);
        assert_eq!(s.report_deadline_days, 15);
        assert_eq!(s.targets.len(), 3);
        assert_eq!(s.targets[0].criterion, Criterion::Percent(80.0));
        assert_eq!(s.targets[0].coverage[&2019], 90.0);
        assert_eq!(s.targets[1].criterion, Criterion::Grade(2));
        assert_eq!(s.targets[1].criterion_text(), "≥ Khá");
        assert_eq!(s.targets[2].criterion_text(), "≤ 0 vụ");
        assert_eq!(s.targets[0].criterion_text(), "≥ 80%");
    }

    #[test]
    fn every_problem_is_reported_with_path_and_line() {
        let bad = GOOD
            .replace("kind = \"ratio\"", "kind = \"percentage\"")
            .replace("name = \"Xếp loại khối\"\n", "")
            .replace("code = \"1.3\"", "code = \"1.1\"");
        let problems = parse_scheme(&bad).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{shown:#?}");
        let kind = problems.iter().find(|p| p.path == "targets[0].kind").expect("kind problem");
        assert_eq!(kind.line, Some(20));
        assert!(kind.message.contains("percentage"));
        let missing = problems.iter().find(|p| p.path == "targets[1].name").expect("missing name");
        assert!(missing.message.contains("thiếu"));
        assert!(missing.line.is_some());
        let dup = problems.iter().find(|p| p.path == "targets[2].code").expect("duplicate code");
        assert!(dup.message.contains("trùng"));
        assert_eq!(dup.line, Some(33));
    }

    #[test]
    fn an_entry_window_is_read_and_checked() {
        assert_eq!(parse_scheme(GOOD).unwrap().lock_after_days, None, "no window unless asked");
        let with = GOOD.replace("sample = true", "sample = true\nlock_after_days = 10");
        assert_ne!(with, GOOD);
        assert_eq!(parse_scheme(&with).unwrap().lock_after_days, Some(10));
        for bad in ["-1", "400", "\"mười\""] {
            let text = GOOD.replace("sample = true", &format!("sample = true\nlock_after_days = {bad}"));
            let problems = parse_scheme(&text).unwrap_err();
            assert!(problems.iter().any(|p| p.path == "scheme.lock_after_days"), "{bad}: {problems:?}");
        }
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let problems = parse_scheme("[scheme]\ncode = \"A\"\ntitle = \n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
    }

    #[test]
    fn unknown_keys_and_out_of_range_values() {
        let bad = GOOD
            .replace("criterion = 80", "criterion = 180\ndirecton = \"lower\"")
            .replace("coverage = { 2020 = 100 }\n\n[[targets]]", "coverage = { 2030 = 100 }\n\n[[targets]]");
        let problems = parse_scheme(&bad).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"targets[0].criterion"), "{paths:?}");
        assert!(paths.contains(&"targets[0].directon"), "{paths:?}");
        assert!(paths.contains(&"targets[1].coverage.2030"), "{paths:?}");
    }

    #[test]
    fn computed_sources_must_fit_their_kind() {
        let bad = GOOD.replace("source = \"reported\"", "source = \"computed:members_trained_share\"");
        let problems = parse_scheme(&bad).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "targets[2].source");
        let bad = GOOD.replace("source = \"reported\"", "source = \"computed:nonsense\"");
        assert_eq!(parse_scheme(&bad).unwrap_err()[0].path, "targets[2].source");
    }

    #[test]
    fn numbers_are_written_the_vietnamese_way() {
        assert_eq!(format_number(1234.5), "1.234,5");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(1_000_000.0), "1.000.000");
        assert_eq!(format_number(0.25), "0,25");
        assert_eq!(format_number(-3.0), "-3");
    }
}
