//! The bloc's work in its commune: hamlets and their teams (tổ dân vận), meetings with their
//! attendance and conclusions. Input is cleaned (NFC, spaces) and checked here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text;
use crate::units::{kind_of_name, UnitLevel};

fn too_long(problems: &mut Vec<String>, what: &str, v: &str, max: usize) {
    if v.chars().count() > max {
        problems.push(format!("{what} dài quá {max} ký tự"));
    }
}

/// A hamlet (ấp, khu phố, thôn, tổ dân phố…) of a commune, with its mass mobilization team.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HamletInput {
    /// The full name with its type word: "Ấp Bình Tả", "Khu phố 3".
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub name: String,
    /// The type word; taken from the name when empty.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub team: Option<TeamInput>,
}

/// A hamlet's mass mobilization team (tổ dân vận).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TeamInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub leader: String,
    #[serde(default)]
    pub deputies: Vec<String>,
    /// Everyone in the team, the leader and deputies included.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 500))]
    pub member_count: u32,
    /// The decision that set the team up (number), if any.
    #[serde(default)]
    pub decision: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    )]
    pub formed_on: NaiveDate,
}

impl HamletInput {
    pub fn cleaned(&self) -> Result<HamletInput, Vec<String>> {
        let mut problems = Vec::new();
        let name = text::clean(&self.name);
        let kind = match text::clean(&self.kind) {
            k if k.is_empty() => {
                kind_of_name(UnitLevel::Hamlet, &name).map(str::to_string).unwrap_or_default()
            }
            k => k,
        };
        if name.is_empty() {
            problems.push("cần ghi tên ấp, khu phố".into());
        }
        too_long(&mut problems, "tên ấp", &name, 100);
        if !UnitLevel::Hamlet.kinds().contains(&kind.as_str()) {
            problems.push(format!(
                "\"{name}\": loại phải là một trong {} (ghi ở cột loại hoặc ở đầu tên)",
                UnitLevel::Hamlet.kinds().join(", ")
            ));
        }
        let team = match &self.team {
            None => None,
            Some(t) => match t.cleaned() {
                Ok(t) => Some(t),
                Err(p) => {
                    problems.extend(p.into_iter().map(|p| format!("{name}: {p}")));
                    None
                }
            },
        };
        if problems.is_empty() {
            Ok(HamletInput { name, kind, team })
        } else {
            Err(problems)
        }
    }
}

impl TeamInput {
    pub fn cleaned(&self) -> Result<TeamInput, Vec<String>> {
        let mut problems = Vec::new();
        let leader = text::clean(&self.leader);
        let deputies: Vec<String> =
            self.deputies.iter().map(|d| text::clean(d)).filter(|d| !d.is_empty()).collect();
        let decision = self.decision.as_deref().map(text::clean).filter(|d| !d.is_empty());
        if leader.is_empty() {
            problems.push("tổ dân vận cần có tổ trưởng".into());
        }
        if let Err(e) = crate::period::check_day("ngày thành lập", self.formed_on) {
            problems.push(e);
        }
        too_long(&mut problems, "tên tổ trưởng", &leader, 100);
        for d in &deputies {
            too_long(&mut problems, "tên tổ phó", d, 100);
        }
        if let Some(d) = &decision {
            too_long(&mut problems, "số quyết định", d, 100);
        }
        let needed = 1 + deputies.len() as u32;
        if self.member_count < needed {
            problems
                .push(format!("số thành viên ({}) ít hơn tổ trưởng và tổ phó ({needed})", self.member_count));
        }
        if self.member_count > 500 {
            problems.push(format!("số thành viên {} quá lớn", self.member_count));
        }
        if problems.is_empty() {
            Ok(TeamInput {
                leader,
                deputies,
                member_count: self.member_count,
                decision,
                formed_on: self.formed_on,
            })
        } else {
            Err(problems)
        }
    }
}

