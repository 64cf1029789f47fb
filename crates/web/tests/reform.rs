//! The 2025 reform over HTTP, on both databases: importing the new list changes nothing that
//! refers to the old one; codes resolve in their context; today's users read (never change) the
//! history of the units they succeed; schemes in the two-level hierarchy; history read under
//! today's units with nothing lost.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{Duration, NaiveDate, Utc};
use danvan_domain::access::Role;
use danvan_domain::lineage::{parse_reform_map, reform_date};
use danvan_domain::scheme::{parse_scheme, Criterion, TargetKind};
use danvan_domain::units::parse_unit_list;
use danvan_domain::value::{Milli, Value};
use danvan_domain::workflow::State;
use danvan_store::testing::on_each_backend;
use danvan_store::{Actor, NewUser, SampleReview, Store};
use danvan_web::auth::secret_hash;
use danvan_web::{router, AppState};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

const SAMPLE: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const CURRENT: &str = include_str!("../../../data/schemes/tay-ninh-2026-2030.sample.toml");
const UNITS_2024: &str = include_str!("../../../data/units-2024-three-level.csv");
const UNITS_2025: &str = include_str!("../../../data/units-2025-two-level.csv");
const MAP: &str = include_str!("../../../data/units-2025-reform-map.csv");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct World {
    store: Store,
    app: Router,
}

impl World {
    /// Long An (2024) with the 2017-2020 scheme and approved 2018 reviews of Đức Hòa's
    /// communes, and the accounts of that time.
    async fn before_reform(store: Store) -> World {
        let actor = Actor::system("test");
        let mut nop = |_: usize| {};
        let list = parse_unit_list(UNITS_2024.as_bytes(), Some("80")).unwrap();
        store.import_units(&actor, &list, &mut nop).await.unwrap();
        store.import_scheme(&actor, &parse_scheme(SAMPLE).unwrap(), SAMPLE).await.unwrap();
        let scheme = store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap();
        let duc_hoa = store.unit_by_code("802", None).await.unwrap().unwrap();
        let communes: Vec<i64> = store.children(duc_hoa.id).await.unwrap().iter().map(|u| u.id).collect();
        let reviews: Vec<SampleReview> = communes
            .iter()
            .enumerate()
            .map(|(i, &unit_id)| SampleReview {
                unit_id,
                period: "2018".into(),
                state: State::Approved,
                late: i % 5 == 0,
                values: scheme
                    .def
                    .targets
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        let met = (i + k) % 3 != 0;
                        let v = match (t.kind, &t.criterion) {
                            (TargetKind::Ratio, _) => Value::Ratio {
                                numerator: Milli(if met { 10_000 } else { 3_000 }),
                                denominator: Milli(10_000),
                            },
                            (TargetKind::Count, Criterion::Count(c)) => Value::Count {
                                count: Milli(if met { (*c * 1000.0) as i64 + 1000 } else { 0 }),
                            },
                            (TargetKind::Count, _) => Value::Count { count: Milli(1000) },
                            (TargetKind::YesNo, _) => Value::YesNo { yes: met },
                            (TargetKind::Level, _) => {
                                Value::Level { grade: if met { t.grades.len() - 1 } else { 0 } }
                            }
                        };
                        (t.code.clone(), v)
                    })
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect();
        let mut quiet = |_: usize| {};
        store.insert_sample_reviews(&actor, scheme.id, &reviews, &mut quiet).await.unwrap();
        let w = World { app: router(AppState::new(store.clone())), store };
        w.user("province.old", Role::Province, "80", day(2020, 1, 1)).await;
        w.user("haunghia.old", Role::Commune, "27931", day(2020, 1, 1)).await;
        w
    }

