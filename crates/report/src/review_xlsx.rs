//! A review as an Excel template to fill offline, and reading it back.
//!
//! The template has the unit's targets by task group, a yellow input cell per value (with a
//! dropdown for yes/no and levels), a note per target, and the three narrative sections; every
//! other cell is locked and no cell holds a formula. A very hidden sheet records what the file
//! is for — scheme, unit, period, the draft's version, which target sits on which row — with a
//! checksum, so that a file from elsewhere, or one whose fixed parts were changed, is refused.

use std::collections::BTreeMap;

use calamine::Reader;
use danvan_domain::scheme::{SchemeDef, Source, Target, TargetKind};
use danvan_domain::text;
use danvan_domain::value::{RawValue, Value};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

pub use crate::xlsx::TemplateError;
use crate::xlsx::{
    cell_name, cell_text, open, print_setup, read_info, read_sheet, write_info, write_text, Info,
};

const MAIN_SHEET: &str = "Rà soát";
const FORMAT_TAG: &str = "danvan-review-template/1";
const SECTIONS: [&str; 3] = ["Kết quả đạt được", "Hạn chế, nguyên nhân", "Phương hướng, nhiệm vụ tiếp theo"];

// Columns of the main sheet.
const COL_CODE: u16 = 0;
const COL_NAME: u16 = 1;
const COL_CRITERION: u16 = 2;
const COL_HOW: u16 = 3;
const COL_VALUE: u16 = 4;
const COL_DENOMINATOR: u16 = 5;
const COL_NOTE: u16 = 6;

/// What goes into a template.
pub struct ReviewSheet<'a> {
    pub scheme: &'a SchemeDef,
    pub unit_code: &'a str,
    pub unit_name: &'a str,
    pub period: &'a str,
    /// The draft's version (0 before the first save).
    pub version: i64,
    /// The current value and note of each target, by code.
    pub entries: BTreeMap<String, (Option<Value>, Option<String>)>,
    /// Results; limitations and causes; next tasks.
    pub narrative: [String; 3],
}

/// What a filled template holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledReview {
    /// The draft's version when the template was downloaded.
    pub version: i64,
    /// Every reported target of the template, filled or not.
    pub values: BTreeMap<String, FilledEntry>,
    pub narrative: [String; 3],
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilledEntry {
    pub raw: RawValue,
    pub note: Option<String>,
}

/// Where each target and section sits, as recorded in the hidden sheet.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    scheme: String,
    unit: String,
    period: String,
    version: i64,
    /// (code, kind, row from 0) of every reported target.
    targets: Vec<(String, String, u32)>,
    /// The row (from 0) of each narrative section's text.
    sections: [u32; 3],
}

impl Layout {
    /// The lines of the hidden sheet, without the checksum.
    fn lines(&self) -> Vec<(String, String)> {
        let targets =
            self.targets.iter().map(|(c, k, r)| format!("{c}@{r}:{k}")).collect::<Vec<_>>().join(";");
        let sections = self.sections.iter().map(u32::to_string).collect::<Vec<_>>().join(";");
        vec![
            ("format".into(), FORMAT_TAG.into()),
            ("scheme".into(), self.scheme.clone()),
            ("unit".into(), self.unit.clone()),
            ("period".into(), self.period.clone()),
            ("version".into(), self.version.to_string()),
            ("targets".into(), targets),
            ("sections".into(), sections),
        ]
    }

