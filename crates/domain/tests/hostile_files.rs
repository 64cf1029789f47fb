//! Issue 18, item 6: arbitrary bytes, and real files with bytes changed, cut or inserted, fed to
//! every importer of text files (the unit lists, the reform map, the hamlets' CSV, the scheme's
//! TOML): never a panic; a refusal lists at least one problem, each with words in it.

use danvan_domain::community::parse_hamlet_csv;
use danvan_domain::lineage::parse_reform_map;
use danvan_domain::scheme::parse_scheme;
use danvan_domain::units::parse_unit_list;
use proptest::prelude::*;

const SCHEME: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const HAMLETS: &str = "ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\nẤp Một,Ấp,Nguyễn Văn A,Trần Thị B,5,12/QĐ,2018-03-01\n";

/// The first lines of a real file (the whole national list is large for hundreds of cases).
fn head(path: &str, lines: usize) -> Vec<u8> {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path))
            .unwrap();
    text.lines().take(lines).collect::<Vec<_>>().join("\n").into_bytes()
}

/// A valid file with its bytes changed: each edit sets, inserts or removes a byte somewhere.
fn damage(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, how) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match how % 3 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

fn all_importers(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Err(problems) = parse_unit_list(bytes, None) {
        prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.to_string().trim().is_empty()));
    }
    if let Err(problems) = parse_unit_list(bytes, Some("80")) {
        prop_assert!(!problems.is_empty());
    }
    if let Err(problems) = parse_reform_map(bytes) {
        prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.to_string().trim().is_empty()));
    }
    if let Err(problems) = parse_hamlet_csv(bytes) {
        prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.trim().is_empty()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Err(problems) = parse_scheme(text) {
            prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.to_string().trim().is_empty()));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_an_importer(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        all_importers(&bytes)?;
    }

    #[test]
    fn arbitrary_text_never_panics_an_importer(text in "\\PC{0,600}") {
        all_importers(text.as_bytes())?;
    }

    #[test]
    fn damaged_real_files_never_panic_an_importer(
        which in 0usize..5,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12),
    ) {
        let valid = match which {
            0 => head("data/units-2024-three-level.csv", 40),
            1 => head("data/units-2025-two-level.csv", 40),
            2 => head("data/units-2025-reform-map.csv", 40),
            3 => HAMLETS.as_bytes().to_vec(),
            _ => SCHEME.as_bytes().to_vec(),
        };
        all_importers(&damage(valid, &edits))?;
    }
}

#[test]
fn the_undamaged_files_are_read() {
    assert!(parse_unit_list(&head("data/units-2024-three-level.csv", 40), None).is_ok());
    assert!(parse_unit_list(&head("data/units-2025-two-level.csv", 40), None).is_ok());
    assert!(parse_reform_map(&head("data/units-2025-reform-map.csv", 40)).is_ok());
    assert!(parse_hamlet_csv(HAMLETS.as_bytes()).is_ok(), "{:?}", parse_hamlet_csv(HAMLETS.as_bytes()));
    assert!(parse_scheme(SCHEME).is_ok());
}
