//! The units × targets matrix of a province or district as files: an Excel workbook (a summary
//! sheet, then one sheet per task group) and CSV (UTF-8 with BOM). Text is written so that no
//! cell can become a formula.

use danvan_domain::text::spreadsheet_safe;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::xlsx::{print_setup, write_text};

/// A target as the matrix shows it.
pub struct MatrixTarget<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub group: &'a str,
    /// The year's goal and the coverage over all units, in percent.
    pub goal: Option<f64>,
    pub coverage: Option<f64>,
}

/// A unit's line: its coverage per target in the targets' order (percent).
pub struct MatrixLine<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub rank: usize,
    pub score: Option<f64>,
    pub received: u64,
    pub expected: u64,
    pub coverage: &'a [Option<f64>],
}

pub struct MatrixView<'a> {
    pub scheme_title: &'a str,
    pub unit_name: &'a str,
    pub period: &'a str,
    pub sample: bool,
    /// Task groups: code and name.
    pub groups: &'a [(&'a str, &'a str)],
    pub targets: &'a [MatrixTarget<'a>],
    pub lines: &'a [MatrixLine<'a>],
}

fn title(v: &MatrixView<'_>) -> String {
    format!(
        "KẾT QUẢ THỰC HIỆN CHỈ TIÊU — {} — KỲ {}{}",
        v.unit_name,
        v.period,
        if v.sample { " (DỮ LIỆU MẪU)" } else { "" }
    )
}

/// The workbook: "Tổng hợp" (rank, unit, score, reports; then coverage of each target over all
/// units), then one sheet per task group with each unit's coverage of its targets.
pub fn matrix_workbook(v: &MatrixView<'_>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_font_size(13);
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Center);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let percent = Format::new().set_border(FormatBorder::Thin).set_num_format("0\"%\"");

    let ws = book.add_worksheet();
    ws.set_name("Tổng hợp")?;
    write_text(ws, 0, 0, &title(v), &bold)?;
    write_text(ws, 1, 0, v.scheme_title, &Format::new().set_italic())?;
    for (col, (h, w)) in [
        ("Hạng", 7.0),
        ("Mã", 8.0),
        ("Đơn vị", 34.0),
        ("Tỷ lệ chỉ tiêu đạt", 14.0),
        ("Đã báo cáo", 12.0),
        ("Phải báo cáo", 12.0),
    ]
    .iter()
    .enumerate()
    {
        write_text(ws, 3, col as u16, h, &header)?;
        ws.set_column_width(col as u16, *w)?;
    }
    for (i, l) in v.lines.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write_number_with_format(r, 0, l.rank as f64, &cell)?;
        write_text(ws, r, 1, l.code, &cell)?;
        write_text(ws, r, 2, l.name, &cell)?;
        match l.score {
            Some(s) => ws.write_number_with_format(r, 3, (s * 10.0).round() / 10.0, &percent)?,
            None => ws.write_string_with_format(r, 3, "—", &cell)?,
        };
        ws.write_number_with_format(r, 4, l.received as f64, &cell)?;
        ws.write_number_with_format(r, 5, l.expected as f64, &cell)?;
    }
    let top = 6 + v.lines.len() as u32;
    for (col, h) in ["Mã", "Chỉ tiêu", "Tỷ lệ đơn vị đạt", "Mục tiêu năm"].iter().enumerate()
    {
        write_text(ws, top, col as u16 + 1, h, &header)?;
    }
    for (i, t) in v.targets.iter().enumerate() {
        let r = top + 1 + i as u32;
        write_text(ws, r, 1, t.code, &cell)?;
        write_text(ws, r, 2, t.name, &cell.clone().set_text_wrap())?;
        for (col, x) in [(3, t.coverage), (4, t.goal)] {
            match x {
                Some(x) => ws.write_number_with_format(r, col, (x * 10.0).round() / 10.0, &percent)?,
                None => ws.write_string_with_format(r, col, "—", &cell)?,
            };
        }
    }
    ws.set_freeze_panes(4, 3)?;
    print_setup(ws, 3)?;

    for (gcode, gname) in v.groups {
        let cols: Vec<(usize, &MatrixTarget<'_>)> =
            v.targets.iter().enumerate().filter(|(_, t)| t.group == *gcode).collect();
        if cols.is_empty() {
            continue;
        }
        let ws = book.add_worksheet();
        // Sheet names: at most 31 characters, none of []:*?/\.
        let name: String =
            format!("Nhóm {gcode}").chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        ws.set_name(&name)?;
        write_text(ws, 0, 0, &format!("{gcode}. {gname}"), &bold)?;
        write_text(ws, 1, 0, &title(v), &Format::new().set_italic())?;
        write_text(ws, 3, 0, "Mã", &header)?;
        write_text(ws, 3, 1, "Đơn vị", &header)?;
        ws.set_column_width(0, 8.0)?;
        ws.set_column_width(1, 34.0)?;
        for (j, (_, t)) in cols.iter().enumerate() {
            let col = 2 + j as u16;
            write_text(ws, 3, col, &format!("{} {}", t.code, t.name), &header)?;
            ws.set_column_width(col, 16.0)?;
        }
        ws.set_row_height(3, 90.0)?;
        for (i, l) in v.lines.iter().enumerate() {
            let r = 4 + i as u32;
            write_text(ws, r, 0, l.code, &cell)?;
            write_text(ws, r, 1, l.name, &cell)?;
            for (j, (k, _)) in cols.iter().enumerate() {
                match l.coverage.get(*k).copied().flatten() {
                    Some(x) => {
                        ws.write_number_with_format(r, 2 + j as u16, (x * 10.0).round() / 10.0, &percent)?
                    }
                    None => ws.write_string_with_format(r, 2 + j as u16, "—", &cell)?,
                };
            }
        }
        ws.set_freeze_panes(4, 2)?;
        print_setup(ws, 3)?;
    }
    book.save_to_buffer()
}

