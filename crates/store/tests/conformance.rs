//! The conformance suite: every Store function, on SQLite always and on PostgreSQL whenever
//! `DANVAN_TEST_PG` names a server (CI always does). Each run gets a fresh database.

use chrono::NaiveDate;
use danvan_domain::scheme::{parse_scheme, Criterion};
use danvan_domain::units::{parse_unit_list, UnitLevel, UnitList};
use danvan_store::testing::on_each_backend;
use danvan_store::{Actor, BackendKind, Store, StoreError};

const THREE: &str = "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type,lat,lon\n";
const TWO: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n";

/// A slice of the real 2024 list: two districts of Long An and one of Hà Nội.
fn list_2024() -> UnitList {
    let csv = format!(
        "{THREE}\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27695,Xã Hựu Thạnh,Xã,10.88,106.40\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27637,Thị trấn Hậu Nghĩa,Thị trấn,10.88,106.39\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27640,Thị trấn Đức Hòa,Thị trấn,10.88,106.42\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27643,Xã An Ninh Đông,Xã,10.9,106.4\n\
80,Tỉnh Long An,801,Huyện Đức Huệ,Huyện,27619,Thị trấn Đông Thành,Thị trấn,10.99,106.25\n\
80,Tỉnh Long An,794,Thành phố Tân An,Thành phố,27496,Phường 10,Phường,10.5,106.4\n\
80,Tỉnh Long An,794,Thành phố Tân An,Thành phố,27494,Phường 2,Phường,10.5,106.4\n\
01,Thành phố Hà Nội,001,Quận Ba Đình,Quận,00004,Phường Trúc Bạch,Phường,21.04,105.84\n"
    );
    parse_unit_list(csv.as_bytes(), None).expect("valid 2024 slice")
}

fn list_2025() -> UnitList {
    let csv = format!(
        "{TWO}\
01,Thành phố Hà Nội,00004,Phường Ba Đình,Phường,21.0386,105.838,2.97\n\
80,Tỉnh Tây Ninh,27695,Xã Hựu Thạnh,Xã,10.88,106.40,60.1\n"
    );
    parse_unit_list(csv.as_bytes(), None).expect("valid 2025 slice")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn import(store: &Store, list: &UnitList) -> danvan_store::ImportSummary {
    let mut calls = 0;
    let mut progress = |_: usize| calls += 1;
    let summary = store.import_units(&Actor::system("test"), list, &mut progress).await.expect("import");
    assert!(calls >= 1, "progress is reported at least once");
    summary
}

#[tokio::test]
async fn migrations_are_applied_once() {
    on_each_backend(|store| async move {
        assert_eq!(store.migrate().await.unwrap(), 0, "a second run applies nothing");
        store.ping().await.unwrap();
        assert!(matches!(store.kind(), BackendKind::Sqlite | BackendKind::Postgres));
    })
    .await;
}

#[tokio::test]
async fn unit_import_is_idempotent_and_updates() {
    on_each_backend(|store| async move {
        let list = list_2024();
        let first = import(&store, &list).await;
        assert_eq!(first.inserted, list.units.len());
        assert_eq!((first.updated, first.unchanged), (0, 0));
        let again = import(&store, &list).await;
        assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, list.units.len()));
        assert_eq!(store.count_units(UnitLevel::Province, None).await.unwrap(), 2);
        assert_eq!(store.count_units(UnitLevel::District, None).await.unwrap(), 4);
        assert_eq!(store.count_units(UnitLevel::Commune, None).await.unwrap(), 8);

        // A renamed commune is updated in place, keeping its id.
        let before = store.unit_by_code("27695", None).await.unwrap().unwrap();
        let mut renamed = list.clone();
        let rec = renamed.units.iter_mut().find(|u| u.code == "27695").unwrap();
        rec.name = "Xã Hựu Thạnh Mới".into();
        let s = import(&store, &renamed).await;
        assert_eq!((s.inserted, s.updated), (0, 1));
        let after = store.unit_by_code("27695", None).await.unwrap().unwrap();
        assert_eq!(after.id, before.id);
        assert_eq!(after.name, "Xã Hựu Thạnh Mới");
        assert_eq!(after.short_name, "Hựu Thạnh Mới");
    })
    .await;
}

