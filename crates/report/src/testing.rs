//! For tests: change cells of an .xlsx the way a person does in Excel, by rewriting the sheet's
//! XML inside the file, so that reading back is tested on files we did not write ourselves.

use std::io::{Cursor, Read, Write};

/// What to put in a cell.
pub enum Edit<'a> {
    Number(f64),
    Text(&'a str),
    /// A formula with its cached result, as Excel saves it.
    Formula(&'a str, f64),
    Empty,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Rewrites one part of an .xlsx (such as `xl/worksheets/sheet1.xml`) with `f`, keeping the
/// others as they are.
fn rewrite_part(xlsx: &[u8], part: &str, f: impl FnOnce(String) -> String) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).expect("an xlsx file");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut f = Some(f);
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).expect("a part");
        let name = file.name().expect("a part name").to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("readable part");
        if name == part {
            if let Some(f) = f.take() {
                content = f(String::from_utf8(content).expect("utf-8 xml")).into_bytes();
            }
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).expect("start part");
        out.write_all(&content).expect("write part");
    }
    out.finish().expect("finish zip").into_inner()
}

/// Replaces cell `cell` (such as "E7") of worksheet `sheet` (1 for the first) with `edit`.
/// Panics when the cell is not in the file: tests write templates whose input cells exist.
pub fn edit_cell(xlsx: &[u8], sheet: usize, cell: &str, edit: Edit<'_>) -> Vec<u8> {
    let part = format!("xl/worksheets/sheet{sheet}.xml");
    rewrite_part(xlsx, &part, |xml| {
        let open = format!("<c r=\"{cell}\"");
        let start = xml.find(&open).unwrap_or_else(|| panic!("no cell {cell} in {part}"));
        let head_end = start + xml[start..].find('>').expect("tag end");
        let end = if xml[..=head_end].ends_with("/>") {
            head_end + 1
        } else {
            head_end + xml[head_end..].find("</c>").expect("cell end") + 4
        };
        let head = &xml[start..=head_end];
        let style = head
            .split_once(" s=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(s, _)| format!(" s=\"{s}\""))
            .unwrap_or_default();
        let new = match edit {
            Edit::Number(n) => format!("<c r=\"{cell}\"{style}><v>{n}</v></c>"),
            Edit::Text(t) => {
                format!("<c r=\"{cell}\"{style} t=\"inlineStr\"><is><t>{}</t></is></c>", escape(t))
            }
            Edit::Formula(f, v) => format!("<c r=\"{cell}\"{style}><f>{}</f><v>{v}</v></c>", escape(f)),
            Edit::Empty => format!("<c r=\"{cell}\"{style}/>"),
        };
        format!("{}{new}{}", &xml[..start], &xml[end..])
    })
}

/// Adds a cell far away — at `cell`, such as "XFD1048576" on row 1048576 — to worksheet `sheet`
/// (1 for the first), the way a hostile file would: a 2 KB file whose extent is the whole sheet.
pub fn add_far_cell(xlsx: &[u8], sheet: usize, cell: &str, row: u32) -> Vec<u8> {
    let far = format!("<row r=\"{row}\"><c r=\"{cell}\"><v>1</v></c></row></sheetData>");
    rewrite_part(xlsx, &format!("xl/worksheets/sheet{sheet}.xml"), |xml| {
        xml.replacen("</sheetData>", &far, 1)
    })
}

/// The name of the cell in column `col` ('A' to 'G') on the row of target `code` in a review
/// template, found the way a person finds it: by the code in column A.
pub fn target_cell(xlsx: &[u8], code: &str, col: char) -> String {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(Cursor::new(xlsx)).expect("an xlsx file");
    let first = book.sheet_names().first().cloned().expect("a sheet");
    let sheet = book.worksheet_range(&first).expect("a readable sheet");
    let row = (0..1000u32)
        .find(|r| sheet.get_value((*r, 0)).is_some_and(|d| *d == code))
        .unwrap_or_else(|| panic!("no row for target {code}"));
    format!("{col}{}", row + 1)
}