    /// Then the 2025 list of Tây Ninh and the reform map, and today's accounts.
    async fn after_reform(&self) {
        let actor = Actor::system("test");
        let mut nop = |_: usize| {};
        let list = parse_unit_list(UNITS_2025.as_bytes(), Some("80")).unwrap();
        self.store.import_units(&actor, &list, &mut nop).await.unwrap();
        let rows = parse_reform_map(MAP.as_bytes()).unwrap();
        let err = self.store.import_successions(&actor, &rows, reform_date(), Some("80"), &mut nop).await;
        // Old Tây Ninh (72) is not in this database: its rows are refused, by line.
        let Err(danvan_store::StoreError::Invalid(m)) = err else { panic!("{err:?}") };
        assert!(m.contains("không có xã mã \"25456\" hết hiệu lực trước ngày 01/07/2025"), "{m}");
        let old_ty = parse_unit_list(UNITS_2024.as_bytes(), Some("72")).unwrap();
        self.store.import_units(&actor, &old_ty, &mut nop).await.unwrap();
        let s =
            self.store.import_successions(&actor, &rows, reform_date(), Some("80"), &mut nop).await.unwrap();
        assert_eq!(s.inserted, 305, "Long An's and old Tây Ninh's communes");
        self.store.import_scheme(&actor, &parse_scheme(CURRENT).unwrap(), CURRENT).await.unwrap();
        self.user("province.new", Role::Province, "80", day(2026, 1, 1)).await;
        self.user("haunghia.new", Role::Commune, "27931", day(2026, 1, 1)).await;
        self.user("duclap.new", Role::Commune, "27964", day(2026, 1, 1)).await;
    }