    /// Reads the hidden sheet back.
    fn parse(info: &Info) -> Result<Layout, TemplateError> {
        let get = |k: &str| info.get(k);
        let tampered = || TemplateError::Tampered("thông tin ẩn của mẫu".into());
        let targets = get("targets")
            .unwrap_or_default()
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|item| {
                let (code, rest) = item.rsplit_once('@')?;
                let (row, kind) = rest.split_once(':')?;
                Some((code.to_string(), kind.to_string(), row.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(tampered)?;
        let sections: Vec<u32> = get("sections")
            .unwrap_or_default()
            .split(';')
            .map(|s| s.parse().ok())
            .collect::<Option<_>>()
            .ok_or_else(tampered)?;
        Ok(Layout {
            scheme: get("scheme").unwrap_or_default().into(),
            unit: get("unit").unwrap_or_default().into(),
            period: get("period").unwrap_or_default().into(),
            version: get("version").and_then(|v| v.parse().ok()).ok_or_else(tampered)?,
            targets,
            sections: sections.try_into().map_err(|_| tampered())?,
        })
    }
}

fn how_to_fill(t: &Target) -> String {
    match t.kind {
        TargetKind::Ratio => format!(
            "Tỷ lệ: cột E là {}, cột F là {}",
            t.numerator_label.as_deref().unwrap_or("tử số"),
            t.denominator_label.as_deref().unwrap_or("mẫu số")
        ),
        TargetKind::Count => match &t.unit_label {
            Some(u) => format!("Số lượng ({u}), số nguyên"),
            None => "Số lượng, số nguyên".into(),
        },
        TargetKind::YesNo => "Chọn Có hoặc Không".into(),
        TargetKind::Level => format!("Chọn mức: {}", t.grades.join(", ")),
    }
}

/// Builds the template of a review: an .xlsx file's bytes.
pub fn review_template(sheet: &ReviewSheet<'_>) -> Result<Vec<u8>, XlsxError> {
    let def = sheet.scheme;
    let mut book = Workbook::new();
    let border = |f: Format| f.set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::Top);
    let title = Format::new().set_bold().set_font_size(14);
    let header = border(Format::new().set_bold().set_background_color(Color::RGB(0xD9E1F2)));
    let group =
        Format::new().set_bold().set_background_color(Color::RGB(0xEDEDED)).set_border(FormatBorder::Thin);
    let fixed = border(Format::new());
    let muted = border(Format::new().set_font_color(Color::Gray).set_italic());
    let input = border(Format::new().set_unlocked().set_background_color(Color::RGB(0xFFF2CC)));
    let number = input.clone().set_num_format("#,##0.###");

    let main = book.add_worksheet();
    main.set_name(MAIN_SHEET)?;
    for (col, width) in [
        (COL_CODE, 7.0),
        (COL_NAME, 48.0),
        (COL_CRITERION, 12.0),
        (COL_HOW, 30.0),
        (COL_VALUE, 14.0),
        (COL_DENOMINATOR, 14.0),
        (COL_NOTE, 36.0),
    ] {
        main.set_column_width(col, width)?;
    }
    write_text(main, 0, 0, &format!("RÀ SOÁT MỨC ĐỘ ĐẠT CÁC CHỈ TIÊU — {}", def.title), &title)?;
    write_text(
        main,
        1,
        0,
        &format!("Đơn vị: {} (mã {}) · Kỳ: {}", sheet.unit_name, sheet.unit_code, sheet.period),
        &Format::new(),
    )?;
    write_text(
        main,
        2,
        0,
        "Chỉ điền vào các ô màu vàng. Số viết kiểu Việt Nam (1.234,5) hoặc kiểu Anh (1234.5). Không sửa mã chỉ tiêu, không dùng công thức.",
        &Format::new().set_italic(),
    )?;
    let headers = ["Mã", "Chỉ tiêu", "Tiêu chí", "Cách nhập", "Giá trị / Tử số", "Mẫu số", "Ghi chú"];
    for (col, h) in headers.iter().enumerate() {
        write_text(main, 4, col as u16, h, &header)?;
    }
    main.set_freeze_panes(5, 2)?;
    print_setup(main, 4)?;

    let yes_no = DataValidation::new()
        .allow_list_strings(&["Có", "Không"])?
        .set_error_message("Chọn Có hoặc Không.")?;
    let whole = DataValidation::new()
        .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        .set_error_message("Nhập một số nguyên không âm.")?;
    let decimal = DataValidation::new()
        .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
        .set_error_message("Nhập một số không âm.")?;

    let mut row = 5u32;
    let mut layout = Layout {
        scheme: def.code.clone(),
        unit: sheet.unit_code.into(),
        period: sheet.period.into(),
        version: sheet.version,
        targets: Vec::new(),
        sections: [0; 3],
    };
    for g in &def.groups {
        main.merge_range(row, COL_CODE, row, COL_NOTE, &format!("{}. {}", g.code, g.name), &group)?;
        row += 1;
        for t in def.targets_of(&g.code) {
            let (value, note) = sheet.entries.get(&t.code).cloned().unwrap_or_default();
            write_text(main, row, COL_CODE, &t.code, &fixed)?;
            write_text(main, row, COL_NAME, &t.name, &fixed)?;
            write_text(main, row, COL_CRITERION, &t.criterion_text(), &fixed)?;
            if let Source::Computed(_) = t.source {
                write_text(main, row, COL_HOW, "Hệ thống tự tính từ dữ liệu, không nhập", &muted)?;
                for col in [COL_VALUE, COL_DENOMINATOR, COL_NOTE] {
                    main.write_blank(row, col, &muted)?;
                }
                row += 1;
                continue;
            }
            write_text(main, row, COL_HOW, &how_to_fill(t), &fixed)?;
            let num = |m: danvan_domain::value::Milli| m.as_f64();
            match (t.kind, &value) {
                (TargetKind::Ratio, Some(Value::Ratio { numerator, denominator })) => {
                    main.write_number_with_format(row, COL_VALUE, num(*numerator), &number)?;
                    main.write_number_with_format(row, COL_DENOMINATOR, num(*denominator), &number)?;
                }
                (TargetKind::Count, Some(Value::Count { count })) => {
                    main.write_number_with_format(row, COL_VALUE, num(*count), &number)?;
                }
                (TargetKind::YesNo, Some(Value::YesNo { yes })) => {
                    write_text(main, row, COL_VALUE, if *yes { "Có" } else { "Không" }, &input)?;
                }
                (TargetKind::Level, Some(Value::Level { grade })) => {
                    write_text(
                        main,
                        row,
                        COL_VALUE,
                        t.grades.get(*grade).map_or("", String::as_str),
                        &input,
                    )?;
                }
                _ => {
                    main.write_blank(
                        row,
                        COL_VALUE,
                        if matches!(t.kind, TargetKind::Ratio | TargetKind::Count) {
                            &number
                        } else {
                            &input
                        },
                    )?;
                }
            }
            match t.kind {
                TargetKind::Ratio => {
                    if value.is_none() {
                        main.write_blank(row, COL_DENOMINATOR, &number)?;
                    }
                    main.add_data_validation(row, COL_VALUE, row, COL_DENOMINATOR, &decimal)?;
                }
                TargetKind::Count => {
                    main.write_blank(row, COL_DENOMINATOR, &fixed)?;
                    main.add_data_validation(row, COL_VALUE, row, COL_VALUE, &whole)?;
                }
                TargetKind::YesNo => {
                    main.write_blank(row, COL_DENOMINATOR, &fixed)?;
                    main.add_data_validation(row, COL_VALUE, row, COL_VALUE, &yes_no)?;
                }
                TargetKind::Level => {
                    main.write_blank(row, COL_DENOMINATOR, &fixed)?;
                    let levels = DataValidation::new()
                        .allow_list_strings(&t.grades)?
                        .set_error_message(format!("Chọn một mức: {}.", t.grades.join(", ")))?;
                    main.add_data_validation(row, COL_VALUE, row, COL_VALUE, &levels)?;
                }
            }
            match note.as_deref() {
                Some(n) => write_text(main, row, COL_NOTE, n, &input)?,
                None => {
                    main.write_blank(row, COL_NOTE, &input)?;
                }
            }
            layout.targets.push((t.code.clone(), t.kind.as_str().into(), row));
            row += 1;
        }
    }
    row += 1;
    for (i, label) in SECTIONS.iter().enumerate() {
        main.merge_range(
            row,
            COL_CODE,
            row,
            COL_NOTE,
            &format!("{}. {label}", ["I", "II", "III"][i]),
            &group,
        )?;
        row += 1;
        let text = &sheet.narrative[i];
        let tall = input.clone().set_align(FormatAlign::Top);
        main.merge_range(row, COL_CODE, row, COL_NOTE, "", &tall)?;
        write_text(main, row, COL_CODE, text, &tall)?;
        main.set_row_height(row, 120)?;
        layout.sections[i] = row;
        row += 1;
    }
    main.protect();

    write_info(&mut book, &layout.lines())?;
    book.save_to_buffer()
}

/// Reads a filled template for the given scheme, unit and period.
pub fn read_review(
    bytes: &[u8],
    def: &SchemeDef,
    unit_code: &str,
    period: &str,
) -> Result<FilledReview, TemplateError> {
    let mut book = open(bytes).map_err(TemplateError::Broken)?;
    if !book.sheet_names().iter().any(|n| n == MAIN_SHEET) {
        return Err(TemplateError::Foreign);
    }
    let layout = Layout::parse(&read_info(&mut book, FORMAT_TAG)?)?;
    if layout.scheme != def.code || layout.unit != unit_code || layout.period != period {
        return Err(TemplateError::Misplaced(format!(
            "mẫu này dành cho đơn vị mã {}, kỳ {} (đề án {}), không phải đơn vị mã {unit_code}, kỳ {period}",
            layout.unit, layout.period, layout.scheme
        )));
    }
    let reported: Vec<(&str, &str)> = def
        .targets
        .iter()
        .filter(|t| matches!(t.source, Source::Reported))
        .map(|t| (t.code.as_str(), t.kind.as_str()))
        .collect();
    let recorded: Vec<(&str, &str)> =
        layout.targets.iter().map(|(c, k, _)| (c.as_str(), k.as_str())).collect();
    if reported != recorded {
        return Err(TemplateError::Outdated);
    }

    // Within the rows the template wrote (with room for a few added at the end) and its columns.
    let rows = layout.targets.iter().map(|(_, _, r)| *r).chain(layout.sections).max().unwrap_or(0) + 100;
    let main = read_sheet(&mut book, MAIN_SHEET, rows, u32::from(COL_NOTE) + 10)?;
    let formulas = main.formula_cells();
    if !formulas.is_empty() {
        return Err(TemplateError::Cells(vec![format!(
            "các ô {} chứa công thức; mẫu chỉ nhận giá trị nhập tay",
            formulas.join(", ")
        )]));
    }
    let at = |row: u32, col: u16| main.get(row, col);
    let mut problems = Vec::new();
    let read = |problems: &mut Vec<String>, row: u32, col: u16, code: &str| match cell_text(at(row, col)) {
        Ok(v) => v,
        Err(()) => {
            problems.push(format!("ô {} (chỉ tiêu {code}): không phải số hay chữ", cell_name(row, col)));
            None
        }
    };
    let mut values = BTreeMap::new();
    for (code, _, row) in &layout.targets {
        let target = def.targets.iter().find(|t| &t.code == code).ok_or(TemplateError::Outdated)?;
        let in_sheet = cell_text(at(*row, COL_CODE)).ok().flatten().unwrap_or_default();
        if &in_sheet != code {
            return Err(TemplateError::Tampered(format!(
                "ô {} phải là mã chỉ tiêu {code}, nay là \"{in_sheet}\"",
                cell_name(*row, COL_CODE)
            )));
        }
        let mut raw = RawValue::default();
        let value = read(&mut problems, *row, COL_VALUE, code);
        match target.kind {
            TargetKind::Ratio => {
                raw.numerator = value;
                raw.denominator = read(&mut problems, *row, COL_DENOMINATOR, code);
            }
            TargetKind::Count => raw.count = value,
            TargetKind::YesNo => {
                raw.yes = match value.as_deref().map(text::fold).as_deref() {
                    None => None,
                    Some("co" | "x" | "yes" | "true") => Some(true),
                    Some("khong" | "no" | "false") => Some(false),
                    Some(_) => {
                        problems.push(format!(
                            "ô {} (chỉ tiêu {code}): chọn Có hoặc Không",
                            cell_name(*row, COL_VALUE)
                        ));
                        None
                    }
                }
            }
            TargetKind::Level => raw.level = value.map(|v| text::clean(&v)),
        }
        let note =
            read(&mut problems, *row, COL_NOTE, code).map(|n| text::clean(&n)).filter(|n| !n.is_empty());
        values.insert(code.clone(), FilledEntry { raw, note });
    }
    let narrative = layout.sections.map(|row| match cell_text(at(row, COL_CODE)) {
        Ok(v) => v.map(|s| text::clean_multiline(&s)).unwrap_or_default(),
        Err(()) => String::new(),
    });
    if !problems.is_empty() {
        return Err(TemplateError::Cells(problems));
    }
    Ok(FilledReview { version: layout.version, values, narrative })
}

#[cfg(test)]
mod tests;
