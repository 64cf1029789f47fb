//! The conformance suite: every Store function, on SQLite always and on PostgreSQL whenever
//! `DANVAN_TEST_PG` names a server (CI always does). Each run gets a fresh database.

use chrono::NaiveDate;
use danvan_domain::scheme::{parse_scheme, ComputedRule, Criterion};
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
        store.ready().await.unwrap();
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

        // The 2025 commune hangs directly under its province, and provinces under the country.
        let lineage = store.lineage(newest.id).await.unwrap();
        let names: Vec<&str> = lineage.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["Việt Nam", "Thành phố Hà Nội", "Phường Ba Đình"]);
        assert_eq!(lineage[0].level, UnitLevel::Country);

        assert_eq!(store.count_units(UnitLevel::Commune, Some(day(2019, 1, 1))).await.unwrap(), 8);
        assert_eq!(store.count_units(UnitLevel::Commune, Some(day(2026, 1, 1))).await.unwrap(), 2);
        assert_eq!(store.count_units(UnitLevel::Commune, None).await.unwrap(), 10);
        let roots_2019 = store.roots(Some(day(2019, 1, 1))).await.unwrap();
        assert_eq!(
            roots_2019.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ["Thành phố Hà Nội", "Tỉnh Long An"]
        );
        assert_eq!(store.roots(None).await.unwrap().len(), 4);
        // Each import bumps the hierarchy's counter; the units of a day are those valid then.
        assert_eq!(store.change_counters(&[danvan_store::UNITS_COUNTER]).await.unwrap(), [2]);
        let on_2019 = store.units_on(day(2019, 1, 1)).await.unwrap();
        assert!(on_2019.iter().any(|u| u.name == "Phường Trúc Bạch"));
        assert!(!on_2019.iter().any(|u| u.name == "Phường Ba Đình" && u.level == UnitLevel::Commune));
        assert_eq!(on_2019.iter().filter(|u| u.level == UnitLevel::Commune).count(), 8);
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
            ["Việt Nam", "Tỉnh Long An", "Huyện Đức Hòa", "Xã Hựu Thạnh"]
        );
        assert!(store.is_within(huu_thanh.id, la.id).await.unwrap());
        assert!(store.is_within(huu_thanh.id, lineage[0].id).await.unwrap());
        let country = store.unit_by_code("VN", None).await.unwrap().unwrap();
        let provinces = store.children(country.id).await.unwrap();
        assert_eq!(provinces.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["01", "80"]);
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
        assert_eq!(list[0].applies_to, UnitLevel::Commune);

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

// ---- accounts and audit --------------------------------------------------------------------

use chrono::{Duration, Utc};
use danvan_domain::access::{LoginFailures, Role};
use danvan_store::{AuditFilter, NewUser, UserChange};

fn new_user(username: &str, role: Role, scope: Option<i64>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("Người {username}"),
        password_hash: "$argon2id$fake".into(),
        role,
        scope_unit_id: scope,
    }
}

async fn unit_id(store: &Store, code: &str) -> i64 {
    store.unit_by_code(code, None).await.unwrap().unwrap().id
}