#[tokio::test]
async fn both_lists_live_side_by_side_by_validity() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        import(&store, &list_2025()).await;
        let newest = store.unit_by_code("00004", None).await.unwrap().unwrap();
        assert_eq!(newest.name, "Phường Ba Đình");
        assert_eq!(newest.valid_from, Some(day(2025, 7, 1)));
        assert_eq!(newest.area_km2, Some(2.97));
        let old = store.unit_by_code("00004", Some(day(2019, 6, 30))).await.unwrap().unwrap();
        assert_eq!(old.name, "Phường Trúc Bạch");
        assert_eq!(old.valid_to, Some(day(2025, 6, 30)));
        assert_eq!(old.level, UnitLevel::Commune);
        let both = store.units_with_code("00004").await.unwrap();
        assert_eq!(both.len(), 2);
        assert!(store.unit_by_code("99999", None).await.unwrap().is_none());

        // The 2025 commune hangs directly under its province.
        let lineage = store.lineage(newest.id).await.unwrap();
        let names: Vec<&str> = lineage.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["Thành phố Hà Nội", "Phường Ba Đình"]);

        assert_eq!(store.count_units(UnitLevel::Commune, Some(day(2019, 1, 1))).await.unwrap(), 8);
        assert_eq!(store.count_units(UnitLevel::Commune, Some(day(2026, 1, 1))).await.unwrap(), 2);
        assert_eq!(store.count_units(UnitLevel::Commune, None).await.unwrap(), 10);
        let roots_2019 = store.roots(Some(day(2019, 1, 1))).await.unwrap();
        assert_eq!(
            roots_2019.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ["Thành phố Hà Nội", "Tỉnh Long An"]
        );
        assert_eq!(store.roots(None).await.unwrap().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn hierarchy_in_vietnamese_order() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let la = store.unit_by_code("80", None).await.unwrap().unwrap();
        let districts = store.children(la.id).await.unwrap();
        let names: Vec<&str> = districts.iter().map(|u| u.short_name.as_str()).collect();
        // "Đức" after "D…" but before "E"; byte order would put it last.
        assert_eq!(names, ["Đức Hòa", "Đức Huệ", "Tân An"]);
        let duc_hoa = &districts[0];
        let communes = store.children(duc_hoa.id).await.unwrap();
        let names: Vec<&str> = communes.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["Xã An Ninh Đông", "Thị trấn Đức Hòa", "Thị trấn Hậu Nghĩa", "Xã Hựu Thạnh"]);
        let tan_an = store.children(districts[2].id).await.unwrap();
        assert_eq!(tan_an.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["Phường 2", "Phường 10"]);

        let counts = store.child_counts(&[la.id, duc_hoa.id, communes[0].id]).await.unwrap();
        assert_eq!(counts.get(&la.id), Some(&3));
        assert_eq!(counts.get(&duc_hoa.id), Some(&4));
        assert_eq!(counts.get(&communes[0].id), None);
        assert!(store.child_counts(&[]).await.unwrap().is_empty());

        let huu_thanh = store.unit_by_code("27695", None).await.unwrap().unwrap();
        let lineage = store.lineage(huu_thanh.id).await.unwrap();
        assert_eq!(
            lineage.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ["Tỉnh Long An", "Huyện Đức Hòa", "Xã Hựu Thạnh"]
        );
        assert!(store.is_within(huu_thanh.id, la.id).await.unwrap());
        assert!(store.is_within(huu_thanh.id, huu_thanh.id).await.unwrap());
        let ha_noi = store.unit_by_code("01", None).await.unwrap().unwrap();
        assert!(!store.is_within(huu_thanh.id, ha_noi.id).await.unwrap());

        let by_id = store.unit(huu_thanh.id).await.unwrap().unwrap();
        assert_eq!(by_id, huu_thanh);
        assert!(store.unit(-1).await.unwrap().is_none());
        let map = store.units_by_ids(&[la.id, huu_thanh.id]).await.unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map[&la.id].kind, "Tỉnh");
    })
    .await;
}

#[tokio::test]
async fn search_ignores_accents_case_and_normalisation() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let nfd: String = unicode_nfd("Đức Hoà");
        for q in ["duc hoa", "DUC HOA", "Đức Hòa", nfd.as_str()] {
            let page = store.search_units(q, 50, 0).await.unwrap();
            let names: Vec<&str> = page.units.iter().map(|u| u.name.as_str()).collect();
            assert_eq!(names, ["Huyện Đức Hòa", "Thị trấn Đức Hòa"], "query {q:?}");
            assert_eq!(page.total, 2);
        }
        // By exact code.
        let page = store.search_units("27695", 50, 0).await.unwrap();
        assert_eq!(page.units[0].name, "Xã Hựu Thạnh");
        // Paging: "xa" (xã) matches many; pages do not overlap and add up.
        let all = store.search_units("thi tran", 50, 0).await.unwrap();
        assert_eq!(all.total, 3);
        let p1 = store.search_units("thi tran", 2, 0).await.unwrap();
        let p2 = store.search_units("thi tran", 2, 2).await.unwrap();
        assert_eq!((p1.units.len(), p2.units.len(), p2.total), (2, 1, 3));
        assert_ne!(p1.units[1].id, p2.units[0].id);
        // LIKE wildcards in the query are literal.
        assert_eq!(store.search_units("%", 50, 0).await.unwrap().total, 0);
        assert_eq!(store.search_units("   ", 50, 0).await.unwrap().total, 0);
    })
    .await;
}