/// The columns of a hamlet list in CSV (UTF-8, a header row; `;` between deputies).
pub const HAMLET_CSV_HEADER: [&str; 7] =
    ["ten", "loai", "to_truong", "to_pho", "so_thanh_vien", "quyet_dinh", "ngay_thanh_lap"];

/// Reads a hamlet list: every row is checked and all problems are reported with their line;
/// nothing is returned unless every row is valid (the import is all or nothing).
pub fn parse_hamlet_csv(bytes: &[u8]) -> Result<Vec<HamletInput>, Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| vec!["tệp không phải văn bản UTF-8 (hãy lưu dạng CSV UTF-8)".to_string()])?;
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| text::clean(c).to_lowercase()).collect(),
        Err(e) => return Err(vec![format!("không đọc được dòng tiêu đề: {e}")]),
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(name_col) = col("ten") else {
        return Err(vec![format!("thiếu cột \"ten\"; các cột: {}", HAMLET_CSV_HEADER.join(","))]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("dòng {}: {e}", i + 2));
                continue;
            }
        };
        // The line the record starts on (a quoted cell may span lines).
        let line = record.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_string();
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // No cell of a hamlet list holds a line break: one that does began with a quote that
        // was never closed and swallowed the lines after it.
        if record.iter().any(|c| c.contains(['\n', '\r'])) {
            problems.push(format!(
                "dòng {line}: dấu ngoặc kép (\") mở mà không đóng, ô kéo dài sang các dòng sau"
            ));
            continue;
        }
        let extra_empty = record.iter().skip(header.len()).all(|c| c.trim().is_empty());
        if record.len() < header.len() || !extra_empty {
            problems.push(format!(
                "dòng {line}: có {} cột, cần {} cột như dòng tiêu đề ({})",
                record.len(),
                header.len(),
                header.join(",")
            ));
            continue;
        }
        let leader = get(col("to_truong"));
        let team = if text::clean(&leader).is_empty() {
            None
        } else {
            let count = get(col("so_thanh_vien"));
            let member_count = match count.trim().parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    problems.push(format!("dòng {line}: số thành viên \"{count}\" không phải số nguyên"));
                    continue;
                }
            };
            let formed = get(col("ngay_thanh_lap"));
            let Some(formed_on) = crate::period::parse_day(&formed) else {
                problems.push(format!("dòng {line}: ngày thành lập \"{formed}\" không hợp lệ (dd/mm/yyyy)"));
                continue;
            };
            Some(TeamInput {
                leader,
                deputies: get(col("to_pho")).split(';').map(str::to_string).collect(),
                member_count,
                decision: Some(get(col("quyet_dinh"))),
                formed_on,
            })
        };
        let input = HamletInput { name: get(Some(name_col)), kind: get(col("loai")), team };
        match input.cleaned() {
            Ok(h) => {
                if !seen.insert(text::name_key(&h.name)) {
                    problems.push(format!("dòng {line}: \"{}\" trùng với một dòng trước", h.name));
                }
                out.push(h);
            }
            Err(p) => problems.extend(p.into_iter().map(|p| format!("dòng {line}: {p}"))),
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push("tệp không có dòng nào".into());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The kinds of meeting the bloc holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// Giao ban: the periodic review meeting (the cadence `meetings_held` counts).
    GiaoBan,
    HoiNghi,
    DoiThoai,
    TapHuan,
    Other,
}

impl MeetingKind {
    pub const ALL: [MeetingKind; 5] =
        [Self::GiaoBan, Self::HoiNghi, Self::DoiThoai, Self::TapHuan, Self::Other];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GiaoBan => "giao_ban",
            Self::HoiNghi => "hoi_nghi",
            Self::DoiThoai => "doi_thoai",
            Self::TapHuan => "tap_huan",
            Self::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether a member attended, and why not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub member_id: i64,
    pub present: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A meeting as a person records it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingInput {
    pub kind: MeetingKind,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    )]
    pub held_on: NaiveDate,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub chair: String,
    #[serde(default)]
    pub content: String,
    /// As given (one per line); once stored, a meeting's conclusions are records of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conclusions: Vec<String>,
    #[serde(default)]
    pub attendance: Vec<Attendance>,
}