#[tokio::test]
async fn users_are_created_listed_changed_and_scoped() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let huu_thanh = unit_id(&store, "27695").await;
        let duc_hoa = unit_id(&store, "802").await;
        let ha_noi = unit_id(&store, "01").await;
        let u =
            store.create_user(&cli, &new_user("xa.huuthanh", Role::Commune, Some(huu_thanh))).await.unwrap();
        assert_eq!((u.role, u.scope_unit_id, u.active), (Role::Commune, Some(huu_thanh), true));
        let dup = store.create_user(&cli, &new_user("xa.huuthanh", Role::Viewer, Some(huu_thanh))).await;
        assert!(matches!(dup, Err(StoreError::Conflict(ref m)) if m.contains("xa.huuthanh")), "{dup:?}");
        let no_scope = store.create_user(&cli, &new_user("noscope", Role::Viewer, None)).await;
        assert!(matches!(no_scope, Err(StoreError::Invalid(_))));
        let admin = store.create_user(&cli, &new_user("admin", Role::Admin, Some(ha_noi))).await.unwrap();
        assert_eq!(admin.scope_unit_id, None, "an admin has no scope");
        store.create_user(&cli, &new_user("hanoi", Role::Viewer, Some(ha_noi))).await.unwrap();

        assert_eq!(store.user(u.id).await.unwrap().unwrap(), u);
        assert_eq!(store.user_by_username("xa.huuthanh").await.unwrap().unwrap().id, u.id);
        let (_, hash) = store.user_for_login("xa.huuthanh").await.unwrap().unwrap();
        assert_eq!(hash, "$argon2id$fake");
        assert!(store.user_for_login("nobody").await.unwrap().is_none());
        assert_eq!(store.count_users().await.unwrap(), 3);
        let (all, total) = store.users(None, 2, 0).await.unwrap();
        assert_eq!((all.len(), total), (2, 3));
        assert_eq!(all[0].username, "admin");
        let (in_duc_hoa, n) = store.users(Some(duc_hoa), 50, 0).await.unwrap();
        assert_eq!((n, in_duc_hoa[0].username.as_str()), (1, "xa.huuthanh"));

        let change = UserChange {
            display_name: "Tên mới".into(),
            role: Role::Viewer,
            scope_unit_id: Some(duc_hoa),
            active: true,
        };
        let changed = store.update_user(&cli, u.id, &change).await.unwrap();
        assert_eq!(
            (changed.display_name.as_str(), changed.role, changed.scope_unit_id),
            ("Tên mới", Role::Viewer, Some(duc_hoa))
        );
        assert_eq!(store.user(u.id).await.unwrap().unwrap(), changed);
        assert!(matches!(store.update_user(&cli, 9999, &change).await, Err(StoreError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_and_end() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scope = unit_id(&store, "27695").await;
        let u = store.create_user(&cli, &new_user("xa", Role::Commune, Some(scope))).await.unwrap();
        let t0 = Utc::now();
        store.start_session(&u, "h1", "10.0.0.1", t0, t0 + Duration::days(7)).await.unwrap();
        let idle = Duration::hours(4);
        let (found, session) = store.session_user("h1", t0, t0 - idle).await.unwrap().unwrap();
        assert_eq!(found.id, u.id);
        assert!(found.last_login_at.is_some());
        assert_eq!(session.expires_at.timestamp(), (t0 + Duration::days(7)).timestamp());
        // Idle for more than four hours: gone.
        let later = t0 + Duration::hours(5);
        assert!(store.session_user("h1", later, later - idle).await.unwrap().is_none());
        // Used in between: alive.
        store.touch_session("h1", t0 + Duration::hours(3)).await.unwrap();
        assert!(store.session_user("h1", later, later - idle).await.unwrap().is_some());
        // Past the absolute expiry, however active.
        let week = t0 + Duration::days(7) + Duration::minutes(1);
        store.touch_session("h1", week - Duration::minutes(2)).await.unwrap();
        assert!(store.session_user("h1", week, week - idle).await.unwrap().is_none());
        assert!(store.session_user("unknown", t0, t0 - idle).await.unwrap().is_none());

        // Logout ends it on the server; ending twice finds nothing.
        store.start_session(&u, "h2", "10.0.0.1", t0, t0 + Duration::days(7)).await.unwrap();
        assert!(store.end_session(&Actor::user(u.id, "xa", None), "h2").await.unwrap());
        assert!(!store.end_session(&Actor::user(u.id, "xa", None), "h2").await.unwrap());
        assert!(store.session_user("h2", t0, t0 - idle).await.unwrap().is_none());

        // A new password, or disabling the user, ends every session; a new password also
        // revokes every API token (issue 14, defect 6).
        store.start_session(&u, "h3", "a", t0, t0 + Duration::days(7)).await.unwrap();
        store.create_api_token(&cli, &u, "báo cáo", "tokhash-1").await.unwrap();
        assert!(store.user_by_api_token("tokhash-1", t0).await.unwrap().is_some());
        assert_eq!(store.set_password(&cli, u.id, "$argon2id$new").await.unwrap(), 1);
        assert!(store.session_user("h3", t0, t0 - idle).await.unwrap().is_none());
        assert!(store.user_by_api_token("tokhash-1", t0).await.unwrap().is_none(), "the token is revoked");
        assert!(store.api_tokens(u.id).await.unwrap()[0].revoked_at.is_some());
        assert_eq!(store.user_for_login("xa").await.unwrap().unwrap().1, "$argon2id$new");
        store.start_session(&u, "h4", "a", t0, t0 + Duration::days(7)).await.unwrap();
        let off = UserChange {
            display_name: u.display_name.clone(),
            role: u.role,
            scope_unit_id: u.scope_unit_id,
            active: false,
        };
        store.update_user(&cli, u.id, &off).await.unwrap();
        assert!(store.session_user("h4", t0, t0 - idle).await.unwrap().is_none());

        // Housekeeping removes what has expired.
        let on = UserChange { active: true, ..off };
        store.update_user(&cli, u.id, &on).await.unwrap();
        store.start_session(&u, "h5", "a", t0, t0 + Duration::days(7)).await.unwrap();
        store.start_session(&u, "h6", "a", t0 - Duration::days(8), t0 - Duration::days(1)).await.unwrap();
        assert_eq!(store.purge_sessions(t0, t0 - idle).await.unwrap(), 1);
        assert!(store.session_user("h5", t0, t0 - idle).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn api_tokens_and_failed_logins() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scope = unit_id(&store, "27695").await;
        let u = store.create_user(&cli, &new_user("xa", Role::Commune, Some(scope))).await.unwrap();
        let id = store.create_api_token(&cli, &u, "Báo cáo tự động", "th1").await.unwrap();
        let now = Utc::now();
        assert_eq!(store.user_by_api_token("th1", now).await.unwrap().unwrap().id, u.id);
        assert!(store.user_by_api_token("other", now).await.unwrap().is_none());
        let tokens = store.api_tokens(u.id).await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].name, "Báo cáo tự động");
        assert!(tokens[0].last_used_at.is_some());
        assert!(!store.revoke_api_token(&cli, u.id + 1, id).await.unwrap(), "only the owner's token");
        assert!(store.revoke_api_token(&cli, u.id, id).await.unwrap());
        assert!(!store.revoke_api_token(&cli, u.id, id).await.unwrap());
        assert!(store.user_by_api_token("th1", now).await.unwrap().is_none());
        assert!(store.api_tokens(u.id).await.unwrap()[0].revoked_at.is_some());

        let t0 = Utc::now();
        for i in 0..3 {
            store.record_login_failure("xa", "10.0.0.9", t0 - Duration::minutes(i)).await.unwrap();
        }
        store.record_login_failure("other", "10.0.0.9", t0).await.unwrap();
        store.record_login_failure("xa", "10.0.0.8", t0 - Duration::minutes(30)).await.unwrap();
        let since = t0 - Duration::minutes(15);
        let f = |pair, username, address| LoginFailures { pair, username, address };
        assert_eq!(store.login_failures_since("xa", "10.0.0.9", since).await.unwrap(), f(3, 3, 4));
        assert_eq!(store.login_failures_since("xa", "10.0.0.8", since).await.unwrap(), f(0, 3, 0));
        assert_eq!(store.login_failures_since("other", "10.0.0.8", since).await.unwrap(), f(0, 1, 0));
        // Housekeeping forgets old failures, not recent ones.
        let hour = t0 - Duration::hours(1);
        assert_eq!(store.login_failures_since("xa", "10.0.0.8", hour).await.unwrap(), f(1, 4, 1));
        assert_eq!(store.purge_login_failures(t0 - Duration::minutes(20)).await.unwrap(), 1);
        assert_eq!(store.login_failures_since("xa", "10.0.0.8", hour).await.unwrap(), f(0, 3, 0));
        // A successful sign-in makes its address known for that user, and only that user.
        let day = t0 - Duration::days(1);
        assert!(!store.signed_in_from(&u.username, "10.0.0.1", day).await.unwrap());
        store.start_session(&u, "s1", "10.0.0.1", t0, t0 + Duration::days(7)).await.unwrap();
        assert!(store.signed_in_from(&u.username, "10.0.0.1", day).await.unwrap());
        assert!(!store.signed_in_from(&u.username, "10.0.0.1", t0 + Duration::days(8)).await.unwrap());
        assert!(!store.signed_in_from(&u.username, "10.0.0.77", day).await.unwrap());
        assert!(!store.signed_in_from("other", "10.0.0.1", day).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn every_write_leaves_one_audit_row_per_change() {
    on_each_backend(|store| async move {
        let cli = Actor::system("cli:test");
        let n = || {
            let s = store.clone();
            async move { s.audit_count().await.unwrap() }
        };
        let list = list_2024();
        let base = n().await;
        import(&store, &list).await;
        assert_eq!(n().await - base, list.units.len(), "import: one row per unit");
        let base = n().await;
        import(&store, &list).await;
        assert_eq!(n().await, base, "an import that changes nothing records nothing");
        let mut renamed = list.clone();
        renamed.units.iter_mut().find(|u| u.code == "27695").unwrap().name = "Xã Mới".into();
        import(&store, &renamed).await;
        assert_eq!(n().await, base + 1);

        let def = parse_scheme(SCHEME).unwrap();
        let base = n().await;
        store.import_scheme(&cli, &def, SCHEME).await.unwrap();
        store.import_scheme(&cli, &def, SCHEME).await.unwrap();
        assert_eq!(n().await, base + 2);

        let scope = unit_id(&store, "27695").await;
        let base = n().await;
        let u = store.create_user(&cli, &new_user("xa", Role::Commune, Some(scope))).await.unwrap();
        assert_eq!(n().await, base + 1);
        let same = UserChange {
            display_name: u.display_name.clone(),
            role: u.role,
            scope_unit_id: u.scope_unit_id,
            active: true,
        };
        store.update_user(&cli, u.id, &same).await.unwrap();
        assert_eq!(n().await, base + 1, "no change, no row");
        store.update_user(&cli, u.id, &UserChange { display_name: "Khác".into(), ..same }).await.unwrap();
        assert_eq!(n().await, base + 2);
        store.set_password(&cli, u.id, "h").await.unwrap();
        assert_eq!(n().await, base + 3);
        let t0 = Utc::now();
        store.start_session(&u, "s", "10.1.1.1", t0, t0 + Duration::days(1)).await.unwrap();
        assert_eq!(n().await, base + 4);
        store.touch_session("s", t0).await.unwrap();
        store.purge_sessions(t0 - Duration::days(30), t0 - Duration::days(30)).await.unwrap();
        assert_eq!(n().await, base + 4, "bookkeeping is not a change");
        let me = Actor::user(u.id, "xa", Some("10.1.1.1".into()));
        store.end_session(&me, "s").await.unwrap();
        store.end_session(&me, "s").await.unwrap();
        assert_eq!(n().await, base + 5);
        store.record_login_failure("xa", "10.1.1.2", t0).await.unwrap();
        assert_eq!(n().await, base + 6);
        let tid = store.create_api_token(&me, &u, "t", "th").await.unwrap();
        assert_eq!(n().await, base + 7);
        store.revoke_api_token(&me, u.id, tid).await.unwrap();
        store.revoke_api_token(&me, u.id, tid).await.unwrap();
        assert_eq!(n().await, base + 8);

        // What the rows say.
        let history = store.entity_history("user", &u.id.to_string()).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "update", "password", "login", "logout"]);
        assert_eq!(history[0].actor, "cli:test");
        assert_eq!(history[3].actor, "xa");
        assert_eq!(history[3].actor_id, Some(u.id));
        assert_eq!(history[3].address.as_deref(), Some("10.1.1.1"));
        let before: serde_json::Value =
            serde_json::from_str(history[1].before_json.as_deref().unwrap()).unwrap();
        let after: serde_json::Value =
            serde_json::from_str(history[1].after_json.as_deref().unwrap()).unwrap();
        assert_eq!(
            (before["display_name"].as_str(), after["display_name"].as_str()),
            (Some("Người xa"), Some("Khác"))
        );
        assert!(!history.iter().any(|e| e.after_json.as_deref().unwrap_or("").contains("password")));
        let unit_rows = store.entity_history("unit", &scope.to_string()).await.unwrap();
        assert_eq!(unit_rows.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "update"]);
        assert!(unit_rows[1].after_json.as_deref().unwrap().contains("Xã Mới"));
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_cannot_be_changed() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let huu_thanh = unit_id(&store, "27695").await;
        let duc_hoa = unit_id(&store, "802").await;
        let ha_noi = unit_id(&store, "01").await;
        let a = store.create_user(&cli, &new_user("a", Role::Commune, Some(huu_thanh))).await.unwrap();
        let b = store.create_user(&cli, &new_user("b", Role::Viewer, Some(ha_noi))).await.unwrap();
        let t0 = Utc::now();
        store.start_session(&a, "sa", "x", t0, t0 + Duration::days(1)).await.unwrap();
        store.start_session(&b, "sb", "x", t0, t0 + Duration::days(1)).await.unwrap();

        let all = store.audit_events(&AuditFilter::default(), 1000, 0).await.unwrap();
        assert_eq!(all.total, store.audit_count().await.unwrap());
        assert!(all.events.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
        let oldest = store
            .audit_events(&AuditFilter { oldest_first: true, ..Default::default() }, 1, 0)
            .await
            .unwrap();
        assert_eq!(oldest.events[0].id, all.events.last().unwrap().id);

        let by_a = store
            .audit_events(&AuditFilter { actor_id: Some(a.id), ..Default::default() }, 50, 0)
            .await
            .unwrap();
        assert_eq!(by_a.events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["login"]);
        // Unit filters take the subtree: Đức Hòa holds Hựu Thạnh's user and its units.
        let in_duc_hoa =
            AuditFilter { unit_id: Some(duc_hoa), entity_type: Some("user".into()), ..Default::default() };
        let page = store.audit_events(&in_duc_hoa, 50, 0).await.unwrap();
        assert_eq!(page.total, 2, "a's creation and login");
        assert!(page.events.iter().all(|e| e.entity_id == a.id.to_string()));
        let exact = AuditFilter {
            entity_type: Some("user".into()),
            entity_id: Some(b.id.to_string()),
            ..Default::default()
        };
        assert_eq!(store.audit_events(&exact, 50, 0).await.unwrap().total, 2);
        let future = AuditFilter { from: Some(t0 + Duration::hours(1)), ..Default::default() };
        assert_eq!(store.audit_events(&future, 50, 0).await.unwrap().total, 0);
        let past = AuditFilter { to: Some(t0 - Duration::hours(1)), ..Default::default() };
        assert_eq!(store.audit_events(&past, 50, 0).await.unwrap().total, 0);
        let p1 = store.audit_events(&AuditFilter::default(), 3, 0).await.unwrap();
        let p2 = store.audit_events(&AuditFilter::default(), 3, 3).await.unwrap();
        assert_eq!(p1.events.len(), 3);
        assert!(p1.events.iter().all(|e| !p2.events.iter().any(|f| f.id == e.id)));

        // Append-only: the database itself refuses to change or remove a row.
        let before = store.audit_count().await.unwrap();
        assert!(danvan_store::testing::execute(&store, "UPDATE audit_events SET actor = 'x'").await.is_err());
        assert!(danvan_store::testing::execute(&store, "DELETE FROM audit_events").await.is_err());
        assert_eq!(store.audit_count().await.unwrap(), before);
    })
    .await;
}

// ---- reviews -------------------------------------------------------------------------------

use danvan_domain::value::{Milli, Value};
use danvan_domain::workflow::{State, Transition};
use danvan_store::{Entry, Narrative};
use std::collections::BTreeMap;

fn entries(list: &[(&str, Option<Value>, Option<&str>)]) -> BTreeMap<String, Entry> {
    list.iter()
        .map(|(code, value, note)| {
            (code.to_string(), Entry { value: value.clone(), note: note.map(str::to_string) })
        })
        .collect()
}

/// Issue 14, defect 4: on SQLite, 16 clients writing at once got "database is locked" (500)
/// where a transaction that had read upgraded its lock, and same-version saves got 500 instead of
/// a conflict. Every write now either lands or is a conflict, on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_land_or_conflict_never_fail() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let communes = ["27695", "27637", "27640", "27643", "27619", "27496", "27494"];
        let mut reviews = Vec::new();
        for i in 0..16 {
            let unit = unit_id(&store, communes[i % communes.len()]).await;
            let period = (2017 + i / communes.len()).to_string();
            reviews.push(store.create_review(&cli, scheme, unit, &period).await.unwrap().id);
        }
        let narrative = Narrative::default();
        // 16 writers, each saving its own review ten times, all at once.
        let mut writers = Vec::new();
        for (w, id) in reviews.iter().copied().enumerate() {
            let store = store.clone();
            let narrative = narrative.clone();
            writers.push(tokio::spawn(async move {
                let actor = Actor::system("writer");
                for n in 0..10_i64 {
                    let values = entries(&[(
                        "2.2",
                        Some(Value::Count { count: Milli((w as i64 * 100 + n) * 1000) }),
                        None,
                    )]);
                    store.save_review(&actor, id, n + 1, &values, &narrative).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
        // Meanwhile 8 clients save the same review from the same version: one wins.
        let shared = reviews[0];
        let base = store.create_review(&cli, scheme, unit_id(&store, "27695").await, "2020").await.unwrap();
        let mut racers = Vec::new();
        for r in 0..8_i64 {
            let store = store.clone();
            let narrative = narrative.clone();
            let id = base.id;
            racers.push(tokio::spawn(async move {
                let values = entries(&[("2.2", Some(Value::Count { count: Milli(r * 1000) }), None)]);
                store.save_review(&Actor::system("racer"), id, 1, &values, &narrative).await.map(|_| ())
            }));
        }
        for w in writers {
            w.await.unwrap().expect("every write of a lone writer lands");
        }
        let (mut won, mut conflicts) = (0, 0);
        for r in racers {
            match r.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::Conflict(_)) => conflicts += 1,
                Err(other) => panic!("a racing save must land or conflict, got: {other:?}"),
            }
        }
        assert_eq!((won, conflicts), (1, 7));
        assert_eq!(store.review_by_id(base.id).await.unwrap().unwrap().version, 2);
        let last = store.review_by_id(shared).await.unwrap().unwrap();
        assert_eq!(
            (last.version, last.values["2.2"].value.clone()),
            (11, Some(Value::Count { count: Milli(9_000) }))
        );
    })
    .await;
}

#[tokio::test]
async fn reviews_save_with_versions_and_move_through_the_workflow() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let huu_thanh = unit_id(&store, "27695").await;
        let hau_nghia = unit_id(&store, "27637").await;
        let ha_noi_commune = unit_id(&store, "00004").await;
        let approver = store
            .create_user(&cli, &new_user("huyen", Role::District, Some(unit_id(&store, "802").await)))
            .await
            .unwrap();
        let district = Actor::user(approver.id, "huyen", None);
        let commune = Actor::user(approver.id, "xa", None);

        let r = store.create_review(&commune, scheme, huu_thanh, "2018").await.unwrap();
        assert_eq!((r.state, r.version, r.values.len()), (State::Draft, 1, 0));
        assert!(matches!(
            store.create_review(&commune, scheme, huu_thanh, "2018").await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.review(scheme, huu_thanh, "2018").await.unwrap().unwrap().id, r.id);
        assert!(store.review(scheme, huu_thanh, "2019").await.unwrap().is_none());

        // Every kind of value round-trips; a note alone is kept; an empty entry is dropped.
        let values = entries(&[
            (
                "1.1",
                Some(Value::Ratio { numerator: Milli(8_000), denominator: Milli(10_000) }),
                Some("tám trên mười"),
            ),
            ("2.1", Some(Value::Level { grade: 2 }), None),
            ("2.2", Some(Value::Count { count: Milli(12_000) }), None),
        ]);
        let narrative = Narrative {
            results: "Kết quả".into(),
            limitations: "Hạn chế".into(),
            next_tasks: "Nhiệm vụ".into(),
        };
        let saved = store.save_review(&commune, r.id, 1, &values, &narrative).await.unwrap();
        assert_eq!(saved.version, 2);
        assert_eq!(saved.values, values);
        assert_eq!(saved.narrative, narrative);
        let mut more = values.clone();
        more.insert("2.2".into(), Entry { value: Some(Value::YesNo { yes: true }), note: None });
        more.insert("2.1".into(), Entry { value: None, note: Some("chưa đánh giá".into()) });
        let saved = store.save_review(&commune, r.id, 2, &more, &narrative).await.unwrap();
        assert_eq!(saved.values["2.2"].value, Some(Value::YesNo { yes: true }));
        assert_eq!(saved.values["2.1"], Entry { value: None, note: Some("chưa đánh giá".into()) });
        let blank = entries(&[("1.1", None, None)]);
        assert!(store.save_review(&commune, r.id, 3, &blank, &narrative).await.unwrap().values.is_empty());

        // A stale version or an unknown target changes nothing.
        let stale = store.save_review(&commune, r.id, 2, &values, &Narrative::default()).await.unwrap_err();
        assert!(matches!(stale, StoreError::Conflict(ref m) if m.contains("phiên bản 4")), "{stale}");
        let unknown =
            store.save_review(&commune, r.id, 4, &entries(&[("9.9", None, Some("x"))]), &narrative).await;
        assert!(matches!(unknown, Err(StoreError::Invalid(ref m)) if m.contains("9.9")));
        let now = store.review_by_id(r.id).await.unwrap().unwrap();
        assert_eq!((now.version, now.values.len()), (4, 0));
        store.save_review(&commune, r.id, 4, &values, &narrative).await.unwrap();

        // Submit (late) → return with a reason → fix → submit → approve → locked → reopen.
        let sub =
            store.transition_review(&commune, r.id, Some(5), Transition::Submit, None, true).await.unwrap();
        assert_eq!((sub.state, sub.late, sub.version), (State::Submitted, true, 6));
        assert!(sub.submitted_at.is_some());
        assert!(matches!(
            store.save_review(&commune, r.id, 6, &values, &narrative).await,
            Err(StoreError::Conflict(_))
        ));
        let no_reason =
            store.transition_review(&district, r.id, None, Transition::Return, Some("  "), false).await;
        assert!(matches!(no_reason, Err(StoreError::Invalid(ref m)) if m.contains("lý do")));
        let back = store
            .transition_review(&district, r.id, None, Transition::Return, Some("Thiếu minh chứng"), false)
            .await
            .unwrap();
        assert_eq!(
            (back.state, back.reason.as_deref(), back.decided_by),
            (State::Returned, Some("Thiếu minh chứng"), Some(approver.id))
        );
        assert_eq!(back.first_submitted_at, sub.first_submitted_at, "a return keeps the first submission");
        store.save_review(&commune, r.id, back.version, &values, &narrative).await.unwrap();
        let resent =
            store.transition_review(&commune, r.id, None, Transition::Submit, None, false).await.unwrap();
        assert!(sub.first_submitted_at.is_some());
        assert_eq!(
            resent.first_submitted_at, sub.first_submitted_at,
            "recorded once, at the first submission"
        );
        assert!(resent.submitted_at >= sub.submitted_at);
        let counter = danvan_store::marks_counter(scheme);
        let before = store.change_counters(&[&counter]).await.unwrap()[0];
        let ok =
            store.transition_review(&district, r.id, None, Transition::Approve, None, false).await.unwrap();
        assert_eq!((ok.state, ok.late), (State::Approved, false));
        let approved_at = store.change_counters(&[&counter, "never"]).await.unwrap();
        assert_eq!(approved_at, [before + 1, 0], "an approval bumps the scheme's counter");
        // The approval keeps which targets the review meets, for the dashboards' roll-ups; the
        // marks equal a fresh assessment of the stored values.
        let def = store.scheme_by_id(scheme).await.unwrap().unwrap().def;
        let stored: BTreeMap<String, Value> =
            ok.values.iter().filter_map(|(c, e)| Some((c.clone(), e.value.clone()?))).collect();
        let marks = store.marks_changed_since(scheme, before).await.unwrap();
        assert_eq!(marks.len(), 1);
        assert_eq!((marks[0].unit_id, marks[0].period.as_str(), marks[0].late), (huu_thanh, "2018", false));
        let met = marks[0].met.clone().unwrap();
        assert_eq!(met, danvan_domain::achievement::met_marks(&def.targets, &stored));
        assert_eq!(met.len(), def.targets.len());
        assert!(met.contains('1') || met.contains('0'), "{met}");
        assert_eq!(store.marks_changed_since(scheme, 0).await.unwrap(), marks);
        assert!(store.marks_changed_since(scheme, approved_at[0]).await.unwrap().is_empty());
        assert!(matches!(
            store.save_review(&commune, r.id, ok.version, &values, &narrative).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.transition_review(&district, r.id, None, Transition::Approve, None, false).await,
            Err(StoreError::Conflict(_))
        ));
        let stale_t =
            store.transition_review(&district, r.id, Some(1), Transition::Reopen, Some("x"), false).await;
        assert!(matches!(stale_t, Err(StoreError::Conflict(_))));
        let reopened = store
            .transition_review(&district, r.id, None, Transition::Reopen, Some("Sửa số liệu"), false)
            .await
            .unwrap();
        assert_eq!(reopened.state, State::Draft);
        assert!(store.change_counters(&[&counter]).await.unwrap()[0] > approved_at[0]);
        let gone = store.marks_changed_since(scheme, approved_at[0]).await.unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].unit_id, gone[0].met.as_deref()), (huu_thanh, None), "reopened: no marks");

        // Its history: every step, with reasons.
        let history = store.entity_history("review", &r.id.to_string()).await.unwrap();
        let steps: Vec<(&str, Option<&str>)> =
            history.iter().map(|e| (e.action.as_str(), e.reason.as_deref())).collect();
        assert_eq!(
            steps,
            [
                ("create", None),
                ("update", None),
                ("update", None),
                ("update", None),
                ("update", None),
                ("submit", None),
                ("return", Some("Thiếu minh chứng")),
                ("update", None),
                ("submit", None),
                ("approve", None),
                ("reopen", Some("Sửa số liệu")),
            ]
        );
        assert!(history.iter().all(|e| e.unit_id == Some(huu_thanh)));

        // Lists by subtree and state.
        store.create_review(&commune, scheme, hau_nghia, "2018").await.unwrap();
        store.create_review(&commune, scheme, ha_noi_commune, "2018").await.unwrap();
        let r2 = store.create_review(&commune, scheme, hau_nghia, "2019").await.unwrap();
        store.transition_review(&commune, r2.id, None, Transition::Submit, None, false).await.unwrap();
        let in_duc_hoa = store.reviews_within(scheme, unit_id(&store, "802").await, None).await.unwrap();
        assert_eq!(in_duc_hoa.len(), 3);
        assert_eq!(
            in_duc_hoa.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
            ["2018", "2018", "2019"]
        );
        let inbox =
            store.reviews_within(scheme, unit_id(&store, "80").await, Some(State::Submitted)).await.unwrap();
        assert_eq!(inbox.iter().map(|r| r.id).collect::<Vec<_>>(), [r2.id]);
        assert_eq!(store.review_count(scheme).await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_scheme_with_reviews_cannot_be_changed_by_reimport() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let def = parse_scheme(SCHEME).unwrap();
        let scheme = store.import_scheme(&cli, &def, SCHEME).await.unwrap().id;
        // Without reviews a changed file updates the scheme.
        let changed_text = SCHEME.replace("name = \"Tỷ lệ\"", "name = \"Tỷ lệ (sửa)\"");
        let changed = parse_scheme(&changed_text).unwrap();
        store.import_scheme(&cli, &changed, &changed_text).await.unwrap();
        store.create_review(&cli, scheme, unit_id(&store, "27695").await, "2018").await.unwrap();
        let again = SCHEME.replace("name = \"Tỷ lệ\"", "name = \"Tỷ lệ (sửa lần hai)\"");
        let err = store.import_scheme(&cli, &parse_scheme(&again).unwrap(), &again).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(ref m) if m.contains("đã có 1 bản rà soát") && m.contains("T-1-v2")), "{err}");
        assert_eq!(store.scheme("T-1").await.unwrap().unwrap().def, changed, "unchanged");
    })
    .await;
}

// ---- roadmaps and plans --------------------------------------------------------------------

use danvan_domain::plan::{ActivityInput, ActivityStatus};
use danvan_domain::roadmap::{Roadmap, TargetPlan};

fn plan_of(code: &str, values: &[(i32, f64)]) -> Roadmap {
    let mut r = Roadmap::default();
    r.targets.insert(
        code.into(),
        TargetPlan { planned: values.iter().copied().collect(), meet_year: Some(2020), reason: None },
    );
    r
}

