//! A year's implementation plan as an Excel workbook to edit offline, and reading it back.
//!
//! One row per activity (its number in column A, locked), then empty rows for new ones; a
//! dropdown for the status; dates as Excel dates. The hidden sheet names the scheme, unit and
//! year and the activity numbers the file was made with, under a checksum: a row may change
//! everything but its number, and a number the file was not made with is refused.

use calamine::{Data, Reader};
use chrono::NaiveDate;
use danvan_domain::scheme::SchemeDef;
use danvan_domain::text;
use rust_xlsxwriter::{Color, DataValidation, Format, FormatBorder, Workbook, XlsxError};

pub use crate::xlsx::TemplateError;
use crate::xlsx::{cell_name, cell_text, open, print_setup, read_info, read_sheet, write_info, write_text};

const SHEET: &str = "Kế hoạch";
const FORMAT_TAG: &str = "danvan-plan/1";
const FIRST_ROW: u32 = 4;
/// The rows and columns a plan workbook may use: a year's plan is far smaller.
const MAX_ROWS: u32 = 5_000;
const MAX_COLS: u32 = 30;
/// Empty rows offered for new activities.
const SPARE_ROWS: u32 = 30;
const HEADERS: [&str; 11] = [
    "Số",
    "Hoạt động",
    "Mô tả",
    "Chỉ tiêu (mã, cách nhau bởi dấu phẩy)",
    "Chủ trì",
    "Phối hợp (cách nhau bởi dấu phẩy)",
    "Người phụ trách",
    "Ngày bắt đầu",
    "Hạn hoàn thành",
    "Trạng thái",
    "Lý do hủy",
];

/// One activity, as written to and read from the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// The activity's number; `None` for a new one.
    pub id: Option<i64>,
    pub title: String,
    pub description: String,
    pub targets: Vec<String>,
    pub lead_org: String,
    pub supporting_orgs: Vec<String>,
    pub responsible: String,
    pub start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    /// not_started, in_progress, done or cancelled.
    pub status: String,
    pub cancel_reason: String,
    /// The spreadsheet row it came from (1-based), for messages.
    pub line: u32,
}

/// What goes into the workbook.
pub struct PlanSheet<'a> {
    pub scheme: &'a SchemeDef,
    pub unit_code: &'a str,
    pub unit_name: &'a str,
    pub year: i32,
    pub rows: Vec<PlanRow>,
    /// (status key, label) for the dropdown, e.g. ("done", "Hoàn thành").
    pub statuses: [(&'a str, &'a str); 4],
}

fn excel_date(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    (d - epoch).num_days() as f64
}

fn from_excel(serial: f64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    (serial.is_finite() && (1.0..2_958_466.0).contains(&serial))
        .then(|| epoch + chrono::Duration::days(serial.floor() as i64))
}

