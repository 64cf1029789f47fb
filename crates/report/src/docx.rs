//! A draft report (báo cáo sơ kết / tổng kết) as a Word document in the Party document layout:
//! the issuing body on the left (its parent, the body, "*", the number), "ĐẢNG CỘNG SẢN VIỆT
//! NAM" underlined on the right with the place and date; the title; sections I–III; an appendix
//! table of targets. Times New Roman 14 pt on A4. Written as plain WordprocessingML in a zip.

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use zip::write::SimpleFileOptions;

use crate::timeline::escape;

/// What the report says.
/// What an empty section of a report says.
pub const EMPTY_SECTION: &str = "(Chưa có nội dung.)";

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
    /// The appendices, each a title and a table (a header row, then one row per target).
    pub tables: &'a [(String, Vec<Vec<String>>)],
    /// The "Nơi nhận:" lines, the archive ("Lưu VT.") last.
    pub recipients: &'a [String],
    /// The signer block above the space for the signature and name ("T/M KHỐI DÂN VẬN",
    /// "TRƯỞNG KHỐI").
    pub signer: &'a [String],
    /// A line saying the figures are sample data, when they are.
    pub sample_note: Option<&'a str>,
}

/// Who issues a unit's report, how its number reads, who signs, and who receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub parent_body: String,
    pub body: String,
    pub number: String,
    pub signer: Vec<String>,
    pub recipients: Vec<String>,
}

/// The Party committee of a unit as documents name it: "Huyện ủy Đức Hòa", "Thị ủy Kiến
/// Tường", "Thành ủy Tân An", "Tỉnh ủy Long An", "Đảng ủy xã Hựu Thạnh".
pub fn committee(unit: &danvan_domain::units::Unit) -> String {
    use danvan_domain::units::UnitLevel;
    let name = &unit.short_name;
    match (unit.level, unit.kind.as_str()) {
        (UnitLevel::Commune, kind) => format!("Đảng ủy {} {name}", kind.to_lowercase()),
        (_, "Thành phố") => format!("Thành ủy {name}"),
        (_, "Thị xã") => format!("Thị ủy {name}"),
        (UnitLevel::District, _) => format!("Huyện ủy {name}"),
        _ => format!("Tỉnh ủy {name}"),
    }
}

/// The letters of a committee in a document number: HU (Huyện ủy), ThU (Thị ủy), TU (Tỉnh ủy,
/// Thành ủy).
fn committee_letters(unit: &danvan_domain::units::Unit) -> &'static str {
    use danvan_domain::units::UnitLevel;
    match (unit.level, unit.kind.as_str()) {
        (UnitLevel::District, "Thị xã") => "ThU",
        (UnitLevel::District, "Thành phố") => "TU",
        (UnitLevel::District, _) => "HU",
        _ => "TU",
    }
}

/// The day the two-level hierarchy began (no districts; the provinces' Ban Tuyên giáo và Dân
/// vận in place of the districts' Ban Dân vận).
fn after_reform(unit: &danvan_domain::units::Unit) -> bool {
    unit.valid_from.is_some_and(|d| d >= danvan_domain::lineage::reform_date())
}