#[tokio::test]
async fn roadmaps_share_the_workflow_and_keep_the_approved_plan_in_force() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let huu_thanh = unit_id(&store, "27695").await;
        let tan_an = unit_id(&store, "27496").await;
        let v1 = plan_of("1.1", &[(2017, 40.0), (2018, 55.0), (2019, 70.0), (2020, 80.0)]);

        let r = store.create_roadmap(&cli, scheme, huu_thanh, &v1).await.unwrap();
        assert_eq!((r.state, r.version, r.in_force.as_ref()), (State::Draft, 1, None));
        assert_eq!(r.plan, v1);
        assert!(matches!(
            store.create_roadmap(&cli, scheme, huu_thanh, &v1).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.roadmap(scheme, huu_thanh).await.unwrap().unwrap().id, r.id);
        assert!(store.roadmap(scheme, tan_an).await.unwrap().is_none());

        // Saving with versions; a stale save changes nothing.
        let v2 = plan_of("1.1", &[(2017, 40.0), (2018, 50.0), (2019, 70.0), (2020, 80.0)]);
        let saved = store.save_roadmap(&cli, r.id, 1, &v2).await.unwrap();
        assert_eq!((saved.version, &saved.plan), (2, &v2));
        let stale = store.save_roadmap(&cli, r.id, 1, &v1).await.unwrap_err();
        assert!(matches!(stale, StoreError::Conflict(ref m) if m.contains("phiên bản 2")), "{stale}");

        // Submit → approve: the plan goes in force.
        let sent =
            store.transition_roadmap(&cli, r.id, Some(2), Transition::Submit, None, true).await.unwrap();
        assert!(sent.first_submitted_at.is_some() && sent.first_submitted_at == sent.submitted_at);
        assert!(store.save_roadmap(&cli, r.id, 3, &v1).await.is_err(), "a submitted roadmap is locked");
        let approved =
            store.transition_roadmap(&cli, r.id, None, Transition::Approve, None, false).await.unwrap();
        assert_eq!(
            (approved.state, approved.late, approved.in_force.as_ref()),
            (State::Approved, true, Some(&v2))
        );
        assert!(approved.in_force_at.is_some());
        let in_force = store.plans_in_force_within(scheme, unit_id(&store, "80").await).await.unwrap();
        assert_eq!(in_force.len(), 1);
        assert_eq!(in_force[&huu_thanh].planned("1.1", 2018), Some(50.0));

        // A revision by the unit keeps the approved plan in force until approved again.
        let revising =
            store.transition_roadmap(&cli, r.id, None, Transition::Revise, None, false).await.unwrap();
        assert_eq!((revising.state, revising.in_force.as_ref()), (State::Draft, Some(&v2)));
        let v3 = plan_of("1.1", &[(2017, 40.0), (2018, 45.0), (2019, 70.0), (2020, 80.0)]);
        store.save_roadmap(&cli, r.id, revising.version, &v3).await.unwrap();
        let still = store.roadmap_by_id(r.id).await.unwrap().unwrap();
        assert_eq!(
            (still.plan.planned("1.1", 2018), still.in_force.unwrap().planned("1.1", 2018)),
            (Some(45.0), Some(50.0))
        );
        let resent =
            store.transition_roadmap(&cli, r.id, None, Transition::Submit, None, false).await.unwrap();
        assert_eq!(resent.first_submitted_at, sent.first_submitted_at, "the first submission is kept");
        assert_ne!(resent.submitted_at, sent.submitted_at);
        let again =
            store.transition_roadmap(&cli, r.id, None, Transition::Approve, None, false).await.unwrap();
        assert_eq!(again.in_force.unwrap().planned("1.1", 2018), Some(45.0));
        let in_force = store.plan_in_force(scheme, huu_thanh).await.unwrap().unwrap();
        assert_eq!(in_force.planned("1.1", 2018), Some(45.0));
        assert!(store.plan_in_force(scheme, unit_id(&store, "27637").await).await.unwrap().is_none());
        assert_eq!(again.in_force_version, Some(again.version));

        // Issue 16, item 4: a review approved now is judged against this version, frozen with it.
        let judged = store.create_review(&cli, scheme, huu_thanh, "2018").await.unwrap();
        store.transition_review(&cli, judged.id, None, Transition::Submit, None, false).await.unwrap();
        let judged =
            store.transition_review(&cli, judged.id, None, Transition::Approve, None, false).await.unwrap();
        let plan = judged.judged_plan.clone().unwrap();
        assert_eq!((plan.version, plan.approved_at), (again.in_force_version, again.in_force_at));
        assert_eq!(plan.planned.get("1.1"), Some(&45.0));
        let within = store.judged_plans_within(scheme, unit_id(&store, "80").await, "2018").await.unwrap();
        assert_eq!(within.get(&huu_thanh), Some(&plan));
        assert!(store
            .judged_plans_within(scheme, unit_id(&store, "80").await, "2019")
            .await
            .unwrap()
            .is_empty());
        assert!(store.judged_plans_within(scheme, tan_an, "2018").await.unwrap().is_empty());

        // Reopening by the approver (with a reason) takes it out of force.
        assert!(store
            .transition_roadmap(&cli, r.id, None, Transition::Reopen, Some(" "), false)
            .await
            .is_err());
        let reopened = store
            .transition_roadmap(&cli, r.id, None, Transition::Reopen, Some("Sai số liệu gốc"), false)
            .await
            .unwrap();
        assert_eq!(
            (reopened.state, reopened.in_force, reopened.reason.as_deref()),
            (State::Draft, None, Some("Sai số liệu gốc"))
        );
        assert!(store.plans_in_force_within(scheme, huu_thanh).await.unwrap().is_empty());
        // The approved review keeps the plan that judged it; reopened, it takes what is in force.
        let kept = store.review_by_id(judged.id).await.unwrap().unwrap();
        assert_eq!(kept.planned(None, "1.1"), Some(45.0));
        let kept = store
            .transition_review(&cli, kept.id, None, Transition::Reopen, Some("Xem lại"), false)
            .await
            .unwrap();
        assert_eq!((kept.judged_plan.as_ref(), kept.planned(None, "1.1")), (None, None));
        assert!(store.judged_plans_within(scheme, huu_thanh, "2018").await.unwrap().is_empty());

        // Lists within a scope.
        store.create_roadmap(&cli, scheme, tan_an, &Roadmap::default()).await.unwrap();
        let district = store.roadmaps_within(scheme, unit_id(&store, "802").await).await.unwrap();
        assert_eq!(
            district.iter().map(|s| (s.unit_id, s.state, s.in_force)).collect::<Vec<_>>(),
            [(huu_thanh, State::Draft, false)]
        );
        assert_eq!(store.roadmaps_within(scheme, unit_id(&store, "80").await).await.unwrap().len(), 2);

        // Every step is in the roadmap's history; reviews cannot be "revised".
        let history = store.entity_history("roadmap", &r.id.to_string()).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["create", "update", "submit", "approve", "revise", "update", "submit", "approve", "reopen"]
        );
        assert!(store.transition_review(&cli, kept.id, None, Transition::Revise, None, false).await.is_err());
        // A scheme with roadmaps cannot be changed by re-import either.
        let again = SCHEME.replace("name = \"Tỷ lệ\"", "name = \"Tỷ lệ (khác)\"");
        assert!(store.import_scheme(&cli, &parse_scheme(&again).unwrap(), &again).await.is_err());
    })
    .await;
}

fn activity(title: &str, start: NaiveDate, due: NaiveDate) -> ActivityInput {
    ActivityInput {
        title: title.into(),
        description: "Mô tả".into(),
        targets: vec!["1.1".into()],
        lead_org: "Đảng ủy".into(),
        supporting_orgs: vec!["UBMTTQ".into(), "Đoàn Thanh niên".into()],
        responsible: "Bí thư".into(),
        start,
        due,
    }
}

#[tokio::test]
async fn activities_are_planned_updated_closed_noted_and_carried_over() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let huu_thanh = unit_id(&store, "27695").await;
        let tan_an = unit_id(&store, "27494").await;

        let a = store
            .create_activity(
                &cli,
                scheme,
                huu_thanh,
                2018,
                &activity("Hội nghị", day(2018, 3, 1), day(2018, 3, 31)),
            )
            .await
            .unwrap();
        assert_eq!((a.status, a.version, a.year), (ActivityStatus::NotStarted, 1, 2018));
        assert_eq!(store.activity(a.id).await.unwrap().unwrap(), a);
        let b = store
            .create_activity(
                &cli,
                scheme,
                huu_thanh,
                2018,
                &activity("Tập huấn", day(2018, 1, 10), day(2018, 12, 31)),
            )
            .await
            .unwrap();
        let c = store
            .create_activity(
                &cli,
                scheme,
                huu_thanh,
                2018,
                &activity("Đối thoại", day(2018, 5, 1), day(2018, 6, 30)),
            )
            .await
            .unwrap();
        store
            .create_activity(&cli, scheme, tan_an, 2018, &activity("Khác", day(2018, 1, 1), day(2018, 2, 1)))
            .await
            .unwrap();
        let titles: Vec<String> = store
            .activities_of(scheme, huu_thanh, 2018)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.input.title)
            .collect();
        assert_eq!(titles, ["Tập huấn", "Hội nghị", "Đối thoại"], "by start date");

        // Update with versions.
        let mut changed = a.input.clone();
        changed.title = "Hội nghị quán triệt".into();
        changed.supporting_orgs = vec![];
        let u = store.update_activity(&cli, a.id, 1, &changed).await.unwrap();
        assert_eq!((u.version, u.input.clone()), (2, changed.clone()));
        assert!(matches!(store.update_activity(&cli, a.id, 1, &a.input).await, Err(StoreError::Conflict(_))));

        // Status: cancelling needs a reason; done closes it.
        assert!(matches!(
            store.set_activity_status(&cli, c.id, None, ActivityStatus::Cancelled, Some("  "), None).await,
            Err(StoreError::Invalid(_))
        ));
        let cancelled = store
            .set_activity_status(&cli, c.id, Some(1), ActivityStatus::Cancelled, Some("Trùng lịch"), None)
            .await
            .unwrap();
        assert_eq!(
            (cancelled.status, cancelled.cancel_reason.as_deref()),
            (ActivityStatus::Cancelled, Some("Trùng lịch"))
        );
        let done = store
            .set_activity_status(&cli, a.id, Some(2), ActivityStatus::Done, Some("ignored"), None)
            .await
            .unwrap();
        assert_eq!((done.status, done.cancel_reason), (ActivityStatus::Done, None));
        store.set_activity_status(&cli, b.id, None, ActivityStatus::InProgress, None, None).await.unwrap();

        // Overdue within a scope: open and past due.
        let district = unit_id(&store, "802").await;
        let overdue = store.overdue_within(scheme, district, day(2019, 1, 1)).await.unwrap();
        assert_eq!(overdue.iter().map(|a| a.id).collect::<Vec<_>>(), [b.id]);
        assert!(store.overdue_within(scheme, district, day(2018, 6, 1)).await.unwrap().is_empty());
        assert_eq!(
            store.overdue_within(scheme, unit_id(&store, "80").await, day(2019, 1, 1)).await.unwrap().len(),
            2
        );

        // Progress notes, oldest first.
        store.add_activity_note(&cli, b.id, day(2018, 6, 1), "Đã tập huấn đợt 2").await.unwrap();
        store.add_activity_note(&cli, b.id, day(2018, 2, 1), "Đã tập huấn đợt 1").await.unwrap();
        let notes = store.activity_notes(b.id).await.unwrap();
        assert_eq!(
            notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
            ["Đã tập huấn đợt 1", "Đã tập huấn đợt 2"]
        );

        // Next year: the unfinished one is carried over, a year later.
        assert_eq!(store.copy_unfinished(&cli, scheme, huu_thanh, 2019).await.unwrap(), 1);
        let next = store.activities_of(scheme, huu_thanh, 2019).await.unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(
            (next[0].input.title.as_str(), next[0].input.start, next[0].input.due),
            ("Tập huấn", day(2019, 1, 10), day(2019, 12, 31))
        );
        assert_eq!(next[0].status, ActivityStatus::InProgress);

        // Evidence files, within a total per activity; bytes shared by two records are kept.
        let file = |sha: &str| danvan_store::NewFile {
            filename: "bien-ban.pdf".into(),
            content_type: "application/pdf".into(),
            size: 100,
            sha256: sha.into(),
        };
        let f1 = store.add_activity_file(&cli, b.id, &file("aa"), 150).await.unwrap();
        assert_eq!((f1.activity_id, f1.size, f1.filename.as_str()), (b.id, 100, "bien-ban.pdf"));
        assert!(matches!(
            store.add_activity_file(&cli, b.id, &file("bb"), 150).await,
            Err(StoreError::Invalid(_))
        ));
        let f2 = store.add_activity_file(&cli, a.id, &file("aa"), 150).await.unwrap();
        assert_eq!(store.activity_files(b.id).await.unwrap(), std::slice::from_ref(&f1));
        assert_eq!(store.activity_file(f2.id).await.unwrap().unwrap().activity_id, a.id);
        assert!(store.remove_activity_file(&cli, f2.id).await.unwrap(), "f1 still uses the bytes");
        assert!(store.activity_files(a.id).await.unwrap().is_empty());
        let f3 = store.add_activity_file(&cli, a.id, &file("cc"), 150).await.unwrap();
        assert!(!store.remove_activity_file(&cli, f3.id).await.unwrap(), "nothing else uses them");

        // Deleting removes it, its notes and its files; the audit log keeps every step.
        store.delete_activity(&cli, b.id).await.unwrap();
        assert!(store.activity(b.id).await.unwrap().is_none());
        assert!(store.activity_notes(b.id).await.unwrap().is_empty());
        assert!(store.activity_file(f1.id).await.unwrap().is_none());
        let history = store.entity_history("activity", &b.id.to_string()).await.unwrap();
        assert_eq!(
            history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["create", "status", "note", "note", "delete"]
        );
    })
    .await;
}

// ---- the bloc ------------------------------------------------------------------------------

use danvan_domain::bloc::{BlocRole, MemberInput};

fn member(name: &str, role: BlocRole, from: NaiveDate, trained: bool) -> MemberInput {
    MemberInput {
        full_name: name.into(),
        position: "Cán bộ".into(),
        organisation: "UBMTTQ".into(),
        role,
        phone: Some("0912345678".into()),
        trained,
        trained_on: None,
        from,
    }
}

#[tokio::test]
async fn the_bloc_keeps_its_members_over_time() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let huu_thanh = unit_id(&store, "27695").await;
        let long_an = unit_id(&store, "80").await;

        // Organisations: the standard ten, then the province's own.
        let standard = store.organisations(None).await.unwrap();
        assert_eq!(standard, danvan_domain::bloc::STANDARD_ORGANISATIONS);
        store.add_organisation(&cli, long_an, "Hội Người cao tuổi").await.unwrap();
        assert!(matches!(
            store.add_organisation(&cli, long_an, "UBMTTQ").await,
            Err(StoreError::Conflict(_))
        ));
        // One name however its tones are placed or its letters cased (issue 14, defect 11).
        for same in ["Hội nông dân", "Hội Người Cao Tuổi", "Hội Người cao tuổi\u{200B}"] {
            let again = store.add_organisation(&cli, long_an, same).await;
            assert!(matches!(again, Err(StoreError::Conflict(_))), "{same}: {again:?}");
        }
        let la = store.organisations(Some(long_an)).await.unwrap();
        assert_eq!((la.len(), la.last().map(String::as_str)), (11, Some("Hội Người cao tuổi")));
        assert_eq!(store.organisations(Some(unit_id(&store, "01").await)).await.unwrap().len(), 10);

        // A bloc staffed in 2018, re-staffed in 2020.
        let d1 = store.add_decision(&cli, huu_thanh, "05-QĐ/ĐU", day(2018, 1, 2)).await.unwrap();
        let a = store
            .add_member(
                &cli,
                huu_thanh,
                &member("Nguyễn Văn A", BlocRole::Head, day(2018, 1, 2), true),
                Some(d1.id),
            )
            .await
            .unwrap();
        let b = store
            .add_member(
                &cli,
                huu_thanh,
                &member("Trần Thị B", BlocRole::Deputy, day(2018, 1, 2), false),
                Some(d1.id),
            )
            .await
            .unwrap();
        assert_eq!((a.input.role, a.decision_id, a.to), (BlocRole::Head, Some(d1.id), None));
        let d2 = store.add_decision(&cli, huu_thanh, "12-QĐ/ĐU", day(2020, 3, 1)).await.unwrap();
        assert_eq!(store.decisions_of(huu_thanh).await.unwrap(), [d2.clone(), d1.clone()]);
        let ended =
            store.end_member(&cli, a.id, day(2020, 2, 29), Some("Nghỉ hưu"), Some(d2.id)).await.unwrap();
        assert_eq!(
            (ended.to, ended.end_reason.as_deref(), ended.end_decision_id),
            (Some(day(2020, 2, 29)), Some("Nghỉ hưu"), Some(d2.id))
        );
        let c = store
            .add_member(
                &cli,
                huu_thanh,
                &member("Lê Văn C", BlocRole::Head, day(2020, 3, 1), true),
                Some(d2.id),
            )
            .await
            .unwrap();

        // Refused: ending twice, ending before the start, a decision of another unit.
        assert!(matches!(
            store.end_member(&cli, a.id, day(2021, 1, 1), None, None).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.end_member(&cli, c.id, day(2019, 1, 1), None, None).await,
            Err(StoreError::Invalid(_))
        ));
        let other =
            store.add_decision(&cli, unit_id(&store, "27637").await, "1", day(2018, 1, 1)).await.unwrap();
        assert!(store
            .add_member(
                &cli,
                huu_thanh,
                &member("X", BlocRole::Member, day(2018, 1, 1), false),
                Some(other.id)
            )
            .await
            .is_err());

        // The bloc on a past date is the bloc as it was; history keeps everyone.
        let names =
            |list: Vec<danvan_store::Member>| list.into_iter().map(|m| m.input.full_name).collect::<Vec<_>>();
        assert_eq!(
            names(store.members_on(huu_thanh, day(2019, 6, 1)).await.unwrap()),
            ["Nguyễn Văn A", "Trần Thị B"]
        );
        assert_eq!(
            names(store.members_on(huu_thanh, day(2020, 2, 29)).await.unwrap()),
            ["Nguyễn Văn A", "Trần Thị B"]
        );
        assert_eq!(
            names(store.members_on(huu_thanh, day(2020, 3, 1)).await.unwrap()),
            ["Lê Văn C", "Trần Thị B"]
        );
        assert!(store.members_on(huu_thanh, day(2017, 12, 31)).await.unwrap().is_empty());
        assert_eq!(
            names(store.members_of(huu_thanh).await.unwrap()),
            ["Nguyễn Văn A", "Trần Thị B", "Lê Văn C"]
        );
        assert_eq!(store.member(b.id).await.unwrap().unwrap().input.phone.as_deref(), Some("0912345678"));
        let history = store.entity_history("member", &a.id.to_string()).await.unwrap();
        assert_eq!(history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "end"]);
    })
    .await;
}

use danvan_domain::community::{Attendance, HamletInput, MeetingInput, MeetingKind, TeamInput};
use danvan_domain::feedback::{FeedbackInput, FeedbackStatus};
use danvan_store::FeedbackStep;

fn hamlet(name: &str, team_formed: Option<NaiveDate>) -> HamletInput {
    HamletInput {
        name: name.into(),
        kind: "Ấp".into(),
        team: team_formed.map(|formed_on| TeamInput {
            leader: format!("Tổ trưởng {name}"),
            deputies: vec!["Tổ phó".into()],
            member_count: 7,
            decision: Some("3/QĐ-UBND".into()),
            formed_on,
        }),
    }
}

fn meeting(kind: MeetingKind, held_on: NaiveDate, attendance: Vec<Attendance>) -> MeetingInput {
    MeetingInput {
        kind,
        held_on,
        place: "Hội trường".into(),
        chair: "Chủ trì".into(),
        content: "Nội dung".into(),
        conclusions: vec!["Tổ chức đối thoại với nhân dân ấp 2".into(), "Rà soát hộ nghèo".into()],
        attendance,
    }
}

