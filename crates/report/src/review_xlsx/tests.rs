use std::collections::BTreeMap;

use danvan_domain::scheme::{parse_scheme, SchemeDef};
use danvan_domain::value::{Milli, RawValue, Value};

use super::*;
use crate::testing::{add_far_cell, edit_cell, Edit};

const SAMPLE: &str = include_str!("../../../../data/schemes/long-an-2017-2020.sample.toml");

fn scheme() -> SchemeDef {
    parse_scheme(SAMPLE).expect("the sample scheme")
}

fn template(def: &SchemeDef, entries: BTreeMap<String, (Option<Value>, Option<String>)>) -> Vec<u8> {
    review_template(&ReviewSheet {
        scheme: def,
        unit_code: "27931",
        unit_name: "Xã Hậu Nghĩa",
        period: "2018",
        version: 4,
        entries,
        narrative: ["Kết quả\ndòng hai".into(), String::new(), "=cmd".into()],
    })
    .expect("a template")
}

fn cell_of(bytes: &[u8], code: &str, col: u16) -> String {
    crate::testing::target_cell(bytes, code, char::from(b'A' + col as u8))
}

fn raw(f: impl FnOnce(&mut RawValue)) -> RawValue {
    let mut r = RawValue::default();
    f(&mut r);
    r
}

#[test]
fn an_empty_template_reads_back_empty_with_its_version() {
    let def = scheme();
    let filled = read_review(&template(&def, BTreeMap::new()), &def, "27931", "2018").unwrap();
    assert_eq!(filled.version, 4);
    let reported: Vec<_> =
        def.targets.iter().filter(|t| matches!(t.source, Source::Reported)).map(|t| t.code.clone()).collect();
    assert_eq!(filled.values.keys().cloned().collect::<Vec<_>>(), reported);
    assert!(filled.values.values().all(|e| *e == FilledEntry::default()));
    assert_eq!(filled.narrative, ["Kết quả\ndòng hai".to_string(), String::new(), "=cmd".into()]);
}

#[test]
fn saved_values_round_trip() {
    let def = scheme();
    let m = |v: i64| Milli::from_f64(v as f64).unwrap();
    let entries = BTreeMap::from([
        ("1.1".to_string(), (Some(Value::YesNo { yes: true }), Some("=HYPERLINK(\"http://x\")".to_string()))),
        ("1.2".to_string(), (Some(Value::Count { count: m(2) }), None)),
        (
            "2.1".to_string(),
            (Some(Value::Ratio { numerator: Milli::from_f64(8.5).unwrap(), denominator: m(10) }), None),
        ),
        ("3.4".to_string(), (Some(Value::Level { grade: 2 }), Some("ghi chú".to_string()))),
        ("3.3".to_string(), (Some(Value::YesNo { yes: false }), None)),
    ]);
    let filled = read_review(&template(&def, entries), &def, "27931", "2018").unwrap();
    let got = |c: &str| filled.values[c].clone();
    assert_eq!(got("1.1").raw, raw(|r| r.yes = Some(true)));
    assert_eq!(got("1.1").note.as_deref(), Some("=HYPERLINK(\"http://x\")"));
    assert_eq!(got("1.2").raw, raw(|r| r.count = Some("2".into())));
    assert_eq!(
        got("2.1").raw,
        raw(|r| {
            r.numerator = Some("8,5".into());
            r.denominator = Some("10".into());
        })
    );
    assert_eq!(got("3.3").raw, raw(|r| r.yes = Some(false)));
    assert_eq!(got("3.4").raw, raw(|r| r.level = Some("Khá".into())));
    assert_eq!(got("3.4").note.as_deref(), Some("ghi chú"));
    // And the domain judges each value as it was: a ratio counts people, so 8,5 of 10 is
    // refused (issue 17, item 9), while 2 and "Khá" are taken.
    let t = |c: &str| def.targets.iter().find(|t| t.code == c).unwrap();
    let e = danvan_domain::value::check_value(t("2.1"), &got("2.1").raw).unwrap_err();
    assert!(e.contains("tử số phải là số nguyên"), "{e}");
    assert_eq!(
        danvan_domain::value::check_value(t("1.2"), &got("1.2").raw),
        Ok(Value::Count { count: m(2) })
    );
}

#[test]
fn cells_typed_in_excel_are_read() {
    let def = scheme();
    let mut x = template(&def, BTreeMap::new());
    x = edit_cell(&x, 1, &cell_of(&x, "1.2", COL_VALUE), Edit::Number(3.0));
    x = edit_cell(&x, 1, &cell_of(&x, "2.1", COL_VALUE), Edit::Text("1.234,5"));
    x = edit_cell(&x, 1, &cell_of(&x, "2.1", COL_DENOMINATOR), Edit::Number(2000.0));
    x = edit_cell(&x, 1, &cell_of(&x, "1.1", COL_VALUE), Edit::Text("Có"));
    x = edit_cell(&x, 1, &cell_of(&x, "3.4", COL_VALUE), Edit::Text("Tốt"));
    x = edit_cell(&x, 1, &cell_of(&x, "1.3", COL_NOTE), Edit::Text("  đã   họp  "));
    let filled = read_review(&x, &def, "27931", "2018").unwrap();
    assert_eq!(filled.values["1.2"].raw.count.as_deref(), Some("3"));
    assert_eq!(filled.values["2.1"].raw.numerator.as_deref(), Some("1.234,5"));
    assert_eq!(filled.values["2.1"].raw.denominator.as_deref(), Some("2000"));
    assert_eq!(filled.values["1.1"].raw.yes, Some(true));
    assert_eq!(filled.values["3.4"].raw.level.as_deref(), Some("Tốt"));
    assert_eq!(filled.values["1.3"].note.as_deref(), Some("đã họp"));
}

