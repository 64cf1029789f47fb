//! Administrative units (đơn vị hành chính) and the official lists they come from.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text;

/// The level of a unit in the hierarchy. Since 1 July 2025 there is no district level.
/// The code of the country unit, the parent of every province (made by the migrations).
pub const COUNTRY_CODE: &str = "VN";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// The whole country: the one unit above the provinces, for national schemes and dashboards.
    Country,
    Province,
    District,
    Commune,
    Hamlet,
}

impl UnitLevel {
    pub const ALL: [UnitLevel; 5] =
        [Self::Country, Self::Province, Self::District, Self::Commune, Self::Hamlet];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::Province => "province",
            Self::District => "district",
            Self::Commune => "commune",
            Self::Hamlet => "hamlet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The unit types (loại đơn vị) allowed at this level, as written in official names.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Self::Country => &["Quốc gia"],
            Self::Province => &["Tỉnh", "Thành phố"],
            Self::District => &["Huyện", "Quận", "Thị xã", "Thành phố"],
            Self::Commune => &["Xã", "Phường", "Thị trấn", "Đặc khu"],
            Self::Hamlet => &["Ấp", "Khu phố", "Thôn", "Tổ dân phố", "Bản", "Buôn", "Sóc"],
        }
    }

    /// The number of digits of an official code at this level (hamlets have none).
    pub fn code_len(self) -> Option<usize> {
        match self {
            Self::Country => None,
            Self::Province => Some(2),
            Self::District => Some(3),
            Self::Commune => Some(5),
            Self::Hamlet => None,
        }
    }
}

impl fmt::Display for UnitLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name without its type word: "Huyện Đức Hòa" → "Đức Hòa". A name that is only a number
/// after the type ("Phường 1") keeps its type, since "1" alone names nothing.
pub fn short_name(name: &str, kind: &str) -> String {
    match name.strip_prefix(kind).map(str::trim_start) {
        Some(rest) if !rest.is_empty() && !rest.chars().all(|c| c.is_ascii_digit()) => rest.to_string(),
        _ => name.to_string(),
    }
}

/// The unit type of a name, from its leading type word ("Tỉnh Long An" → "Tỉnh").
pub fn kind_of_name(level: UnitLevel, name: &str) -> Option<&'static str> {
    level.kinds().iter().copied().find(|k| name.starts_with(k) && name[k.len()..].starts_with(' '))
}

/// An official unit code: ASCII digits of the length its level requires.
pub fn parse_code(level: UnitLevel, raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if code.is_empty() {
        return Err("thiếu mã đơn vị".into());
    }
    if !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("mã \"{code}\" chỉ được gồm chữ số"));
    }
    if let Some(n) = level.code_len() {
        if code.len() != n {
            return Err(format!("mã \"{code}\" phải có đúng {n} chữ số"));
        }
    }
    Ok(code.to_string())
}

/// A unit as stored, with its place in the hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub level: UnitLevel,
    pub parent_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl Unit {
    /// Whether the unit exists on a date.
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_to.is_none_or(|t| date <= t)
    }
}

/// Of the units bearing one code in different periods, the one valid on `on` when a date is
/// given, otherwise the newest (the latest start of validity; an open start is the oldest).
pub fn pick_version(units: &[Unit], on: Option<NaiveDate>) -> Option<&Unit> {
    match on {
        Some(date) => units.iter().find(|u| u.valid_on(date)),
        None => units.iter().max_by_key(|u| u.valid_from),
    }
}

/// A unit read from an official list, before it is stored. Parents are named by code.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub level: UnitLevel,
    pub parent_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
    /// The line of the file the record was first read from.
    pub line: u64,
}

/// The two official list formats in `data/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// Province → district → commune, valid until 30 June 2025.
    ThreeLevel2024,
    /// Province → commune, valid from 1 July 2025.
    TwoLevel2025,
}

impl ListFormat {
    const THREE: [&'static str; 10] = [
        "province_code",
        "province_name",
        "district_code",
        "district_name",
        "district_type",
        "commune_code",
        "commune_name",
        "commune_type",
        "lat",
        "lon",
    ];
    const TWO: [&'static str; 8] = [
        "province_code",
        "province_name",
        "commune_code",
        "commune_name",
        "commune_type",
        "lat",
        "lon",
        "area_km2",
    ];

    fn columns(self) -> &'static [&'static str] {
        match self {
            Self::ThreeLevel2024 => &Self::THREE,
            Self::TwoLevel2025 => &Self::TWO,
        }
    }

    /// The validity period of the units of a list.
    pub fn validity(self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        match self {
            Self::ThreeLevel2024 => (None, NaiveDate::from_ymd_opt(2025, 6, 30)),
            Self::TwoLevel2025 => (NaiveDate::from_ymd_opt(2025, 7, 1), None),
        }
    }
}