/// Noon in Vietnam on a day.
fn at(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_hms_opt(5, 0, 0).unwrap().and_utc()
}

fn citizen(content: &str) -> FeedbackInput {
    FeedbackInput {
        name: Some("Phạm Thị Dân".into()),
        phone: Some("0987654321".into()),
        email: Some("dan@example.vn".into()),
        hamlet: Some("Ấp 1".into()),
        category: "Đất đai".into(),
        content: content.into(),
    }
}

#[tokio::test]
async fn hamlets_meetings_and_feedback_are_kept_and_audited() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let huu_thanh = unit_id(&store, "27695").await;
        let long_an = unit_id(&store, "80").await;
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;

        // Hamlets: all or none; a name twice is refused whole.
        let n = store
            .add_hamlets(&cli, huu_thanh, &[hamlet("Ấp 2", None), hamlet("Ấp 1", Some(day(2018, 3, 1)))])
            .await
            .unwrap();
        assert_eq!(n, 2);
        let refused = store.add_hamlets(&cli, huu_thanh, &[hamlet("Ấp 3", None), hamlet("ấp 1", None)]).await;
        assert!(matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("ấp 1")), "{refused:?}");
        let hamlets = store.hamlets_of(huu_thanh).await.unwrap();
        assert_eq!(hamlets.iter().map(|h| h.input.name.as_str()).collect::<Vec<_>>(), ["Ấp 1", "Ấp 2"]);
        assert_eq!(hamlets[0].input.team.as_ref().unwrap().deputies, ["Tổ phó"]);
        assert_eq!(store.hamlet(hamlets[0].id).await.unwrap().unwrap(), hamlets[0]);
        let mut two = hamlets[1].input.clone();
        two.team = hamlet("Ấp 2", Some(day(2019, 5, 1))).team;
        let updated = store.update_hamlet(&cli, hamlets[1].id, &two).await.unwrap();
        assert_eq!(updated.input.team.unwrap().formed_on, day(2019, 5, 1));
        assert!(matches!(
            store.update_hamlet(&cli, hamlets[1].id, &hamlet("Ấp 1", None)).await,
            Err(StoreError::Conflict(_))
        ));
        // Old and new tone placement name one hamlet (issue 14, defect 11).
        store.add_hamlets(&cli, huu_thanh, &[hamlet("Ấp Hòa Bình", None)]).await.unwrap();
        let again = store.add_hamlets(&cli, huu_thanh, &[hamlet("Ấp Hoà Bình", None)]).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let renamed = store.update_hamlet(&cli, hamlets[1].id, &hamlet("ấp hoà bình", None)).await;
        assert!(matches!(renamed, Err(StoreError::Conflict(_))), "{renamed:?}");
        let hb = store
            .hamlets_of(huu_thanh)
            .await
            .unwrap()
            .into_iter()
            .find(|h| h.input.name == "Ấp Hòa Bình")
            .unwrap();
        let same = store.update_hamlet(&cli, hb.id, &hamlet("Ấp Hoà Bình", None)).await.unwrap();
        assert_eq!(same.input.name, "Ấp Hoà Bình", "a hamlet may take its own name in another spelling");

        // A meeting with attendance and conclusions; one conclusion becomes an activity.
        let a = store
            .add_member(&cli, huu_thanh, &member("Nguyễn Văn A", BlocRole::Head, day(2018, 1, 2), true), None)
            .await
            .unwrap();
        let b = store
            .add_member(
                &cli,
                huu_thanh,
                &member("Trần Thị B", BlocRole::Deputy, day(2018, 1, 2), false),
                None,
            )
            .await
            .unwrap();
        let m = store
            .add_meeting(
                &cli,
                huu_thanh,
                &meeting(
                    MeetingKind::GiaoBan,
                    day(2018, 4, 5),
                    vec![
                        Attendance { member_id: a.id, present: true, reason: None },
                        Attendance { member_id: b.id, present: false, reason: Some("Đi công tác".into()) },
                    ],
                ),
            )
            .await
            .unwrap();
        assert_eq!(store.meeting(m.id).await.unwrap().unwrap(), m);
        assert_eq!(m.input.attendance[1].reason.as_deref(), Some("Đi công tác"));
        assert_eq!(m.conclusions.len(), 2);
        let list = store.meetings_of(huu_thanh, day(2018, 1, 1), day(2018, 12, 31)).await.unwrap();
        assert_eq!((list.len(), list[0].present, list[0].absent, list[0].conclusions), (1, 1, 1, 2));
        assert!(store.meetings_of(huu_thanh, day(2019, 1, 1), day(2019, 12, 31)).await.unwrap().is_empty());
        let c = m.conclusions[0].clone();
        let act = store
            .conclusion_to_activity(
                &cli,
                c.id,
                scheme,
                huu_thanh,
                2018,
                &activity(&c.text, day(2018, 4, 6), day(2018, 6, 30)),
            )
            .await
            .unwrap();
        assert_eq!(act.input.title, "Tổ chức đối thoại với nhân dân ấp 2");
        assert_eq!(store.conclusion(c.id).await.unwrap().unwrap().activity_id, Some(act.id));
        let twice = store
            .conclusion_to_activity(
                &cli,
                c.id,
                scheme,
                huu_thanh,
                2018,
                &activity("x", day(2018, 4, 6), day(2018, 6, 30)),
            )
            .await;
        assert!(matches!(twice, Err(StoreError::Conflict(_))));
        let elsewhere = store
            .conclusion_to_activity(
                &cli,
                m.conclusions[1].id,
                scheme,
                unit_id(&store, "27637").await,
                2018,
                &activity("x", day(2018, 4, 6), day(2018, 6, 30)),
            )
            .await;
        assert!(matches!(elsewhere, Err(StoreError::NotFound(_))));
        assert_eq!(store.activities_of(scheme, huu_thanh, 2018).await.unwrap().len(), 1);
        store.delete_activity(&cli, act.id).await.unwrap();
        assert_eq!(store.conclusion(c.id).await.unwrap().unwrap().activity_id, None);

        // Feedback: the deadline is the province's (30 days unless set), steps are checked.
        assert_eq!(store.feedback_answer_days(Some(long_an)).await.unwrap(), 30);
        store.set_feedback_answer_days(&cli, long_an, 15).await.unwrap();
        assert_eq!(store.feedback_answer_days(Some(long_an)).await.unwrap(), 15);
        assert!(matches!(
            store.set_feedback_answer_days(&cli, long_an, 0).await,
            Err(StoreError::Invalid(_))
        ));
        let f = store
            .submit_feedback(
                huu_thanh,
                "PA-2222-AAAA",
                &citizen("Đường ấp 1 ngập nước"),
                "h1",
                at(day(2019, 3, 1)),
                15,
            )
            .await
            .unwrap();
        assert_eq!((f.status, f.due_on, f.version), (FeedbackStatus::Received, day(2019, 3, 16), 1));
        assert!(matches!(
            store
                .submit_feedback(
                    huu_thanh,
                    "PA-2222-AAAA",
                    &citizen("lần nữa nhé"),
                    "h1",
                    at(day(2019, 3, 1)),
                    15
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.feedback_by_code("PA-2222-AAAA").await.unwrap().unwrap().id, f.id);
        assert!(store.feedback_by_code("PA-2222-BBBB").await.unwrap().is_none());
        let since = at(day(2019, 2, 28));
        assert_eq!(store.feedback_from_address_since("h1", since).await.unwrap(), 1);
        assert_eq!(store.feedback_from_address_since("h2", since).await.unwrap(), 0);

        let staff = Actor::system("cli:staff");
        let assigned = store
            .feedback_step(&staff, f.id, Some(1), &FeedbackStep::Assign("Hội Nông dân".into()))
            .await
            .unwrap();
        assert_eq!(
            (assigned.status, assigned.organisation.as_deref()),
            (FeedbackStatus::Assigned, Some("Hội Nông dân"))
        );
        let stale = store.feedback_step(&staff, f.id, Some(1), &FeedbackStep::Answer("x".into())).await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert!(matches!(
            store.feedback_step(&staff, f.id, None, &FeedbackStep::Close(None)).await,
            Err(StoreError::Invalid(_))
        ));
        let answered = store
            .feedback_step(&staff, f.id, Some(2), &FeedbackStep::Answer("Đã nạo vét cống".into()))
            .await
            .unwrap();
        assert_eq!(
            (answered.status, answered.answer.as_deref()),
            (FeedbackStatus::Answered, Some("Đã nạo vét cống"))
        );
        assert!(answered.answered_at.is_some());
        assert!(matches!(
            store.feedback_step(&staff, f.id, None, &FeedbackStep::Assign("UBND".into())).await,
            Err(StoreError::Conflict(_))
        ));
        let closed = store.feedback_step(&staff, f.id, None, &FeedbackStep::Close(None)).await.unwrap();
        assert_eq!(closed.status, FeedbackStatus::Closed);
        assert!(closed.closed_at.is_some() && closed.answered_at == answered.answered_at);
        assert!(matches!(
            store.feedback_step(&staff, f.id, None, &FeedbackStep::Answer("y".into())).await,
            Err(StoreError::Conflict(_))
        ));
        let g = store
            .submit_feedback(
                huu_thanh,
                "PA-3333-CCCC",
                &citizen("Trùng với ý kiến trước"),
                "h2",
                at(day(2019, 3, 2)),
                15,
            )
            .await
            .unwrap();
        store
            .feedback_step(&staff, g.id, None, &FeedbackStep::Close(Some("Trùng lặp".into())))
            .await
            .unwrap();
        let (page, total) = store.feedback_of(huu_thanh, None, 10, 0).await.unwrap();
        assert_eq!((total, page[0].code.as_str()), (2, "PA-3333-CCCC"));
        let (open, open_total) =
            store.feedback_of(huu_thanh, Some(FeedbackStatus::Received), 10, 0).await.unwrap();
        assert_eq!((open.len(), open_total), (0, 0));
        assert_eq!(store.feedback_of(huu_thanh, None, 1, 1).await.unwrap().0[0].code, "PA-2222-AAAA");

        // Every step is in the log; the citizen's identity is not.
        let history = store.entity_history("feedback", &f.id.to_string()).await.unwrap();
        assert_eq!(
            history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["create", "assign", "answer", "close"]
        );
        let logged = serde_json::to_string(&history).unwrap();
        assert!(
            !logged.contains("Phạm Thị Dân")
                && !logged.contains("0987654321")
                && !logged.contains("dan@example")
        );
        let closing = store.entity_history("feedback", &g.id.to_string()).await.unwrap();
        assert_eq!(closing.last().unwrap().reason.as_deref(), Some("Trùng lặp"));
        assert_eq!(store.entity_history("meeting", &m.id.to_string()).await.unwrap().len(), 1);
        assert_eq!(store.hamlet(-1).await.unwrap(), None);
        assert_eq!(store.entity_history("hamlet", &hamlets[1].id.to_string()).await.unwrap().len(), 2);
    })
    .await;
}

const COMPUTED: &str = r#"
[scheme]
code = "C-1"
title = "Đề án tính tự động"
issuing_body = "Tỉnh ủy"
root_unit = "80"
first_year = 2018
last_year = 2019

[[groups]]
code = "1"
name = "Khối"

[[targets]]
code = "1.1"
group = "1"
name = "Giao ban"
kind = "count"
criterion = 12
source = "computed:meetings_held"
coverage = { 2019 = 100 }

[[targets]]
code = "1.2"
group = "1"
name = "Tập huấn"
kind = "ratio"
criterion = 100
source = "computed:members_trained_share"
coverage = { 2019 = 100 }

[[targets]]
code = "1.3"
group = "1"
name = "Tổ dân vận"
kind = "ratio"
criterion = 100
source = "computed:hamlets_with_team_share"
coverage = { 2019 = 100 }

[[targets]]
code = "1.4"
group = "1"
name = "Trả lời đúng hạn"
kind = "ratio"
criterion = 90
source = "computed:feedback_answered_on_time_share"
coverage = { 2019 = 100 }

[[targets]]
code = "1.5"
group = "1"
name = "Hoàn thành kế hoạch"
kind = "ratio"
criterion = 80
source = "computed:activities_done_share"
coverage = { 2019 = 100 }
"#;

#[tokio::test]
async fn computed_targets_count_the_records_and_freeze_at_approval() {
    use danvan_domain::period::Period;
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let imported = store.import_scheme(&cli, &parse_scheme(COMPUTED).unwrap(), COMPUTED).await.unwrap();
        let scheme = store.scheme("C-1").await.unwrap().unwrap();
        assert_eq!(imported.id, scheme.id);
        let unit = unit_id(&store, "27695").await;
        let other = unit_id(&store, "27637").await;

        // A seeded commune: records in and around 2019, and a neighbour's that must not count.
        let mut member_ids = Vec::new();
        for (i, (from, to, trained_on)) in [
            (day(2018, 1, 1), None, Some(day(2018, 6, 1))),
            (day(2018, 1, 1), None, Some(day(2020, 2, 1))),
            (day(2018, 1, 1), Some(day(2019, 6, 30)), Some(day(2018, 6, 1))),
            (day(2019, 3, 1), None, None),
            (day(2020, 1, 1), None, Some(day(2020, 1, 1))),
        ]
        .into_iter()
        .enumerate()
        {
            let mut input = member(&format!("Thành viên {i}"), BlocRole::Member, from, false);
            input.trained = trained_on.is_some();
            input.trained_on = trained_on;
            let m = store.add_member(&cli, unit, &input, None).await.unwrap();
            if let Some(to) = to {
                store.end_member(&cli, m.id, to, None, None).await.unwrap();
            }
            member_ids.push(m.id);
        }
        store
            .add_member(&cli, other, &member("Xã khác", BlocRole::Member, day(2018, 1, 1), true), None)
            .await
            .unwrap();
        store
            .add_hamlets(
                &cli,
                unit,
                &[
                    hamlet("Ấp 1", Some(day(2018, 5, 1))),
                    hamlet("Ấp 2", Some(day(2020, 5, 1))),
                    hamlet("Ấp 3", None),
                    hamlet("Ấp 4", Some(day(2019, 12, 31))),
                ],
            )
            .await
            .unwrap();
        for (kind, on) in [
            (MeetingKind::GiaoBan, day(2019, 1, 1)),
            (MeetingKind::GiaoBan, day(2019, 6, 1)),
            (MeetingKind::GiaoBan, day(2019, 12, 31)),
            (MeetingKind::HoiNghi, day(2019, 7, 1)),
            (MeetingKind::GiaoBan, day(2018, 12, 31)),
        ] {
            store.add_meeting(&cli, unit, &meeting(kind, on, Vec::new())).await.unwrap();
        }
        store
            .add_meeting(&cli, other, &meeting(MeetingKind::GiaoBan, day(2019, 2, 1), Vec::new()))
            .await
            .unwrap();
        let staff = Actor::system("cli:staff");
        let mut codes = 0;
        let mut feedback = |received: chrono::DateTime<chrono::Utc>| {
            codes += 1;
            let code = format!("PA-TEST-{codes:04}");
            let store = store.clone();
            async move {
                store
                    .submit_feedback(unit, &code, &citizen("Ý kiến của người dân"), "h", received, 30)
                    .await
                    .unwrap()
            }
        };
        // Received in 2019 and answered only now: late.
        let late = feedback(at(day(2019, 2, 1))).await;
        store.feedback_step(&staff, late.id, None, &FeedbackStep::Answer("Trả lời".into())).await.unwrap();
        let unanswered = feedback(at(day(2019, 5, 1))).await;
        let dropped = feedback(at(day(2019, 6, 1))).await;
        store
            .feedback_step(&staff, dropped.id, None, &FeedbackStep::Close(Some("Trùng".into())))
            .await
            .unwrap();
        let _ = unanswered;
        // Received "today" with a generous deadline: answered on time.
        let today = chrono::Utc::now().with_timezone(&danvan_domain::period::VIETNAM).date_naive();
        let in_time = feedback(chrono::Utc::now()).await;
        store.feedback_step(&staff, in_time.id, None, &FeedbackStep::Answer("Trả lời".into())).await.unwrap();

        for (title, due, status) in [
            ("Một", day(2019, 3, 1), ActivityStatus::Done),
            ("Hai", day(2019, 9, 1), ActivityStatus::InProgress),
            ("Ba", day(2019, 12, 1), ActivityStatus::Cancelled),
            ("Bốn", day(2019, 10, 1), ActivityStatus::Done),
            ("Năm", day(2018, 10, 1), ActivityStatus::NotStarted),
        ] {
            let year = due.format("%Y").to_string().parse().unwrap();
            let a = store
                .create_activity(&cli, scheme.id, unit, year, &activity(title, day(year, 1, 1), due))
                .await
                .unwrap();
            if status != ActivityStatus::NotStarted {
                let reason = (status == ActivityStatus::Cancelled).then_some("Không còn cần");
                store.set_activity_status(&cli, a.id, Some(a.version), status, reason, None).await.unwrap();
            }
        }

        // Each rule equals a count made directly from the records above.
        let ratio =
            |n: i64, d: i64| Some(Value::Ratio { numerator: Milli(n * 1000), denominator: Milli(d * 1000) });
        let p2019 = Period::year(2019);
        let values = store.computed_values(&scheme, unit, &p2019).await.unwrap();
        assert_eq!(values["1.1"], Some(Value::Count { count: Milli(3000) }), "giao ban in 2019");
        assert_eq!(values["1.2"], ratio(1, 3), "serving on 31/12/2019: 0, 1 and 3; trained by then: 0");
        assert_eq!(values["1.3"], ratio(2, 4), "Ấp 1 and Ấp 4 of four");
        assert_eq!(
            values["1.4"],
            ratio(0, 2),
            "received in 2019: late and unanswered; the dropped one left out"
        );
        assert_eq!(values["1.5"], ratio(2, 3), "due in 2019, cancelled left out");
        let now_period = Period::year(today.format("%Y").to_string().parse().unwrap());
        let now_values = store.computed_values(&scheme, unit, &now_period).await.unwrap();
        assert_eq!(now_values["1.4"], ratio(1, 1));
        assert_eq!(
            store.computed_values(&scheme, other, &p2019).await.unwrap()["1.1"],
            Some(Value::Count { count: Milli(1000) })
        );
        assert_eq!(
            store.computed_values(&scheme, unit, &Period::year(2017)).await.unwrap()["1.2"],
            None,
            "no members yet"
        );

        // Approval freezes them: new records later change the live value, not the review.
        let r = store.create_review(&cli, scheme.id, unit, "2019").await.unwrap();
        let r = store.transition_review(&cli, r.id, None, Transition::Submit, None, false).await.unwrap();
        assert_eq!(r.values["1.1"].value, Some(Value::Count { count: Milli(3000) }));
        store
            .add_meeting(&cli, unit, &meeting(MeetingKind::GiaoBan, day(2019, 8, 1), Vec::new()))
            .await
            .unwrap();
        let r = store.transition_review(&cli, r.id, None, Transition::Approve, None, false).await.unwrap();
        assert_eq!(
            r.values["1.1"].value,
            Some(Value::Count { count: Milli(4000) }),
            "recomputed at approval"
        );
        assert_eq!(r.values["1.3"].value, ratio(2, 4));
        store
            .add_meeting(&cli, unit, &meeting(MeetingKind::GiaoBan, day(2019, 9, 1), Vec::new()))
            .await
            .unwrap();
        let mut more = hamlet("Ấp 5", Some(day(2019, 1, 1)));
        more.kind = "Ấp".into();
        store.add_hamlets(&cli, unit, &[more]).await.unwrap();
        let live = store.computed_values(&scheme, unit, &p2019).await.unwrap();
        assert_eq!(
            (live["1.1"].clone(), live["1.3"].clone()),
            (Some(Value::Count { count: Milli(5000) }), ratio(3, 5))
        );
        let kept = store.review_by_id(r.id).await.unwrap().unwrap();
        assert_eq!(kept.values["1.1"].value, Some(Value::Count { count: Milli(4000) }));
        assert_eq!(kept.values["1.3"].value, ratio(2, 4));
        // What a page shows now: the frozen values of the approved review, the live ones without.
        let shown = store.values_now(&scheme, unit, &p2019, Some(&kept)).await.unwrap();
        assert_eq!(shown["1.1"].value, Some(Value::Count { count: Milli(4000) }));
        let unreported = store.values_now(&scheme, unit, &p2019, None).await.unwrap();
        assert_eq!(unreported["1.1"].value, Some(Value::Count { count: Milli(5000) }));
        assert_eq!(unreported["1.3"].value, ratio(3, 5));
        let rolled = store.review_values_within(scheme.id, unit, "2019", &[State::Approved]).await.unwrap();
        assert!(rolled
            .iter()
            .any(|v| v.target == "1.1" && v.value == Some(Value::Count { count: Milli(4000) })));
        // Issue 16, item 5: reopened and sent again, it keeps them; only a recomputation asked
        // for changes them, and it is refused on a stale version.
        assert!(kept.frozen_at.is_some());
        let r = store
            .transition_review(&cli, r.id, None, Transition::Reopen, Some("Sửa một số"), false)
            .await
            .unwrap();
        let shown = store.values_now(&scheme, unit, &p2019, Some(&r)).await.unwrap();
        assert_eq!(shown["1.1"].value, Some(Value::Count { count: Milli(4000) }), "a reopening keeps them");
        let r = store.transition_review(&cli, r.id, None, Transition::Submit, None, false).await.unwrap();
        assert_eq!(r.values["1.1"].value, Some(Value::Count { count: Milli(4000) }), "so does a submission");
        let r = store
            .transition_review(&cli, r.id, None, Transition::Return, Some("Tính lại"), false)
            .await
            .unwrap();
        let stale = store.recompute_review(&cli, r.id, r.version - 1).await;
        assert!(matches!(stale, Err(danvan_store::StoreError::Conflict(_))), "{stale:?}");
        let r = store.recompute_review(&cli, r.id, r.version).await.unwrap();
        assert_eq!(
            (r.values["1.1"].value.clone(), r.values["1.3"].value.clone()),
            (Some(Value::Count { count: Milli(5000) }), ratio(3, 5))
        );
        let r = store.transition_review(&cli, r.id, None, Transition::Submit, None, false).await.unwrap();
        let r = store.transition_review(&cli, r.id, None, Transition::Approve, None, false).await.unwrap();
        let refused = store.recompute_review(&cli, r.id, r.version).await;
        assert!(matches!(refused, Err(danvan_store::StoreError::Conflict(_))), "approved: {refused:?}");
        let _ = member_ids;
    })
    .await;
}

