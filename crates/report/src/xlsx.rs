//! What every spreadsheet we write or read shares: safe opening of uploads, text that never
//! turns into a formula, and cell names.

use std::io::{Cursor, Read};

use std::fmt;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use sha2::{Digest, Sha256};

/// The most an uploaded workbook may unpack to, and the most parts it may have: a small file
/// that unpacks to gigabytes (a zip bomb) is refused before it is read.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
const MAX_PARTS: usize = 500;

/// Opens an uploaded .xlsx after checking its container. Errors are Vietnamese, for the user.
pub fn open(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>, String> {
    let broken = || "tệp không phải bảng tính Excel (.xlsx) hoặc đã bị hỏng".to_string();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| broken())?;
    if zip.len() > MAX_PARTS {
        return Err(broken());
    }
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|_| broken())?;
        // The declared size can lie; count what actually comes out, up to the limit.
        let declared = part.size();
        let real = std::io::copy(&mut part.take(MAX_UNPACKED_BYTES - unpacked + 1), &mut std::io::sink())
            .map_err(|_| broken())?;
        unpacked += real.max(declared);
        if unpacked > MAX_UNPACKED_BYTES {
            return Err("bảng tính quá lớn khi giải nén; tệp không hợp lệ".into());
        }
    }
    Xlsx::new(Cursor::new(bytes)).map_err(|_| broken())
}

/// Why an uploaded file was refused. The messages are Vietnamese, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// Not an .xlsx at all, or a damaged one.
    Broken(String),
    /// A spreadsheet, but not a template of ours.
    Foreign,
    /// One of ours whose fixed parts were changed.
    Tampered(String),
    /// One of ours, for another unit, period or year.
    Misplaced(String),
    /// The scheme's targets changed since the template was made.
    Outdated,
    /// Cells that hold what they must not: formulas, dates, errors.
    Cells(Vec<String>),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Broken(m) => write!(f, "{m}"),
            Self::Foreign => {
                write!(f, "tệp này không phải mẫu rà soát tải từ hệ thống; hãy tải mẫu Excel của kỳ này rồi điền vào đó")
            }
            Self::Tampered(m) => write!(
                f,
                "mẫu đã bị sửa ở phần cố định ({m}); hãy tải mẫu mới và chỉ điền vào các ô màu vàng"
            ),
            Self::Misplaced(m) => write!(f, "{m}"),
            Self::Outdated => {
                write!(f, "danh mục chỉ tiêu của đề án đã thay đổi từ khi tải mẫu; hãy tải mẫu mới")
            }
            Self::Cells(problems) => write!(f, "{}", problems.join("; ")),
        }
    }
}

impl std::error::Error for TemplateError {}

/// The very hidden sheet in every workbook we hand out: what the file is for, with a checksum.
const INFO_SHEET: &str = "danvan";

