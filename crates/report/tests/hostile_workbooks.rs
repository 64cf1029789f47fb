//! Issue 18, item 6: arbitrary bytes, and our own workbooks with their insides damaged, fed to
//! the two workbook readers: never a panic, always a clear error or a reading.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use danvan_domain::scheme::{parse_scheme, SchemeDef};
use danvan_report::plan_xlsx::{plan_workbook, read_plan, PlanSheet};
use danvan_report::{read_review, review_template, ReviewSheet, TemplateError};
use proptest::prelude::*;

const SAMPLE: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const STATUSES: [(&str, &str); 4] =
    [("planned", "Chưa bắt đầu"), ("in_progress", "Đang làm"), ("done", "Hoàn thành"), ("cancelled", "Hủy")];

fn def() -> SchemeDef {
    parse_scheme(SAMPLE).unwrap()
}

fn review_book(def: &SchemeDef) -> Vec<u8> {
    review_template(&ReviewSheet {
        scheme: def,
        unit_code: "27931",
        unit_name: "Xã Hậu Nghĩa",
        period: "2018",
        version: 2,
        entries: BTreeMap::new(),
        narrative: [String::new(), String::new(), String::new()],
    })
    .unwrap()
}

fn plan_book(def: &SchemeDef) -> Vec<u8> {
    plan_workbook(&PlanSheet {
        scheme: def,
        unit_code: "27931",
        unit_name: "Xã Hậu Nghĩa",
        year: 2018,
        rows: Vec::new(),
        statuses: STATUSES,
    })
    .unwrap()
}

/// The workbook with one of its parts (chosen by `which`) damaged by `edits` (offset, byte),
/// zipped again: the zip is sound, what is inside is not.
fn damage_inside(xlsx: &[u8], which: usize, edits: &[(usize, u8)]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let target = which % zip.len();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        if i == target && !content.is_empty() {
            for (at, byte) in edits {
                let at = at % content.len();
                content[at] = *byte;
            }
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A refusal says something a person can act on.
fn says_something(e: &TemplateError) -> bool {
    !e.to_string().trim().is_empty()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_refused_clearly(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let def = def();
        match read_review(&bytes, &def, "27931", "2018") {
            Err(e) => prop_assert!(says_something(&e)),
            Ok(_) => prop_assert!(false, "random bytes read as a review"),
        }
        match read_plan(&bytes, &def, "27931", 2018, &STATUSES) {
            Err(e) => prop_assert!(says_something(&e)),
            Ok(_) => prop_assert!(false, "random bytes read as a plan"),
        }
    }

    #[test]
    fn a_workbook_cut_or_flipped_never_panics(cut in 0usize..100_000, flips in proptest::collection::vec((0usize..100_000, any::<u8>()), 0..16)) {
        let def = def();
        for book in [review_book(&def), plan_book(&def)] {
            let mut b = book.clone();
            for (at, byte) in &flips {
                let at = at % b.len();
                b[at] = *byte;
            }
            b.truncate(cut % (book.len() + 1));
            if let Err(e) = read_review(&b, &def, "27931", "2018") { prop_assert!(says_something(&e)); }
            if let Err(e) = read_plan(&b, &def, "27931", 2018, &STATUSES) { prop_assert!(says_something(&e)); }
        }
    }

    #[test]
    fn a_sound_zip_with_damaged_insides_never_panics(which in 0usize..32, edits in proptest::collection::vec((0usize..200_000, any::<u8>()), 1..24)) {
        let def = def();
        let review = damage_inside(&review_book(&def), which, &edits);
        if let Err(e) = read_review(&review, &def, "27931", "2018") { prop_assert!(says_something(&e)); }
        let plan = damage_inside(&plan_book(&def), which, &edits);
        if let Err(e) = read_plan(&plan, &def, "27931", 2018, &STATUSES) { prop_assert!(says_something(&e)); }
    }
}