#[tokio::test]
async fn subtrees_and_sample_reviews_in_bulk() {
    use danvan_store::SampleReview;
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        import(&store, &list_2025()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        // The code 80 names Long An until the reform and Tây Ninh after: the 2019 one.
        let long_an = store.unit_by_code("80", Some(day(2019, 1, 1))).await.unwrap().unwrap().id;
        assert!(store.subtree(unit_id(&store, "80").await, day(2019, 1, 1)).await.unwrap().is_empty());
        let mut codes: Vec<String> =
            store.subtree(long_an, day(2019, 1, 1)).await.unwrap().into_iter().map(|u| u.code).collect();
        codes.sort();
        assert_eq!(
            codes,
            ["27494", "27496", "27619", "27637", "27640", "27643", "27695", "794", "80", "801", "802"]
        );
        let duc_hoa = store.unit_by_code("802", Some(day(2019, 1, 1))).await.unwrap().unwrap().id;
        assert_eq!(store.subtree(duc_hoa, day(2019, 1, 1)).await.unwrap().len(), 5);

        let communes = store.units_within(long_an, UnitLevel::Commune, day(2018, 12, 31)).await.unwrap();
        let list: Vec<SampleReview> = communes
            .iter()
            .map(|&u| SampleReview {
                unit_id: u,
                period: "2018".into(),
                state: if u == communes[0] { State::Submitted } else { State::Approved },
                late: u == communes[1],
                values: [
                    ("1.1".to_string(), Value::Ratio { numerator: Milli(9_000), denominator: Milli(10_000) }),
                    ("2.2".to_string(), Value::Count { count: Milli(12_000) }),
                ]
                .into_iter()
                .collect(),
            })
            .collect();
        let mut seen = Vec::new();
        assert!(!store.has_sample_data().await.unwrap());
        let n = store.insert_sample_reviews(&cli, scheme, &list, &mut |d| seen.push(d)).await.unwrap();
        assert!(store.has_sample_data().await.unwrap());
        assert_eq!(store.change_counters(&[&danvan_store::marks_counter(scheme)]).await.unwrap(), [1]);
        store.refresh_statistics().await.unwrap();
        assert_eq!((n, seen.last().copied()), (7, Some(7)));
        assert_eq!(store.review_count(scheme).await.unwrap(), 7);
        let approved = store.review_values_within(scheme, long_an, "2018", &[State::Approved]).await.unwrap();
        assert_eq!(approved.len(), 12, "6 approved reviews × 2 values");
        // Approved sample reviews carry their marks like reviews approved one by one; a
        // district's are only its own communes'.
        let def = store.scheme_by_id(scheme).await.unwrap().unwrap().def;
        let all = store.marks_changed_since(scheme, 0).await.unwrap();
        assert_eq!(all.len(), 7);
        let marks: Vec<_> = all.into_iter().filter(|m| m.met.is_some()).collect();
        assert_eq!(marks.len(), 6, "the submitted one has no marks");
        let expected = danvan_domain::achievement::met_marks(&def.targets, &list[1].values);
        assert!(marks.iter().all(|m| m.met.as_deref() == Some(expected.as_str()) && m.period == "2018"));
        assert_eq!(marks.iter().filter(|m| m.late).count(), 1);
        // Reviews approved before marks were kept get them when the store opens.
        danvan_store::testing::execute(&store, "UPDATE reviews SET met = NULL").await.unwrap();
        assert!(
            store.marks_changed_since(scheme, 0).await.is_err(),
            "unmarked approved reviews are an error"
        );
        assert_eq!(store.mark_unmarked_reviews().await.unwrap(), 6);
        let mut again = store.marks_changed_since(scheme, 1).await.unwrap();
        again.sort_by_key(|m| m.unit_id);
        let mut marks = marks;
        marks.sort_by_key(|m| m.unit_id);
        assert_eq!(again, marks, "only the six re-marked reviews changed after the sample's counter");
        assert!(store.is_scheme_root(scheme, long_an).await.unwrap());
        assert!(!store.is_scheme_root(scheme, duc_hoa).await.unwrap());
        assert_eq!(store.mark_unmarked_reviews().await.unwrap(), 0);
        let first = store.review(scheme, communes[0], "2018").await.unwrap().unwrap();
        assert_eq!(
            (first.state, first.values["2.2"].value.clone()),
            (State::Submitted, Some(Value::Count { count: Milli(12_000) }))
        );
        assert!(store.review(scheme, communes[1], "2018").await.unwrap().unwrap().late);
        assert!(matches!(
            store.insert_sample_reviews(&cli, scheme, &list, &mut |_| {}).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store.entity_history("scheme", &scheme.to_string()).await.unwrap().last().unwrap().action,
            "sample"
        );

        // Sample roadmaps: approved and in force at once.
        let plan = danvan_domain::roadmap::suggest(&def, 2017, |_| Some(1.0));
        let plans = [(communes[0], plan.clone()), (communes[1], plan.clone())];
        assert_eq!(store.insert_sample_roadmaps(&cli, scheme, &plans).await.unwrap(), 2);
        let in_force = store.plans_in_force_within(scheme, long_an).await.unwrap();
        assert_eq!(in_force.len(), 2);
        assert_eq!(in_force[&communes[1]], plan);
        assert!(matches!(
            store.insert_sample_roadmaps(&cli, scheme, &plans).await,
            Err(StoreError::Conflict(_))
        ));

        // Sample activities: written at once, overdue ones found like any other.
        let acts: Vec<danvan_store::SampleActivity> =
            [(ActivityStatus::Done, 3), (ActivityStatus::InProgress, 6)]
                .into_iter()
                .map(|(status, month)| danvan_store::SampleActivity {
                    unit_id: communes[0],
                    year: 2018,
                    input: activity("Tập huấn", day(2018, 1, 1), day(2018, month, 30)),
                    status,
                })
                .collect();
        assert_eq!(store.insert_sample_activities(&cli, scheme, &acts).await.unwrap(), 2);
        let listed = store.activities_of(scheme, communes[0], 2018).await.unwrap();
        let mut statuses: Vec<&str> = listed.iter().map(|a| a.status.as_str()).collect();
        statuses.sort();
        assert_eq!(statuses, ["done", "in_progress"]);
        let overdue = store.overdue_within(scheme, long_an, day(2019, 1, 1)).await.unwrap();
        assert_eq!(overdue.len(), 1);
        let counts = store.overdue_counts_within(scheme, long_an, day(2019, 1, 1)).await.unwrap();
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), [(communes[0], 1)]);
        assert!(store.overdue_counts_within(scheme, long_an, day(2018, 1, 1)).await.unwrap().is_empty());
        assert!(matches!(
            store.insert_sample_activities(&cli, scheme, &acts).await,
            Err(StoreError::Conflict(_))
        ));

        // Sample bloc records: what computed targets count, with attendance; a unit that has
        // records already is left alone, and a tracking code taken is skipped.
        let records = sample_records(communes[2]);
        assert_eq!(store.insert_sample_records(&cli, &records).await.unwrap(), 2 + 2 + 2 + 1);
        let (start, end) = (day(2018, 1, 1), day(2018, 12, 31));
        let value = |rule| store.computed_value(rule, scheme, communes[2], start, end);
        let ratio =
            |n: i64, d: i64| Some(Value::Ratio { numerator: Milli(n * 1000), denominator: Milli(d * 1000) });
        assert_eq!(
            value(ComputedRule::MembersTrainedShare).await.unwrap(),
            ratio(1, 1),
            "the one who left is not counted"
        );
        assert_eq!(value(ComputedRule::HamletsWithTeamShare).await.unwrap(), ratio(1, 2));
        assert_eq!(
            value(ComputedRule::MeetingsHeld).await.unwrap(),
            Some(Value::Count { count: Milli(2_000) })
        );
        assert_eq!(value(ComputedRule::FeedbackAnsweredOnTimeShare).await.unwrap(), ratio(1, 1));
        let meetings = store.meetings_of(communes[2], start, end).await.unwrap();
        let mut attended: Vec<(i64, i64)> = meetings.iter().map(|m| (m.present, m.absent)).collect();
        attended.sort();
        assert_eq!(
            attended,
            [(1, 0), (1, 1)],
            "in March both served and one was away; in October one served"
        );
        assert_eq!(store.members_of(communes[2]).await.unwrap().len(), 2);
        assert_eq!(store.insert_sample_records(&cli, &records).await.unwrap(), 0, "the unit has records");
        assert_eq!(store.hamlets_of(communes[2]).await.unwrap().len(), 2);

        // Sample evidence: found by unit and period; one of a review that does not exist
        // writes nothing.
        let file = |unit: i64, period: &str| danvan_store::SampleEvidence {
            unit_id: unit,
            period: period.into(),
            target_code: "1.1".into(),
            filename: "bien-ban.pdf".into(),
            content_type: "application/pdf".into(),
            size: 1234,
            sha256: "ab".repeat(32),
        };
        assert!(matches!(
            store
                .insert_sample_evidence(&cli, scheme, &[file(communes[1], "2018"), file(communes[1], "2030")])
                .await,
            Err(StoreError::NotFound(_))
        ));
        let review = store.review(scheme, communes[1], "2018").await.unwrap().unwrap();
        assert!(store.evidence_of(review.id).await.unwrap().is_empty());
        assert_eq!(
            store.insert_sample_evidence(&cli, scheme, &[file(communes[1], "2018")]).await.unwrap(),
            1
        );
        let kept = store.evidence_of(review.id).await.unwrap();
        assert_eq!(
            kept.iter().map(|e| (e.target_code.as_str(), e.filename.as_str(), e.size)).collect::<Vec<_>>(),
            [("1.1", "bien-ban.pdf", 1234)]
        );
    })
    .await;
}

/// Sample records of one commune in 2018: two members (one trained, one who left in June), two
/// hamlets (one with a team), two giao ban meetings (one missed by a member) and two feedbacks
/// under one tracking code (the second is skipped).
fn sample_records(unit: i64) -> danvan_store::SampleRecords {
    let member = |name: &str, trained_on, ended| danvan_store::SampleMember {
        unit_id: unit,
        full_name: name.into(),
        position: "Chủ tịch".into(),
        organisation: "UBMTTQ".into(),
        role: BlocRole::Member,
        trained_on,
        from: day(2018, 1, 1),
        ended,
    };
    let hamlet = |name: &str, team| danvan_store::SampleHamlet {
        unit_id: unit,
        name: name.into(),
        kind: "Ấp".into(),
        team,
    };
    let meeting = |held_on, absent| danvan_store::SampleMeeting {
        unit_id: unit,
        kind: MeetingKind::GiaoBan,
        held_on,
        place: "Hội trường".into(),
        chair: "Nguyễn Văn An".into(),
        content: "Giao ban".into(),
        absent,
    };
    let at = |d: chrono::NaiveDate| d.and_hms_opt(3, 0, 0).unwrap().and_utc();
    let feedback = |content: &str| danvan_store::SampleFeedback {
        unit_id: unit,
        code: "PA-SAMP-LE22".into(),
        hamlet: None,
        category: "Khác".into(),
        content: content.into(),
        status: FeedbackStatus::Answered,
        organisation: Some("UBND".into()),
        answer: Some("Đã trả lời".into()),
        received_at: at(day(2018, 4, 2)),
        due_on: day(2018, 5, 2),
        answered_at: Some(at(day(2018, 4, 20))),
        closed_at: None,
    };
    let team = TeamInput {
        leader: "Trần Thị Lan".into(),
        deputies: vec!["Lê Văn Nam".into()],
        member_count: 7,
        decision: Some("12/QĐ-ĐU".into()),
        formed_on: day(2018, 5, 1),
    };
    danvan_store::SampleRecords {
        members: vec![
            member("Nguyễn Văn An", Some(day(2018, 3, 1)), None),
            member("Phạm Thị Hà", None, Some((day(2018, 6, 30), "Chuyển công tác".into()))),
        ],
        hamlets: vec![hamlet("Ấp 1", Some(team)), hamlet("Ấp 2", None)],
        meetings: vec![meeting(day(2018, 3, 10), vec![1]), meeting(day(2018, 10, 10), vec![])],
        feedback: vec![feedback("Đề nghị sửa đường"), feedback("Đề nghị lắp đèn")],
    }
}