/// The two CSV files offered: the plain one (RFC 4180: `,` between fields, `.` in numbers) and
/// the one Excel opens right in Vietnam (`;` between fields, `,` in numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvDialect {
    Plain,
    Vietnam,
}

impl CsvDialect {
    fn separator(self) -> char {
        match self {
            Self::Plain => ',',
            Self::Vietnam => ';',
        }
    }

    fn field(self, s: &str) -> String {
        let s = spreadsheet_safe(s);
        if s.contains([self.separator(), '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.into_owned()
        }
    }

    fn number(self, x: Option<f64>) -> String {
        let text = x.map(|x| format!("{}", (x * 10.0).round() / 10.0)).unwrap_or_default();
        match self {
            Self::Plain => text,
            Self::Vietnam => text.replace('.', ","),
        }
    }
}

/// The matrix as CSV, UTF-8 with a byte-order mark (so Excel reads the Vietnamese right), with
/// Vietnamese headers: one line per unit, a column per target (percent of units meeting it).
pub fn matrix_csv(v: &MatrixView<'_>, dialect: CsvDialect) -> Vec<u8> {
    let sep = dialect.separator().to_string();
    let mut out = String::from("\u{feff}");
    let mut head: Vec<String> =
        ["Hạng", "Mã", "Đơn vị", "Tỷ lệ chỉ tiêu đạt (%)", "Đã báo cáo", "Phải báo cáo"]
            .iter()
            .map(|h| dialect.field(h))
            .collect();
    head.extend(v.targets.iter().map(|t| dialect.field(&format!("{} (%)", t.code))));
    out.push_str(&head.join(&sep));
    out.push_str("\r\n");
    for l in v.lines {
        let mut row = vec![
            l.rank.to_string(),
            dialect.field(l.code),
            dialect.field(l.name),
            dialect.number(l.score),
            l.received.to_string(),
            l.expected.to_string(),
        ];
        row.extend(l.coverage.iter().map(|c| dialect.number(*c)));
        out.push_str(&row.join(&sep));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader};

    fn view<'a>(targets: &'a [MatrixTarget<'a>], lines: &'a [MatrixLine<'a>]) -> MatrixView<'a> {
        MatrixView {
            scheme_title: "Đề án",
            unit_name: "Tỉnh Long An",
            period: "2019",
            sample: true,
            groups: &[("1", "Nhóm một"), ("2", "Nhóm hai")],
            targets,
            lines,
        }
    }

    #[test]
    fn the_workbook_has_a_summary_and_a_sheet_per_group_and_no_formulas() {
        let targets = [
            MatrixTarget {
                code: "1.1",
                name: "Nghị quyết",
                group: "1",
                goal: Some(90.0),
                coverage: Some(75.0),
            },
            MatrixTarget {
                code: "2.1",
                name: "=HYPERLINK(\"http://x\")",
                group: "2",
                goal: None,
                coverage: None,
            },
        ];
        let cov = [Some(80.0), None];
        let lines = [MatrixLine {
            code: "802",
            name: "@Huyện Đức Hòa",
            rank: 1,
            score: Some(62.5),
            received: 18,
            expected: 20,
            coverage: &cov,
        }];
        let bytes = matrix_workbook(&view(&targets, &lines)).unwrap();
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["Tổng hợp", "Nhóm 1", "Nhóm 2"]);
        let summary = book.worksheet_range("Tổng hợp").unwrap();
        assert_eq!(summary.get_value((4, 2)), Some(&Data::String("@Huyện Đức Hòa".into())));
        assert_eq!(summary.get_value((4, 3)), Some(&Data::Float(62.5)));
        let g1 = book.worksheet_range("Nhóm 1").unwrap();
        assert_eq!(g1.get_value((4, 2)), Some(&Data::Float(80.0)));
        let g2 = book.worksheet_range("Nhóm 2").unwrap();
        assert_eq!(g2.get_value((3, 2)), Some(&Data::String("2.1 =HYPERLINK(\"http://x\")".into())));
        let mut xlsx = crate::xlsx::open(&bytes).unwrap();
        for sheet in ["Tổng hợp", "Nhóm 1", "Nhóm 2"] {
            let read = crate::xlsx::read_sheet(&mut xlsx, sheet, 20_000, 200).unwrap();
            assert!(read.formula_cells().is_empty(), "{sheet}");
        }
    }

    /// Issue 16, item 10: the district matrix printed as 14 A4 pages with its columns split.
    /// Every sheet prints A4 landscape, one page wide, with its header rows on every page.
    #[test]
    fn every_sheet_prints_a4_landscape_one_page_wide_with_its_titles() {
        let targets =
            [MatrixTarget { code: "1.1", name: "Nghị quyết", group: "1", goal: None, coverage: None }];
        let cov = [Some(80.0)];
        let lines = [MatrixLine {
            code: "802",
            name: "Huyện Đức Hòa",
            rank: 1,
            score: None,
            received: 1,
            expected: 1,
            coverage: &cov,
        }];
        let bytes = matrix_workbook(&view(&targets, &lines)).unwrap();
        let part = |name: &str| crate::xlsx::part_of(&bytes, name);
        for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
            crate::xlsx::assert_prints_a4_landscape_one_page_wide(&part(sheet));
        }
        let workbook = part("xl/workbook.xml");
        assert_eq!(workbook.matches("_xlnm.Print_Titles").count(), 2, "{workbook}");
        assert!(workbook.contains("'Tổng hợp'!$1:$4"), "{workbook}");
    }

    #[test]
    fn csv_has_a_bom_and_neutralises_formulas() {
        let targets = [MatrixTarget { code: "1.1", name: "x", group: "1", goal: None, coverage: None }];
        let cov = [Some(33.333)];
        let lines = [MatrixLine {
            code: "27988",
            name: "=cmd|' /C calc'!A0",
            rank: 2,
            score: None,
            received: 1,
            expected: 1,
            coverage: &cov,
        }];
        let csv = String::from_utf8(matrix_csv(&view(&targets, &lines), CsvDialect::Plain)).unwrap();
        assert!(
            csv.starts_with(
                "\u{feff}Hạng,Mã,Đơn vị,Tỷ lệ chỉ tiêu đạt (%),Đã báo cáo,Phải báo cáo,1.1 (%)\r\n"
            ),
            "{csv}"
        );
        assert!(csv.contains("2,27988,'=cmd|' /C calc'!A0,,1,1,33.3\r\n"), "{csv}");
    }

    /// Issue 16, item 11: headers in Vietnamese with diacritics, and the file Excel opens right
    /// in Vietnam — `;` between fields, `,` in numbers, a field holding `;` quoted.
    #[test]
    fn csv_for_excel_in_vietnam_uses_semicolons_and_decimal_commas() {
        let targets = [MatrixTarget { code: "1.1", name: "x", group: "1", goal: None, coverage: None }];
        let cov = [Some(33.333)];
        let lines = [MatrixLine {
            code: "27988",
            name: "Xã Hựu Thạnh; Đức Hòa",
            rank: 1,
            score: Some(62.55),
            received: 1,
            expected: 1,
            coverage: &cov,
        }];
        let csv = String::from_utf8(matrix_csv(&view(&targets, &lines), CsvDialect::Vietnam)).unwrap();
        assert!(
            csv.starts_with(
                "\u{feff}Hạng;Mã;Đơn vị;Tỷ lệ chỉ tiêu đạt (%);Đã báo cáo;Phải báo cáo;1.1 (%)\r\n"
            ),
            "{csv}"
        );
        assert!(csv.contains("1;27988;\"Xã Hựu Thạnh; Đức Hòa\";62,6;1;1;33,3\r\n"), "{csv}");
        let plain = String::from_utf8(matrix_csv(&view(&targets, &lines), CsvDialect::Plain)).unwrap();
        assert!(plain.contains("1,27988,Xã Hựu Thạnh; Đức Hòa,62.6,1,1,33.3\r\n"), "{plain}");
    }
}
