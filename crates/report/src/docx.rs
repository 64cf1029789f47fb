//! A draft report (báo cáo sơ kết / tổng kết) as a Word document in the Party document layout:
//! the issuing body on the left (its parent, the body, "*", the number), "ĐẢNG CỘNG SẢN VIỆT
//! NAM" underlined on the right with the place and date; the title; sections I–III; an appendix
//! table of targets. Times New Roman 14 pt on A4. Written as plain WordprocessingML in a zip.

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use zip::write::SimpleFileOptions;

use crate::timeline::escape;

/// What the report says.
pub struct ReportDoc<'a> {
    /// The parent of the issuing body, e.g. "ĐẢNG ỦY XÃ HỰU THẠNH".
    pub parent_body: &'a str,
    /// The issuing body, e.g. "KHỐI DÂN VẬN".
    pub body: &'a str,
    /// The number line, e.g. "Số     -BC/DV" (left blank to be filled in).
    pub number: &'a str,
    /// The place in the date line, e.g. "Hựu Thạnh".
    pub place: &'a str,
    pub date: NaiveDate,
    /// "BÁO CÁO"
    pub title: &'a str,
    /// What it reports on, under the title.
    pub subtitle: &'a str,
    /// Sections I–III: heading and paragraphs.
    pub sections: &'a [(&'a str, Vec<String>)],
    pub appendix_title: &'a str,
    /// The appendix table: a header row, then one row per target.
    pub table: &'a [Vec<String>],
    /// A line saying the figures are sample data, when they are.
    pub sample_note: Option<&'a str>,
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

fn run(text: &str, bold: bool, italic: bool, underline: bool) -> String {
    let mut props = String::new();
    if bold {
        props.push_str("<w:b/>");
    }
    if italic {
        props.push_str("<w:i/>");
    }
    if underline {
        props.push_str("<w:u w:val=\"single\"/>");
    }
    format!("<w:r><w:rPr>{props}</w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>", escape(text))
}

/// A paragraph: alignment ("center", "both", "left", "right") and its runs.
fn para(align: &str, runs: &str, indent_first: bool) -> String {
    let ind = if indent_first { "<w:ind w:firstLine=\"720\"/>" } else { "" };
    format!("<w:p><w:pPr><w:jc w:val=\"{align}\"/><w:spacing w:before=\"0\" w:after=\"120\"/>{ind}</w:pPr>{runs}</w:p>")
}

fn cell(width: u32, content: &str, borders: bool) -> String {
    let b = if borders {
        ""
    } else {
        "<w:tcBorders><w:top w:val=\"nil\"/><w:left w:val=\"nil\"/><w:bottom w:val=\"nil\"/><w:right w:val=\"nil\"/></w:tcBorders>"
    };
    format!("<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/>{b}</w:tcPr>{content}</w:tc>")
}

fn table(widths: &[u32], rows: &[String], borders: bool) -> String {
    let grid: String = widths.iter().map(|w| format!("<w:gridCol w:w=\"{w}\"/>")).collect();
    let b = if borders {
        "<w:tblBorders><w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/><w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/><w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/></w:tblBorders>"
    } else {
        ""
    };
    format!(
        "<w:tbl><w:tblPr><w:tblW w:w=\"{}\" w:type=\"dxa\"/>{b}<w:tblLayout w:type=\"fixed\"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{}</w:tbl>",
        widths.iter().sum::<u32>(),
        rows.concat()
    )
}