/// The issuer of a report by the level of the unit reporting: a commune's by its bloc, a
/// district's by its Ban Dân vận, a province's by its Ban Thường vụ. `parent` is the unit
/// above (the district before the reform, the province after it).
pub fn issuer_of(unit: &danvan_domain::units::Unit, parent: Option<&danvan_domain::units::Unit>) -> Issuer {
    use danvan_domain::units::UnitLevel;
    let upper = |s: &str| s.to_uppercase();
    let blank = "Số        ";
    match unit.level {
        UnitLevel::Commune => {
            let mut recipients = Vec::new();
            match parent {
                Some(p) if p.level == UnitLevel::District => {
                    recipients.push(format!("- Ban Dân vận {} (để báo cáo),", committee(p)));
                }
                Some(p) => {
                    recipients.push(format!("- Ban Tuyên giáo và Dân vận {} (để báo cáo),", committee(p)));
                }
                None => {}
            }
            recipients.push(format!("- {} (để báo cáo),", committee(unit)));
            recipients.push("- Lưu VT.".into());
            Issuer {
                parent_body: upper(&committee(unit)),
                body: "KHỐI DÂN VẬN".into(),
                number: format!("{blank}-BC/KDV"),
                signer: vec!["T/M KHỐI DÂN VẬN".into(), "TRƯỞNG KHỐI".into()],
                recipients,
            }
        }
        UnitLevel::District => {
            let province = parent.map(|p| format!("- Ban Dân vận {} (để báo cáo),", committee(p)));
            Issuer {
                parent_body: upper(&committee(unit)),
                body: "BAN DÂN VẬN".into(),
                number: format!("{blank}-BC/BDV{}", committee_letters(unit)),
                signer: vec!["TRƯỞNG BAN".into()],
                recipients: province
                    .into_iter()
                    .chain([format!("- Thường trực {} (để báo cáo),", committee(unit)), "- Lưu VT.".into()])
                    .collect(),
            }
        }
        UnitLevel::Province => {
            let central = if after_reform(unit) {
                "Ban Tuyên giáo và Dân vận Trung ương"
            } else {
                "Ban Dân vận Trung ương"
            };
            Issuer {
                parent_body: format!("ĐẢNG BỘ {} {}", upper(&unit.kind), upper(&unit.short_name)),
                body: upper(&committee(unit).replace(&format!(" {}", unit.short_name), "")),
                number: format!("{blank}-BC/{}", committee_letters(unit)),
                signer: vec!["T/M BAN THƯỜNG VỤ".into()],
                recipients: vec![
                    format!("- {central} (để báo cáo),"),
                    "- Các đồng chí Tỉnh ủy viên,".into(),
                    "- Lưu VT.".into(),
                ],
            }
        }
        _ => Issuer {
            parent_body: "BAN CHẤP HÀNH TRUNG ƯƠNG".into(),
            body: if after_reform(unit) {
                "BAN TUYÊN GIÁO VÀ DÂN VẬN".into()
            } else {
                "BAN DÂN VẬN".into()
            },
            number: format!("{blank}-BC/BDVTW"),
            signer: vec!["TRƯỞNG BAN".into()],
            recipients: vec!["- Ban Bí thư (để báo cáo),".into(), "- Lưu VT.".into()],
        },
    }
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
        // An empty section says so, rather than leaving a heading over nothing.
        if paragraphs.iter().all(|p| p.trim().is_empty()) {
            body.push_str(&para("both", &run(EMPTY_SECTION, false, true, false), true));
        }
    }
    // "Nơi nhận:" on the left, the signer on the right with room for the signature and name.
    let small = |text: &str, bold: bool, italic: bool| {
        format!(
            "<w:r><w:rPr>{}{}<w:sz w:val=\"24\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
            if bold { "<w:b/>" } else { "" },
            if italic { "<w:i/>" } else { "" },
            escape(text)
        )
    };
    let mut left = para("left", &small("Nơi nhận:", true, true), false);
    for r in d.recipients {
        left.push_str(&para("left", &small(r, false, false), false));
    }
    let mut right: String =
        d.signer.iter().map(|l| para("center", &run(l, true, false, false), false)).collect();
    for _ in 0..3 {
        right.push_str(&para("center", "", false));
    }
    right.push_str(&para("center", &run("……………………………", false, false, false), false));
    body.push_str(&para("left", "", false));
    body.push_str(&table(
        &[4300, 5054],
        &[format!("<w:tr>{}{}</w:tr>", cell(4300, &left, false), cell(5054, &right, false))],
        false,
    ));
    for (title, rows) in d.tables {
        body.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
        body.push_str(&para("center", &run(title, true, false, false), false));
        let columns = rows.first().map_or(0, Vec::len).max(2) as u32;
        // The code narrow, the target's name wide, the rest shared.
        let rest = (9354 - 700 - 3600) / (columns - 2).max(1);
        let widths: Vec<u32> = (0..columns)
            .map(|i| match i {
                0 => 700,
                1 => 3600,
                _ => rest,
            })
            .collect();
        let rows: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let cells: String = r
                    .iter()
                    .zip(&widths)
                    .map(|(t, w)| {
                        cell(
                            *w,
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
        let tables = vec![(
            "PHỤ LỤC 1: NĂM 2019".to_string(),
            vec![
                vec![
                    "Mã".into(),
                    "Chỉ tiêu".into(),
                    "Mức chỉ tiêu".into(),
                    "Kết quả".into(),
                    "Đánh giá".into(),
                ],
                vec!["1.1".into(), "=HYPERLINK(\"x\")".into(), "Có".into(), "Có".into(), "Đạt".into()],
            ],
        )];
        let recipients =
            ["- Ban Dân vận Huyện ủy Đức Hòa (để báo cáo),".to_string(), "- Lưu VT.".to_string()];
        let signer = ["T/M KHỐI DÂN VẬN".to_string(), "TRƯỞNG KHỐI".to_string()];
        let doc = ReportDoc {
            parent_body: "ĐẢNG ỦY XÃ HỰU THẠNH",
            body: "KHỐI DÂN VẬN",
            number: "Số      -BC/KDV",
            place: "Hựu Thạnh",
            date: NaiveDate::from_ymd_opt(2019, 11, 25).unwrap(),
            title: "BÁO CÁO",
            subtitle: "Sơ kết thực hiện Đề án năm 2019",
            sections: &sections,
            tables: &tables,
            recipients: &recipients,
            signer: &signer,
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
        // Issue 17, item 9: the empty section II says so, once; the others do not.
        assert_eq!(xml.matches(EMPTY_SECTION).count(), 1, "{xml}");
        let ii = xml.find("II. HẠN CHẾ").unwrap();
        assert!(xml[ii..].find(EMPTY_SECTION) < xml[ii..].find("III. PHƯƠNG HƯỚNG"));
        assert!(xml.contains("=HYPERLINK(&quot;x&quot;)"), "text, not a field");
        assert!(xml.contains("w:pgSz w:w=\"11906\" w:h=\"16838\""), "A4");
        assert_eq!(
            xml.matches("<w:tr>").count(),
            2 + 2,
            "the head, the signature block and the two table rows"
        );
        assert!(xml.contains(">Nơi nhận:<") && xml.contains(">- Lưu VT.<"), "{xml}");
        let signer = xml.find(">T/M KHỐI DÂN VẬN<").expect("the signer");
        assert!(
            xml[signer..].starts_with(">T/M KHỐI DÂN VẬN</w:t></w:r></w:p>")
                && xml[signer..].contains(">TRƯỞNG KHỐI<")
        );
        let styles = read("word/styles.xml");
        assert!(styles.contains("w:ascii=\"Times New Roman\"") && styles.contains("<w:sz w:val=\"28\"/>"));
        assert!(read("[Content_Types].xml").contains("/word/document.xml"));
    }

    fn unit(
        level: danvan_domain::units::UnitLevel,
        kind: &str,
        name: &str,
        from: Option<(i32, u32, u32)>,
    ) -> danvan_domain::units::Unit {
        danvan_domain::units::Unit {
            id: 1,
            code: "1".into(),
            name: format!("{kind} {name}"),
            short_name: name.into(),
            kind: kind.into(),
            level,
            parent_id: None,
            lat: None,
            lon: None,
            area_km2: None,
            valid_from: from.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
            valid_to: None,
        }
    }

    /// Issue 16, item 8: a district's report was issued by the province's Ban Thường vụ; the
    /// issuer, number, signer and recipients follow the level, before and after the reform.
    #[test]
    fn the_issuer_follows_the_level_before_and_after_the_reform() {
        use danvan_domain::units::UnitLevel::*;
        let long_an = unit(Province, "Tỉnh", "Long An", None);
        let tay_ninh = unit(Province, "Tỉnh", "Tây Ninh", Some((2025, 7, 1)));
        let duc_hoa = unit(District, "Huyện", "Đức Hòa", None);
        let kien_tuong = unit(District, "Thị xã", "Kiến Tường", None);
        let huu_thanh = unit(Commune, "Xã", "Hựu Thạnh", None);
        let new_commune = unit(Commune, "Xã", "Đức Hòa", Some((2025, 7, 1)));

        let c = issuer_of(&huu_thanh, Some(&duc_hoa));
        assert_eq!((c.parent_body.as_str(), c.body.as_str()), ("ĐẢNG ỦY XÃ HỰU THẠNH", "KHỐI DÂN VẬN"));
        assert!(c.number.ends_with("-BC/KDV"));
        assert_eq!(c.signer, ["T/M KHỐI DÂN VẬN", "TRƯỞNG KHỐI"]);
        assert_eq!(
            c.recipients,
            [
                "- Ban Dân vận Huyện ủy Đức Hòa (để báo cáo),",
                "- Đảng ủy xã Hựu Thạnh (để báo cáo),",
                "- Lưu VT."
            ]
        );
        let after = issuer_of(&new_commune, Some(&tay_ninh));
        assert_eq!(after.recipients[0], "- Ban Tuyên giáo và Dân vận Tỉnh ủy Tây Ninh (để báo cáo),");

        let d = issuer_of(&duc_hoa, Some(&long_an));
        assert_eq!((d.parent_body.as_str(), d.body.as_str()), ("HUYỆN ỦY ĐỨC HÒA", "BAN DÂN VẬN"));
        assert!(d.number.ends_with("-BC/BDVHU"), "{}", d.number);
        assert_eq!(d.signer, ["TRƯỞNG BAN"]);
        assert_eq!(d.recipients[0], "- Ban Dân vận Tỉnh ủy Long An (để báo cáo),");
        assert!(!d.signer.iter().any(|s| s.contains("THƯỜNG VỤ")), "not the province's Ban Thường vụ");
        assert!(issuer_of(&kien_tuong, Some(&long_an)).number.ends_with("-BC/BDVThU"));
        assert_eq!(issuer_of(&kien_tuong, None).parent_body, "THỊ ỦY KIẾN TƯỜNG");

        let p = issuer_of(&long_an, None);
        assert_eq!((p.parent_body.as_str(), p.body.as_str()), ("ĐẢNG BỘ TỈNH LONG AN", "TỈNH ỦY"));
        assert_eq!(p.signer, ["T/M BAN THƯỜNG VỤ"]);
        assert!(p.number.ends_with("-BC/TU"));
        assert_eq!(p.recipients[0], "- Ban Dân vận Trung ương (để báo cáo),");
        assert_eq!(
            issuer_of(&tay_ninh, None).recipients[0],
            "- Ban Tuyên giáo và Dân vận Trung ương (để báo cáo),"
        );
    }
}