/// A reform slice: Long An's Đức Hòa in 2024 (with a commune that is divided) and what its
/// communes became in 2025 — 27931 is reused by a different unit.
fn reform_lists() -> (UnitList, UnitList, Vec<danvan_domain::lineage::MapRow>) {
    let old = format!(
        "{THREE}\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27931,Thị trấn Hậu Nghĩa,Thị trấn,10.88,106.39\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27949,Xã Đức Lập Thượng,Xã,10.9,106.4\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27955,Xã Tân Mỹ,Xã,10.9,106.4\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27691,Phường Chia,Xã,10.9,106.4\n\
01,Thành phố Hà Nội,001,Quận Ba Đình,Quận,00004,Phường Trúc Bạch,Phường,21.04,105.84\n"
    );
    let new = format!(
        "{TWO}\
80,Tỉnh Tây Ninh,27931,Xã Hậu Nghĩa,Xã,10.93,106.39,66.48\n\
80,Tỉnh Tây Ninh,27694,Phường Long An,Phường,10.5,106.4,10.0\n\
80,Tỉnh Tây Ninh,25459,Phường Tân Ninh,Phường,11.3,106.1,10.0\n\
01,Thành phố Hà Nội,00004,Phường Ba Đình,Phường,21.0386,105.838,2.97\n"
    );
    let map = "old_commune_code,new_commune_code,relation\n\
27931,27931,whole\n27949,27931,whole\n27955,27931,whole\n\
27691,27694,split-main\n27691,25459,split-part\n00004,00004,whole\n";
    (
        parse_unit_list(old.as_bytes(), None).unwrap(),
        parse_unit_list(new.as_bytes(), None).unwrap(),
        danvan_domain::lineage::parse_reform_map(map.as_bytes()).unwrap(),
    )
}