fn checksum(lines: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in lines {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds the hidden sheet: `lines` (the first being ("format", tag)) and their checksum.
pub fn write_info(book: &mut Workbook, lines: &[(String, String)]) -> Result<(), XlsxError> {
    let info = book.add_worksheet();
    info.set_name(INFO_SHEET)?;
    for (i, (k, v)) in lines.iter().enumerate() {
        info.write_string(i as u32, 0, k)?;
        info.write_string(i as u32, 1, v)?;
    }
    info.write_string(lines.len() as u32, 0, "checksum")?;
    info.write_string(lines.len() as u32, 1, checksum(lines))?;
    info.protect();
    info.set_very_hidden(true);
    Ok(())
}

/// What the hidden sheet says, checked.
pub struct Info(Vec<(String, String)>);

impl Info {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The most cells a sheet of ours may hold, whatever its rows and columns.
const MAX_CELLS: usize = 100_000;

/// A sheet read cell by cell into a sparse map. A dense range over the extent a file claims is
/// never built: a 2 KB file with cells A1 and XFD1048576 would need half a terabyte. A cell
/// beyond `max_rows` × `max_cols`, or more than [`MAX_CELLS`] cells, refuses the file.
pub struct Sheet {
    cells: std::collections::HashMap<(u32, u32), Data>,
    formulas: Vec<(u32, u32)>,
    last_row: Option<u32>,
}

impl Sheet {
    pub fn get(&self, row: u32, col: u16) -> Option<&Data> {
        self.cells.get(&(row, u32::from(col)))
    }

    /// The last row that holds a cell.
    pub fn last_row(&self) -> Option<u32> {
        self.last_row
    }

    /// The cells that hold formulas, by name, in sheet order.
    pub fn formula_cells(&self) -> Vec<String> {
        let mut at = self.formulas.clone();
        at.sort();
        at.into_iter().map(|(r, c)| cell_name(r, c as u16)).collect()
    }
}

/// Reads a sheet of an uploaded workbook within bounds (see [`Sheet`]).
pub fn read_sheet<R: std::io::Read + std::io::Seek>(
    book: &mut Xlsx<R>,
    name: &str,
    max_rows: u32,
    max_cols: u32,
) -> Result<Sheet, TemplateError> {
    let unreadable = || TemplateError::Broken("không đọc được nội dung bảng tính".into());
    let mut reader = book.worksheet_cells_reader(name).map_err(|_| unreadable())?;
    let mut sheet = Sheet { cells: Default::default(), formulas: Vec::new(), last_row: None };
    while let Some(cell) = reader.next_cell_with_formula().map_err(|_| unreadable())? {
        let (row, col) = cell.pos;
        if row >= max_rows || col >= max_cols || sheet.cells.len() >= MAX_CELLS {
            return Err(TemplateError::Tampered(format!(
                "trang tính \"{name}\" có ô {} nằm ngoài vùng của mẫu ({} dòng × {} cột)",
                cell_name(row.min(1_048_575), col.min(16_383) as u16),
                max_rows,
                max_cols
            )));
        }
        if cell.formula.as_deref().is_some_and(|f| !f.trim().is_empty()) {
            sheet.formulas.push((row, col));
        }
        let value = Data::from(cell.value);
        if value != Data::Empty {
            sheet.last_row = sheet.last_row.max(Some(row));
            sheet.cells.insert((row, col), value);
        }
    }
    Ok(sheet)
}

/// Reads the hidden sheet: `Foreign` without it or with another format tag, `Tampered` when
/// its checksum does not match.
pub fn read_info<R: std::io::Read + std::io::Seek>(
    book: &mut Xlsx<R>,
    tag: &str,
) -> Result<Info, TemplateError> {
    if !book.sheet_names().iter().any(|n| n == INFO_SHEET) {
        return Err(TemplateError::Foreign);
    }
    let sheet = read_sheet(book, INFO_SHEET, 1_000, 2)?;
    let mut lines = Vec::new();
    let mut sum = None;
    for row in 0..=sheet.last_row().unwrap_or(0) {
        let text = |col: u16| sheet.get(row, col).map(|d| d.to_string()).unwrap_or_default();
        let (key, value) = (text(0), text(1));
        if key == "checksum" {
            sum = Some(value);
        } else if !key.is_empty() {
            lines.push((key, value));
        }
    }
    let info = Info(lines);
    if info.get("format") != Some(tag) {
        return Err(TemplateError::Foreign);
    }
    if sum.as_deref() != Some(checksum(&info.0).as_str()) {
        return Err(TemplateError::Tampered("thông tin ẩn của mẫu".into()));
    }
    Ok(info)
}

/// How a sheet prints: A4 landscape, all columns on one page wide (as many pages tall as it
/// takes), rows 1 to `last_title_row + 1` (the title and the header row) repeated on every page.
pub fn print_setup(ws: &mut Worksheet, last_title_row: u32) -> Result<(), XlsxError> {
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, last_title_row)?;
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    Ok(())
}

/// One part of an xlsx file (its XML), for tests that read a workbook back.
#[cfg(test)]
pub(crate) fn part_of(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("an xlsx is a zip");
    let mut s = String::new();
    zip.by_name(name).expect("the part").read_to_string(&mut s).expect("UTF-8 XML");
    s
}

/// Asserts that a sheet's XML prints A4 landscape, fitted one page wide.
#[cfg(test)]
pub(crate) fn assert_prints_a4_landscape_one_page_wide(xml: &str) {
    assert!(xml.contains("<pageSetUpPr fitToPage=\"1\"/>"), "{xml}");
    let setup = &xml[xml.find("<pageSetup").expect("a page setup")..];
    let setup = &setup[..setup.find("/>").expect("a closed element")];
    for attr in ["paperSize=\"9\"", "orientation=\"landscape\"", "fitToHeight=\"0\""] {
        assert!(setup.contains(attr), "{setup}");
    }
}

/// "E7" for row 6, column 4 (both from 0).
pub fn cell_name(row: u32, col: u16) -> String {
    let mut col = u32::from(col) + 1;
    let mut letters = Vec::new();
    while col > 0 {
        let rem = ((col - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        col = (col - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

/// Writes text that stays text: a leading `=`, `+`, `-` or `@` gets Excel's quote prefix, so
/// that editing the cell in Excel does not turn it into a formula. The value itself is unchanged.
pub fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if text.starts_with(['=', '+', '-', '@']) {
        sheet.write_string_with_format(row, col, text, &format.clone().set_quote_prefix())?;
    } else {
        sheet.write_string_with_format(row, col, text, format)?;
    }
    Ok(())
}

/// A cell's content as text: numbers the way the number reader takes them without ambiguity
/// (a decimal comma, no grouping), text trimmed. `Err` for content that is no value at all.
pub fn cell_text(data: Option<&Data>) -> Result<Option<String>, ()> {
    Ok(match data {
        None | Some(Data::Empty) => None,
        Some(Data::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Some(Data::Int(i)) => Some(i.to_string()),
        Some(Data::Float(f)) => Some(f.to_string().replace('.', ",")),
        Some(Data::Bool(b)) => Some(if *b { "Có" } else { "Không" }.into()),
        Some(Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) | Data::Error(_)) => {
            return Err(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(6, 4), "E7");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(0, 701), "ZZ1");
        assert_eq!(cell_name(0, 702), "AAA1");
    }

    #[test]
    fn numbers_read_back_without_ambiguity() {
        assert_eq!(cell_text(Some(&Data::Float(1234.5))), Ok(Some("1234,5".into())));
        assert_eq!(cell_text(Some(&Data::Float(8.0))), Ok(Some("8".into())));
        assert_eq!(cell_text(Some(&Data::Int(12))), Ok(Some("12".into())));
        assert_eq!(cell_text(Some(&Data::String("  ".into()))), Ok(None));
        assert!(cell_text(Some(&Data::Error(calamine::CellErrorType::Div0))).is_err());
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert!(open(b"not a zip").err().unwrap().contains("hỏng"));
        // A zip whose one part unpacks to more than the limit.
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(true);
            w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
            let chunk = vec![b'a'; 1024 * 1024];
            for _ in 0..65 {
                std::io::Write::write_all(&mut w, &chunk).unwrap();
            }
            w.finish().unwrap();
        }
        let bytes = out.into_inner();
        assert!(bytes.len() < 1024 * 1024, "the bomb is small: {}", bytes.len());
        assert!(open(&bytes).err().unwrap().contains("giải nén"));
    }
}