/// One problem found in a list: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListProblem {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ListProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "dòng {}, cột {field}: {}", self.line, self.message),
            None => write!(f, "dòng {}: {}", self.line, self.message),
        }
    }
}

/// A parsed list: every unit once, parents before children.
#[derive(Debug, Clone)]
pub struct UnitList {
    pub format: ListFormat,
    pub units: Vec<UnitRecord>,
}

impl UnitList {
    pub fn count(&self, level: UnitLevel) -> usize {
        self.units.iter().filter(|u| u.level == level).count()
    }
}

/// The most problems reported for one file; past that the file is clearly not a unit list.
pub(crate) const MAX_PROBLEMS: usize = 50;

/// Reads an official unit list (either format, told apart by its header). With a province code,
/// keeps only that province's subtree. Any problem rejects the whole file: the caller imports
/// all of it or nothing.
pub fn parse_unit_list(bytes: &[u8], province: Option<&str>) -> Result<UnitList, Vec<ListProblem>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = reader.records();
    let problem = |line: u64, field: Option<&str>, message: String| ListProblem {
        line,
        field: field.map(str::to_string),
        message,
    };
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(vec![problem(1, None, format!("không đọc được tiêu đề: {e}"))]),
        None => return Err(vec![problem(1, None, "tệp rỗng".into())]),
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let format = [ListFormat::ThreeLevel2024, ListFormat::TwoLevel2025]
        .into_iter()
        .find(|f| header == f.columns())
        .ok_or_else(|| {
            vec![problem(
                1,
                None,
                format!(
                    "tiêu đề không đúng mẫu; cần: \"{}\" (danh sách 3 cấp 2024) hoặc \"{}\" (danh sách 2 cấp 2025)",
                    ListFormat::THREE.join(","),
                    ListFormat::TWO.join(",")
                ),
            )]
        })?;
    let columns = format.columns();

    let mut problems = Vec::new();
    let mut builder = ListBuilder::default();
    each_row(records, columns.len(), &mut problems, |line, record, problems| {
        let row: HashMap<&str, String> =
            columns.iter().zip(record.iter()).map(|(c, v)| (*c, text::clean(v))).collect();
        if province.is_some_and(|p| row["province_code"] != p) {
            return;
        }
        if let Err((field, message)) = builder.add_row(format, &row, line) {
            problems.push(problem(line, Some(field), message));
        }
    });
    if problems.is_empty() && builder.units.is_empty() {
        let message = match province {
            Some(p) => format!("không có đơn vị nào của tỉnh mã \"{p}\""),
            None => "không có đơn vị nào".into(),
        };
        problems.push(problem(1, None, message));
    }
    if problems.is_empty() {
        Ok(UnitList { format, units: builder.units })
    } else {
        Err(problems)
    }
}

/// Walks the data rows of a CSV list (the header already read, so the first is line 2): skips
/// blank rows, reports unreadable rows and rows with the wrong number of columns, and hands each
/// other row with its line to `row`. Stops once [`MAX_PROBLEMS`] problems are reported.
pub(crate) fn each_row<R: std::io::Read>(
    records: csv::StringRecordsIter<'_, R>,
    columns: usize,
    problems: &mut Vec<ListProblem>,
    mut row: impl FnMut(u64, &csv::StringRecord, &mut Vec<ListProblem>),
) {
    let problem = |line: u64, message: String| ListProblem { line, field: None, message };
    for (i, record) in records.enumerate() {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let line = i as u64 + 2;
        match record {
            Err(e) => problems.push(problem(line, format!("dòng không đọc được: {e}"))),
            Ok(r) if r.iter().all(|f| f.trim().is_empty()) => {}
            Ok(r) if r.len() != columns => {
                problems.push(problem(line, format!("có {} cột, cần {columns}", r.len())))
            }
            Ok(r) => row(line, &r, problems),
        }
    }
}

#[derive(Default)]
struct ListBuilder {
    units: Vec<UnitRecord>,
    index: HashMap<(UnitLevel, String), usize>,
}