#[tokio::test]
async fn the_reform_map_links_unit_versions_once_and_by_line() {
    on_each_backend(|store| async move {
        let (old, new, map) = reform_lists();
        let actor = Actor::system("test");
        let reform = danvan_domain::lineage::reform_date();
        let mut nop = |_: usize| {};
        import(&store, &old).await;
        // Without the new list, every row is refused by its line, and nothing is stored.
        let err = store.import_successions(&actor, &map, reform, None, &mut nop).await.unwrap_err();
        let StoreError::Invalid(m) = err else { panic!("{err:?}") };
        assert!(m.contains("dòng 2: không có xã mã \"27931\" bắt đầu hiệu lực ngày 01/07/2025"), "{m}");
        assert!(store.links_within(unit_id(&store, "80").await).await.unwrap().is_empty());
        import(&store, &new).await;

        // With a province, only its rows; then all, idempotently.
        let s = store.import_successions(&actor, &map, reform, Some("80"), &mut nop).await.unwrap();
        assert_eq!((s.inserted, s.updated, s.unchanged), (5, 0, 0));
        let s = store.import_successions(&actor, &map, reform, None, &mut nop).await.unwrap();
        assert_eq!((s.inserted, s.updated, s.unchanged), (1, 0, 5));
        let s = store.import_successions(&actor, &map, reform, None, &mut nop).await.unwrap();
        assert_eq!((s.inserted, s.updated, s.unchanged), (0, 0, 6));
        // One audit row per stored link.
        let events = store
            .audit_events(
                &danvan_store::AuditFilter { entity_type: Some("succession".into()), ..Default::default() },
                100,
                0,
            )
            .await
            .unwrap();
        assert_eq!(events.total, 6);

        let old_hn = store.unit_by_code("27931", Some(day(2020, 1, 1))).await.unwrap().unwrap();
        let new_hn = store.unit_by_code("27931", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        assert_ne!(old_hn.id, new_hn.id);
        let lineage = store.unit_lineage(&new_hn).await.unwrap();
        let names: Vec<&str> = lineage.predecessors.iter().map(|l| l.unit.name.as_str()).collect();
        assert_eq!(names, ["Thị trấn Hậu Nghĩa", "Xã Đức Lập Thượng", "Xã Tân Mỹ"]);
        assert!(lineage.successors.is_empty());
        let back = store.unit_lineage(&old_hn).await.unwrap();
        assert_eq!(back.successors.len(), 1);
        assert_eq!(back.successors[0].unit.id, new_hn.id);
        assert_eq!(back.successors[0].relation, Some(danvan_domain::lineage::Succession::Whole));
        assert_eq!(back.successors[0].effective_on, reform);
        // A province's lineage comes from its communes': old Long An went into the new Tây Ninh.
        let long_an = store.unit_by_code("80", Some(day(2020, 1, 1))).await.unwrap().unwrap();
        let tay_ninh = store.unit_by_code("80", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        let province = store.unit_lineage(&long_an).await.unwrap();
        assert_eq!(province.successors.iter().map(|l| l.unit.id).collect::<Vec<_>>(), [tay_ninh.id]);
        assert_eq!(province.successors[0].relation, None);
        let province = store.unit_lineage(&tay_ninh).await.unwrap();
        assert_eq!(province.predecessors.iter().map(|l| l.unit.id).collect::<Vec<_>>(), [long_an.id]);

        // Who may read whose history: a commune with a successor in the scope; a larger unit only
        // when all its communes' successors are in it.
        let split = store.unit_by_code("27691", None).await.unwrap().unwrap();
        let tan_ninh = store.unit_by_code("25459", None).await.unwrap().unwrap();
        let duc_hoa = store.unit_by_code("802", None).await.unwrap().unwrap();
        assert!(store.is_predecessor_of(old_hn.id, new_hn.id).await.unwrap());
        assert!(store.is_predecessor_of(long_an.id, tay_ninh.id).await.unwrap());
        assert!(store.is_predecessor_of(duc_hoa.id, tay_ninh.id).await.unwrap());
        assert!(!store.is_predecessor_of(duc_hoa.id, new_hn.id).await.unwrap(), "not the whole district");
        assert!(store.is_predecessor_of(split.id, tan_ninh.id).await.unwrap(), "a part of a split commune");
        let hanoi = store.unit_by_code("01", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        assert!(!store.is_predecessor_of(old_hn.id, hanoi.id).await.unwrap());
        assert_eq!(store.links_within(long_an.id).await.unwrap().len(), 5);
        let all = store.successions().await.unwrap();
        assert_eq!(all.len(), 6);
        assert!(all.iter().any(|l| l.old_unit_id == split.id
            && l.new_unit_id == tan_ninh.id
            && l.relation == danvan_domain::lineage::Succession::SplitPart));

        // Importing the new list again changes none of the links nor what the old ids name.
        import(&store, &new).await;
        assert_eq!(store.unit(old_hn.id).await.unwrap().unwrap(), old_hn);
        assert_eq!(store.links_within(long_an.id).await.unwrap().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn a_scheme_starts_on_its_day_in_the_hierarchy_of_that_day() {
    on_each_backend(|store| async move {
        let (old, new, _) = reform_lists();
        import(&store, &old).await;
        import(&store, &new).await;
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/schemes/tay-ninh-2026-2030.sample.toml"),
        )
        .unwrap();
        let def = parse_scheme(&text).unwrap();
        assert_eq!(def.starts_on, Some(day(2026, 1, 1)));
        store.import_scheme(&Actor::system("test"), &def, &text).await.unwrap();
        let stored = store.scheme("TN-KDV-2026-2030").await.unwrap().unwrap();
        assert_eq!(stored.def.starts_on, Some(day(2026, 1, 1)));
        let tay_ninh = store.unit_by_code("80", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        assert_eq!(stored.root_unit_id, tay_ninh.id, "the root is today's Tây Ninh, not Long An");
        assert_eq!(store.scheme_root_unit("TN-KDV-2026-2030").await.unwrap(), Some(tay_ninh.id));
        assert_eq!(store.scheme_root_unit("KHONG-CO").await.unwrap(), None);
        // A code with a NUL or other control character names nothing (PostgreSQL refuses NULs).
        assert_eq!(store.scheme_root_unit("TN\0").await.unwrap(), None);
        assert!(store.scheme("TN\0").await.unwrap().is_none());
        assert!(store.units_with_code("80\0").await.unwrap().is_empty());
        assert!(store.unit_by_code("\u{7}80", None).await.unwrap().is_none());
        // A scheme that starts before the new list is refused with the day.
        let early = text
            .replace("first_year = 2026", "first_year = 2025")
            .replace("starts_on = 2026-01-01", "starts_on = 2025-03-01")
            .replace("code = \"TN-KDV-2026-2030\"", "code = \"TN-EARLY\"");
        let def = parse_scheme(&early).unwrap();
        let root = store.import_scheme(&Actor::system("test"), &def, &early).await.unwrap();
        assert_ne!(store.scheme("TN-EARLY").await.unwrap().unwrap().root_unit_id, tay_ninh.id, "{root:?}");
        // On 1 July 2025 the same file resolves the new province.
        let july =
            early.replace("starts_on = 2025-03-01", "starts_on = 2025-07-01").replace("TN-EARLY", "TN-JULY");
        let def = parse_scheme(&july).unwrap();
        store.import_scheme(&Actor::system("test"), &def, &july).await.unwrap();
        assert_eq!(store.scheme("TN-JULY").await.unwrap().unwrap().root_unit_id, tay_ninh.id);
    })
    .await;
}

#[tokio::test]
async fn users_of_ended_units_are_found_by_day() {
    on_each_backend(|store| async move {
        let (old, new, _) = reform_lists();
        import(&store, &old).await;
        import(&store, &new).await;
        let old_hn = store.unit_by_code("27931", Some(day(2020, 1, 1))).await.unwrap().unwrap();
        let new_hn = store.unit_by_code("27931", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        let actor = Actor::system("test");
        for (name, unit) in [("cu", Some(old_hn.id)), ("moi", Some(new_hn.id)), ("quantri", None)] {
            let role = if unit.is_some() { Role::Commune } else { Role::Admin };
            store.create_user(&actor, &new_user(name, role, unit)).await.unwrap();
        }
        let names =
            |users: Vec<danvan_store::User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
        assert_eq!(names(store.users_of_ended_units(day(2026, 1, 1)).await.unwrap()), ["cu"]);
        assert!(store.users_of_ended_units(day(2025, 6, 30)).await.unwrap().is_empty(), "not ended yet");
    })
    .await;
}

// ---- busy databases ------------------------------------------------------------------------

/// Issue 14, defect 4: a database busy with another writer is "busy, try again" (the web layer
/// answers 503 with Retry-After), never an internal error; other errors stay what they are.
#[tokio::test]
async fn a_busy_database_is_told_apart_from_a_fault() {
    use sqlx::Connection;
    // SQLite: a second writer while the first holds the lock, with no busy timeout to wait out.
    let dir = danvan_store::testing::tempfile_dir();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("busy.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::ZERO);
    let mut first = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    let mut second = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)").execute(&mut first).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut first).await.unwrap();
    let err = sqlx::query("BEGIN IMMEDIATE").execute(&mut second).await.unwrap_err();
    assert!(danvan_store::is_busy(&err), "{err}");
    assert!(matches!(StoreError::from(err), StoreError::Busy));
    sqlx::query("INSERT INTO t (id) VALUES (1)").execute(&mut first).await.unwrap();
    sqlx::query("COMMIT").execute(&mut first).await.unwrap();
    let dup = sqlx::query("INSERT INTO t (id) VALUES (1)").execute(&mut second).await.unwrap_err();
    assert!(!danvan_store::is_busy(&dup));
    assert!(matches!(StoreError::from(dup), StoreError::Database(_)));

    // PostgreSQL: a lock not obtained within lock_timeout.
    let Some(server) = danvan_store::testing::pg_server() else { return };
    let db = danvan_store::testing::TestDb::create(&server).await;
    {
        let mut first = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut second = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("CREATE TABLE t (id BIGINT PRIMARY KEY)").execute(&mut first).await.unwrap();
        sqlx::query("BEGIN").execute(&mut first).await.unwrap();
        sqlx::query("LOCK TABLE t IN ACCESS EXCLUSIVE MODE").execute(&mut first).await.unwrap();
        sqlx::query("SET lock_timeout = '50ms'").execute(&mut second).await.unwrap();
        let err = sqlx::query("INSERT INTO t (id) VALUES (1)").execute(&mut second).await.unwrap_err();
        assert!(danvan_store::is_busy(&err), "{err}");
        assert!(matches!(StoreError::from(err), StoreError::Busy));
        sqlx::query("INSERT INTO t (id) VALUES (1)").execute(&mut first).await.unwrap();
        sqlx::query("COMMIT").execute(&mut first).await.unwrap();
        let dup = sqlx::query("INSERT INTO t (id) VALUES (1)").execute(&mut second).await.unwrap_err();
        assert!(!danvan_store::is_busy(&dup));
        let _ = first.close().await;
        let _ = second.close().await;
    }
    db.drop_db().await;
}

/// Issue 17, item 2: what waits for the approvers of a subtree (submitted reviews and
/// roadmaps below its root, never the root's own), and open feedback due before a day.
#[tokio::test]
async fn what_waits_for_approvers_and_feedback_near_its_day_are_counted() {
    use danvan_store::{SampleReview, Waiting};
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let long_an = unit_id(&store, "80").await;
        let duc_hoa = unit_id(&store, "802").await;
        let tan_an = unit_id(&store, "794").await;
        let huu_thanh = unit_id(&store, "27695").await;
        let hau_nghia = unit_id(&store, "27637").await;
        let review = |unit_id, state| SampleReview {
            unit_id,
            period: "2018".into(),
            state,
            late: false,
            values: Default::default(),
        };
        let list = [review(huu_thanh, State::Submitted), review(hau_nghia, State::Approved)];
        store.insert_sample_reviews(&cli, scheme, &list, &mut |_| {}).await.unwrap();
        let r =
            store.create_roadmap(&cli, scheme, hau_nghia, &plan_of("1.1", &[(2018, 50.0)])).await.unwrap();
        store.transition_roadmap(&cli, r.id, Some(r.version), Transition::Submit, None, false).await.unwrap();
        let both = Waiting { reviews: 1, roadmaps: 1, plans: 0 };
        assert_eq!(store.waiting_within(long_an).await.unwrap(), both);
        assert_eq!(store.waiting_within(duc_hoa).await.unwrap(), both);
        assert_eq!(both.total(), 2);
        assert_eq!(store.waiting_within(tan_an).await.unwrap(), Waiting::default(), "another district");
        assert_eq!(
            store.waiting_within(huu_thanh).await.unwrap(),
            Waiting::default(),
            "a unit does not wait for itself"
        );

        store
            .submit_feedback(
                huu_thanh,
                "PA-3333-AAAA",
                &citizen("Đèn đường hỏng"),
                "h1",
                at(day(2019, 3, 1)),
                15,
            )
            .await
            .unwrap();
        store
            .submit_feedback(hau_nghia, "PA-3333-BBBB", &citizen("Rác ở chợ"), "h2", at(day(2019, 3, 10)), 15)
            .await
            .unwrap();
        // Due 16 and 25 March 2019.
        assert_eq!(store.open_feedback_due_before(duc_hoa, day(2019, 3, 16)).await.unwrap(), 0);
        assert_eq!(store.open_feedback_due_before(duc_hoa, day(2019, 3, 17)).await.unwrap(), 1);
        assert_eq!(store.open_feedback_due_before(long_an, day(2019, 4, 1)).await.unwrap(), 2);
        assert_eq!(
            store.open_feedback_due_before(huu_thanh, day(2019, 4, 1)).await.unwrap(),
            1,
            "the root itself"
        );
        assert_eq!(store.open_feedback_due_before(tan_an, day(2019, 4, 1)).await.unwrap(), 0);
    })
    .await;
}

/// Issue 17, item 6: a year's plan goes through the workflow like a roadmap — submitted, its
/// activities are fixed (their progress is not), returned it opens again, approved it stays
/// fixed until revised — and a done activity records its day.
#[tokio::test]
async fn a_plan_is_submitted_approved_and_fixed_and_a_done_activity_keeps_its_day() {
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let huu_thanh = unit_id(&store, "27695").await;
        let duc_hoa = unit_id(&store, "802").await;
        let a = store
            .create_activity(
                &cli,
                scheme,
                huu_thanh,
                2018,
                &activity("Hội nghị", day(2018, 3, 1), day(2018, 3, 31)),
            )
            .await
            .unwrap();
        assert!(store.plan_record(scheme, huu_thanh, 2018).await.unwrap().is_none(), "a draft has no record");
        assert!(matches!(
            store
                .transition_plan(&cli, scheme, huu_thanh, 2018, None, Transition::Approve, None, false)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let sent = store
            .transition_plan(&cli, scheme, huu_thanh, 2018, Some(0), Transition::Submit, None, true)
            .await
            .unwrap();
        assert_eq!((sent.state, sent.version, sent.late), (State::Submitted, 1, true));
        assert_eq!(store.plans_submitted_within(scheme, duc_hoa).await.unwrap().len(), 1);
        assert_eq!(store.waiting_within(duc_hoa).await.unwrap().plans, 1, "in the approver's count");
        assert!(store.plans_submitted_within(scheme, huu_thanh).await.unwrap().is_empty(), "not its own");
        // Submitted: no new, changed or removed activity; progress goes on.
        let b = activity("Tập huấn", day(2018, 5, 1), day(2018, 5, 31));
        assert!(matches!(
            store.create_activity(&cli, scheme, huu_thanh, 2018, &b).await,
            Err(StoreError::Conflict(m)) if m.contains("kế hoạch năm 2018")
        ));
        assert!(matches!(
            store.update_activity(&cli, a.id, a.version, &b).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(store.delete_activity(&cli, a.id).await, Err(StoreError::Conflict(_))));
        assert!(
            store.create_activity(&cli, scheme, huu_thanh, 2019, &b).await.is_ok(),
            "another year is open"
        );
        // Done: its day is recorded, not a day to come nor before it began; undone, cleared.
        let future = chrono::Utc::now().with_timezone(&danvan_domain::period::VIETNAM).date_naive()
            + chrono::Duration::days(1);
        for bad in [future, day(2018, 2, 1)] {
            assert!(matches!(
                store.set_activity_status(&cli, a.id, None, ActivityStatus::Done, None, Some(bad)).await,
                Err(StoreError::Invalid(_))
            ));
        }
        let done = store
            .set_activity_status(&cli, a.id, None, ActivityStatus::Done, None, Some(day(2018, 3, 20)))
            .await
            .unwrap();
        assert_eq!(done.done_on, Some(day(2018, 3, 20)));
        let again =
            store.set_activity_status(&cli, a.id, None, ActivityStatus::Done, None, None).await.unwrap();
        assert_eq!(again.done_on, Some(day(2018, 3, 20)), "kept when not given");
        let undone = store
            .set_activity_status(&cli, a.id, None, ActivityStatus::InProgress, None, None)
            .await
            .unwrap();
        assert_eq!(undone.done_on, None);
        // Returned (a reason is needed): open again; resubmitted and approved: fixed; revised: open.
        assert!(matches!(
            store.transition_plan(&cli, scheme, huu_thanh, 2018, None, Transition::Return, None, false).await,
            Err(StoreError::Invalid(_))
        ));
        let back = store
            .transition_plan(
                &cli,
                scheme,
                huu_thanh,
                2018,
                Some(1),
                Transition::Return,
                Some("Thiếu hoạt động 2.1"),
                false,
            )
            .await
            .unwrap();
        assert_eq!((back.state, back.reason.as_deref()), (State::Returned, Some("Thiếu hoạt động 2.1")));
        store.create_activity(&cli, scheme, huu_thanh, 2018, &b).await.unwrap();
        assert!(
            matches!(
                store
                    .transition_plan(&cli, scheme, huu_thanh, 2018, Some(1), Transition::Submit, None, false)
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "a stale version"
        );
        store
            .transition_plan(
                &cli,
                scheme,
                huu_thanh,
                2018,
                Some(back.version),
                Transition::Submit,
                None,
                false,
            )
            .await
            .unwrap();
        let ok = store
            .transition_plan(&cli, scheme, huu_thanh, 2018, None, Transition::Approve, None, false)
            .await
            .unwrap();
        assert_eq!((ok.state, ok.late), (State::Approved, false));
        assert!(store.create_activity(&cli, scheme, huu_thanh, 2018, &b).await.is_err(), "approved: fixed");
        let revised = store
            .transition_plan(&cli, scheme, huu_thanh, 2018, None, Transition::Revise, None, false)
            .await
            .unwrap();
        assert_eq!(revised.state, State::Draft);
        assert!(store.create_activity(&cli, scheme, huu_thanh, 2018, &b).await.is_ok());
        // Each step is in the audit log, under the plan.
        let log = store.entity_history("plan", &ok.id.to_string()).await.unwrap();
        let steps: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(steps.len(), 6, "created, submitted, returned, submitted, approved, revised: {steps:?}");
    })
    .await;
}

// --- Operations (issue 18): files kept in a folder or the database, backups, restores, copies.

use danvan_store::files::sha256_hex;
use danvan_store::{BackupStep, FileStore, FilesTarget};

/// A database with something in every kind of table a copy or backup must carry: both unit
/// lists (units refer to their parents), a scheme, reviews, evidence with its file, a user, and
/// the audit log of all that. Answers the scheme's id and the file's SHA-256.
async fn fill_for_operations(store: &Store, files: &FileStore) -> (i64, String) {
    use danvan_domain::value::{Milli, Value};
    use danvan_domain::workflow::State;
    import(store, &list_2024()).await;
    import(store, &list_2025()).await;
    let cli = Actor::system("cli:test");
    let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
    let long_an = store.unit_by_code("80", Some(day(2019, 1, 1))).await.unwrap().unwrap().id;
    let communes = store.units_within(long_an, UnitLevel::Commune, day(2018, 12, 31)).await.unwrap();
    let list: Vec<danvan_store::SampleReview> = communes
        .iter()
        .map(|&u| danvan_store::SampleReview {
            unit_id: u,
            period: "2018".into(),
            state: State::Approved,
            late: false,
            values: [("2.2".to_string(), Value::Count { count: Milli(12_500) })].into_iter().collect(),
        })
        .collect();
    store.insert_sample_reviews(&cli, scheme, &list, &mut |_| {}).await.unwrap();
    let bytes = b"%PDF-1.4\n% bien ban ra soat\n%%EOF\n".repeat(1 + danvan_store::files::CHUNK_BYTES / 30);
    let sha = sha256_hex(&bytes);
    files.put(&sha, &bytes).await.unwrap();
    let ev = danvan_store::SampleEvidence {
        unit_id: communes[0],
        period: "2018".into(),
        target_code: "2.2".into(),
        filename: "bien-ban.pdf".into(),
        content_type: "application/pdf".into(),
        size: bytes.len() as i64,
        sha256: sha.clone(),
    };
    store.insert_sample_evidence(&cli, scheme, &[ev]).await.unwrap();
    store
        .create_user(
            &cli,
            &danvan_store::NewUser {
                username: "xa.huuthanh".into(),
                display_name: "Nguyễn Văn Thành".into(),
                password_hash: "x".into(),
                role: danvan_domain::access::Role::Commune,
                scope_unit_id: Some(communes[0]),
            },
        )
        .await
        .unwrap();
    (scheme, sha)
}

#[tokio::test]
async fn files_are_kept_in_a_folder_or_in_the_database_alike() {
    on_each_backend(|store| async move {
        let dir = danvan_store::testing::tempfile_dir();
        for files in [FileStore::Dir(dir.join("files")), FileStore::Database(store.clone())] {
            let big: Vec<u8> =
                (0..(danvan_store::files::CHUNK_BYTES * 2 + 17)).map(|i| (i % 251) as u8).collect();
            let small = b"hello".to_vec();
            let (a, b) = (sha256_hex(&big), sha256_hex(&small));
            assert_eq!(files.list().await.unwrap(), Vec::<String>::new(), "{}", files.setting());
            files.put(&a, &big).await.unwrap();
            files.put(&b, &small).await.unwrap();
            files.put(&b, &small).await.unwrap();
            assert_eq!(
                files.get(&a).await.unwrap().as_deref(),
                Some(&big[..]),
                "three chunks read back in order"
            );
            let mut both = vec![a.clone(), b.clone()];
            both.sort();
            assert_eq!(files.list().await.unwrap(), both);
            // A copy of another length (cut short) is replaced; a name that is no SHA-256 is refused.
            files.put(&b, b"hello, longer").await.unwrap();
            assert_eq!(files.get(&b).await.unwrap().unwrap(), b"hello, longer");
            assert!(matches!(files.put("../etc/passwd", b"x").await, Err(StoreError::Invalid(_))));
            assert_eq!(files.get("../etc/passwd").await.unwrap(), None);
            files.remove(&a).await.unwrap();
            files.remove(&a).await.unwrap();
            assert_eq!(files.get(&a).await.unwrap(), None);
            assert_eq!(files.list().await.unwrap(), vec![b.clone()]);
            files.remove(&b).await.unwrap();
        }
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

#[tokio::test]
async fn a_backup_holds_the_database_and_files_and_restores_into_an_empty_database() {
    on_each_backend(|store| async move {
        let dir = danvan_store::testing::tempfile_dir();
        let files = FileStore::Dir(dir.join("files"));
        let (scheme, sha) = fill_for_operations(&store, &files).await;
        assert!(store.holds_data().await.unwrap());
        let mut steps = Vec::new();
        let out = dir.join("backup-1");
        let manifest = store.backup_to(&files, &out, &mut |s| steps.push(s)).await.unwrap();
        assert_eq!(steps.first(), Some(&BackupStep::Database));
        assert!(steps.contains(&BackupStep::Files { done: 1, total: 1 }));
        assert_eq!(manifest.schema_version, store.schema_version().await.unwrap());
        assert_eq!(manifest.file_count(), 1);
        assert_eq!(manifest.parts[1].path, format!("files/{}/{sha}", &sha[..2]));
        assert_eq!(manifest.parts[1].sha256, sha);
        let read: danvan_store::Manifest =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(read, manifest);
        // A second backup into a folder that holds one is refused and leaves it alone.
        assert!(matches!(store.backup_to(&files, &out, &mut |_| {}).await, Err(StoreError::Conflict(_))));
        assert!(out.join("manifest.json").exists());

        // Restore into a fresh database of the same kind; the files into a new folder.
        let (target_url, pg) = match store.kind() {
            BackendKind::Sqlite => (format!("sqlite://{}", dir.join("restored.db").display()), None),
            BackendKind::Postgres => {
                let db =
                    danvan_store::testing::TestDb::create(&danvan_store::testing::pg_server().unwrap()).await;
                (db.url.clone(), Some(db))
            }
        };
        let restored_files = dir.join("restored-files");
        let (m, restored) = danvan_store::restore(
            &out,
            &target_url,
            FilesTarget::Dir(restored_files.clone()),
            false,
            &mut |_| {},
        )
        .await
        .unwrap();
        assert_eq!(m, manifest);
        assert_eq!(restored.table_checksums().await.unwrap(), store.table_checksums().await.unwrap());
        assert_eq!(restored.check_integrity().await.unwrap(), Vec::<String>::new());
        assert_eq!(restored.review_count(scheme).await.unwrap(), store.review_count(scheme).await.unwrap());
        assert_eq!(
            std::fs::read(danvan_store::files::path_of(&restored_files, &sha)).unwrap(),
            files.get(&sha).await.unwrap().unwrap()
        );
        // The restored database takes new rows after the copied ids.
        let n = restored.count_users().await.unwrap();
        restored
            .create_user(
                &Actor::system("cli:test"),
                &danvan_store::NewUser {
                    username: "admin2".into(),
                    display_name: "Quản trị".into(),
                    password_hash: "x".into(),
                    role: danvan_domain::access::Role::Admin,
                    scope_unit_id: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(restored.count_users().await.unwrap(), n + 1);
        // Now it holds data: a second restore needs --force, and with it replaces what is there.
        assert!(matches!(
            danvan_store::restore(
                &out,
                &target_url,
                FilesTarget::Dir(restored_files.clone()),
                false,
                &mut |_| {}
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
        restored.close().await;
        let (_, again) =
            danvan_store::restore(&out, &target_url, FilesTarget::Database, true, &mut |_| {}).await.unwrap();
        assert_eq!(again.count_users().await.unwrap(), n, "the forced restore replaced the newer user");
        assert_eq!(FileStore::Database(again.clone()).get(&sha).await.unwrap().unwrap().len(), {
            files.get(&sha).await.unwrap().unwrap().len()
        });
        again.close().await;

        // A part changed after the backup: the backup is refused, by name, and nothing restored.
        let db_part = out.join(&manifest.parts[0].path);
        let mut bytes = std::fs::read(&db_part).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&db_part, bytes).unwrap();
        match danvan_store::verify_backup(&out, &mut |_| {}).await {
            Err(StoreError::Corrupt(m)) => assert!(m.contains(&manifest.parts[0].path), "{m}"),
            other => panic!("a changed part must be refused: {other:?}"),
        }
        // A manifest naming a part outside the backup is refused.
        let mut evil = manifest.clone();
        evil.parts[1].path = "files/../../etc/passwd".into();
        std::fs::write(out.join("manifest.json"), serde_json::to_vec(&evil).unwrap()).unwrap();
        match danvan_store::verify_backup(&out, &mut |_| {}).await {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("tên phần không hợp lệ"), "{m}"),
            other => panic!("{other:?}"),
        }
        if let Some(db) = pg {
            db.drop_db().await;
        }
        // Backups are recorded, newest first.
        let now = chrono::Utc::now();
        for (ok, msg) in [(true, ""), (false, "đĩa đầy")] {
            let r = danvan_store::BackupRecord {
                started_at: now,
                finished_at: now + chrono::Duration::seconds(i64::from(!ok)),
                ok,
                location: "/var/backups/danvan".into(),
                bytes: 10,
                message: msg.into(),
            };
            store.record_backup(&r).await.unwrap();
        }
        let recent = store.recent_backups(5).await.unwrap();
        assert_eq!(
            recent.iter().map(|r| (r.ok, r.message.as_str())).collect::<Vec<_>>(),
            [(false, "đĩa đầy"), (true, "")]
        );
        store.checkpoint().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

#[tokio::test]
async fn a_database_is_copied_to_the_other_kind_with_its_ids_and_audit_rule() {
    let Some(server) = danvan_store::testing::pg_server() else { return };
    on_each_backend(move |store| {
        let server = server.clone();
        async move {
            let dir = danvan_store::testing::tempfile_dir();
            let files = FileStore::Database(store.clone());
            let (scheme, sha) = fill_for_operations(&store, &files).await;
            // The other kind: SQLite into PostgreSQL, and back.
            let pg = danvan_store::testing::TestDb::create(&server).await;
            let target_url = match store.kind() {
                BackendKind::Sqlite => pg.url.clone(),
                BackendKind::Postgres => format!("sqlite://{}", dir.join("copy.db").display()),
            };
            let to = Store::open(&target_url).await.unwrap();
            assert!(!to.holds_data().await.unwrap(), "a migrated database has no data of its own");
            let mut seen = std::collections::BTreeSet::new();
            let tables = store
                .copy_into(&to, &mut |t, _, _| {
                    seen.insert(t.to_string());
                })
                .await
                .unwrap();
            assert!(seen.contains("audit_events") && seen.contains("units") && seen.contains("file_chunks"));
            let rows = |name: &str| tables.iter().find(|t| t.table == name).map(|t| t.rows).unwrap_or(0);
            assert!(
                rows("units") >= 12 && rows("audit_events") >= 4 && rows("file_chunks") == 2,
                "{tables:?}"
            );
            // Read again on its own, the copy has the rows counted (its checksums are of its
            // own column types, which differ between the kinds; copy_into compared both alike).
            let counted: Vec<(String, u64)> =
                to.table_checksums().await.unwrap().into_iter().map(|t| (t.table, t.rows)).collect();
            assert_eq!(counted, tables.iter().map(|t| (t.table.clone(), t.rows)).collect::<Vec<_>>());
            // Ids kept: the same unit by code has the same id, and its parent link.
            let a = store.unit_by_code("27695", Some(day(2019, 1, 1))).await.unwrap().unwrap();
            let b = to.unit_by_code("27695", Some(day(2019, 1, 1))).await.unwrap().unwrap();
            assert_eq!((a.id, a.parent_id), (b.id, b.parent_id));
            assert_eq!(to.review_count(scheme).await.unwrap(), store.review_count(scheme).await.unwrap());
            assert_eq!(
                FileStore::Database(to.clone()).get(&sha).await.unwrap(),
                files.get(&sha).await.unwrap()
            );
            // Sequences past the copied ids: a new user gets a fresh id.
            let user = to
                .create_user(
                    &Actor::system("cli:test"),
                    &danvan_store::NewUser {
                        username: "moi".into(),
                        display_name: "Mới".into(),
                        password_hash: "x".into(),
                        role: danvan_domain::access::Role::Admin,
                        scope_unit_id: None,
                    },
                )
                .await
                .unwrap();
            assert!(user.id > store.user_by_username("xa.huuthanh").await.unwrap().unwrap().id);
            // The audit log stays append-only in the copy.
            assert!(danvan_store::testing::execute(&to, "UPDATE audit_events SET action = 'x'")
                .await
                .is_err());
            assert!(danvan_store::testing::execute(&to, "DELETE FROM audit_events").await.is_err());
            // A second copy into a database with data is refused.
            assert!(matches!(store.copy_into(&to, &mut |_, _, _| {}).await, Err(StoreError::Conflict(_))));
            to.close().await;
            pg.drop_db().await;
            let _ = std::fs::remove_dir_all(dir);
        }
    })
    .await;
}

/// Issue 18, item 8: the counters that conditional answers are tagged with move with every
/// change they count: an activity's every write (its scheme's counter only), a workflow
/// transition, a scheme import, a backup recorded.
#[tokio::test]
async fn change_counters_move_with_activities_transitions_schemes_and_backups() {
    use danvan_domain::plan::{ActivityInput, ActivityStatus};
    use danvan_domain::workflow::{State, Transition};
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let before_import = store.change_counters(&[danvan_store::SCHEMES_COUNTER]).await.unwrap()[0];
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        assert_eq!(
            store.change_counters(&[danvan_store::SCHEMES_COUNTER]).await.unwrap()[0],
            before_import + 1
        );
        let unit = store.unit_by_code("27695", Some(day(2019, 1, 1))).await.unwrap().unwrap().id;
        let counter = danvan_store::activities_counter(scheme);
        let other = danvan_store::activities_counter(scheme + 1);
        let n = |s: Store| {
            let (c, o) = (counter.clone(), other.clone());
            async move { s.change_counters(&[&c, &o]).await.unwrap() }
        };
        assert_eq!(n(store.clone()).await, [0, 0]);
        let input = ActivityInput {
            title: "Tập huấn".into(),
            description: String::new(),
            targets: vec!["2.2".into()],
            lead_org: "UBMTTQ".into(),
            supporting_orgs: vec![],
            responsible: "Ông A".into(),
            start: day(2019, 2, 1),
            due: day(2019, 3, 1),
        };
        let a = store.create_activity(&cli, scheme, unit, 2019, &input).await.unwrap();
        assert_eq!(n(store.clone()).await, [1, 0]);
        let a = store
            .update_activity(&cli, a.id, a.version, &ActivityInput { title: "Hội nghị".into(), ..input })
            .await
            .unwrap();
        assert_eq!(n(store.clone()).await, [2, 0]);
        store
            .set_activity_status(&cli, a.id, Some(a.version), ActivityStatus::InProgress, None, None)
            .await
            .unwrap();
        assert_eq!(n(store.clone()).await, [3, 0]);
        store.delete_activity(&cli, a.id).await.unwrap();
        assert_eq!(n(store.clone()).await, [4, 0], "only its own scheme's counter");

        let list = vec![danvan_store::SampleReview {
            unit_id: unit,
            period: "2018".into(),
            state: State::Submitted,
            late: false,
            values: Default::default(),
        }];
        store.insert_sample_reviews(&cli, scheme, &list, &mut |_| {}).await.unwrap();
        let w0 = store.change_counters(&[danvan_store::WORKFLOW_COUNTER]).await.unwrap()[0];
        let r = store.review(scheme, unit, "2018").await.unwrap().unwrap();
        store.transition_review(&cli, r.id, None, Transition::Return, Some("thiếu"), false).await.unwrap();
        assert_eq!(store.change_counters(&[danvan_store::WORKFLOW_COUNTER]).await.unwrap()[0], w0 + 1);

        let b0 = store.change_counters(&[danvan_store::BACKUPS_COUNTER]).await.unwrap()[0];
        let now = chrono::Utc::now();
        let rec = danvan_store::BackupRecord {
            started_at: now,
            finished_at: now,
            ok: true,
            location: "x".into(),
            bytes: 1,
            message: String::new(),
        };
        store.record_backup(&rec).await.unwrap();
        assert_eq!(store.change_counters(&[danvan_store::BACKUPS_COUNTER]).await.unwrap()[0], b0 + 1);
        let all = store.all_change_counters().await.unwrap();
        assert!(all.iter().any(|(k, v)| k == &counter && *v == 4), "{all:?}");
        assert!(all.windows(2).all(|p| p[0].0 < p[1].0), "in order of name");
    })
    .await;
}

/// Issue 18: a scheduled backup's period is claimed once, whichever server asks first.
#[tokio::test]
async fn a_backup_period_is_claimed_once() {
    on_each_backend(|store| async move {
        let now = chrono::Utc::now();
        assert!(store.claim_backup_slot(29_000_000, now).await.unwrap());
        assert!(
            !store.claim_backup_slot(29_000_000, now).await.unwrap(),
            "a second claim of the period fails"
        );
        let (a, b) =
            tokio::join!(store.claim_backup_slot(29_000_001, now), store.claim_backup_slot(29_000_001, now));
        assert!(a.unwrap() ^ b.unwrap(), "of two at once, one wins");
        assert!(store.claim_backup_slot(29_000_002, now).await.unwrap());
        // A failed backup gives its period back for a retry.
        store.release_backup_slot(29_000_002).await.unwrap();
        assert!(store.claim_backup_slot(29_000_002, now).await.unwrap());
    })
    .await;
}

/// Issue 19: a notification is made once per user, item, rule and step, whoever asks (two at
/// once, or again after a restart), read one by one or all at once, and only by its user.
#[tokio::test]
async fn notifications_are_made_once_per_step_and_read_by_their_user_only() {
    use danvan_store::NewNotification;
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let unit = store.unit_by_code("27695", Some(day(2019, 1, 1))).await.unwrap().unwrap().id;
        let mut users = Vec::new();
        for name in ["xa.a", "xa.b"] {
            let new = danvan_store::NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: "x".into(),
                role: danvan_domain::access::Role::Commune,
                scope_unit_id: Some(unit),
            };
            users.push(store.create_user(&cli, &new).await.unwrap().id);
        }
        let note = |user: i64, step: &str| NewNotification {
            user_id: user,
            kind: "late".into(),
            item: "review:12".into(),
            step: step.into(),
            title: "Bản rà soát năm 2018 đã quá hạn 1 ngày".into(),
            detail: String::new(),
            href: "/schemes/LA/units/27695/reviews/2018".into(),
        };
        let now = chrono::Utc::now();
        assert!(store.notify(&note(users[0], "late-1"), now).await.unwrap());
        assert!(!store.notify(&note(users[0], "late-1"), now).await.unwrap(), "the same step once");
        let seven = note(users[0], "late-7");
        let (a, b) = tokio::join!(store.notify(&seven, now), store.notify(&seven, now));
        assert!(a.unwrap() ^ b.unwrap(), "two servers at once: one makes it");
        assert!(store.notify(&note(users[1], "late-1"), now).await.unwrap(), "another user's own");
        assert_eq!(store.unread_notifications(users[0]).await.unwrap(), 2);
        let mine = store.notifications_of(users[0], 10, 0).await.unwrap();
        assert_eq!(mine.len(), 2);
        assert!(mine.iter().all(|n| n.read_at.is_none() && n.item == "review:12"));
        // Another user cannot mark mine read.
        assert!(!store.mark_notification_read(users[1], mine[0].id, now).await.unwrap());
        assert!(store.mark_notification_read(users[0], mine[0].id, now).await.unwrap());
        assert!(!store.mark_notification_read(users[0], mine[0].id, now).await.unwrap(), "already read");
        assert_eq!(store.unread_notifications(users[0]).await.unwrap(), 1);
        assert_eq!(store.mark_all_notifications_read(users[0], now).await.unwrap(), 1);
        assert_eq!(store.unread_notifications(users[0]).await.unwrap(), 0);
        assert_eq!(store.unread_notifications(users[1]).await.unwrap(), 1, "the other user's stays unread");
        assert_eq!(store.notifications_of(users[0], 1, 1).await.unwrap().len(), 1, "paged");
        let keys = store.notification_keys_since(now - chrono::Duration::seconds(1)).await.unwrap();
        assert_eq!(keys.len(), 3);
        assert!(keys.contains(&(
            users[0],
            "review:12".to_string(),
            "late".to_string(),
            "late-7".to_string()
        )));
        assert!(store.notification_keys_since(now + chrono::Duration::seconds(1)).await.unwrap().is_empty());
    })
    .await;
}

/// Issue 19: email settings (defaults, audited changes), the outbox (a delivery made once by
/// its key, the notifications it carries marked emailed, claimed by one server at a time,
/// retried with backoff, given up after the last wait, counted), the server's secret, and the
/// reads of the reminder sweep (a unit's documents, what waits below a root, open feedback).
#[tokio::test]
async fn the_outbox_sends_once_retries_with_backoff_and_the_sweep_reads_what_is_due() {
    use danvan_store::{NewDelivery, NewNotification, NotifySettings, RETRY_AFTER_MINUTES};
    on_each_backend(|store| async move {
        import(&store, &list_2024()).await;
        let cli = Actor::system("cli:test");
        let scheme = store.import_scheme(&cli, &parse_scheme(SCHEME).unwrap(), SCHEME).await.unwrap().id;
        let huu_thanh = unit_id(&store, "27695").await;
        let district = unit_id(&store, "802").await;
        let user = store.create_user(&cli, &new_user("xa", Role::Commune, Some(huu_thanh))).await.unwrap().id;
        let other =
            store.create_user(&cli, &new_user("xa2", Role::Commune, Some(huu_thanh))).await.unwrap().id;

        // Settings: the defaults until set; set, read back, audited; a wrong delivery refused.
        assert_eq!(store.notify_settings(user).await.unwrap(), NotifySettings::default());
        assert_eq!(NotifySettings::default().delivery, "daily");
        assert!(store.email_recipients().await.unwrap().is_empty(), "no address: no email");
        let settings = NotifySettings {
            email: "xa@example.vn".into(),
            delivery: "immediate".into(),
            immediate_kinds: vec!["returned".into()],
            muted_kinds: vec!["approved".into(), "review_due".into()],
        };
        store.set_notify_settings(&cli, user, &settings).await.unwrap();
        assert_eq!(store.notify_settings(user).await.unwrap(), settings);
        let bad = NotifySettings { delivery: "hourly".into(), ..settings.clone() };
        assert!(matches!(store.set_notify_settings(&cli, user, &bad).await, Err(StoreError::Invalid(_))));
        assert_eq!(store.notify_settings(user).await.unwrap(), settings, "nothing changed by a refusal");
        let off =
            NotifySettings { email: "xa2@example.vn".into(), delivery: "off".into(), ..Default::default() };
        store.set_notify_settings(&cli, other, &off).await.unwrap();
        let recipients = store.email_recipients().await.unwrap();
        assert_eq!(recipients, vec![(user, settings.clone())], "off: in the application only");
        let audit = store
            .audit_events(
                &AuditFilter { entity_type: Some("notify_settings".into()), ..Default::default() },
                10,
                0,
            )
            .await
            .unwrap();
        assert_eq!(audit.total, 2, "each change audited once, the refusal not");

        // Notifications not yet emailed; a delivery carries two of them, once by its key.
        let now = Utc::now();
        for step in ["due-7", "due-1"] {
            let n = NewNotification {
                user_id: user,
                kind: "review_due".into(),
                item: format!("review:{scheme}:{huu_thanh}:2018"),
                step: step.into(),
                title: "Rà soát kỳ 2018".into(),
                detail: "Hạn 15/01/2019".into(),
                href: "/x".into(),
            };
            assert!(store.notify(&n, now).await.unwrap());
            assert!(store.notification_exists(user, &n.item, &n.kind, step).await.unwrap());
        }
        assert!(!store
            .notification_exists(other, &format!("review:{scheme}:{huu_thanh}:2018"), "review_due", "due-7")
            .await
            .unwrap());
        let pending = store.notifications_not_emailed(user, now - chrono::Duration::days(1)).await.unwrap();
        assert_eq!(
            pending.iter().map(|n| n.step.as_str()).collect::<Vec<_>>(),
            ["due-7", "due-1"],
            "oldest first"
        );
        assert_eq!(pending[0].detail, "Hạn 15/01/2019");
        assert!(store
            .notifications_not_emailed(user, now + chrono::Duration::seconds(1))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.count_notifications(user).await.unwrap(), 2);
        assert_eq!(store.notification_of(user, pending[0].id).await.unwrap().unwrap().step, "due-7");
        assert!(store.notification_of(other, pending[0].id).await.unwrap().is_none(), "only its user's");
        let mail = |key: &str| NewDelivery {
            key: key.into(),
            channel: "email".into(),
            user_id: Some(user),
            recipient: "xa@example.vn".into(),
            subject: "danvan: 2 thông báo".into(),
            body: "…".into(),
            html: "<p>…</p>".into(),
            unsubscribe: String::new(),
        };
        let ids: Vec<i64> = pending.iter().map(|n| n.id).collect();
        let digest = mail("digest:1");
        let (a, b) =
            tokio::join!(store.queue_delivery(&digest, &ids, now), store.queue_delivery(&digest, &ids, now));
        assert!(a.unwrap() ^ b.unwrap(), "two servers at once: one queues it");
        assert!(store.delivery_exists("digest:1").await.unwrap());
        assert!(!store.delivery_exists("digest:2").await.unwrap());
        assert!(
            store.notifications_not_emailed(user, now - chrono::Duration::days(1)).await.unwrap().is_empty(),
            "carried: emailed"
        );

        // Claimed by one server at a time; not again while held; sent once.
        let (x, y) = tokio::join!(
            store.claim_deliveries(now, 10, chrono::Duration::minutes(5)),
            store.claim_deliveries(now, 10, chrono::Duration::minutes(5))
        );
        assert_eq!(x.unwrap().len() + y.unwrap().len(), 1, "one of the two claims it");
        assert!(
            store
                .claim_deliveries(now + chrono::Duration::minutes(1), 10, chrono::Duration::minutes(5))
                .await
                .unwrap()
                .is_empty(),
            "held"
        );
        let claimed = store
            .claim_deliveries(now + chrono::Duration::minutes(6), 10, chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "a claim that ran out (a server died) is taken again");
        store.delivery_sent(claimed[0].id, now).await.unwrap();
        assert!(
            store
                .claim_deliveries(now + chrono::Duration::hours(1), 10, chrono::Duration::minutes(5))
                .await
                .unwrap()
                .is_empty(),
            "sent: never again"
        );

        // A failing one: retried after 1, 5, 30… minutes, given up after the last, shown.
        let failing = mail("n:9");
        assert!(store.queue_delivery(&failing, &[], now).await.unwrap());
        let mut at = now;
        for (i, wait) in RETRY_AFTER_MINUTES.iter().enumerate() {
            let d = store.claim_deliveries(at, 10, chrono::Duration::minutes(5)).await.unwrap();
            assert_eq!(d.len(), 1, "try {}", i + 1);
            assert!(!store.delivery_failed(d[0].id, "451 thử lại sau", at).await.unwrap());
            assert!(
                store
                    .claim_deliveries(
                        at + chrono::Duration::seconds(wait * 60 - 1),
                        10,
                        chrono::Duration::minutes(5)
                    )
                    .await
                    .unwrap()
                    .is_empty(),
                "not before its wait"
            );
            at += chrono::Duration::minutes(*wait);
        }
        assert_eq!(
            store.delivery_counts().await.unwrap(),
            danvan_store::DeliveryCounts { sent: 1, pending: 1, failed: 0 }
        );
        let last = store.claim_deliveries(at, 10, chrono::Duration::minutes(5)).await.unwrap();
        assert!(store.delivery_failed(last[0].id, "550 hộp thư không có", at).await.unwrap(), "given up");
        assert!(store
            .claim_deliveries(at + chrono::Duration::days(30), 10, chrono::Duration::minutes(5))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store.delivery_counts().await.unwrap(),
            danvan_store::DeliveryCounts { sent: 1, pending: 0, failed: 1 }
        );
        let troubled = store.troubled_deliveries(10).await.unwrap();
        assert_eq!((troubled.len(), troubled[0].last_error.as_deref()), (1, Some("550 hộp thư không có")));
        assert!(store.pending_deliveries(10).await.unwrap().is_empty());

        // The server's secret: made once, the same ever after.
        let s1 = store.server_secret("unsubscribe").await.unwrap();
        assert_eq!(s1.len(), 64);
        assert_eq!(store.server_secret("unsubscribe").await.unwrap(), s1);
        assert_ne!(store.server_secret("other").await.unwrap(), s1);

        // The sweep's reads: a unit's documents, what waits below a district, open feedback.
        let actor = Actor::user(user, "xa", None);
        let r = store.create_review(&actor, scheme, huu_thanh, "2018").await.unwrap();
        assert!(
            store.submitted_below(scheme, district).await.unwrap().is_empty(),
            "a draft waits for no one"
        );
        store.transition_review(&actor, r.id, None, Transition::Submit, None, false).await.unwrap();
        let docs = store.docs_of_unit(scheme, huu_thanh).await.unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(
            (docs[0].doc.as_str(), docs[0].key.as_str(), docs[0].state),
            ("review", "2018", State::Submitted)
        );
        assert!(docs[0].submitted_at.is_some());
        let waiting = store.submitted_below(scheme, district).await.unwrap();
        assert_eq!(waiting.iter().map(|d| d.id).collect::<Vec<_>>(), [r.id]);
        assert!(store.submitted_below(scheme, huu_thanh).await.unwrap().is_empty(), "not the root's own");
        assert!(store.docs_of_unit(scheme, unit_id(&store, "27637").await).await.unwrap().is_empty());
        assert!(
            store.decided_since(scheme, now - chrono::Duration::days(1)).await.unwrap().is_empty(),
            "undecided"
        );
        store.transition_review(&actor, r.id, None, Transition::Return, Some("thiếu"), false).await.unwrap();
        let decided = store.decided_since(scheme, now - chrono::Duration::days(1)).await.unwrap();
        assert_eq!(
            (decided.len(), decided[0].state, decided[0].reason.as_deref()),
            (1, State::Returned, Some("thiếu"))
        );
        assert!(
            store.decided_since(scheme, Utc::now() + chrono::Duration::days(1)).await.unwrap().is_empty(),
            "since later"
        );
        let input = danvan_domain::feedback::FeedbackInput {
            name: None,
            phone: None,
            email: None,
            hamlet: None,
            category: "Khác".into(),
            content: "Đường hỏng".into(),
        };
        // A closed period reopened for a unit: a reason needed, once, audited.
        assert!(store.entry_reopening(scheme, huu_thanh, "2018").await.unwrap().is_none());
        assert!(matches!(
            store.reopen_entry(&cli, scheme, huu_thanh, "2018", "  ").await,
            Err(StoreError::Invalid(_))
        ));
        let before = store.audit_count().await.unwrap();
        store.reopen_entry(&cli, scheme, huu_thanh, "2018", "Ngập lụt").await.unwrap();
        assert_eq!(store.audit_count().await.unwrap(), before + 1);
        assert_eq!(
            store.entry_reopening(scheme, huu_thanh, "2018").await.unwrap().unwrap().reason,
            "Ngập lụt"
        );
        assert!(matches!(
            store.reopen_entry(&cli, scheme, huu_thanh, "2018", "lại").await,
            Err(StoreError::Conflict(_))
        ));
        assert!(store.entry_reopening(scheme, huu_thanh, "2019").await.unwrap().is_none(), "another period");
        assert!(store.entry_reopening(scheme, district, "2018").await.unwrap().is_none(), "another unit");
        let f = store.submit_feedback(huu_thanh, "PA-0001-AAAA", &input, "h", now, 10).await.unwrap();
        let open = store.open_feedback_of(huu_thanh).await.unwrap();
        assert_eq!(open, vec![(f.id, "PA-0001-AAAA".to_string(), f.due_on)]);
        assert!(store.open_feedback_of(district).await.unwrap().is_empty());
    })
    .await;
}