fn unicode_nfd(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd().collect()
}

const SCHEME: &str = r#"
[scheme]
code = "T-1"
title = "Đề án thử"
issuing_body = "Tỉnh ủy"
root_unit = "80"
first_year = 2017
last_year = 2020
sample = true
objectives = ["Một", "Hai"]

[[groups]]
code = "1"
name = "Nhóm một"

[[groups]]
code = "2"
name = "Nhóm hai"

[[targets]]
code = "1.1"
group = "1"
name = "Tỷ lệ"
kind = "ratio"
criterion = 80
numerator_label = "Tử"
denominator_label = "Mẫu"
coverage = { 2019 = 90, 2020 = 100 }

[[targets]]
code = "2.1"
group = "2"
name = "Xếp loại"
kind = "level"
grades = ["Yếu", "Khá", "Tốt"]
criterion = "Khá"
evidence_required = true
source = "reported"
coverage = { 2020 = 100 }

[[targets]]
code = "2.2"
group = "2"
name = "Giao ban"
kind = "count"
criterion = 12
source = "computed:meetings_held"
coverage = { 2020 = 100 }
"#;

#[tokio::test]
async fn schemes_round_trip_and_update_in_place() {
    on_each_backend(|store| async move {
        let def = parse_scheme(SCHEME).unwrap();
        // Without units the root cannot be found: nothing is stored.
        let err = store.import_scheme(&Actor::system("test"), &def, SCHEME).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref m) if m.contains("root_unit")), "{err}");
        assert!(store.schemes().await.unwrap().is_empty());

        import(&store, &list_2024()).await;
        let created = store.import_scheme(&Actor::system("test"), &def, SCHEME).await.unwrap();
        assert!(created.created);
        let stored = store.scheme("T-1").await.unwrap().unwrap();
        assert_eq!(stored.def, def);
        assert_eq!(stored.id, created.id);
        let la = store.unit_by_code("80", None).await.unwrap().unwrap();
        assert_eq!(stored.root_unit_id, la.id);
        let list = store.schemes().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].code.as_str(), list[0].target_count, list[0].sample), ("T-1", 3, true));

        // A changed file: one target removed, one renamed with new coverage, a group dropped.
        let changed_text = SCHEME
            .replace("name = \"Tỷ lệ\"", "name = \"Tỷ lệ mới\"")
            .replace("coverage = { 2019 = 90, 2020 = 100 }", "coverage = { 2018 = 50 }")
            .replace("criterion = 80", "criterion = 75.5");
        let cut = changed_text.find("[[groups]]\ncode = \"2\"").unwrap();
        let changed_text = format!(
            "{}\n{}",
            &changed_text[..cut],
            &changed_text[changed_text.find("[[targets]]").unwrap()
                ..changed_text.find("[[targets]]\ncode = \"2.1\"").unwrap()]
        );
        let changed = parse_scheme(&changed_text).unwrap();
        assert_eq!(changed.targets.len(), 1);
        let updated = store.import_scheme(&Actor::system("test"), &changed, &changed_text).await.unwrap();
        assert_eq!(updated.id, created.id);
        assert!(!updated.created);
        let stored = store.scheme("T-1").await.unwrap().unwrap();
        assert_eq!(stored.def, changed);
        assert_eq!(stored.def.targets[0].criterion, Criterion::Percent(75.5));
        assert_eq!(stored.def.targets[0].coverage.get(&2018), Some(&50.0));
        assert_eq!(stored.def.groups.len(), 1);
        assert_eq!(store.schemes().await.unwrap()[0].target_count, 1);
        assert!(store.scheme("NONE").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_scheme_must_apply_below_its_root() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let text = SCHEME.replace("root_unit = \"80\"", "root_unit = \"27695\"");
        let def = parse_scheme(&text).unwrap();
        let err = store.import_scheme(&Actor::system("test"), &def, &text).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref m) if m.contains("applies_to")), "{err}");
        assert!(store.schemes().await.unwrap().is_empty());
    })
    .await;
}