    async fn user(&self, name: &str, role: Role, unit: &str, on: NaiveDate) {
        let scope = self.store.unit_by_code(unit, Some(on)).await.unwrap().map(|u| u.id);
        assert!(scope.is_some() || role == Role::Admin, "{unit} on {on}");
        let new = NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "x".into(),
            role,
            scope_unit_id: scope,
        };
        let user = self.store.create_user(&Actor::system("test"), &new).await.unwrap();
        let now = Utc::now();
        self.store.start_session(&user, &secret_hash(name), "t", now, now + Duration::days(1)).await.unwrap();
    }

    async fn send(
        &self,
        who: &str,
        method: Method,
        uri: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if !who.is_empty() {
            req = req.header(header::COOKIE, format!("danvan_session={who}"));
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn get(&self, who: &str, uri: &str) -> (StatusCode, String) {
        self.send(who, Method::GET, uri, None).await
    }
}

const LA: &str = "/api/v1/schemes/LA-KDV-2017-2020/units";

#[tokio::test]
async fn importing_the_new_list_changes_nothing_that_refers_to_the_old_one() {
    on_each_backend(|store| async move {
        let w = World::before_reform(store).await;
        let reads = [
            ("province.old", format!("{LA}/80/dashboard?period=2018")),
            ("province.old", format!("{LA}/802/dashboard?period=2018")),
            ("haunghia.old", format!("{LA}/27931/reviews/2018")),
            ("province.old", format!("{LA}/80/rollup?period=2018")),
            ("province.old", "/schemes/LA-KDV-2017-2020/units/80/matrix.csv?period=2018".to_string()),
            ("haunghia.old", "/units/27931/bloc".to_string()),
        ];
        let mut before = Vec::new();
        for (who, uri) in &reads {
            let (s, body) = w.get(who, uri).await;
            assert_eq!(s, StatusCode::OK, "{uri}: {body}");
            before.push(body);
        }
        // The old commune user's home links to its review, which answers.
        let (_, home) = w.get("haunghia.old", "/").await;
        assert!(home.contains("/schemes/LA-KDV-2017-2020/units/27931/reviews"), "{home}");

        w.after_reform().await;
        for ((who, uri), old) in reads.iter().zip(&before) {
            let (s, body) = w.get(who, uri).await;
            assert_eq!(s, StatusCode::OK, "{uri} after the import: {body}");
            // The bloc page names its unit the same way; JSON and files byte for byte.
            assert_eq!(&body, old, "{uri} changed after the 2025 list was imported");
        }
        let (s, page) = w.get("haunghia.old", "/schemes/LA-KDV-2017-2020/units/27931/reviews/2018").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Thị trấn Hậu Nghĩa"));
        let (s, _) = w.get("province.old", "/schemes/LA-KDV-2017-2020/units/80?period=2020").await;
        assert_eq!(s, StatusCode::OK, "the province's own dashboard, code 80 read in the scheme's years");
    })
    .await;
}

#[tokio::test]
async fn codes_resolve_in_context_and_todays_users_read_their_predecessors_history() {
    on_each_backend(|store| async move {
        let w = World::before_reform(store).await;
        w.after_reform().await;

        // (user, method, path, expected status)
        let review = |code: &str| format!("{LA}/{code}/reviews/2018");
        let cases: Vec<(&str, Method, String, StatusCode)> = vec![
            // Today's province reads Long An's scheme (code 80 is Long An there) …
            ("province.new", Method::GET, format!("{LA}/80/dashboard?period=2018"), StatusCode::OK),
            ("province.new", Method::GET, format!("{LA}/802/dashboard?period=2018"), StatusCode::OK),
            ("province.new", Method::GET, review("27931"), StatusCode::OK),
            // … and never changes it, nor approves in it.
            ("province.new", Method::PUT, review("27931"), StatusCode::FORBIDDEN),
            ("province.new", Method::POST, format!("{}/reopen", review("27931")), StatusCode::FORBIDDEN),
            // The new Xã Hậu Nghĩa reads the reviews of the three communes it came from …
            ("haunghia.new", Method::GET, review("27931"), StatusCode::OK),
            ("haunghia.new", Method::GET, review("27949"), StatusCode::OK),
            ("haunghia.new", Method::GET, review("27955"), StatusCode::OK),
            ("haunghia.new", Method::PUT, review("27949"), StatusCode::FORBIDDEN),
            // … but not another commune's, nor the old district's, nor the province's.
            ("haunghia.new", Method::GET, review("27988"), StatusCode::FORBIDDEN),
            ("haunghia.new", Method::GET, format!("{LA}/802/dashboard?period=2018"), StatusCode::FORBIDDEN),
            ("haunghia.new", Method::GET, format!("{LA}/80/dashboard?period=2018"), StatusCode::FORBIDDEN),
            ("duclap.new", Method::GET, review("27931"), StatusCode::FORBIDDEN),
            // The old accounts keep working on the history they own.
            ("haunghia.old", Method::GET, review("27931"), StatusCode::OK),
            ("province.old", Method::GET, format!("{LA}/80/dashboard?period=2018"), StatusCode::OK),
            // Nobody of the old hierarchy reaches today's units.
            (
                "province.old",
                Method::GET,
                "/api/v1/schemes/TN-KDV-2026-2030/units/80/dashboard".into(),
                StatusCode::FORBIDDEN,
            ),
            (
                "haunghia.old",
                Method::GET,
                "/api/v1/schemes/TN-KDV-2026-2030/units/27931/reviews/2026".into(),
                StatusCode::FORBIDDEN,
            ),
            // Unit routes without a scheme: the user's own unit decides.
            ("haunghia.new", Method::GET, "/api/v1/units/27931/bloc".into(), StatusCode::OK),
            ("haunghia.old", Method::GET, "/api/v1/units/27931/bloc".into(), StatusCode::OK),
        ];
        for (who, method, path, expected) in cases {
            let body = (method == Method::PUT).then(|| json!({"version": 0, "values": {}}));
            let body = body.or_else(|| (method == Method::POST).then(|| json!({"reason": "thử"})));
            let (s, text) = w.send(who, method.clone(), &path, body).await;
            assert_eq!(s, expected, "{who} {method} {path}: {text}");
        }
        // Which unit a bloc route names follows its user.
        let (_, new) = w.get("haunghia.new", "/units/27931/bloc").await;
        let (_, old) = w.get("haunghia.old", "/units/27931/bloc").await;
        assert!(new.contains("Xã Hậu Nghĩa") && !new.contains("Thị trấn Hậu Nghĩa"));
        assert!(old.contains("Thị trấn Hậu Nghĩa"));

        // In the two-level hierarchy the province approves communes directly.
        let current = "/api/v1/schemes/TN-KDV-2026-2030/units/27931/reviews/2026";
        let (s, text) = w
            .send(
                "haunghia.new",
                Method::PUT,
                current,
                Some(json!({"version": 0, "values": {"1.1": {"yes": true}}})),
            )
            .await;
        assert!(s.is_success(), "{s} {text}");
        let scheme = w.store.scheme("TN-KDV-2026-2030").await.unwrap().unwrap();
        let unit = w.store.unit_by_code("27931", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        let review = w.store.review(scheme.id, unit.id, "2026").await.unwrap().unwrap();
        assert_eq!(review.unit_id, unit.id, "the review is the new commune's");
        let actor = Actor::system("test");
        w.store
            .transition_review(
                &actor,
                review.id,
                None,
                danvan_domain::workflow::Transition::Submit,
                None,
                false,
            )
            .await
            .unwrap();
        let approve = format!("{current}/approve");
        let (s, _) = w.send("haunghia.new", Method::POST, &approve, Some(json!({}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a commune does not approve itself");
        let (s, text) = w.send("province.new", Method::POST, &approve, Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK, "no district: the province approves the commune: {text}");
        let review = w.store.review(scheme.id, unit.id, "2026").await.unwrap().unwrap();
        assert_eq!(review.state, State::Approved);
        // Its dashboard has no district level: the communes hang from the province.
        let (_, text) =
            w.get("province.new", "/api/v1/schemes/TN-KDV-2026-2030/units/80/dashboard?period=2026").await;
        let d: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(d["children"].as_array().unwrap().len(), 96);
        assert!(d["children"].as_array().unwrap().iter().all(|c| c["level"] == "commune"));

        // A national scheme of 2021-2025 spans the reform: for an admin (whose scope says
        // nothing) 27931 names two units there, and the page lists both with their links.
        let national = SAMPLE
            .replace("code = \"LA-KDV-2017-2020\"", "code = \"VN-2021-2025\"")
            .replace("root_unit = \"80\"", "root_unit = \"VN\"")
            .replace("first_year = 2017", "first_year = 2021")
            .replace("last_year = 2020", "last_year = 2025");
        let national = shift_goal_years(&national);
        let def = parse_scheme(&national).unwrap();
        w.store.import_scheme(&Actor::system("test"), &def, &national).await.unwrap();
        w.user("admin", Role::Admin, "VN", day(2026, 1, 1)).await;
        let page = "/schemes/VN-2021-2025/units/27931/reviews";
        let (s, text) = w.get("admin", page).await;
        assert_eq!(s, StatusCode::MULTIPLE_CHOICES, "{text}");
        assert!(text.contains("href=\"/schemes/VN-2021-2025/units/27931/reviews?on=2025-06-30\""), "{text}");
        assert!(text.contains("27931: Xã Hậu Nghĩa, từ 01/07/2025"), "{text}");
        let (s, text) = w.get("admin", &format!("{page}?on=2025-06-30")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(text.contains("Thị trấn Hậu Nghĩa"));
        // The commune's own user needs no choice: its unit decides.
        let (s, text) = w.get("haunghia.new", page).await;
        assert_eq!(s, StatusCode::OK);
        assert!(text.contains("Xã Hậu Nghĩa") && !text.contains("Thị trấn Hậu Nghĩa"));

        // Without a context, a code borne by two units lists them (300), never picks one.
        let (s, text) = w.get("", "/api/v1/units/27931").await;
        assert_eq!(s, StatusCode::MULTIPLE_CHOICES, "{text}");
        assert!(
            text.contains("Thị trấn Hậu Nghĩa, đến 30/06/2025")
                && text.contains("Xã Hậu Nghĩa, từ 01/07/2025")
        );
        let (s, page) = w.get("", "/units/27931?on=2019-01-01").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Thị trấn Hậu Nghĩa") && page.contains("id=\"successors\""));
        let (s, page) = w.get("", "/units/27931").await;
        assert_eq!(s, StatusCode::OK, "the unit browser reads today");
        assert!(page.contains("<h1>Xã Hậu Nghĩa</h1>") && page.contains("id=\"predecessors\""));
        // The lineage of today's Xã Hậu Nghĩa.
        let (s, text) = w.get("", "/api/v1/units/27931/lineage?on=2026-01-01").await;
        assert_eq!(s, StatusCode::OK);
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        let names: Vec<&str> = j["predecessors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["unit"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Thị trấn Hậu Nghĩa", "Xã Đức Lập Thượng", "Xã Tân Mỹ"]);
        assert_eq!(j["predecessors"][0]["relation"], "whole");
        assert_eq!(j["predecessors"][0]["effective_on"], "2025-07-01");
        // The country's children are those of the day asked for.
        let count = |text: String| {
            serde_json::from_str::<serde_json::Value>(&text).unwrap().as_array().unwrap().len()
        };
        assert_eq!(
            count(w.get("", "/api/v1/units/VN/children?on=2024-01-01").await.1),
            2,
            "Long An, old Tây Ninh"
        );
        assert_eq!(
            count(w.get("", "/api/v1/units/VN/children?on=2025-07-01").await.1),
            1,
            "today's Tây Ninh"
        );
    })
    .await;
}

#[tokio::test]
async fn history_read_under_todays_units_loses_nothing_and_counts_a_split_commune_once() {
    on_each_backend(|store| async move {
        let w = World::before_reform(store).await;
        w.after_reform().await;
        let get = |uri: String| {
            let w = &w;
            async move {
                let (s, text) = w.get("province.new", &uri).await;
                assert_eq!(s, StatusCode::OK, "{uri}: {text}");
                serde_json::from_str::<serde_json::Value>(&text).unwrap()
            }
        };
        for root in ["80", "802"] {
            let reported = get(format!("{LA}/{root}/dashboard?period=2018")).await;
            let later = get(format!("{LA}/{root}/dashboard?period=2018&units=2025-07-01")).await;
            for k in ["expected", "received", "on_time", "score", "targets", "trend"] {
                assert_eq!(reported[k], later[k], "{root}: {k} is the same either way");
            }
            assert!(reported.get("units_on").is_none());
            assert_eq!(later["units_on"], "2025-07-01");
            // Every former commune counted once under one of today's.
            let sum = |d: &serde_json::Value, k: &str| {
                d["children"].as_array().unwrap().iter().map(|c| c[k].as_u64().unwrap()).sum::<u64>()
            };
            assert_eq!(sum(&later, "expected"), reported["expected"].as_u64().unwrap());
            assert_eq!(sum(&later, "received"), reported["received"].as_u64().unwrap());
            let formers: usize = later["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["former"].as_array().unwrap().len())
                .sum();
            assert_eq!(formers as u64, reported["expected"].as_u64().unwrap());
        }
        let later = get(format!("{LA}/80/dashboard?period=2018&units=2025-07-01")).await;
        let children = later["children"].as_array().unwrap();
        assert_eq!(children.len(), 60);
        assert!(children.iter().all(|c| c["level"] == "commune"), "no district level today");
        let hn = children.iter().find(|c| c["name"] == "Xã Hậu Nghĩa").unwrap();
        assert_eq!(hn["former"], json!(["Thị trấn Hậu Nghĩa", "Xã Đức Lập Thượng", "Xã Tân Mỹ"]));
        assert_eq!(hn["expected"], 3);
        // "k of n former communes met", per target.
        assert_eq!(hn["met"].as_array().unwrap().len(), 20);
        let notes = later["notes"].as_array().unwrap();
        assert!(
            notes.iter().any(|n| n
                .as_str()
                .unwrap()
                .starts_with("Phường 4 được chia tách vào Phường Long An và Phường Tân Ninh")),
            "{notes:?}"
        );
        // The roll-up pools the former communes' values: Σ numerators / Σ denominators.
        let reported = get(format!("{LA}/80/rollup?period=2018")).await;
        let later = get(format!("{LA}/80/rollup?period=2018&units=2025-07-01")).await;
        assert!(reported.get("groups").is_none());
        let groups = later["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 60);
        assert_eq!(later["targets"], reported["targets"], "the province's own figures do not change");
        let hn = groups.iter().find(|g| g["name"] == "Xã Hậu Nghĩa").unwrap();
        assert_eq!(hn["former"], json!(["Thị trấn Hậu Nghĩa", "Xã Đức Lập Thượng", "Xã Tân Mỹ"]));
        let ratio = hn["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap();
        assert_eq!(ratio["expected"], 3);
        // Each former commune reported 10 or 3 of 10 (see `before_reform`): the pool is their sum.
        let (met, received) = (ratio["met"].as_u64().unwrap(), ratio["received"].as_u64().unwrap());
        let pooled = (met * 10 + (received - met) * 3) as f64 / (received * 10) as f64 * 100.0;
        assert!((ratio["pooled_ratio"].as_f64().unwrap() - pooled).abs() < 1e-9, "{ratio}");
        for k in ["expected", "received", "met"] {
            let total: u64 = groups
                .iter()
                .map(|g| {
                    g["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap()[k]
                        .as_u64()
                        .unwrap()
                })
                .sum();
            let whole = reported["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap()
                [k]
                .clone();
            assert_eq!(json!(total), whole, "{k}: nothing lost, nothing counted twice");
        }

        // The page offers both readings.
        let (_, page) =
            w.get("province.new", "/schemes/LA-KDV-2017-2020/units/80?period=2018&units=2025-07-01").await;
        assert!(page.contains("id=\"units-switch\"") && page.contains("id=\"split-notes\""));
        assert!(page.contains("href=\"/units/27931?on=2025-07-01\""), "a row leads to today's unit");
        let (s, _) = w.get("province.new", &format!("{LA}/80/dashboard?units=hôm-qua")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn accounts_of_ended_units_are_offered_their_successor_and_moved_in_one_step() {
    on_each_backend(|store| async move {
        let w = World::before_reform(store).await;
        w.after_reform().await;
        // Today's province sees the old accounts whose units went into it, with the successor.
        let (s, page) = w.get("province.new", "/admin/users").await;
        assert_eq!(s, StatusCode::OK);
        let section = |page: &str| {
            page.split("id=\"ended-accounts\"")
                .nth(1)
                .unwrap_or("")
                .split("</section>")
                .next()
                .unwrap_or("")
                .to_string()
        };
        let ended = section(&page);
        assert!(ended.contains("haunghia.old") && ended.contains("Thị trấn Hậu Nghĩa, đến 30/06/2025"));
        assert!(ended.contains("Chuyển sang Xã Hậu Nghĩa, từ 01/07/2025"), "{ended}");
        assert!(ended.contains("province.old") && ended.contains("Chuyển sang Tỉnh Tây Ninh, từ 01/07/2025"));
        // A commune of today sees none and may move none.
        let haunghia_old = w.store.user_by_username("haunghia.old").await.unwrap().unwrap();
        let (s, _) = w
            .send("haunghia.new", Method::POST, &format!("/admin/users/{}/move", haunghia_old.id), None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // One step: the account now works in today's Xã Hậu Nghĩa; the change is audited.
        let (s, _) = w
            .send("province.new", Method::POST, &format!("/admin/users/{}/move", haunghia_old.id), None)
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let moved = w.store.user(haunghia_old.id).await.unwrap().unwrap();
        let new_hn = w.store.unit_by_code("27931", Some(day(2026, 1, 1))).await.unwrap().unwrap();
        assert_eq!(moved.scope_unit_id, Some(new_hn.id));
        let events = w
            .store
            .audit_events(
                &danvan_store::AuditFilter {
                    entity_type: Some("user".into()),
                    entity_id: Some(moved.id.to_string()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert_eq!(events.events[0].action, "update");
        assert_eq!(events.events[0].actor, "province.new");
        let (_, page) = w.get("province.new", "/admin/users").await;
        assert!(!section(&page).contains("haunghia.old") && section(&page).contains("province.old"));
        // Moved, it reads the history it owned through the lineage, and works today.
        let (s, _) = w.get("haunghia.old", &format!("{LA}/27931/reviews/2018")).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = w.get("haunghia.old", "/api/v1/schemes/TN-KDV-2026-2030/units/27931/reviews/2026").await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

/// The sample's coverage goals moved from 2017-2020 to 2021-2025 (years outside a scheme are
/// refused).
fn shift_goal_years(text: &str) -> String {
    text.replace("2020 = ", "2025 = ")
        .replace("2019 = ", "2024 = ")
        .replace("2018 = ", "2023 = ")
        .replace("2017 = ", "2022 = ")
}