pub const MAX_MEETING_TEXT: usize = 10_000;

impl MeetingInput {
    /// Cleans the text and checks it; `serving` are the members of the bloc on the day (only they
    /// can attend) and `today` bounds the date (a meeting is recorded once it has been held).
    pub fn cleaned(&self, serving: &[i64], today: NaiveDate) -> Result<MeetingInput, Vec<String>> {
        let mut problems = Vec::new();
        let place = text::clean(&self.place);
        let chair = text::clean(&self.chair);
        let content = text::clean_multiline(&self.content).trim().to_string();
        let conclusions: Vec<String> = self
            .conclusions
            .iter()
            .map(|c| text::clean_multiline(c).trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        too_long(&mut problems, "địa điểm", &place, 200);
        too_long(&mut problems, "người chủ trì", &chair, 100);
        too_long(&mut problems, "nội dung", &content, MAX_MEETING_TEXT);
        for c in &conclusions {
            too_long(&mut problems, "kết luận", c, 2000);
        }
        if conclusions.len() > 50 {
            problems.push("tối đa 50 kết luận mỗi cuộc họp".into());
        }
        if let Err(e) = crate::period::check_day("ngày họp", self.held_on) {
            problems.push(e);
        }
        if self.held_on > today {
            problems.push(format!("ngày họp {} chưa đến", self.held_on.format("%d/%m/%Y")));
        }
        let mut seen = std::collections::HashSet::new();
        let mut attendance = Vec::new();
        for a in &self.attendance {
            if !serving.contains(&a.member_id) {
                problems.push(format!("thành viên #{} không thuộc khối vào ngày họp", a.member_id));
                continue;
            }
            if !seen.insert(a.member_id) {
                problems.push(format!("thành viên #{} được ghi hai lần", a.member_id));
                continue;
            }
            let reason =
                if a.present { None } else { a.reason.as_deref().map(text::clean).filter(|r| !r.is_empty()) };
            if let Some(r) = &reason {
                too_long(&mut problems, "lý do vắng", r, 200);
            }
            attendance.push(Attendance { member_id: a.member_id, present: a.present, reason });
        }
        if problems.is_empty() {
            Ok(MeetingInput {
                kind: self.kind,
                held_on: self.held_on,
                place,
                chair,
                content,
                conclusions,
                attendance,
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn hamlet_kind_comes_from_the_name() {
        let h = HamletInput { name: " Ấp  Bình Tả ".into(), ..Default::default() }.cleaned().unwrap();
        assert_eq!((h.name.as_str(), h.kind.as_str()), ("Ấp Bình Tả", "Ấp"));
        let err = HamletInput { name: "Xóm Mới".into(), ..Default::default() }.cleaned().unwrap_err();
        assert!(err[0].contains("loại phải là"), "{err:?}");
    }

    #[test]
    fn a_team_needs_a_leader_and_enough_members() {
        let t = TeamInput {
            leader: "Lê Văn B".into(),
            deputies: vec!["Trần Thị C".into(), " ".into()],
            member_count: 1,
            decision: Some(" ".into()),
            formed_on: day(2018, 3, 1),
        };
        let err = t.cleaned().unwrap_err();
        assert!(err[0].contains("ít hơn tổ trưởng và tổ phó (2)"), "{err:?}");
        let ok = TeamInput { member_count: 7, ..t }.cleaned().unwrap();
        assert_eq!((ok.deputies.len(), ok.decision), (1, None));
    }

    #[test]
    fn hamlet_csv_reports_every_bad_line_and_returns_nothing() {
        let good = "\u{feff}ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\n\
                    Ấp 1,,Nguyễn Văn A,Lê B;Trần C,9,12/QĐ-UBND,01/03/2018\n\
                    Khu phố Mới,,,,,,\n";
        let list = parse_hamlet_csv(good.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].team.as_ref().unwrap().deputies, ["Lê B", "Trần C"]);
        assert_eq!(list[0].team.as_ref().unwrap().formed_on, day(2018, 3, 1));
        assert!(list[1].team.is_none());
        let bad = "ten,to_truong,so_thanh_vien,ngay_thanh_lap\nẤp 1,A,nine,01/03/2018\nXóm 2,,,\nẤp 1,,,\nẤp 3,B,3,31/02/2018\n";
        let err = parse_hamlet_csv(bad.as_bytes()).unwrap_err();
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(err[0].starts_with("dòng 2:") && err[0].contains("\"nine\""));
        assert!(err[1].starts_with("dòng 3:"));
        assert!(err[2].starts_with("dòng 5:") && err[2].contains("31/02/2018"));
        assert!(parse_hamlet_csv(b"\xff\xfe").unwrap_err()[0].contains("UTF-8"));
        assert!(parse_hamlet_csv("loai\nẤp\n".as_bytes()).unwrap_err()[0].contains("thiếu cột"));
        let dup = "ten\nẤp Một\nẤp  một\n";
        assert!(parse_hamlet_csv(dup.as_bytes()).unwrap_err()[0].contains("trùng"));
    }

    /// Issue 14, defect 11: a line with 3 of 7 columns, an unclosed quote, and "Hoà"/"Hòa" (or
    /// a zero-width space) making two hamlets of one were all accepted.
    #[test]
    fn hamlet_csv_refuses_short_lines_open_quotes_and_one_name_written_twice() {
        const HEAD: &str = "ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\n";
        let short = format!("{HEAD}Ấp 1,,Nguyễn Văn A,Lê B,9,12/QĐ-UBND,01/03/2018\nẤp 2,Ấp,Trần C\n");
        let err = parse_hamlet_csv(short.as_bytes()).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].starts_with("dòng 3:") && err[0].contains("có 3 cột, cần 7"), "{err:?}");
        // Trailing empty cells (as spreadsheets write them) are fine; more filled cells are not.
        assert!(parse_hamlet_csv(format!("{HEAD}Ấp 1,,,,,,,,\n").as_bytes()).is_ok());
        let long = format!("{HEAD}Ấp 1,,,,,,,x\n");
        assert!(parse_hamlet_csv(long.as_bytes()).unwrap_err()[0].contains("có 8 cột"));
        let open = format!("{HEAD}Ấp 1,,,,,,\n\"Ấp 2,,,,,,\nẤp 3,,,,,,\n");
        let err = parse_hamlet_csv(open.as_bytes()).unwrap_err();
        assert!(err[0].starts_with("dòng 3:") && err[0].contains("ngoặc kép"), "{err:?}");
        let tones = format!("{HEAD}Ấp Hòa Bình,,,,,,\nẤp Hoà Bình,,,,,,\nẤp\u{200B} Hòa Bình,,,,,,\n");
        let err = parse_hamlet_csv(tones.as_bytes()).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert!(err.iter().all(|e| e.contains("trùng")), "{err:?}");
    }

    #[test]
    fn attendance_only_from_the_bloc_and_once() {
        let m = MeetingInput {
            kind: MeetingKind::GiaoBan,
            held_on: day(2019, 5, 2),
            place: "Hội trường UBND".into(),
            chair: "Nguyễn Văn A".into(),
            content: "Giao ban tháng 5".into(),
            conclusions: vec![" Tổ chức đối thoại ".into(), "".into()],
            attendance: vec![
                Attendance { member_id: 1, present: true, reason: Some("x".into()) },
                Attendance { member_id: 2, present: false, reason: Some(" ốm ".into()) },
            ],
        };
        let ok = m.cleaned(&[1, 2], day(2019, 6, 1)).unwrap();
        assert_eq!(ok.conclusions, ["Tổ chức đối thoại"]);
        assert_eq!(
            (ok.attendance[0].reason.as_deref(), ok.attendance[1].reason.as_deref()),
            (None, Some("ốm"))
        );
        let err = m.cleaned(&[1], day(2019, 5, 1)).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
    }
}