fn document_xml(d: &ReportDoc<'_>) -> String {
    let mut body = String::new();
    // The header block: two columns, no borders.
    let left = [
        para("center", &run(d.parent_body, false, false, false), false),
        para("center", &run(d.body, true, false, false), false),
        para("center", &run("*", false, false, false), false),
        para("center", &run(d.number, false, false, false), false),
    ]
    .concat();
    let date = format!(
        "{}, ngày {} tháng {} năm {}",
        d.place,
        d.date.format("%d"),
        d.date.format("%m"),
        d.date.format("%Y")
    );
    let right = [
        para("center", &run("ĐẢNG CỘNG SẢN VIỆT NAM", true, false, true), false),
        para("center", "", false),
        para("center", &run(&date, false, true, false), false),
    ]
    .concat();
    body.push_str(&table(
        &[4300, 5054],
        &[format!("<w:tr>{}{}</w:tr>", cell(4300, &left, false), cell(5054, &right, false))],
        false,
    ));
    body.push_str(&para("center", "", false));
    if let Some(note) = d.sample_note {
        body.push_str(&para("center", &run(note, true, true, false), false));
    }
    body.push_str(&para("center", &run(d.title, true, false, false), false));
    body.push_str(&para("center", &run(d.subtitle, true, false, false), false));
    for (heading, paragraphs) in d.sections {
        body.push_str(&para("both", &run(heading, true, false, false), true));
        for p in paragraphs {
            body.push_str(&para("both", &run(p, false, false, false), true));
        }
    }
    if !d.table.is_empty() {
        body.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
        body.push_str(&para("center", &run(d.appendix_title, true, false, false), false));
        let widths = [900, 4054, 1700, 1300, 1400];
        let rows: Vec<String> = d
            .table
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let cells: String = r
                    .iter()
                    .zip(widths)
                    .map(|(t, w)| {
                        cell(
                            w,
                            &para(
                                if i == 0 { "center" } else { "left" },
                                &run(t, i == 0, false, false),
                                false,
                            ),
                            true,
                        )
                    })
                    .collect();
                format!("<w:tr>{cells}</w:tr>")
            })
            .collect();
        body.push_str(&table(&widths, &rows, true));
    }
    // A4, margins 20 mm top and bottom, 30 mm left, 15 mm right (in twentieths of a point).
    body.push_str("<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"851\" w:bottom=\"1134\" w:left=\"1701\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/></w:sectPr>");
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"{W}\"><w:body>{body}</w:body></w:document>")
}

const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
    "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:docDefaults><w:rPrDefault><w:rPr>",
    "<w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:cs=\"Times New Roman\" w:eastAsia=\"Times New Roman\"/>",
    "<w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/><w:lang w:val=\"vi-VN\"/></w:rPr></w:rPrDefault>",
    "<w:pPrDefault><w:pPr><w:spacing w:after=\"120\" w:line=\"288\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>",
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style></w:styles>"
);

const CONTENT_TYPES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>",
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>",
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>",
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>",
    "</Types>"
);

const RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>",
    "</Relationships>"
);

const DOCUMENT_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>",
    "</Relationships>"
);

/// The report as a .docx file.
pub fn report_docx(d: &ReportDoc<'_>) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let document = document_xml(d);
    for (name, content) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS),
        ("word/styles.xml", STYLES),
        ("word/document.xml", document.as_str()),
    ] {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(content.as_bytes()).map_err(|e| e.to_string())?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_report_unzips_to_a_party_document_in_times_new_roman_14() {
        let sections = [
            ("I. KẾT QUẢ THỰC HIỆN", vec!["Khối đạt 12/20 chỉ tiêu & <vượt> kế hoạch.".to_string()]),
            ("II. HẠN CHẾ, NGUYÊN NHÂN", vec![]),
            ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ", vec!["Tiếp tục.".to_string()]),
        ];
        let table = vec![
            vec![
                "Mã".into(),
                "Chỉ tiêu".into(),
                "Kết quả".into(),
                "% so với chỉ tiêu".into(),
                "Đánh giá".into(),
            ],
            vec!["1.1".into(), "=HYPERLINK(\"x\")".into(), "Có".into(), "100%".into(), "Đạt".into()],
        ];
        let doc = ReportDoc {
            parent_body: "ĐẢNG ỦY XÃ HỰU THẠNH",
            body: "KHỐI DÂN VẬN",
            number: "Số      -BC/DV",
            place: "Hựu Thạnh",
            date: NaiveDate::from_ymd_opt(2019, 11, 25).unwrap(),
            title: "BÁO CÁO",
            subtitle: "Sơ kết thực hiện Đề án năm 2019",
            sections: &sections,
            appendix_title: "PHỤ LỤC",
            table: &table,
            sample_note: None,
        };
        let bytes = report_docx(&doc).unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let xml = read("word/document.xml");
        assert!(xml.contains(
            "<w:u w:val=\"single\"/></w:rPr><w:t xml:space=\"preserve\">ĐẢNG CỘNG SẢN VIỆT NAM</w:t>"
        ));
        assert!(xml.contains("Hựu Thạnh, ngày 25 tháng 11 năm 2019"));
        assert!(xml.contains("12/20 chỉ tiêu &amp; &lt;vượt&gt; kế hoạch."), "escaped");
        assert!(xml.contains("=HYPERLINK(&quot;x&quot;)"), "text, not a field");
        assert!(xml.contains("w:pgSz w:w=\"11906\" w:h=\"16838\""), "A4");
        assert_eq!(xml.matches("<w:tr>").count(), 1 + 2, "the header block and the two table rows");
        let styles = read("word/styles.xml");
        assert!(styles.contains("w:ascii=\"Times New Roman\"") && styles.contains("<w:sz w:val=\"28\"/>"));
        assert!(read("[Content_Types].xml").contains("/word/document.xml"));
    }
}