/// Builds the workbook of a plan.
pub fn plan_workbook(sheet: &PlanSheet<'_>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let fixed = Format::new().set_border(FormatBorder::Thin).set_font_color(Color::Gray);
    let input = Format::new()
        .set_unlocked()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xFFF2CC));
    let date = input.clone().set_num_format("dd/mm/yyyy");
    let ws = book.add_worksheet();
    ws.set_name(SHEET)?;
    write_text(
        ws,
        0,
        0,
        &format!("KẾ HOẠCH TRIỂN KHAI NĂM {} — {} (mã {})", sheet.year, sheet.unit_name, sheet.unit_code),
        &Format::new().set_bold().set_font_size(14),
    )?;
    write_text(
        ws,
        1,
        0,
        "Sửa hoặc thêm vào các ô màu vàng; không sửa cột Số. Xóa một hoạt động trên hệ thống, không phải trong tệp.",
        &Format::new().set_italic(),
    )?;
    for (col, (h, width)) in
        HEADERS.iter().zip([6.0, 40.0, 30.0, 14.0, 18.0, 24.0, 18.0, 12.0, 12.0, 16.0, 20.0]).enumerate()
    {
        write_text(ws, FIRST_ROW - 1, col as u16, h, &header)?;
        ws.set_column_width(col as u16, width)?;
    }
    ws.set_freeze_panes(FIRST_ROW, 2)?;
    print_setup(ws, FIRST_ROW - 1)?;
    let labels: Vec<&str> = sheet.statuses.iter().map(|(_, l)| *l).collect();
    let status_list = DataValidation::new()
        .allow_list_strings(&labels)?
        .set_error_message("Chọn một trạng thái trong danh sách.")?;
    let label_of = |key: &str| -> String {
        sheet.statuses.iter().find(|(k, _)| *k == key).map_or(key, |(_, l)| *l).to_string()
    };
    let total = sheet.rows.len() as u32 + SPARE_ROWS;
    for i in 0..total {
        let r = FIRST_ROW + i;
        let row = sheet.rows.get(i as usize);
        match row.and_then(|a| a.id) {
            Some(id) => {
                ws.write_number_with_format(r, 0, id as f64, &fixed)?;
            }
            None => {
                ws.write_blank(r, 0, &fixed)?;
            }
        }
        let texts = row.map(|a| {
            [
                a.title.clone(),
                a.description.clone(),
                a.targets.join(", "),
                a.lead_org.clone(),
                a.supporting_orgs.join(", "),
                a.responsible.clone(),
            ]
        });
        for col in 1..=6u16 {
            match texts.as_ref().map(|t| t[col as usize - 1].as_str()).filter(|t| !t.is_empty()) {
                Some(t) => write_text(ws, r, col, t, &input)?,
                None => {
                    ws.write_blank(r, col, &input)?;
                }
            }
        }
        for (col, d) in [(7u16, row.and_then(|a| a.start)), (8, row.and_then(|a| a.due))] {
            match d {
                Some(d) => {
                    ws.write_number_with_format(r, col, excel_date(d), &date)?;
                }
                None => {
                    ws.write_blank(r, col, &date)?;
                }
            }
        }
        match row {
            Some(a) => write_text(ws, r, 9, &label_of(&a.status), &input)?,
            None => {
                ws.write_blank(r, 9, &input)?;
            }
        }
        match row.map(|a| a.cancel_reason.as_str()).filter(|t| !t.is_empty()) {
            Some(t) => write_text(ws, r, 10, t, &input)?,
            None => {
                ws.write_blank(r, 10, &input)?;
            }
        }
    }
    ws.add_data_validation(FIRST_ROW, 9, FIRST_ROW + total - 1, 9, &status_list)?;
    ws.protect();
    let ids = sheet.rows.iter().filter_map(|a| a.id).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
    let lines = vec![
        ("format".to_string(), FORMAT_TAG.to_string()),
        ("scheme".into(), sheet.scheme.code.clone()),
        ("unit".into(), sheet.unit_code.into()),
        ("year".into(), sheet.year.to_string()),
        ("ids".into(), ids),
    ];
    write_info(&mut book, &lines)?;
    book.save_to_buffer()
}

