//! Handler tests, in process with `Router::oneshot`: every page and API route, both languages.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use danvan_domain::scheme::parse_scheme;
use danvan_domain::units::parse_unit_list;
use danvan_store::testing::tempfile_dir;
use danvan_store::{Actor, Store};
use danvan_web::{router, AppState};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const THREE: &str = "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type,lat,lon\n";
const TWO: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n";
const SAMPLE: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");

async fn app() -> Router {
    let dir = tempfile_dir();
    let store = Store::open(dir.join("t.db").to_str().unwrap()).await.unwrap();
    let csv = format!(
        "{THREE}\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27695,Xã Hựu Thạnh,Xã,10.88,106.40\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27637,Thị trấn Hậu Nghĩa,Thị trấn,10.88,106.39\n\
80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27643,Xã An Ninh Đông,Xã,10.9,106.4\n\
80,Tỉnh Long An,794,Thành phố Tân An,Thành phố,27496,Phường 10,Phường,10.5,106.4\n\
01,Thành phố Hà Nội,001,Quận Ba Đình,Quận,00004,Phường Trúc Bạch,Phường,21.04,105.84\n"
    );
    let mut nop = |_: usize| {};
    store
        .import_units(&Actor::system("test"), &parse_unit_list(csv.as_bytes(), None).unwrap(), &mut nop)
        .await
        .unwrap();
    let csv = format!("{TWO}01,Thành phố Hà Nội,00004,Phường Ba Đình,Phường,21.0386,105.838,2.97\n");
    store
        .import_units(&Actor::system("test"), &parse_unit_list(csv.as_bytes(), None).unwrap(), &mut nop)
        .await
        .unwrap();
    store.import_scheme(&Actor::system("test"), &parse_scheme(SAMPLE).unwrap(), SAMPLE).await.unwrap();
    router(AppState::new(store))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn get(app: &Router, path: &str, lang: Option<&str>) -> Answer {
    let mut req = Request::builder().uri(path);
    if let Some(l) = lang {
        req = req.header(header::COOKIE, format!("lang={l}"));
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// The position of each needle in the haystack, asserting they come in this order.
fn assert_in_order(hay: &str, needles: &[&str]) {
    let mut at = 0;
    for n in needles {
        let pos = hay[at..].find(n).unwrap_or_else(|| panic!("{n:?} missing or out of order"));
        at += pos + n.len();
    }
}

#[tokio::test]
async fn home_lists_the_scheme_and_marks_it_sample() {
    let app = app().await;
    let a = get(&app, "/", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("<html lang=\"vi\">"));
    assert!(a.body.contains("Nâng cao chất lượng, hiệu quả hoạt động của khối dân vận xã"));
    assert!(a.body.contains("Chỉ tiêu mẫu"));
    assert!(a.body.contains("href=\"/schemes/LA-KDV-2017-2020\""));
    let en = get(&app, "/", Some("en")).await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Sample targets"));
    assert!(en.body.contains("Administrative units"));
}

#[tokio::test]
async fn unit_browser_groups_lists_and_sorts() {
    let app = app().await;
    let a = get(&app, "/units", None).await;
    assert_eq!(a.status, StatusCode::OK);
    // The current (2025) list first, then the 2024 one, each in Vietnamese order.
    assert_in_order(
        &a.body,
        &["Hiện hành", "Thành phố Hà Nội", "Đến 30/06/2025", "Thành phố Hà Nội", "Tỉnh Long An"],
    );
    assert!(a.body.contains("href=\"/units/80?on=2025-06-30\""));

    let d = get(&app, "/units/802?on=2025-06-30", None).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_in_order(
        &d.body,
        &["id=\"breadcrumbs\"", "Đơn vị hành chính", "Tỉnh Long An", "Huyện Đức Hòa", "</ol>"],
    );
    assert_in_order(&d.body, &["id=\"children\"", "Xã An Ninh Đông", "Thị trấn Hậu Nghĩa", "Xã Hựu Thạnh"]);
    let la = get(&app, "/units/80", None).await;
    assert_in_order(&la.body, &["Huyện Đức Hòa", "Thành phố Tân An"]);

    // A reused code: the newest by default, the old one on a date, each pointing to the other.
    let new = get(&app, "/units/00004", None).await;
    assert!(new.body.contains("<h1>Phường Ba Đình</h1>"));
    assert!(new.body.contains("Phường Trúc Bạch"));
    let old = get(&app, "/units/00004?on=2019-06-30", None).await;
    assert!(old.body.contains("<h1>Phường Trúc Bạch</h1>"));
    let bad = get(&app, "/units/00004?on=30-30-2019", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("không hợp lệ"));
}

#[tokio::test]
async fn search_is_accent_insensitive_and_paged() {
    let app = app().await;
    for q in ["duc+hoa", "DUC%20HOA", "%C4%90%E1%BB%A9c%20Hoa%CC%80"] {
        let a = get(&app, &format!("/units?q={q}"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains(">Huyện Đức Hòa</a>"), "q={q}");
        assert!(a.body.contains("1 đơn vị"), "q={q}");
    }
    let none = get(&app, "/units?q=zzz", None).await;
    assert!(none.body.contains("Không tìm thấy đơn vị nào"));
}

#[tokio::test]
async fn scheme_page_shows_groups_targets_and_goals() {
    let app = app().await;
    let a = get(&app, "/schemes/LA-KDV-2017-2020", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("id=\"sample-note\""));
    assert_in_order(
        &a.body,
        &[
            "1. Tăng cường sự lãnh đạo",
            "2. Nâng cao nhận thức",
            "3. Củng cố tổ chức",
            "4. Đổi mới phương thức",
            "5. Xây dựng cơ chế phối hợp",
            "6. Tăng cường sự lãnh đạo của cấp trên",
        ],
    );
    assert_in_order(&a.body, &["id=\"target-5.2\"", "≤ 5%", "càng thấp càng tốt"]);
    assert_in_order(&a.body, &["id=\"target-3.4\"", "≥ Khá"]);
    assert_in_order(
        &a.body,
        &["id=\"target-4.1\"", "Tính từ dữ liệu: số cuộc họp khối đã tổ chức trong kỳ (từ sổ họp)"],
    );
    assert!(!a.body.contains("members_trained_share"), "no code names shown (issue 17, item 9)");
    assert!(a.body.contains("Tỉnh Long An"));
    let missing = get(&app, "/schemes/NOPE", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn errors_speak_the_users_language() {
    let app = app().await;
    let vi = get(&app, "/no/such/page", None).await;
    assert_eq!(vi.status, StatusCode::NOT_FOUND);
    assert!(vi.body.contains("Không tìm thấy trang"));
    let en = get(&app, "/units/99999", Some("en")).await;
    assert_eq!(en.status, StatusCode::NOT_FOUND);
    assert!(en.body.contains("Page not found"));
}

#[tokio::test]
async fn language_switch_sets_a_cookie_and_returns_locally_only() {
    let app = app().await;
    let a = get(&app, "/lang/en?next=%2Funits%3Fq%3Dduc", None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/units?q=duc");
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let evil = get(&app, "/lang/vi?next=%2F%2Fevil.example", None).await;
    assert_eq!(evil.headers[header::LOCATION], "/");
}

#[tokio::test]
async fn health_and_security_headers() {
    let app = app().await;
    let a = get(&app, "/healthz", None).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "ok"));
    let page = get(&app, "/units", None).await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let css = get(&app, "/static/style.css", None).await;
    assert!(css.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn api_units() {
    let app = app().await;
    // A code borne by two units (before and after the reform): without a day, the choices.
    let both = get(&app, "/api/v1/units/00004", None).await;
    assert_eq!(both.status, StatusCode::MULTIPLE_CHOICES);
    let choices = both.json()["choices"].as_array().unwrap().clone();
    let labels: Vec<&str> = choices.iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Phường Trúc Bạch, đến 30/06/2025", "Phường Ba Đình, từ 01/07/2025"]);
    assert_eq!(choices[1]["href"], "/api/v1/units/00004?on=2025-07-01");
    let a = get(&app, "/api/v1/units/00004?on=2025-07-01", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let j = a.json();
    assert_eq!(j["name"], "Phường Ba Đình");
    assert_eq!(j["parent_code"], "01");
    assert_eq!(j["valid_from"], "2025-07-01");
    let old = get(&app, "/api/v1/units/00004?on=2019-06-30", None).await.json();
    assert_eq!(old["name"], "Phường Trúc Bạch");
    assert_eq!(old["parent_code"], "001");
    let bad = get(&app, "/api/v1/units/00004?on=yesterday", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("yesterday"));
    let missing = get(&app, "/api/v1/units/27695?on=2026-01-01", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["status"], 404);

    let children = get(&app, "/api/v1/units/802/children", None).await.json();
    let names: Vec<&str> = children.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Xã An Ninh Đông", "Thị trấn Hậu Nghĩa", "Xã Hựu Thạnh"]);

    let found = get(&app, "/api/v1/units?q=duc%20hoa", None).await.json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["units"][0]["code"], "802");
    let paged = get(&app, "/api/v1/units?q=xa&per_page=1&page=2", None).await.json();
    assert_eq!(paged["units"].as_array().unwrap().len(), 1);
    assert_eq!(paged["page"], 2);
    assert_eq!(get(&app, "/api/v1/units?q=xa&per_page=0", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/api/v1/nothing", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_schemes_and_openapi() {
    let app = app().await;
    let list = get(&app, "/api/v1/schemes", None).await.json();
    assert_eq!(list[0]["code"], "LA-KDV-2017-2020");
    assert_eq!(list[0]["sample"], true);
    let n = list[0]["target_count"].as_i64().unwrap();
    assert!((15..=25).contains(&n), "{n}");
    let s = get(&app, "/api/v1/schemes/LA-KDV-2017-2020", None).await.json();
    assert_eq!(s["groups"].as_array().unwrap().len(), 6);
    assert_eq!(s["targets"].as_array().unwrap().len() as i64, n);
    assert_eq!(s["criteria"]["5.2"], "≤ 5%");
    assert_eq!(get(&app, "/api/v1/schemes/NOPE", None).await.status, StatusCode::NOT_FOUND);

    let doc = get(&app, "/api/openapi.json", None).await.json();
    for path in [
        "/api/v1/units",
        "/api/v1/units/{code}",
        "/api/v1/units/{code}/children",
        "/api/v1/schemes",
        "/api/v1/schemes/{code}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from OpenAPI");
    }
    let docs = get(&app, "/api/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.body.contains("swagger"), "{}", &docs.body[..docs.body.len().min(300)]);
}

#[tokio::test]
async fn long_result_lists_are_paged() {
    let dir = tempfile_dir();
    let store = Store::open(dir.join("t.db").to_str().unwrap()).await.unwrap();
    let csv =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/units-2024-three-level.csv")).unwrap();
    let mut nop = |_: usize| {};
    store
        .import_units(&Actor::system("test"), &parse_unit_list(&csv, Some("80")).unwrap(), &mut nop)
        .await
        .unwrap();
    let app = router(AppState::new(store));
    // Long An has 161 units whose name contains "xa" (xã): 4 pages of 50.
    let first = get(&app, "/units?q=xa", None).await;
    assert!(first.body.contains("161 đơn vị"), "{}", first.body);
    assert!(first.body.contains("Trang 1 / 4"));
    assert!(first.body.contains("rel=\"next\" href=\"/units?q=xa&#38;page=2\""));
    assert!(!first.body.contains("rel=\"prev\""));
    let last = get(&app, "/units?q=xa&page=4", None).await;
    assert!(last.body.contains("Trang 4 / 4"));
    assert_eq!(last.body.matches("<li><a href=\"/units/").count(), 11);
    assert!(!last.body.contains("rel=\"next\""));
    let en = get(&app, "/units?q=xa&page=2", Some("en")).await;
    assert!(en.body.contains("Page 2 of 4"));
}

/// Issue 14, item 12: the audit views named "Unknown localization key: action-sample". Every
/// action and kind of record the store writes to the audit log has a name in both languages.
#[test]
fn every_audited_action_and_record_has_a_name_in_both_languages() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src");
    let mut keys = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split("NewEvent::new(\"").skip(1) {
            let mut quoted = part.split('"');
            let action = quoted.next().unwrap();
            let entity = quoted.nth(1).unwrap();
            keys.insert(format!("action-{action}"));
            keys.insert(format!("entity-{entity}"));
        }
    }
    // Written with a computed name: workflow transitions, feedback steps, schemes.
    for t in danvan_domain::workflow::Transition::ALL {
        keys.insert(format!("action-{}", t.as_str()));
    }
    for k in
        ["action-assign", "action-answer", "action-close", "entity-scheme", "entity-review", "entity-roadmap"]
    {
        keys.insert(k.into());
    }
    assert!(keys.len() > 30, "{keys:?}");
    for lang in ["vi", "en"] {
        let ftl = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("locales/{lang}/main.ftl")),
        )
        .unwrap();
        for key in &keys {
            assert!(ftl.lines().any(|l| l.starts_with(&format!("{key} ="))), "{lang}: no {key}");
        }
    }
}

/// Issue 14, item 12: `/healthz` stayed 200 while writes failed. `/readyz` checks a write.
#[tokio::test]
async fn readyz_fails_when_the_database_takes_no_writes() {
    let dir = danvan_store::testing::tempfile_dir();
    let path = dir.join("ready.db");
    let store = danvan_store::Store::open(path.to_str().unwrap()).await.unwrap();
    let app = danvan_web::router(danvan_web::AppState::new(store.clone()));
    let a = get(&app, "/readyz", None).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "ready"));
    store.close().await;
    // The same database opened read-only: it still reads, and is not ready.
    let read_only =
        danvan_store::Store::connect(&format!("sqlite://{}?mode=ro", path.display())).await.unwrap();
    read_only.ping().await.unwrap();
    assert!(read_only.ready().await.is_err());
    let app = danvan_web::router(danvan_web::AppState::new(read_only));
    assert_eq!(get(&app, "/healthz", None).await.status, StatusCode::OK);
    assert_eq!(get(&app, "/readyz", None).await.status, StatusCode::SERVICE_UNAVAILABLE);
}