type RowError = (&'static str, String);

impl ListBuilder {
    fn add_row(
        &mut self,
        format: ListFormat,
        row: &HashMap<&str, String>,
        line: u64,
    ) -> Result<(), RowError> {
        let province = self.add_unit(UnitLevel::Province, row, "province", None, line)?;
        let commune_parent = match format {
            ListFormat::ThreeLevel2024 => {
                let district =
                    self.add_unit(UnitLevel::District, row, "district", Some(province.clone()), line)?;
                // A district with no commune-level units (some island districts) has a row
                // with the commune columns empty.
                let commune_cols = ["commune_code", "commune_name", "commune_type", "lat", "lon"];
                if commune_cols.iter().all(|c| row[c].is_empty()) {
                    return Ok(());
                }
                district
            }
            ListFormat::TwoLevel2025 => province,
        };
        let code = self.add_unit(UnitLevel::Commune, row, "commune", Some(commune_parent), line)?;
        let idx = self.index[&(UnitLevel::Commune, code)];
        let unit = &mut self.units[idx];
        unit.lat = Some(parse_coordinate(&row["lat"], 90.0).map_err(|m| ("lat", m))?);
        unit.lon = Some(parse_coordinate(&row["lon"], 180.0).map_err(|m| ("lon", m))?);
        if format == ListFormat::TwoLevel2025 {
            let area = &row["area_km2"];
            if !area.is_empty() {
                let a = parse_number(area).map_err(|m| ("area_km2", m))?;
                if a < 0.0 {
                    return Err(("area_km2", format!("diện tích \"{area}\" không được âm")));
                }
                // The official list writes 0.0 where the area is not known.
                self.units[idx].area_km2 = (a > 0.0).then_some(a);
            }
        }
        Ok(())
    }

    /// Adds a unit named by the row's `{prefix}_code`, `{prefix}_name` and `{prefix}_type`
    /// columns, or checks that a repeat agrees with the first mention. Returns the code.
    fn add_unit(
        &mut self,
        level: UnitLevel,
        row: &HashMap<&str, String>,
        prefix: &'static str,
        parent: Option<String>,
        line: u64,
    ) -> Result<String, RowError> {
        let (code_col, name_col, type_col) = match prefix {
            "province" => ("province_code", "province_name", None),
            "district" => ("district_code", "district_name", Some("district_type")),
            _ => ("commune_code", "commune_name", Some("commune_type")),
        };
        let code = parse_code(level, &row[code_col]).map_err(|m| (code_col, m))?;
        let name = row[name_col].clone();
        if name.is_empty() {
            return Err((name_col, "thiếu tên đơn vị".into()));
        }
        let kind = match type_col {
            Some(col) => {
                let kind = row[col].as_str();
                level.kinds().iter().copied().find(|k| *k == kind).ok_or_else(|| {
                    (
                        col,
                        format!("loại \"{kind}\" không hợp lệ; cần một trong: {}", level.kinds().join(", ")),
                    )
                })?
            }
            None => kind_of_name(level, &name).ok_or_else(|| {
                (
                    name_col,
                    format!("tên \"{name}\" phải bắt đầu bằng loại đơn vị ({})", level.kinds().join(", ")),
                )
            })?,
        };
        let key = (level, code.clone());
        if let Some(&idx) = self.index.get(&key) {
            let first = &self.units[idx];
            if first.name != name || first.kind != kind {
                return Err((
                    name_col,
                    format!(
                        "mã \"{code}\" đã có tên \"{}\" ở dòng {}, nay lại là \"{name}\"",
                        first.name, first.line
                    ),
                ));
            }
            if first.parent_code != parent {
                return Err((
                    code_col,
                    format!(
                        "mã \"{code}\" đã thuộc đơn vị cấp trên \"{}\" ở dòng {}, nay lại thuộc \"{}\"",
                        first.parent_code.as_deref().unwrap_or("-"),
                        first.line,
                        parent.as_deref().unwrap_or("-")
                    ),
                ));
            }
            if level == UnitLevel::Commune {
                return Err((code_col, format!("mã xã \"{code}\" lặp lại (đã có ở dòng {})", first.line)));
            }
            return Ok(code);
        }
        self.index.insert(key, self.units.len());
        self.units.push(UnitRecord {
            code: code.clone(),
            name,
            kind: kind.to_string(),
            level,
            parent_code: parent,
            lat: None,
            lon: None,
            area_km2: None,
            line,
        });
        Ok(code)
    }
}

/// A decimal number written with a "." decimal point, as in the official lists.
fn parse_number(raw: &str) -> Result<f64, String> {
    let v: f64 = raw.parse().map_err(|_| format!("\"{raw}\" không phải là số"))?;
    if !v.is_finite() {
        return Err(format!("\"{raw}\" không phải là số hữu hạn"));
    }
    Ok(v)
}

fn parse_coordinate(raw: &str, limit: f64) -> Result<f64, String> {
    if raw.is_empty() {
        return Err("thiếu tọa độ".into());
    }
    let v = parse_number(raw)?;
    if v.abs() > limit {
        return Err(format!("tọa độ \"{raw}\" nằm ngoài khoảng ±{limit}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type,lat,lon\n";

    #[test]
    fn short_names() {
        assert_eq!(short_name("Huyện Đức Hòa", "Huyện"), "Đức Hòa");
        assert_eq!(short_name("Thành phố Tân An", "Thành phố"), "Tân An");
        assert_eq!(short_name("Phường 1", "Phường"), "Phường 1");
        assert_eq!(kind_of_name(UnitLevel::Province, "Tỉnh Long An"), Some("Tỉnh"));
        assert_eq!(kind_of_name(UnitLevel::Province, "Thành phố Hà Nội"), Some("Thành phố"));
        assert_eq!(kind_of_name(UnitLevel::Province, "Tỉnhx"), None);
    }

    #[test]
    fn codes_are_digits_of_the_right_length() {
        assert_eq!(parse_code(UnitLevel::Commune, " 00004 ").unwrap(), "00004");
        assert!(parse_code(UnitLevel::Commune, "4").is_err());
        assert!(parse_code(UnitLevel::Province, "8a").is_err());
        assert!(parse_code(UnitLevel::District, "").is_err());
    }

    #[test]
    fn three_level_list_parses_parents_first_and_skips_empty_communes() {
        let csv = format!(
            "{THREE}80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27695,Xã Hựu Thạnh,Xã,10.9,106.4\n\
             80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27637,Thị trấn Hậu Nghĩa,Thị trấn,10.88,106.39\n\
             31,Thành phố Hải Phòng,318,Huyện Bạch Long Vĩ,Huyện,,,,,\n"
        );
        let list = parse_unit_list(csv.as_bytes(), None).unwrap();
        assert_eq!(list.format, ListFormat::ThreeLevel2024);
        assert_eq!(list.count(UnitLevel::Province), 2);
        assert_eq!(list.count(UnitLevel::District), 2);
        assert_eq!(list.count(UnitLevel::Commune), 2);
        assert_eq!(list.units[0].code, "80");
        assert_eq!(list.units[2].parent_code.as_deref(), Some("802"));
        assert_eq!(list.units[2].lat, Some(10.9));
        let only = parse_unit_list(csv.as_bytes(), Some("31")).unwrap();
        assert_eq!(only.units.len(), 2);
    }

    #[test]
    fn problems_name_line_and_field() {
        let csv = format!(
            "{THREE}80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27695,Xã Hựu Thạnh,Xã,10.9,106.4\n\
             80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,,Xã Không Mã,Xã,10.9,106.4\n\
             80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27696,Xã B,Xã,abc,106.4\n\
             80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27697,Xã C,Xã,10.9\n\
             80,Tỉnh Long An,803,Huyện Đức Hòa,Huyện,27698,Xã D,Làng,10.9,106.4\n"
        );
        let problems = parse_unit_list(csv.as_bytes(), None).unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 4, "{shown:?}");
        assert_eq!((problems[0].line, problems[0].field.as_deref()), (3, Some("commune_code")));
        assert_eq!((problems[1].line, problems[1].field.as_deref()), (4, Some("lat")));
        assert_eq!((problems[2].line, problems[2].field.as_deref()), (5, None));
        assert!(shown[2].contains("có 9 cột, cần 10"), "{}", shown[2]);
        assert_eq!((problems[3].line, problems[3].field.as_deref()), (6, Some("commune_type")));
    }

    #[test]
    fn a_district_under_two_provinces_is_refused() {
        let csv = format!(
            "{THREE}80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27695,Xã A,Xã,10.9,106.4\n\
             81,Tỉnh Khác,802,Huyện Đức Hòa,Huyện,27696,Xã B,Xã,10.9,106.4\n"
        );
        let problems = parse_unit_list(csv.as_bytes(), None).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].field.as_deref(), Some("district_code"));
    }

    #[test]
    fn foreign_file_is_refused_by_its_header() {
        let problems = parse_unit_list(b"a,b,c\n1,2,3\n", None).unwrap_err();
        assert_eq!(problems[0].line, 1);
        assert!(problems[0].message.contains("tiêu đề"));
    }

    #[test]
    fn two_level_list_with_area() {
        let csv =
            "\u{feff}province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
                   80,Tỉnh Tây Ninh,27695,Xã Hựu Thạnh,Xã,10.9,106.4,50.5\n\
                   80,Tỉnh Tây Ninh,27696,Xã Không Rõ,Xã,10.9,106.4,0.0\n\
                   80,Tỉnh Tây Ninh,27697,Xã Trống,Xã,10.9,106.4,\n";
        let list = parse_unit_list(csv.as_bytes(), None).unwrap();
        assert_eq!(list.format, ListFormat::TwoLevel2025);
        assert_eq!(list.units[1].parent_code.as_deref(), Some("80"));
        assert_eq!(list.units[1].area_km2, Some(50.5));
        assert_eq!(list.units[2].area_km2, None, "0.0 means the area is not known");
        assert_eq!(list.units[3].area_km2, None);
        let negative = csv.replace("50.5", "-1");
        let problems = parse_unit_list(negative.as_bytes(), None).unwrap_err();
        assert_eq!((problems[0].line, problems[0].field.as_deref()), (2, Some("area_km2")));
    }
}