#[test]
fn wrong_choices_and_formulas_are_refused_by_cell() {
    let def = scheme();
    let x = template(&def, BTreeMap::new());
    let yes_cell = cell_of(&x, "1.1", COL_VALUE);
    let bad = edit_cell(&x, 1, &yes_cell, Edit::Text("có lẽ"));
    let err = read_review(&bad, &def, "27931", "2018").unwrap_err();
    assert!(matches!(&err, TemplateError::Cells(p) if p.len() == 1 && p[0].contains(&yes_cell)), "{err}");

    let count_cell = cell_of(&x, "1.2", COL_VALUE);
    let formula = edit_cell(&x, 1, &count_cell, Edit::Formula("1+1", 2.0));
    let err = read_review(&formula, &def, "27931", "2018").unwrap_err();
    assert!(err.to_string().contains(&count_cell) && err.to_string().contains("công thức"), "{err}");
}

#[test]
fn foreign_broken_tampered_and_misplaced_files_are_refused() {
    let def = scheme();
    let x = template(&def, BTreeMap::new());

    let mut other = Workbook::new();
    other.add_worksheet().write_string(0, 0, "1.1").unwrap();
    assert_eq!(
        read_review(&other.save_to_buffer().unwrap(), &def, "27931", "2018"),
        Err(TemplateError::Foreign)
    );

    assert!(matches!(read_review(&x[..x.len() / 2], &def, "27931", "2018"), Err(TemplateError::Broken(_))));
    assert!(matches!(read_review(b"%PDF-1.4", &def, "27931", "2018"), Err(TemplateError::Broken(_))));

    let code_cell = cell_of(&x, "1.2", COL_CODE);
    let moved = edit_cell(&x, 1, &code_cell, Edit::Text("1.3"));
    let err = read_review(&moved, &def, "27931", "2018").unwrap_err();
    assert!(matches!(&err, TemplateError::Tampered(m) if m.contains(&code_cell)), "{err}");

    // The hidden sheet: rows are format, scheme, unit, … — change the unit.
    let retargeted = edit_cell(&x, 2, "B3", Edit::Text("27988"));
    assert!(matches!(read_review(&retargeted, &def, "27988", "2018"), Err(TemplateError::Tampered(_))));

    let err = read_review(&x, &def, "27988", "2018").unwrap_err();
    assert!(matches!(&err, TemplateError::Misplaced(m) if m.contains("27931")), "{err}");
    assert!(matches!(read_review(&x, &def, "27931", "2019"), Err(TemplateError::Misplaced(_))));

    let mut changed = def.clone();
    changed.targets.retain(|t| t.code != "6.3");
    assert_eq!(read_review(&x, &changed, "27931", "2018"), Err(TemplateError::Outdated));
}

#[test]
fn the_template_is_protected_and_formula_free() {
    let def = scheme();
    let x = template(&def, BTreeMap::new());
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&x[..])).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
    assert!(sheet.contains("<sheetProtection"), "the main sheet is protected");
    assert!(!sheet.contains("<f>"), "no formulas");
    assert!(sheet.contains("<dataValidation"), "dropdowns and number checks");
    let mut book = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut book).unwrap();
    assert!(book.contains("state=\"veryHidden\""), "the info sheet is very hidden");
}

/// Issue 14, defect 1: a 2 KB template with one more cell at XFD1048576 made the reader build a
/// dense range over the whole sheet and the server abort (549,755,813,888 bytes). Every sheet is
/// now read cell by cell within the template's bounds, and such a file is refused.
#[test]
fn a_cell_far_outside_the_template_is_refused_without_reading_the_extent() {
    let def = scheme();
    let clean = template(&def, BTreeMap::new());
    for sheet in [1, 2] {
        let hostile = add_far_cell(&clean, sheet, "XFD1048576", 1_048_576);
        assert!(hostile.len() < clean.len() + 1024, "a small file");
        match read_review(&hostile, &def, "27931", "2018") {
            Err(TemplateError::Tampered(m)) => assert!(m.contains("XFD1048576"), "{m}"),
            other => panic!("sheet {sheet}: {other:?}"),
        }
    }
    // A few rows past the template, within bounds, are no problem.
    let near = add_far_cell(&clean, 1, "H90", 90);
    assert!(read_review(&near, &def, "27931", "2018").is_ok());
}

/// Issue 16, item 10: the review template printed on Letter, portrait, columns split.
#[test]
fn the_template_prints_a4_landscape_one_page_wide_with_its_titles() {
    let x = template(&scheme(), BTreeMap::new());
    crate::xlsx::assert_prints_a4_landscape_one_page_wide(&crate::xlsx::part_of(
        &x,
        "xl/worksheets/sheet1.xml",
    ));
    let workbook = crate::xlsx::part_of(&x, "xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Titles") && workbook.contains("!$1:$5"), "{workbook}");
}