/// Reads a plan workbook for the given scheme, unit and year: every non-empty row. Statuses
/// are given back as keys; `statuses` are the (key, label) pairs the labels are matched with.
pub fn read_plan(
    bytes: &[u8],
    def: &SchemeDef,
    unit_code: &str,
    year: i32,
    statuses: &[(&str, &str); 4],
) -> Result<Vec<PlanRow>, TemplateError> {
    let mut book = open(bytes).map_err(TemplateError::Broken)?;
    if !book.sheet_names().iter().any(|n| n == SHEET) {
        return Err(TemplateError::Foreign);
    }
    let info = read_info(&mut book, FORMAT_TAG)?;
    let (scheme, unit, y) =
        (info.get("scheme").unwrap_or(""), info.get("unit").unwrap_or(""), info.get("year").unwrap_or(""));
    if scheme != def.code || unit != unit_code || y != year.to_string() {
        return Err(TemplateError::Misplaced(format!(
            "tệp này là kế hoạch của đơn vị mã {unit}, năm {y} (đề án {scheme}), không phải đơn vị mã {unit_code}, năm {year}"
        )));
    }
    let known: Vec<i64> = info.get("ids").unwrap_or("").split(';').filter_map(|s| s.parse().ok()).collect();
    let range = read_sheet(&mut book, SHEET, MAX_ROWS, MAX_COLS)?;
    let formulas = range.formula_cells();
    if !formulas.is_empty() {
        return Err(TemplateError::Cells(vec![format!(
            "các ô {} chứa công thức; tệp chỉ nhận giá trị nhập tay",
            formulas.join(", ")
        )]));
    }
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    let end = range.last_row().unwrap_or(0);
    for r in FIRST_ROW..=end.max(FIRST_ROW) {
        let at = |c: u16| range.get(r, c);
        let mut text = |c: u16| match cell_text(at(c)) {
            Ok(v) => v.unwrap_or_default(),
            Err(()) => {
                problems.push(format!("ô {}: không đọc được", cell_name(r, c)));
                String::new()
            }
        };
        let id_text = text(0);
        let title = text(1);
        let fields: Vec<String> = (2..=6).map(&mut text).collect();
        let status_text = text(9);
        let cancel_reason = text(10);
        let mut date = |c: u16| -> Option<NaiveDate> {
            match at(c) {
                None | Some(Data::Empty) => None,
                Some(Data::DateTime(d)) => from_excel(d.as_f64()),
                Some(Data::Float(f)) => from_excel(*f),
                Some(Data::Int(i)) => from_excel(*i as f64),
                Some(Data::String(s)) if s.trim().is_empty() => None,
                Some(Data::String(s)) | Some(Data::DateTimeIso(s)) => {
                    let s = s.trim();
                    let parsed = NaiveDate::parse_from_str(s, "%d/%m/%Y")
                        .or_else(|_| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d"))
                        .ok();
                    if parsed.is_none() {
                        problems
                            .push(format!("ô {}: \"{s}\" không phải ngày (ngày/tháng/năm)", cell_name(r, c)));
                    }
                    parsed
                }
                Some(_) => {
                    problems.push(format!("ô {}: không phải ngày", cell_name(r, c)));
                    None
                }
            }
        };
        let (start, due) = (date(7), date(8));
        let empty = id_text.is_empty()
            && title.is_empty()
            && fields.iter().all(String::is_empty)
            && start.is_none()
            && due.is_none()
            && status_text.is_empty()
            && cancel_reason.is_empty();
        if empty {
            continue;
        }
        let id = if id_text.is_empty() {
            None
        } else {
            match id_text.replace(',', ".").parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64)
            {
                Some(i) if known.contains(&i) && !seen.contains(&i) => {
                    seen.push(i);
                    Some(i)
                }
                _ => {
                    return Err(TemplateError::Tampered(format!(
                        "ô {} có số hoạt động \"{id_text}\" không có trong tệp gốc hoặc bị lặp",
                        cell_name(r, 0)
                    )))
                }
            }
        };
        let status = if status_text.is_empty() {
            "not_started".to_string()
        } else {
            let folded = text::fold(&status_text);
            match statuses.iter().find(|(k, l)| text::fold(l) == folded || *k == status_text) {
                Some((k, _)) => k.to_string(),
                None => {
                    problems.push(format!(
                        "ô {}: trạng thái \"{status_text}\" không có trong danh sách",
                        cell_name(r, 9)
                    ));
                    String::new()
                }
            }
        };
        let list =
            |s: &str| s.split([',', ';']).map(text::clean).filter(|s| !s.is_empty()).collect::<Vec<_>>();
        rows.push(PlanRow {
            id,
            title: text::clean(&title),
            description: text::clean_multiline(&fields[0]),
            targets: list(&fields[1]),
            lead_org: text::clean(&fields[2]),
            supporting_orgs: list(&fields[3]),
            responsible: text::clean(&fields[4]),
            start,
            due,
            status,
            cancel_reason: text::clean(&cancel_reason),
            line: r + 1,
        });
    }
    if !problems.is_empty() {
        return Err(TemplateError::Cells(problems));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{edit_cell, Edit};
    use danvan_domain::scheme::parse_scheme;

    const STATUSES: [(&str, &str); 4] = [
        ("not_started", "Chưa bắt đầu"),
        ("in_progress", "Đang thực hiện"),
        ("done", "Hoàn thành"),
        ("cancelled", "Đã hủy"),
    ];

    fn def() -> SchemeDef {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml")).unwrap()
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2018, m, day).unwrap()
    }

    fn row(id: i64, title: &str) -> PlanRow {
        PlanRow {
            id: Some(id),
            title: title.into(),
            description: "Mô tả".into(),
            targets: vec!["2.1".into(), "4.2".into()],
            lead_org: "Đảng ủy".into(),
            supporting_orgs: vec!["UBMTTQ".into()],
            responsible: "=Bí thư".into(),
            start: Some(d(3, 1)),
            due: Some(d(3, 31)),
            status: "in_progress".into(),
            cancel_reason: String::new(),
            line: 0,
        }
    }

    fn workbook(rows: Vec<PlanRow>) -> Vec<u8> {
        plan_workbook(&PlanSheet {
            scheme: &def(),
            unit_code: "27988",
            unit_name: "Xã Hựu Thạnh",
            year: 2018,
            rows,
            statuses: STATUSES,
        })
        .unwrap()
    }

    /// Issue 16, item 10: the plan workbook had no page setup.
    #[test]
    fn the_plan_prints_a4_landscape_one_page_wide_with_its_titles() {
        let x = workbook(vec![row(7, "Hội nghị")]);
        crate::xlsx::assert_prints_a4_landscape_one_page_wide(&crate::xlsx::part_of(
            &x,
            "xl/worksheets/sheet1.xml",
        ));
        let titles = crate::xlsx::part_of(&x, "xl/workbook.xml");
        assert!(titles.contains("'Kế hoạch'!$1:$4"), "{titles}");
    }

    #[test]
    fn a_plan_round_trips_and_takes_new_rows_typed_in_excel() {
        let x = workbook(vec![row(7, "Hội nghị"), row(9, "Tập huấn")]);
        let back = read_plan(&x, &def(), "27988", 2018, &STATUSES).unwrap();
        let mut expected = row(7, "Hội nghị");
        expected.line = FIRST_ROW + 1;
        assert_eq!(back[0], expected);
        assert_eq!(back.len(), 2);
        // A new activity typed on a spare row, a status changed, a date typed as text.
        let x = edit_cell(&x, 1, "B7", Edit::Text("Đối thoại"));
        let x = edit_cell(&x, 1, "E7", Edit::Text("UBND"));
        let x = edit_cell(&x, 1, "H7", Edit::Number(excel_date(d(5, 1))));
        let x = edit_cell(&x, 1, "I7", Edit::Text("30/06/2018"));
        let x = edit_cell(&x, 1, "J5", Edit::Text("Hoàn thành"));
        let back = read_plan(&x, &def(), "27988", 2018, &STATUSES).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].status, "done");
        assert_eq!(
            (back[2].id, back[2].title.as_str(), back[2].start, back[2].due),
            (None, "Đối thoại", Some(d(5, 1)), Some(d(6, 30)))
        );
        assert_eq!(back[2].status, "not_started");
    }

    /// Issue 14, defect 1: a plan workbook with one cell at XFD1048576 aborted the server.
    #[test]
    fn a_cell_far_outside_the_plan_is_refused_without_reading_the_extent() {
        let x = workbook(vec![row(7, "Hội nghị")]);
        for sheet in [1, 2] {
            let hostile = crate::testing::add_far_cell(&x, sheet, "XFD1048576", 1_048_576);
            match read_plan(&hostile, &def(), "27988", 2018, &STATUSES) {
                Err(TemplateError::Tampered(m)) => assert!(m.contains("XFD1048576"), "{m}"),
                other => panic!("sheet {sheet}: {other:?}"),
            }
        }
    }

    #[test]
    fn foreign_numbers_bad_cells_and_other_units_are_refused() {
        let x = workbook(vec![row(7, "Hội nghị")]);
        let forged = edit_cell(&x, 1, "A5", Edit::Number(8.0));
        assert!(
            matches!(read_plan(&forged, &def(), "27988", 2018, &STATUSES), Err(TemplateError::Tampered(m)) if m.contains("A5"))
        );
        let dup = edit_cell(&x, 1, "A6", Edit::Number(7.0));
        let dup = edit_cell(&dup, 1, "B6", Edit::Text("Chép"));
        assert!(matches!(read_plan(&dup, &def(), "27988", 2018, &STATUSES), Err(TemplateError::Tampered(_))));
        let bad = edit_cell(&x, 1, "H5", Edit::Text("mai"));
        let bad = edit_cell(&bad, 1, "J5", Edit::Text("Xong rồi"));
        let err = read_plan(&bad, &def(), "27988", 2018, &STATUSES).unwrap_err();
        assert!(
            matches!(&err, TemplateError::Cells(p) if p.len() == 2 && p[0].contains("H5") && p[1].contains("J5")),
            "{err}"
        );
        assert!(matches!(read_plan(&x, &def(), "27988", 2019, &STATUSES), Err(TemplateError::Misplaced(_))));
        assert!(matches!(read_plan(&x, &def(), "27931", 2018, &STATUSES), Err(TemplateError::Misplaced(_))));
        let info = edit_cell(&x, 2, "B5", Edit::Text("7;8"));
        assert!(matches!(
            read_plan(&info, &def(), "27988", 2018, &STATUSES),
            Err(TemplateError::Tampered(_))
        ));
        let formula = edit_cell(&x, 1, "B6", Edit::Formula("B5", 0.0));
        assert!(matches!(
            read_plan(&formula, &def(), "27988", 2018, &STATUSES),
            Err(TemplateError::Cells(_))
        ));
    }
}
