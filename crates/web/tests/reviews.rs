//! The review API end to end: save with versions, validation, the workflow, live roll-ups.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{Duration, Utc};
use danvan_domain::access::Role;
use danvan_domain::scheme::parse_scheme;
use danvan_domain::units::parse_unit_list;
use danvan_store::testing::on_each_backend;
use danvan_store::{Actor, NewUser, Store};
use danvan_web::auth::secret_hash;
use danvan_web::{router, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

const SAMPLE: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const UNITS: &str = include_str!("../../../data/units-2024-three-level.csv");
const BASE: &str = "/api/v1/schemes/LA-KDV-2017-2020/units";

struct World {
    store: Store,
    app: Router,
}

impl World {
    async fn new(store: Store) -> World {
        let actor = Actor::system("test");
        let mut nop = |_: usize| {};
        store
            .import_units(&actor, &parse_unit_list(UNITS.as_bytes(), Some("80")).unwrap(), &mut nop)
            .await
            .unwrap();
        store.import_scheme(&actor, &parse_scheme(SAMPLE).unwrap(), SAMPLE).await.unwrap();
        for (name, role, unit) in [
            ("province", Role::Province, "80"),
            ("district", Role::District, "802"),
            ("huuthanh", Role::Commune, "27988"),
            ("haunghia", Role::Commune, "27931"),
        ] {
            let scope = store.unit_by_code(unit, None).await.unwrap().map(|u| u.id);
            let new = NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: "x".into(),
                role,
                scope_unit_id: scope,
            };
            let user = store.create_user(&actor, &new).await.unwrap();
            let now = Utc::now();
            store.start_session(&user, &secret_hash(name), "t", now, now + Duration::days(1)).await.unwrap();
        }
        let files = danvan_store::testing::tempfile_dir();
        let app =
            router(AppState { files: danvan_store::FileStore::Dir(files), ..AppState::new(store.clone()) });
        World { store, app }
    }

    /// Uploads a file as evidence of a target, through the review page's form.
    async fn upload(
        &self,
        who: &str,
        unit: &str,
        target: &str,
        name: &str,
        bytes: &[u8],
    ) -> (StatusCode, String) {
        let uri = format!("/schemes/LA-KDV-2017-2020/units/{unit}/reviews/2018/evidence");
        let (status, _, body) = self.multipart(who, &uri, &[("target", target)], name, bytes).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Posts a multipart form with text fields and one file named `file`.
    async fn multipart(
        &self,
        who: &str,
        uri: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let (kind, body) = common::multipart_form(fields, name, bytes);
        self.send(who, Method::POST, uri, Some((&kind, body))).await
    }

    /// A request as a signed-in user (anonymous when `who` is empty); the status, headers and
    /// body of the answer.
    async fn send(
        &self,
        who: &str,
        method: Method,
        uri: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(uri);
        if !who.is_empty() {
            req = req.header(header::COOKIE, format!("danvan_session={who}"));
        }
        let req = match body {
            Some((kind, bytes)) => req.header(header::CONTENT_TYPE, kind).body(Body::from(bytes)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    /// A GET as a signed-in user that says which answer it holds (`If-None-Match`).
    async fn get_if(&self, who: &str, uri: &str, tag: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let req = Request::builder()
            .uri(uri)
            .header(header::COOKIE, format!("danvan_session={who}"))
            .header(header::IF_NONE_MATCH, tag)
            .body(Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if !who.is_empty() {
            req = req.header(header::COOKIE, format!("danvan_session={who}"));
        }
        let req = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                req.body(Body::from(b.to_string()))
            }
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }
}

/// The sample scheme's targets that require evidence.
const EVIDENCE_REQUIRED: [&str; 9] = ["1.1", "1.3", "2.2", "3.3", "3.4", "4.2", "4.3", "5.1", "6.2"];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A complete set of values for the sample scheme's reported targets.
fn complete_values() -> Value {
    json!({
        "1.1": {"yes": true},
        "1.2": {"count": 2},
        "1.3": {"yes": true},
        "2.1": {"numerator": "1.250", "denominator": "1.300", "note": "Đã quán triệt"},
        "2.2": {"yes": true},
        "3.3": {"yes": true},
        "3.4": {"level": "Khá"},
        "4.2": {"count": 1},
        "4.3": {"count": 2},
        "5.1": {"yes": false},
        "5.2": {"numerator": 1, "denominator": 40},
        "5.3": {"count": 0},
        "6.1": {"count": 1},
        "6.2": {"level": "Hoàn thành tốt"},
        "6.3": {"numerator": 8, "denominator": 10}
    })
}

#[tokio::test]
async fn a_review_goes_from_draft_to_approved_and_rolls_up_at_once() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let path = format!("{BASE}/27988/reviews/2018");

        let (s, r) = w.call("huuthanh", Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!((r["status"].as_str(), r["version"].as_i64()), (Some("not_started"), Some(0)));
        assert_eq!(r["deadline"], "2019-01-15");
        assert_eq!(r["achievement"]["2.1"], "not_reported");

        // Bad input: every problem named, nothing saved.
        let bad = json!({"version": 0, "values": {
            "2.1": {"numerator": 11, "denominator": 10},
            "1.2": {"count": "hai"},
            "3.1": {"numerator": 1, "denominator": 2},
            "9.9": {"count": 1}
        }});
        let (s, e) = w.call("huuthanh", Method::PUT, &path, Some(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let problems: Vec<&str> = e["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("Chỉ tiêu 2.1") && p.contains("tử số không được lớn hơn mẫu số")));
        assert!(problems.iter().any(|p| p.contains("Chỉ tiêu 1.2") && p.contains("\"hai\" không phải là một số")));
        assert!(problems.iter().any(|p| p.contains("3.1") && p.contains("tính tự động")));
        assert!(problems.iter().any(|p| p.contains("9.9")));
        assert_eq!(w.call("huuthanh", Method::GET, &path, None).await.1["status"], "not_started");

        // A first save creates the draft; Vietnamese numbers are read the Vietnamese way.
        let (s, r) = w.call("huuthanh", Method::PUT, &path, Some(json!({"version": 0, "values": {"2.1": {"numerator": "1.250", "denominator": "1.300"}}, "narrative": {"results": "Kết quả bước đầu"}}))).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!((r["status"].as_str(), r["version"].as_i64()), (Some("draft"), Some(2)));
        assert_eq!(r["values"]["2.1"]["numerator"], 1250.0);
        assert_eq!(r["values"]["2.1"]["achievement"], "achieved");

        // Incomplete: submit lists what is missing, values and evidence alike.
        let (s, e) = w.call("huuthanh", Method::POST, &format!("{path}/submit"), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"].as_str().unwrap().contains("Chỉ tiêu 1.1"));
        assert!(e["error"].as_str().unwrap().contains("cần tệp minh chứng"));
        for code in EVIDENCE_REQUIRED {
            let (s, body) = w.upload("huuthanh", "27988", code, &format!("minh chứng {code}.pdf"), PDF).await;
            assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        }
        assert!(!e["error"].as_str().unwrap().contains("Chỉ tiêu 3.1"), "computed targets are not asked for");

        // Two editors: the second save from the same version is refused and shows the first.
        let (s, _) = w.call("huuthanh", Method::PUT, &path, Some(json!({"version": 2, "values": complete_values()}))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, c) = w.call("huuthanh", Method::PUT, &path, Some(json!({"version": 2, "values": {"1.1": {"yes": false}}}))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(c["error"].as_str().unwrap().contains("phiên bản 3"));
        assert_eq!(c["current"]["values"]["1.1"]["yes"], true, "what the other person saved");

        // Another commune, the district: no.
        assert_eq!(w.call("haunghia", Method::PUT, &path, Some(json!({"version": 3}))).await.0, StatusCode::FORBIDDEN);
        assert_eq!(w.call("district", Method::PUT, &path, Some(json!({"version": 3}))).await.0, StatusCode::FORBIDDEN);
        assert_eq!(w.call("huuthanh", Method::POST, &format!("{path}/approve"), None).await.0, StatusCode::FORBIDDEN);

        let (s, r) = w.call("huuthanh", Method::POST, &format!("{path}/submit"), None).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!((r["status"].as_str(), r["late"].as_bool()), (Some("submitted"), Some(true)), "2018 is long past its deadline");

        // Official roll-ups count approved reviews only; provisional ones count submitted too.
        let rollup = |who: &'static str, unit: &'static str, provisional: bool| {
            let w = &w;
            async move {
                let (s, r) = w.call(who, Method::GET, &format!("{BASE}/{unit}/rollup?period=2018&provisional={provisional}"), None).await;
                assert_eq!(s, StatusCode::OK, "{r}");
                r["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap().clone()
            }
        };
        let official = rollup("district", "802", false).await;
        assert_eq!((official["expected"].as_u64(), official["received"].as_u64(), official["met"].as_u64()), (Some(20), Some(0), Some(0)));
        let provisional = rollup("district", "802", true).await;
        assert_eq!((provisional["received"].as_u64(), provisional["met"].as_u64()), (Some(1), Some(1)));

        // Return without a reason: refused; with one: back to the commune.
        let (s, _) = w.call("district", Method::POST, &format!("{path}/return"), Some(json!({}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, r) = w.call("district", Method::POST, &format!("{path}/return"), Some(json!({"reason": "Thiếu minh chứng quy chế"}))).await;
        assert_eq!((s, r["status"].as_str(), r["reason"].as_str()), (StatusCode::OK, Some("returned"), Some("Thiếu minh chứng quy chế")));
        let v = r["version"].as_i64().unwrap();
        let mut fixed = complete_values();
        fixed["1.3"] = json!({"yes": true, "note": "Quy chế số 01-QC/DV"});
        assert_eq!(w.call("huuthanh", Method::PUT, &path, Some(json!({"version": v, "values": fixed}))).await.0, StatusCode::OK);
        assert_eq!(w.call("huuthanh", Method::POST, &format!("{path}/submit"), None).await.0, StatusCode::OK);
        let (s, r) = w.call("district", Method::POST, &format!("{path}/approve"), None).await;
        assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("approved")));

        // Locked for the commune: a save the state does not allow is a conflict (409).
        let (s, _) = w.call("huuthanh", Method::PUT, &path, Some(json!({"version": r["version"], "values": {}}))).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Live: the district's and the province's official figures changed at once.
        let district = rollup("district", "802", false).await;
        assert_eq!((district["received"].as_u64(), district["met"].as_u64(), district["on_time"].as_u64()), (Some(1), Some(1), Some(0)));
        assert_eq!(district["coverage"].as_f64(), Some(5.0));
        assert_eq!(district["goal"].as_f64(), Some(80.0));
        assert_eq!(district["meets_goal"].as_bool(), Some(false));
        assert!((district["pooled_ratio"].as_f64().unwrap() - 1250.0 / 1300.0 * 100.0).abs() < 1e-9);
        let province = rollup("province", "80", false).await;
        assert_eq!((province["expected"].as_u64(), province["met"].as_u64()), (Some(186), Some(1)));
        let (_, all) = w.call("province", Method::GET, &format!("{BASE}/80/rollup?period=2018"), None).await;
        let level = all["targets"].as_array().unwrap().iter().find(|t| t["code"] == "3.4").unwrap();
        assert_eq!(level["grades"]["Khá"], 1);

        // The history holds every step with who did it.
        let review_id = w.store.review(1, w.store.unit_by_code("27988", None).await.unwrap().unwrap().id, "2018").await.unwrap().unwrap().id;
        let steps: Vec<(String, String)> = w.store.entity_history("review", &review_id.to_string()).await.unwrap()
            .into_iter().filter(|e| e.action != "update").map(|e| (e.action, e.actor)).collect();
        let steps: Vec<(&str, &str)> = steps.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(steps, [("create", "huuthanh"), ("submit", "huuthanh"), ("return", "district"), ("submit", "huuthanh"), ("approve", "district")]);

        // Reopen needs a reason, then the commune may edit again; official figures drop back.
        let (s, _) = w.call("district", Method::POST, &format!("{path}/reopen"), Some(json!({"reason": "Sửa số liệu 2.1"}))).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(rollup("district", "802", false).await["met"].as_u64(), Some(0));
    })
    .await;
}

#[tokio::test]
async fn bad_periods_and_units_are_refused() {
    let dir = danvan_store::testing::tempfile_dir();
    let store = Store::open(dir.join("t.db").to_str().unwrap()).await.unwrap();
    let w = World::new(store).await;
    for (path, status) in [
        (format!("{BASE}/27988/reviews/2018-Q1"), StatusCode::BAD_REQUEST),
        (format!("{BASE}/27988/reviews/2030"), StatusCode::BAD_REQUEST),
        (format!("{BASE}/27988/reviews/hôm-nay"), StatusCode::BAD_REQUEST),
        ("/api/v1/schemes/NOPE/units/27988/reviews/2018".to_string(), StatusCode::NOT_FOUND),
        (format!("{BASE}/99999/reviews/2018"), StatusCode::NOT_FOUND),
        (format!("{BASE}/27988/rollup?period=2016"), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(w.call("province", Method::GET, &path, None).await.0, status, "{path}");
    }
    // A district is not reviewed under a commune-level scheme.
    let (s, e) = w
        .call("province", Method::PUT, &format!("{BASE}/802/reviews/2018"), Some(json!({"version": 0})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

#[tokio::test]
async fn evidence_is_checked_kept_and_served_only_within_scope() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let path = format!("{BASE}/27988/reviews/2018");
        // Files attach to a started review only.
        let (s, body) = w.upload("huuthanh", "27988", "1.3", "quy-che.pdf", PDF).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(
            w.call("huuthanh", Method::PUT, &path, Some(json!({"version": 0}))).await.0,
            StatusCode::OK
        );

        let (s, _) = w.upload("huuthanh", "27988", "1.3", "../../Quy chế hoạt động.pdf", PDF).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let review = w
            .store
            .review(1, w.store.unit_by_code("27988", None).await.unwrap().unwrap().id, "2018")
            .await
            .unwrap()
            .unwrap();
        let files = w.store.evidence_of(review.id).await.unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(
            (files[0].filename.as_str(), files[0].content_type.as_str(), files[0].size),
            ("Quy chế hoạt động.pdf", "application/pdf", PDF.len() as i64)
        );
        let sha: String = {
            use sha2::Digest;
            sha2::Sha256::digest(PDF).iter().map(|b| format!("{b:02x}")).collect()
        };
        assert_eq!(files[0].sha256, sha);

        // An executable named .pdf, an empty file, a 60 MB file: refused, nothing stored.
        let (s, body) =
            w.upload("huuthanh", "27988", "1.3", "bao-cao.pdf", b"MZ\x90\x00\x03 this is a program").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(body.contains("kiểm tra theo nội dung tệp"), "{body}");
        assert_eq!(w.upload("huuthanh", "27988", "1.3", "empty.pdf", b"").await.0, StatusCode::BAD_REQUEST);
        let mut huge = PDF.to_vec();
        huge.resize(60 * 1_000_000, b' ');
        let (s, body) = w.upload("huuthanh", "27988", "1.3", "huge.pdf", &huge).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("tối đa 10 MB"), "{body}");
        assert_eq!(
            w.upload("huuthanh", "27988", "9.9", "x.pdf", PDF).await.0,
            StatusCode::BAD_REQUEST,
            "unknown target"
        );
        assert_eq!(w.store.evidence_of(review.id).await.unwrap().len(), 1);

        // 50 MB per review: four more files of 10 MB fit, the fifth does not.
        // 10 MB: a PDF whose body (before its trailer) is padded.
        let mut big = b"%PDF-1.4\n%".to_vec();
        big.resize(10 * 1_000_000 - PDF.len(), b' ');
        big.extend_from_slice(PDF);
        for i in 0..4 {
            let (s, body) = w.upload("huuthanh", "27988", "1.3", &format!("phụ lục {i}.pdf"), &big).await;
            assert_eq!(s, StatusCode::SEE_OTHER, "file {i}: {body}");
        }
        let (s, body) = w.upload("huuthanh", "27988", "1.3", "one too many.pdf", &big).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(body.contains("50 MB"), "{body}");
        assert_eq!(w.store.evidence_of(review.id).await.unwrap().len(), 5);

        // Served as an attachment, within scope only.
        let id = files[0].id;
        let file = format!("/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/evidence/{id}");
        let req = |who: &str, uri: &str| {
            Request::builder()
                .uri(uri)
                .header(header::COOKIE, format!("danvan_session={who}"))
                .body(Body::empty())
                .unwrap()
        };
        let res = w.app.clone().oneshot(req("district", &file)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cd = res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().to_string();
        assert!(cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''Quy%20ch%E1%BA%BF"), "{cd}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(res.into_body().collect().await.unwrap().to_bytes().as_ref(), PDF);
        assert_eq!(
            w.app.clone().oneshot(req("haunghia", &file)).await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        // Another commune's own URL with this file's id finds nothing.
        let theirs = format!("/schemes/LA-KDV-2017-2020/units/27931/reviews/2018/evidence/{id}");
        assert_eq!(
            w.call(
                "haunghia",
                Method::PUT,
                &format!("{BASE}/27931/reviews/2018"),
                Some(json!({"version": 0}))
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_eq!(
            w.app.clone().oneshot(req("haunghia", &theirs)).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        let anon = Request::builder().uri(&file).body(Body::empty()).unwrap();
        assert_eq!(w.app.clone().oneshot(anon).await.unwrap().status(), StatusCode::SEE_OTHER);

        // Deleting: by the unit, while editable; recorded.
        let del = Request::builder()
            .method(Method::POST)
            .uri(format!("{file}/delete"))
            .header(header::COOKIE, "danvan_session=huuthanh")
            .body(Body::empty())
            .unwrap();
        assert_eq!(w.app.clone().oneshot(del).await.unwrap().status(), StatusCode::SEE_OTHER);
        assert_eq!(w.store.evidence_of(review.id).await.unwrap().len(), 4);
        let events = w.store.entity_history("evidence", &id.to_string()).await.unwrap();
        assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "delete"]);
    })
    .await;
}

/// Issue 16, item 6: a PUT naming two targets wiped the other thirteen and answered 200. Only
/// what a save names changes; `null` clears one target; an absent narrative is kept.
#[tokio::test]
async fn a_save_changes_only_what_it_names() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let path = format!("{BASE}/27988/reviews/2018");
        let first = json!({"version": 0, "values": complete_values(), "narrative": {"results": "Kết quả", "limitations": "Hạn chế", "next_tasks": "Nhiệm vụ"}});
        let (s, r) = w.call("huuthanh", Method::PUT, &path, Some(first)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        // Issue 16, item 13: 2.0 is the integer 2 in JSON Schema; 2.5 is not a version.
        let half = json!({"version": r["version"].as_f64().unwrap() + 0.5, "values": {}});
        assert_eq!(w.call("huuthanh", Method::PUT, &path, Some(half)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        let two = json!({"version": r["version"].as_f64().unwrap(), "values": {"1.2": {"count": 5}, "2.1": null}});
        let (s, r) = w.call("huuthanh", Method::PUT, &path, Some(two)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["values"]["1.2"]["count"], 5.0, "the named target changes");
        assert!(r["values"]["2.1"].get("numerator").is_none(), "null clears: {}", r["values"]["2.1"]);
        assert_eq!(r["values"]["5.2"]["numerator"], 1.0, "an unnamed target keeps its value");
        assert_eq!(r["values"]["6.2"]["level"], "Hoàn thành tốt");
        assert_eq!(r["narrative"]["results"], "Kết quả", "an absent narrative is kept");
        let unit = w.store.unit_by_code("27988", None).await.unwrap().unwrap();
        let stored = w.store.review(1, unit.id, "2018").await.unwrap().unwrap();
        assert_eq!(stored.values.len(), complete_values().as_object().unwrap().len() - 1, "all but the cleared one");
        // Issue 16, item 12: the history says it in words, with Vietnamese numbers and names.
        let history = format!("/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/history?id={}", stored.id);
        let (s, _, page) = w.send("huuthanh", Method::GET, &history, None).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Chỉ tiêu 1.2 — số lượng") && page.contains("Chỉ tiêu 2.1 — mẫu số"), "{page}");
        assert!(page.contains("1.300"), "Vietnamese thousands: {page}");
        assert!(!page.contains("values.") && !page.contains("Unknown localization key"), "{page}");
    })
    .await;
}

/// Issue 17, item 1: the review form carries values, the narrative and the files picked for
/// each target (several per target) in one request, so that no button loses what was typed:
/// saving uploads every picked file, a refused file keeps the values and the other files, a
/// deletion saves the values first, and values refused still keep the files of a saved review.
/// (On the previous commit the form was URL-encoded: its files were dropped, and each upload or
/// deletion was a form of its own that threw the typed values away.)
#[tokio::test]
async fn the_review_form_saves_values_and_every_picked_file_together() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let page = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018";
        let review = format!("{BASE}/27988/reviews/2018");
        let evidence = || async {
            let (s, list) = w.call("huuthanh", Method::GET, &format!("{review}/evidence"), None).await;
            assert_eq!(s, StatusCode::OK, "{list}");
            let mut v: Vec<(String, String)> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["target"].as_str().unwrap().into(), e["filename"].as_str().unwrap().into()))
                .collect();
            v.sort();
            v
        };
        let post = |fields: Vec<(&'static str, String)>,
                    files: Vec<(&'static str, &'static str, &'static [u8])>| {
            let w = &w;
            async move {
                let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (kind, body) = common::multipart_files(&fields, &files);
                w.send("huuthanh", Method::POST, page, Some((&kind, body))).await
            }
        };
        let png: &'static [u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        // First save: no review yet; values, section I and three files for two targets at once
        // (and an empty file field, as a browser sends one left unpicked).
        let (s, h, body) = post(
            vec![
                ("version", "0".into()),
                ("1.2.count", "2".into()),
                ("results", "Đã ban hành quy chế".into()),
                ("intent", "save".into()),
            ],
            vec![
                ("1.1.files", "quy-che.pdf", PDF),
                ("1.1.files", "anh.png", png),
                ("1.3.files", "bien-ban.pdf", PDF),
                ("2.2.files", "", b""),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", text(&body));
        assert_eq!(location(&h), format!("{page}?done=saved-files"));
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(
            (r["values"]["1.2"]["count"].as_f64(), r["narrative"]["results"].as_str()),
            (Some(2.0), Some("Đã ban hành quy chế"))
        );
        assert_eq!(
            evidence().await,
            [
                ("1.1".into(), "anh.png".into()),
                ("1.1".into(), "quy-che.pdf".into()),
                ("1.3".into(), "bien-ban.pdf".into())
            ]
        );
        // A file that is not what it says is refused by name; the values and the good file stay.
        let version = r["version"].to_string();
        let (s, _, body) = post(
            vec![("version", version), ("1.2.count", "3".into()), ("intent", "save".into())],
            vec![("2.2.files", "gia.pdf", b"<html>not a pdf"), ("3.3.files", "hop.pdf", PDF)],
        )
        .await;
        let html = text(&body);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("2.2 · gia.pdf: Tệp không phải PDF"), "{html}");
        assert!(html.contains("Đã lưu số liệu và 1 tệp"), "{html}");
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(r["values"]["1.2"]["count"].as_f64(), Some(3.0));
        assert_eq!(evidence().await.len(), 4);
        assert!(evidence().await.contains(&("3.3".into(), "hop.pdf".into())));
        // Deleting a file saves what was typed first.
        let (_, list) = w.call("huuthanh", Method::GET, &format!("{review}/evidence"), None).await;
        let png_id =
            list.as_array().unwrap().iter().find(|e| e["filename"] == "anh.png").unwrap()["id"].clone();
        let (s, h, body) = post(
            vec![
                ("version", r["version"].to_string()),
                ("1.2.count", "4".into()),
                ("intent", format!("delete:{png_id}")),
            ],
            vec![],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", text(&body));
        assert_eq!(location(&h), format!("{page}?done=evidence-deleted#t-1.1"));
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(r["values"]["1.2"]["count"].as_f64(), Some(4.0));
        assert!(!evidence().await.iter().any(|(_, n)| n == "anh.png"));
        // Values refused: they come back typed and marked at their field; the file is kept.
        let (s, _, body) = post(
            vec![
                ("version", r["version"].to_string()),
                ("1.2.count", "hai".into()),
                ("intent", "save".into()),
            ],
            vec![("4.2.files", "ke-hoach.pdf", PDF)],
        )
        .await;
        let html = text(&body);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains(r#"value="hai""#), "the typed value comes back: {html}");
        assert!(html.contains(r#"<fieldset class="target wrong" id="t-1.2" "#), "{html}");
        assert!(
            html.contains(r##"<a href="#t-1.2">Chỉ tiêu 1.2"##),
            "the summary links to the field: {html}"
        );
        assert!(html.contains("Đã lưu 1 tệp minh chứng"), "{html}");
        assert!(evidence().await.contains(&("4.2".into(), "ke-hoach.pdf".into())));
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(r["values"]["1.2"]["count"].as_f64(), Some(4.0), "the refused value changed nothing");
        // Another commune's form takes nothing.
        let (kind, body) =
            common::multipart_files(&[("version", "0"), ("intent", "save")], &[("1.1.files", "x.pdf", PDF)]);
        let (s, _, _) = w.send("haunghia", Method::POST, page, Some((&kind, body))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(evidence().await.len(), 4);
    })
    .await;
}

/// Issue 17, item 3: the review form on a phone — a jump list of the groups with their
/// progress, and, before "Gửi duyệt", what is still missing, each linked to its target (the
/// page's script checks again at the tap, and asks to confirm only when nothing is).
#[tokio::test]
async fn the_review_form_says_what_is_entered_and_what_is_missing() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let page = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018";
        let (s, _, body) = w.send("huuthanh", Method::GET, page, None).await;
        let html = text(&body);
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(r#"<nav class="jump""#) && html.contains(r##"<a href="#g-1">1."##), "{html}");
        assert!(html.contains("0/3 đã nhập"), "{html}");
        assert!(html.contains(r##"<a href="#t-1.3">Chỉ tiêu 1.3"##), "{html}");
        assert!(
            !html.contains("data-confirm=\"Gửi bản rà soát"),
            "nothing to confirm while targets are missing"
        );
        let mut values = complete_values();
        values["1.2"] = json!({"count": 2});
        let (s, _) = w
            .call(
                "huuthanh",
                Method::PUT,
                &format!("{BASE}/27988/reviews/2018"),
                Some(json!({"version": 0, "values": values})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        for t in EVIDENCE_REQUIRED {
            assert_eq!(w.upload("huuthanh", "27988", t, "a.pdf", PDF).await.0, StatusCode::SEE_OTHER);
        }
        let (_, _, body) = w.send("huuthanh", Method::GET, page, None).await;
        let html = text(&body);
        assert!(html.contains("3/3 đã nhập"), "{html}");
        assert!(!html.contains(r#"id="review-missing""#), "nothing is missing: {html}");
    })
    .await;
}

/// Issue 17, items 2 and 4: home is a task list by role. A commune sees its draft, then the return
/// with its reason; the district sees what waits for it, with the count in the menu; another
/// commune sees none of it. (On the previous commit home was the same six buttons whatever
/// happened.)
#[tokio::test]
async fn home_says_what_each_user_should_do_next() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let home = |who: &'static str| {
            let w = &w;
            async move {
                let (s, _, body) = w.send(who, Method::GET, "/", None).await;
                assert_eq!(s, StatusCode::OK);
                text(&body)
            }
        };
        let review = format!("{BASE}/27988/reviews/2018");
        let task = r#"id="task-review-2018""#;
        assert!(!home("huuthanh").await.contains(task));
        let (s, _) = w
            .call("huuthanh", Method::PUT, &review, Some(json!({"version": 0, "values": complete_values()})))
            .await;
        assert_eq!(s, StatusCode::OK);
        let html = home("huuthanh").await;
        assert!(html.contains(task) && html.contains("Rà soát kỳ 2018 đang soạn, chưa gửi"), "{html}");
        for t in EVIDENCE_REQUIRED {
            assert_eq!(w.upload("huuthanh", "27988", t, "a.pdf", PDF).await.0, StatusCode::SEE_OTHER);
        }
        let (s, r) = w.call("huuthanh", Method::POST, &format!("{review}/submit"), None).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert!(!home("huuthanh").await.contains(task), "sent: nothing to do");
        let html = home("district").await;
        assert!(html.contains(r#"id="task-inbox-LA-KDV-2017-2020""#), "{html}");
        assert!(html.contains("Chờ duyệt 1 bản rà soát"), "{html}");
        assert!(html.contains(r#"<span class="nav-badge">1</span>"#), "the menu's badge: {html}");
        let (_, _, body) = w.send("district", Method::GET, "/units", None).await;
        assert!(text(&body).contains(r#"<span class="nav-badge">1</span>"#), "on every page");
        assert!(home("province").await.contains("Chờ duyệt 1 bản rà soát"));
        let other = home("haunghia").await;
        assert!(!other.contains("nav-badge") && !other.contains(task), "{other}");
        let reason = json!({"reason": "2.1: thiếu danh sách hộ"});
        let (s, r) = w.call("district", Method::POST, &format!("{review}/return"), Some(reason)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let html = home("huuthanh").await;
        let first = html.find(r#"<li class="task "#).map(|i| &html[i..i + 40]).unwrap_or_default();
        assert!(first.starts_with(r#"<li class="task returned">"#), "the return comes first: {html}");
        assert!(
            html.contains("Rà soát kỳ 2018 bị trả lại") && html.contains("Lý do: 2.1: thiếu danh sách hộ"),
            "{html}"
        );
        assert!(!home("district").await.contains("nav-badge"), "nothing waits any more");
        // Item 4: a line of the reason that names a target is shown at that target, and the
        // history keeps the reason whole.
        let page = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018";
        let (_, _, body) = w.send("huuthanh", Method::GET, page, None).await;
        let html = text(&body);
        let at = html.find(r#"id="t-2.1""#).unwrap();
        let next = html[at..].find("</fieldset>").unwrap() + at;
        assert!(html[at..next].contains("Nhận xét của cấp duyệt:</strong> thiếu danh sách hộ"), "{html}");
        assert_eq!(html.matches(r#"class="alert comment""#).count(), 1, "only at 2.1");
        let (_, _, body) = w.send("huuthanh", Method::GET, &format!("{page}/history"), None).await;
        assert!(text(&body).contains("2.1: thiếu danh sách hộ"));
    })
    .await;
}

/// Issue 17, item 6: the year's plan is submitted and approved like the roadmap — by the page
/// and the API, each step by whom it belongs to — its activities fixed while it waits or is in
/// force (their progress not), organisations only the bloc's, and a done activity keeps its
/// day. (On the previous commit the plan had no workflow, any organisation was taken as typed,
/// and no completion day was kept.)
#[tokio::test]
async fn a_years_plan_is_submitted_returned_approved_and_its_activities_fixed() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let api = format!("{BASE}/27988/plan/2018");
        let page = "/schemes/LA-KDV-2017-2020/units/27988/plan/2018";
        let body = |lead: &str| {
            json!({"title": "Hội nghị quán triệt", "targets": ["2.1"], "lead_org": lead,
                   "supporting_orgs": ["UBMTTQ"], "start": "2018-03-01", "due": "2018-03-31"})
        };
        // Free text is refused; the bloc has no members yet, so the province's list is offered.
        let (s, r) = w.call("huuthanh", Method::POST, &api, Some(body("Hội Người cao tuổi"))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert!(r["error"].as_str().unwrap().contains("không phải tổ chức thành viên của khối"), "{r}");
        let (s, a) = w.call("huuthanh", Method::POST, &api, Some(body("Đảng ủy"))).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let (_, _, html) = w.send("huuthanh", Method::GET, page, None).await;
        let html = text(&html);
        assert!(
            html.contains(r#"id="plan-submit""#) && html.contains(r#"<select name="lead_org""#),
            "{html}"
        );

        // The commune submits from the page; then its activities are fixed.
        let post = |who: &'static str, path: &'static str, pairs: Vec<(&'static str, String)>| {
            let w = &w;
            async move {
                let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                w.send(
                    who,
                    Method::POST,
                    &format!("{page}/{path}"),
                    Some(("application/x-www-form-urlencoded", form(&pairs))),
                )
                .await
            }
        };
        let (s, h, _) =
            post("huuthanh", "submit", vec![("intent", "submit".into()), ("version", "0".into())]).await;
        assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, format!("{page}?done=plan-submit")));
        let (_, st) = w.call("district", Method::GET, &format!("{api}/state"), None).await;
        assert_eq!((st["state"].as_str(), st["version"].as_i64()), (Some("submitted"), Some(1)), "{st}");
        let (s, _) = w.call("huuthanh", Method::POST, &api, Some(body("Đảng ủy"))).await;
        assert_eq!(s, StatusCode::CONFLICT, "no new activity while it waits");
        let (_, _, html) = w.send("huuthanh", Method::GET, page, None).await;
        let html = text(&html);
        assert!(
            !html.contains(r#"id="activity-form""#) && html.contains(r#"id="plan-state">Chờ duyệt"#),
            "{html}"
        );
        // Who decides: the district, not the commune, not another commune.
        assert_eq!(
            post("huuthanh", "decide", vec![("intent", "approve".into())]).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post("haunghia", "decide", vec![("intent", "approve".into())]).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post("district", "submit", vec![("intent", "approve".into())]).await.0,
            StatusCode::FORBIDDEN
        );
        let (_, _, html) = w.send("district", Method::GET, page, None).await;
        assert!(text(&html).contains(r#"id="plan-approve""#));
        let home = text(&w.send("district", Method::GET, "/", None).await.2);
        assert!(
            home.contains("Chờ duyệt 1 kế hoạch năm") && home.contains(r#"<span class="nav-badge">1</span>"#),
            "{home}"
        );
        let (s, _, html) =
            post("district", "decide", vec![("intent", "return".into()), ("version", "1".into())]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a return needs a reason");
        assert!(text(&html).contains(r#"id="decide-problems""#), "said at the reason's box");
        let reason = "Thiếu hoạt động cho chỉ tiêu 4.2".to_string();
        let (s, _, _) = post(
            "district",
            "decide",
            vec![("intent", "return".into()), ("version", "1".into()), ("reason", reason)],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, html) = w.send("huuthanh", Method::GET, page, None).await;
        assert!(text(&html).contains("Thiếu hoạt động cho chỉ tiêu 4.2"));

        // Through the API: sent again, approved, fixed; progress goes on with its day; revised.
        let (s, st) =
            w.call("huuthanh", Method::POST, &format!("{api}/submit"), Some(json!({"version": 2}))).await;
        assert_eq!((s, st["state"].as_str()), (StatusCode::OK, Some("submitted")), "{st}");
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{api}/approve"), None).await.0,
            StatusCode::FORBIDDEN
        );
        // Schemathesis found: a version that is no whole number is a body refused (422, as the
        // document says), not a request the server could not read (it was 400).
        for bad in [json!({"version": 3679957675153553.5_f64}), json!({"version": "2"}), json!({"reason": 7})]
        {
            let (s, e) = w.call("district", Method::POST, &format!("{api}/approve"), Some(bad.clone())).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {e}");
        }
        let (s, st) = w.call("district", Method::POST, &format!("{api}/approve"), None).await;
        assert_eq!((s, st["state"].as_str()), (StatusCode::OK, Some("approved")), "{st}");
        let activity = format!("{BASE}/27988/activities/{}", a["id"]);
        assert_eq!(
            w.call("huuthanh", Method::PUT, &activity, Some(body("Đảng ủy"))).await.0,
            StatusCode::CONFLICT
        );
        let done = json!({"status": "done", "done_on": "2018-03-20"});
        let (s, d) = w.call("huuthanh", Method::POST, &format!("{activity}/status"), Some(done)).await;
        assert_eq!((s, d["done_on"].as_str()), (StatusCode::OK, Some("2018-03-20")), "{d}");
        let not_a_day = json!({"status": "done", "done_on": "0000-00-00"});
        let (s, e) = w.call("huuthanh", Method::POST, &format!("{activity}/status"), Some(not_a_day)).await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused as a value of the body, as Schemathesis expects: {e}"
        );
        let early = json!({"status": "done", "done_on": "2018-01-02"});
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{activity}/status"), Some(early)).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let (s, st) = w.call("huuthanh", Method::POST, &format!("{api}/revise"), None).await;
        assert_eq!((s, st["state"].as_str()), (StatusCode::OK, Some("draft")), "{st}");
        assert_eq!(
            w.call("huuthanh", Method::POST, &api, Some(body("Đảng ủy"))).await.0,
            StatusCode::CREATED
        );
    })
    .await;
}

/// Issue 16, item 13: evidence files through the API (list, multipart upload, delete), in scope
/// only, and only while the review can change (409 once it is submitted).
#[tokio::test]
async fn evidence_files_are_kept_and_removed_through_the_api() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let review = format!("{BASE}/27988/reviews/2018");
        let (s, _) = w
            .call("huuthanh", Method::PUT, &review, Some(json!({"version": 0, "values": complete_values()})))
            .await;
        assert_eq!(s, StatusCode::OK);
        let evidence = format!("{review}/evidence");
        let (s, _, body) = w.multipart("huuthanh", &evidence, &[("target", "1.3")], "quy-che.pdf", PDF).await;
        let created: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(s, StatusCode::CREATED, "{created}");
        assert_eq!(
            (created["target"].as_str(), created["filename"].as_str()),
            (Some("1.3"), Some("quy-che.pdf"))
        );
        let (s, _, body) =
            w.multipart("huuthanh", &evidence, &[("target", "1.3")], "x.pdf", b"<html>not a pdf").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", String::from_utf8_lossy(&body));
        assert_eq!(
            w.multipart("haunghia", &evidence, &[("target", "1.3")], "a.pdf", PDF).await.0,
            StatusCode::FORBIDDEN
        );
        let (s, list) = w.call("district", Method::GET, &evidence, None).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");
        let (_, _, file) = w.send("huuthanh", Method::GET, list[0]["href"].as_str().unwrap(), None).await;
        assert_eq!(file, PDF);
        let id = created["id"].as_i64().unwrap();
        assert_eq!(
            w.call("haunghia", Method::DELETE, &format!("{evidence}/{id}"), None).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.call("huuthanh", Method::DELETE, &format!("{evidence}/{id}"), None).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            w.call("huuthanh", Method::GET, &evidence, None).await.1.as_array().map(Vec::len),
            Some(0)
        );
        // Submitted, the review keeps its files: a change is a conflict.
        for t in EVIDENCE_REQUIRED {
            assert_eq!(
                w.multipart("huuthanh", &evidence, &[("target", t)], "a.pdf", PDF).await.0,
                StatusCode::CREATED
            );
        }
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{review}/submit"), None).await.0,
            StatusCode::OK
        );
        assert_eq!(
            w.multipart("huuthanh", &evidence, &[("target", "1.3")], "b.pdf", PDF).await.0,
            StatusCode::CONFLICT
        );
        let kept = w.call("huuthanh", Method::GET, &evidence, None).await.1;
        let first = kept[0]["id"].as_i64().unwrap();
        assert_eq!(
            w.call("huuthanh", Method::DELETE, &format!("{evidence}/{first}"), None).await.0,
            StatusCode::CONFLICT
        );
    })
    .await;
}

/// Issue 16, item 13: an activity's files through the API, as the pages keep them — in scope
/// only, checked by content, downloaded byte for byte, removed with their record.
#[tokio::test]
async fn activity_files_are_kept_and_removed_through_the_api() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let body = json!({
            "title": "Hội nghị quán triệt đề án", "targets": ["2.1"], "lead_org": "Đảng ủy",
            "start": "2018-03-01", "due": "2018-03-31"
        });
        let (s, a) = w.call("huuthanh", Method::POST, &format!("{BASE}/27988/plan/2018"), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let files = format!("{BASE}/27988/activities/{}/files", a["id"]);
        let (s, _, body) = w.multipart("huuthanh", &files, &[], "bien-ban.pdf", PDF).await;
        let created: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(s, StatusCode::CREATED, "{created}");
        assert_eq!(
            (created["filename"].as_str(), created["size"].as_i64()),
            (Some("bien-ban.pdf"), Some(PDF.len() as i64))
        );
        let (s, _, body) = w.multipart("huuthanh", &files, &[], "x.pdf", b"<html>not a pdf").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", String::from_utf8_lossy(&body));
        let refused: Value = serde_json::from_slice(&body).unwrap();
        assert!(refused["error"].as_str().is_some_and(|e| e.contains("PDF")), "{refused}");
        // Another commune neither adds, lists nor deletes.
        assert_eq!(w.multipart("haunghia", &files, &[], "a.pdf", PDF).await.0, StatusCode::FORBIDDEN);
        assert_eq!(w.call("haunghia", Method::GET, &files, None).await.0, StatusCode::FORBIDDEN);
        let (s, list) = w.call("district", Method::GET, &files, None).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");
        let (_, _, file) = w.send("huuthanh", Method::GET, list[0]["href"].as_str().unwrap(), None).await;
        assert_eq!(file, PDF);
        let one = format!("{files}/{}", created["id"]);
        assert_eq!(w.call("haunghia", Method::DELETE, &one, None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(w.call("district", Method::DELETE, &one, None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(w.call("huuthanh", Method::DELETE, &one, None).await.0, StatusCode::NO_CONTENT);
        assert_eq!(w.call("huuthanh", Method::DELETE, &one, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(w.call("huuthanh", Method::GET, &files, None).await.1.as_array().map(Vec::len), Some(0));
    })
    .await;
}

/// Issue 16, item 5: reopening an approved review to fix one number recomputed its computed
/// targets from today's records without a word. They stay as frozen at the approval until the
/// user asks to recompute, sees old → new, and confirms.
#[tokio::test]
async fn a_reopened_review_keeps_its_computed_values_until_recomputed() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let meeting = |day: &'static str| {
            [("kind", "giao_ban"), ("held_on", day), ("place", "Hội trường"), ("content", "Giao ban")]
        };
        let (s, _, page) = w
            .send(
                "huuthanh",
                Method::POST,
                "/units/27988/meetings",
                Some((FORM, form(&meeting("2018-04-05")))),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", text(&page));
        let review = format!("{BASE}/27988/reviews/2018");
        let (s, r) = w
            .call("huuthanh", Method::PUT, &review, Some(json!({"version": 0, "values": complete_values()})))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["computed_frozen"], false);
        for t in EVIDENCE_REQUIRED {
            assert_eq!(w.upload("huuthanh", "27988", t, "a.pdf", PDF).await.0, StatusCode::SEE_OTHER);
        }
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{review}/submit"), None).await.0,
            StatusCode::OK
        );
        assert_eq!(
            w.call("district", Method::POST, &format!("{review}/approve"), None).await.0,
            StatusCode::OK
        );
        // A second meeting of 2018 is recorded after the approval, then the review is reopened.
        let (s, _, _) = w
            .send(
                "huuthanh",
                Method::POST,
                "/units/27988/meetings",
                Some((FORM, form(&meeting("2018-10-05")))),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, r) = w
            .call(
                "district",
                Method::POST,
                &format!("{review}/reopen"),
                Some(json!({"reason": "Sửa chỉ tiêu 1.2"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["values"]["4.1"]["count"], 1.0, "kept as approved: {r}");
        assert_eq!(r["computed_frozen"], true);
        // Fixing one number and sending it again keeps it too.
        let v = r["version"].as_i64().unwrap();
        let (s, r) = w
            .call(
                "huuthanh",
                Method::PUT,
                &review,
                Some(json!({"version": v, "values": {"1.2": {"count": 3}}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["values"]["4.1"]["count"], 1.0);
        // The preview shows old → new and writes nothing.
        let (s, p) = w.call("huuthanh", Method::GET, &format!("{review}/recompute"), None).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let c = p["changes"].as_array().unwrap().iter().find(|c| c["code"] == "4.1").unwrap().clone();
        assert_eq!(
            (c["old"].as_str(), c["new"].as_str(), c["changed"].as_bool()),
            (Some("1"), Some("2"), Some(true)),
            "{p}"
        );
        let (_, _, page) = w
            .send(
                "huuthanh",
                Method::GET,
                "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/recompute",
                None,
            )
            .await;
        let page = text(&page);
        assert!(page.contains("id=\"recompute-apply\""), "{page}");
        assert_eq!(w.call("huuthanh", Method::GET, &review, None).await.1["values"]["4.1"]["count"], 1.0);
        // Another commune may not look; a stale version changes nothing.
        assert_eq!(
            w.call("haunghia", Method::GET, &format!("{review}/recompute"), None).await.0,
            StatusCode::FORBIDDEN
        );
        let version = p["version"].as_i64().unwrap();
        let (s, _) = w
            .call(
                "huuthanh",
                Method::POST,
                &format!("{review}/recompute"),
                Some(json!({"version": version - 1})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Confirmed through the page, the records' value is written.
        let (s, headers, _) = w
            .send(
                "huuthanh",
                Method::POST,
                "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/recompute",
                Some((FORM, form(&[("version", &version.to_string())]))),
            )
            .await;
        assert_eq!(
            (s, location(&headers).as_str()),
            (StatusCode::SEE_OTHER, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018?done=recompute")
        );
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(r["values"]["4.1"]["count"], 2.0, "{r}");
        assert_eq!(r["values"]["1.2"]["count"], 3.0, "the fixed number stays");
        // Approved, it cannot be recomputed (409: wrong state).
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{review}/submit"), Some(Value::Null)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            w.call("district", Method::POST, &format!("{review}/approve"), None).await.0,
            StatusCode::OK
        );
        let v = w.call("huuthanh", Method::GET, &review, None).await.1["version"].clone();
        let (s, _) = w
            .call("huuthanh", Method::POST, &format!("{review}/recompute"), Some(json!({"version": v})))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
    })
    .await;
}

/// Issue 16, item 1: 1.234/1.300 against "≥ 95 %" read "Chưa đạt · 99,92 %" — a percent of the
/// criterion shown as if it were the rate. The API and the review page give the rate itself
/// beside the criterion.
#[tokio::test]
async fn a_rate_is_shown_as_itself_beside_its_criterion() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let path = format!("{BASE}/27988/reviews/2018");
        let body = json!({"version": 0, "values": {"2.1": {"numerator": 1234, "denominator": 1300}, "1.2": {"count": 3}}});
        let (s, r) = w.call("huuthanh", Method::PUT, &path, Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let v = &r["values"]["2.1"];
        assert_eq!(v["achievement"], "behind");
        assert!((v["value"].as_f64().unwrap() - 94.923).abs() < 0.001, "{v}");
        assert_eq!(v["criterion"], "≥ 95%");
        assert!(v.get("percent").is_none(), "no unnamed percent: {v}");
        assert_eq!(r["values"]["1.2"]["value"], 3.0);
        let (_, _, page) =
            w.send("huuthanh", Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018", None).await;
        let page = String::from_utf8(page).unwrap();
        let at = page.find("id=\"t-2.1\"").unwrap();
        let field = &page[at..at + page[at..].find("</fieldset>").unwrap()];
        assert!(field.contains("<span class=\"measured\">94,9%</span>"), "{field}");
        assert!(!field.contains("99,92"), "{field}");
    })
    .await;
}

/// Issue 16, item 3: a review submitted on time, reopened by the district and sent again became
/// late. Lateness belongs to the first submission for the period; the resubmission keeps it.
#[tokio::test]
async fn a_resubmission_keeps_the_first_submissions_lateness() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let path = format!("{BASE}/27988/reviews/2018");
        let (s, _) = w
            .call("huuthanh", Method::PUT, &path, Some(json!({"version": 0, "values": complete_values()})))
            .await;
        assert_eq!(s, StatusCode::OK);
        for code in EVIDENCE_REQUIRED {
            w.upload("huuthanh", "27988", code, &format!("minh chứng {code}.pdf"), PDF).await;
        }
        // The first submission was on time (as in January 2019; the store records what it is told).
        let unit = w.store.unit_by_code("27988", None).await.unwrap().unwrap();
        let review = w.store.review(1, unit.id, "2018").await.unwrap().unwrap();
        let actor = Actor::system("test");
        let sent = w
            .store
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
        assert!(!sent.late && sent.first_submitted_at.is_some());
        for (who, step, body) in [
            ("district", "approve", json!({})),
            ("district", "reopen", json!({"reason": "Sửa số liệu 2.1"})),
            ("huuthanh", "submit", json!({})),
        ] {
            let (s, r) = w.call(who, Method::POST, &format!("{path}/{step}"), Some(body)).await;
            assert_eq!(s, StatusCode::OK, "{step}: {r}");
        }
        let (_, r) = w.call("huuthanh", Method::GET, &path, None).await;
        assert_eq!((r["status"].as_str(), r["late"].as_bool()), (Some("submitted"), Some(false)), "{r}");
        let again = w.store.review_by_id(review.id).await.unwrap().unwrap();
        assert_eq!(
            again.first_submitted_at, sent.first_submitted_at,
            "the first submission is recorded once"
        );
        // A first submission past the deadline is late, and stays so after a return.
        let other = format!("{BASE}/27988/reviews/2019");
        w.call("huuthanh", Method::PUT, &other, Some(json!({"version": 0, "values": complete_values()})))
            .await;
        let r2019 = w.store.review(1, unit.id, "2019").await.unwrap().unwrap();
        for code in EVIDENCE_REQUIRED {
            let uri = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2019/evidence";
            w.multipart("huuthanh", uri, &[("target", code)], "a.pdf", PDF).await;
        }
        let (s, r) = w.call("huuthanh", Method::POST, &format!("{other}/submit"), Some(json!({}))).await;
        assert_eq!((s, r["late"].as_bool()), (StatusCode::OK, Some(true)), "{r}");
        w.call("district", Method::POST, &format!("{other}/return"), Some(json!({"reason": "Thiếu"}))).await;
        let (_, r) = w.call("huuthanh", Method::POST, &format!("{other}/submit"), Some(json!({}))).await;
        assert_eq!(r["late"].as_bool(), Some(true));
        let _ = r2019;
    })
    .await;
}

/// Issue 14, defect 5: files are kept by content, and when one commune deleted its evidence
/// while another uploaded the same bytes, the bytes went and the other's download answered 500.
/// Forty rounds of exactly that, at once: every download still answers with the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_bytes_survive_a_deletion_racing_an_upload() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let mut reviews = Vec::new();
        for (who, unit) in [("haunghia", "27931"), ("huuthanh", "27988")] {
            let path = format!("{BASE}/{unit}/reviews/2018");
            assert_eq!(w.call(who, Method::PUT, &path, Some(json!({"version": 0}))).await.0, StatusCode::OK);
            let id = w.store.unit_by_code(unit, None).await.unwrap().unwrap().id;
            reviews.push(w.store.review(1, id, "2018").await.unwrap().unwrap().id);
        }
        let evidence_url = |unit: &str, id: i64| {
            format!("/schemes/LA-KDV-2017-2020/units/{unit}/reviews/2018/evidence/{id}")
        };
        for round in 0..40 {
            let bytes = [PDF, format!("\n% round {round}\n").as_bytes()].concat();
            assert_eq!(w.upload("haunghia", "27931", "1.3", "a.pdf", &bytes).await.0, StatusCode::SEE_OTHER);
            let theirs = w.store.evidence_of(reviews[0]).await.unwrap().pop().unwrap();
            let delete_url = format!("{}/delete", evidence_url("27931", theirs.id));
            let delete = w.send("haunghia", Method::POST, &delete_url, None);
            let upload = w.upload("huuthanh", "27988", "1.3", "b.pdf", &bytes);
            let ((deleted, _, _), (uploaded, _)) = tokio::join!(delete, upload);
            assert_eq!((deleted, uploaded), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "round {round}");
            let ours = w.store.evidence_of(reviews[1]).await.unwrap().pop().unwrap();
            assert_eq!(ours.sha256, theirs.sha256);
            let (status, _, got) =
                w.send("huuthanh", Method::GET, &evidence_url("27988", ours.id), None).await;
            assert_eq!(status, StatusCode::OK, "round {round}: the shared bytes are gone");
            assert_eq!(got, bytes, "round {round}");
            // Deleting the last reference removes the bytes.
            w.send("huuthanh", Method::POST, &format!("{}/delete", evidence_url("27988", ours.id)), None)
                .await;
        }
        assert!(w.store.evidence_of(reviews[0]).await.unwrap().is_empty());
        assert!(w.store.evidence_of(reviews[1]).await.unwrap().is_empty());
    })
    .await;
}

/// The hidden fields of the preview's confirm form, decoded.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let (value, _) = rest.split_once("\">").unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

#[tokio::test]
async fn the_excel_round_trip_previews_then_applies_and_refuses_bad_files() {
    use danvan_report::testing::{edit_cell, target_cell, Edit};
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let page = "/schemes/LA-KDV-2017-2020/units/27931/reviews/2018";
        let sheet = format!("{page}/xlsx");
        let api = format!("{BASE}/27931/reviews/2018");

        // The template of a review not yet started.
        let (s, headers, template) = w.send("haunghia", Method::GET, &sheet, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
        let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment;") && disposition.contains("27931-2018.xlsx"),
            "{disposition}"
        );

        // Filled offline.
        let mut x = template.clone();
        for (code, col, edit) in [
            ("1.2", 'E', Edit::Number(3.0)),
            ("2.1", 'E', Edit::Text("8")),
            ("2.1", 'F', Edit::Number(10.0)),
            ("1.1", 'E', Edit::Text("Có")),
            ("1.1", 'G', Edit::Text("=HYPERLINK(\"http://evil\",\"bấm\")")),
            ("6.2", 'E', Edit::Text("Hoàn thành tốt")),
        ] {
            x = edit_cell(&x, 1, &target_cell(&x, code, col), edit);
        }
        let (s, _, body) = w.multipart("haunghia", &sheet, &[], "ra-soat.xlsx", &x).await;
        let html = String::from_utf8(body).unwrap();
        assert_eq!(s, StatusCode::OK, "{html}");
        // The preview lists every change, and nothing is saved yet.
        for code in ["1.1", "1.2", "2.1", "6.2"] {
            assert!(html.contains(&format!("data-code=\"{code}\"")), "{code} in {html}");
        }
        assert!(!html.contains("data-code=\"1.3\""));
        assert!(html.contains("8/10") && html.contains("Hoàn thành tốt"));
        assert_eq!(w.call("haunghia", Method::GET, &api, None).await.1["status"], "not_started");

        // Confirming applies it through the review form.
        let fields = hidden_fields(&html);
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                form.append_pair(k, v);
            }
            form.append_pair("intent", "import");
            form.finish()
        };
        let (s, headers, _) = w
            .send(
                "haunghia",
                Method::POST,
                page,
                Some(("application/x-www-form-urlencoded", form.into_bytes())),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION].to_str().unwrap().ends_with("?done=imported"));
        let (_, review) = w.call("haunghia", Method::GET, &api, None).await;
        let version = review["version"].as_i64().unwrap();
        assert!(version > 0);
        assert_eq!(review["values"]["1.2"]["count"], 3.0);
        assert_eq!(review["values"]["2.1"]["numerator"], 8.0);
        assert_eq!(review["values"]["2.1"]["denominator"], 10.0);
        assert_eq!(review["values"]["1.1"]["yes"], true);
        assert_eq!(review["values"]["1.1"]["note"], "=HYPERLINK(\"http://evil\",\"bấm\")");
        assert_eq!(review["values"]["6.2"]["level"], "Hoàn thành tốt");

        // The same file again changes nothing — but it was made from version 0, so says so.
        let (s, _, body) = w.multipart("haunghia", &sheet, &[], "ra-soat.xlsx", &x).await;
        let html = String::from_utf8(body).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"import-stale\"") && html.contains("id=\"import-nothing\""), "{html}");
        assert!(!html.contains("id=\"import-confirm\""));

        // Refused, each with its reason, and the review stays as it was.
        let foreign = {
            let mut book = rust_xlsxwriter::Workbook::new();
            book.add_worksheet().write_string(0, 0, "1.1").unwrap();
            book.save_to_buffer().unwrap()
        };
        let tampered = edit_cell(&template, 1, &target_cell(&template, "1.2", 'A'), Edit::Text("1.3"));
        let too_much = edit_cell(&template, 1, &target_cell(&template, "2.1", 'E'), Edit::Number(12.0));
        let too_much = edit_cell(&too_much, 1, &target_cell(&too_much, "2.1", 'F'), Edit::Number(10.0));
        let formula = edit_cell(&template, 1, &target_cell(&template, "1.2", 'E'), Edit::Formula("1+2", 3.0));
        let (_, _, other_unit) = w
            .send("district", Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/xlsx", None)
            .await;
        let exe = b"MZ\x90\x00\x03\x00\x00\x00".repeat(100);
        for (what, bytes, reason) in [
            ("foreign", &foreign[..], "không phải mẫu rà soát"),
            ("tampered", &tampered[..], "phần cố định"),
            ("invalid value", &too_much[..], "Chỉ tiêu 2.1"),
            ("formula", &formula[..], "công thức"),
            ("another unit", &other_unit[..], "27988"),
            ("not a spreadsheet", &exe[..], "đã bị hỏng"),
            ("broken", &x[..x.len() / 3], "đã bị hỏng"),
        ] {
            let (s, _, body) = w.multipart("haunghia", &sheet, &[], "ra-soat.xlsx", bytes).await;
            let html = String::from_utf8(body).unwrap();
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {html}");
            assert!(html.contains(reason), "{what}: {reason} not in {html}");
            assert!(!html.contains("id=\"import-confirm\""), "{what}");
        }
        let (s, _, _) = w.multipart("haunghia", &sheet, &[], "big.xlsx", &vec![b'P'; 6 * 1024 * 1024]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(w.call("haunghia", Method::GET, &api, None).await.1["version"], version);

        // A submitted review takes no file.
        let (s, _) = w
            .call(
                "haunghia",
                Method::PUT,
                &api,
                Some(json!({"version": version, "values": complete_values()})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        for t in EVIDENCE_REQUIRED {
            assert_eq!(w.upload("haunghia", "27931", t, "a.pdf", PDF).await.0, StatusCode::SEE_OTHER);
        }
        let (s, body) = w.call("haunghia", Method::POST, &format!("{api}/submit"), Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, _, body) = w.multipart("haunghia", &sheet, &[], "ra-soat.xlsx", &x).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(String::from_utf8(body).unwrap().contains("không thể nhập"));
        // The district user may read the template but not upload one.
        assert_eq!(w.send("district", Method::GET, &sheet, None).await.0, StatusCode::OK);
        assert_eq!(w.multipart("district", &sheet, &[], "r.xlsx", &x).await.0, StatusCode::FORBIDDEN);
    })
    .await;
}

/// The achievement of target 2.1 in a review, as the API gives it.
async fn achievement(w: &World, review: &str) -> Value {
    w.call("huuthanh", Method::GET, review, None).await.1["achievement"]["2.1"].clone()
}

#[tokio::test]
async fn an_approved_review_is_judged_by_the_roadmap_in_force_at_its_approval() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let review = format!("{BASE}/27988/reviews/2018");
        let roadmap = format!("{BASE}/27988/roadmap");
        let rollup = |unit: &str| format!("{BASE}/{unit}/rollup?period=2018");
        let on_track = |v: &Value| {
            let t = v["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap();
            (t["met"].as_u64().unwrap(), t["on_track"].as_u64().unwrap())
        };

        // An approved review with 2.1 at 60% (the criterion is 95%).
        let mut values = complete_values();
        values["2.1"] = json!({"numerator": 60, "denominator": 100});
        let (s, body) =
            w.call("huuthanh", Method::PUT, &review, Some(json!({"version": 0, "values": values}))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        for t in EVIDENCE_REQUIRED {
            assert_eq!(w.upload("huuthanh", "27988", t, "a.pdf", PDF).await.0, StatusCode::SEE_OTHER);
        }
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{review}/submit"), None).await.0,
            StatusCode::OK
        );
        assert_eq!(
            w.call("district", Method::POST, &format!("{review}/approve"), None).await.0,
            StatusCode::OK
        );
        assert_eq!(achievement(&w, &review).await, "behind");

        // The suggestion starts from the baseline review.
        let (s, suggestion) = w.call("huuthanh", Method::GET, &roadmap, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (suggestion["version"].as_i64(), suggestion["status"].as_str()),
            (Some(0), Some("not_started"))
        );
        assert_eq!(suggestion["baseline_period"], "2018");
        assert_eq!(suggestion["baseline"]["2.1"], 60.0);
        assert_eq!(suggestion["targets"]["2.1"]["planned"]["2020"], 95.0);

        // A plan stepping backwards without a reason is refused and changes nothing.
        let mut targets = suggestion["targets"].clone();
        targets["2.1"]["planned"] = json!({"2017": 60, "2018": 50, "2019": 80, "2020": 95});
        let (s, body) =
            w.call("huuthanh", Method::PUT, &roadmap, Some(json!({"version": 0, "targets": targets}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["error"].as_str().unwrap().contains("Chỉ tiêu 2.1"), "{body}");
        assert_eq!(w.call("huuthanh", Method::GET, &roadmap, None).await.1["version"], 0);
        targets["2.1"]["reason"] = json!("Năm 2018 có nhiều đảng viên mới chuyển đến");
        let (s, saved) =
            w.call("huuthanh", Method::PUT, &roadmap, Some(json!({"version": 0, "targets": targets}))).await;
        assert_eq!(s, StatusCode::OK, "{saved}");
        let v = saved["version"].as_i64().unwrap();
        let (s, _) = w
            .call("huuthanh", Method::PUT, &roadmap, Some(json!({"version": v - 1, "targets": targets})))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Submitted (late: the deadline was in 2018), not yet approved: still behind.
        let (s, body) = w.call("huuthanh", Method::POST, &format!("{roadmap}/submit"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["late"], true);
        assert_eq!(achievement(&w, &review).await, "behind");
        assert_eq!(on_track(&w.call("district", Method::GET, &rollup("802"), None).await.1), (0, 0));
        // Only the approver approves.
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{roadmap}/approve"), None).await.0,
            StatusCode::FORBIDDEN
        );
        let (s, body) = w.call("district", Method::POST, &format!("{roadmap}/approve"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["in_force"].is_object());
        let first_version = body["version"].as_i64().unwrap();
        // Issue 16, item 4: the review was approved before any roadmap: it keeps that verdict.
        assert_eq!(achievement(&w, &review).await, "behind");
        assert_eq!(on_track(&w.call("district", Method::GET, &rollup("802"), None).await.1), (0, 0));
        // Reopened and approved again, it is judged against the roadmap now in force: 60% ≥ the
        // 50% planned for 2018 is on track, in the review and in every roll-up at once.
        let reopen = json!({"reason": "Đánh giá lại theo lộ trình"});
        assert_eq!(
            w.call("district", Method::POST, &format!("{review}/reopen"), Some(reopen)).await.0,
            StatusCode::OK
        );
        assert_eq!(achievement(&w, &review).await, "on_track", "a draft takes the plan in force");
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{review}/submit"), None).await.0,
            StatusCode::OK
        );
        let (s, body) = w.call("district", Method::POST, &format!("{review}/approve"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["judged_by"]["roadmap_version"], first_version, "{body}");
        assert_eq!(achievement(&w, &review).await, "on_track");
        assert_eq!(on_track(&w.call("district", Method::GET, &rollup("802"), None).await.1), (0, 1));
        assert_eq!(on_track(&w.call("province", Method::GET, &rollup("80"), None).await.1), (0, 1));

        // A revision raising the 2018 plan to 70% is approved: the approved 2018 review keeps the
        // verdict of the version that judged it (it became "behind" before the fix).
        let (s, body) = w.call("huuthanh", Method::POST, &format!("{roadmap}/revise"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "draft");
        assert_eq!(achievement(&w, &review).await, "on_track");
        targets["2.1"]["planned"] = json!({"2017": 60, "2018": 70, "2019": 80, "2020": 95});
        let v = body["version"].as_i64().unwrap();
        let (s, body) =
            w.call("huuthanh", Method::PUT, &roadmap, Some(json!({"version": v, "targets": targets}))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{roadmap}/submit"), None).await.0,
            StatusCode::OK
        );
        let (s, body) = w.call("district", Method::POST, &format!("{roadmap}/approve"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["in_force"]["2.1"]["planned"]["2018"], 70.0);
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!(r["achievement"]["2.1"], "on_track", "{r}");
        assert_eq!(r["values"]["2.1"]["planned"], 50.0, "{r}");
        assert_eq!(r["judged_by"]["roadmap_version"], first_version);
        assert_eq!(on_track(&w.call("district", Method::GET, &rollup("802"), None).await.1), (0, 1));
        let (_, _, page) =
            w.send("huuthanh", Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018", None).await;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(&format!("Đánh giá theo lộ trình phiên bản {first_version}")), "{page}");

        // Reopening the roadmap takes its plan out of force for what is not approved yet; the
        // approved review keeps its verdict.
        let (s, _) = w.call("district", Method::POST, &format!("{roadmap}/reopen"), Some(json!({}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed");
        let (s, body) = w
            .call(
                "district",
                Method::POST,
                &format!("{roadmap}/reopen"),
                Some(json!({"reason": "Giá trị nền chưa đúng"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["in_force"].is_null());
        assert_eq!(achievement(&w, &review).await, "on_track");
        assert_eq!(on_track(&w.call("district", Method::GET, &rollup("802"), None).await.1), (0, 1));
        // Reopened, the review is judged against what is in force now: nothing.
        let reopen = json!({"reason": "Lộ trình đang sửa"});
        assert_eq!(
            w.call("district", Method::POST, &format!("{review}/reopen"), Some(reopen)).await.0,
            StatusCode::OK
        );
        assert_eq!(achievement(&w, &review).await, "behind");
        // Another commune sees none of it.
        assert_eq!(w.call("haunghia", Method::GET, &roadmap, None).await.0, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn activities_are_kept_per_unit_with_versions_statuses_and_notes() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let plan = format!("{BASE}/27988/plan/2018");
        let body = json!({
            "title": "Hội nghị quán triệt đề án", "targets": ["2.1"], "lead_org": "Đảng ủy",
            "supporting_orgs": ["UBMTTQ"], "responsible": "Bí thư", "start": "2018-03-01", "due": "2018-03-31"
        });
        let (s, a) = w.call("huuthanh", Method::POST, &plan, Some(body.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let id = a["id"].as_i64().unwrap();
        assert_eq!((a["status"].as_str(), a["overdue"].as_bool()), (Some("not_started"), Some(true)));
        let item = format!("{BASE}/27988/activities/{id}");

        // Bad input changes nothing.
        let mut bad = body.clone();
        bad["due"] = json!("2018-02-01");
        bad["targets"] = json!(["9.9"]);
        let (s, err) = w.call("huuthanh", Method::POST, &plan, Some(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["problems"].as_array().unwrap().len(), 2, "{err}");
        assert_eq!(
            w.call("huuthanh", Method::POST, &format!("{BASE}/27988/plan/2030"), Some(body.clone())).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(w.call("huuthanh", Method::GET, &plan, None).await.1.as_array().unwrap().len(), 1);

        // Another commune: not through its own path, not through this one.
        assert_eq!(w.call("haunghia", Method::GET, &item, None).await.0, StatusCode::FORBIDDEN);
        let (s, _) = w.call("haunghia", Method::GET, &format!("{BASE}/27931/activities/{id}"), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = w
            .call(
                "haunghia",
                Method::POST,
                &format!("{BASE}/27931/activities/{id}/status"),
                Some(json!({"status": "done"})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // The district reads it but does not change it.
        assert_eq!(w.call("district", Method::GET, &item, None).await.0, StatusCode::OK);
        assert_eq!(w.call("district", Method::DELETE, &item, None).await.0, StatusCode::FORBIDDEN);

        // Versions, statuses, notes.
        let mut changed = body.clone();
        changed["title"] = json!("Hội nghị quán triệt");
        changed["version"] = json!(1);
        let (s, a) = w.call("huuthanh", Method::PUT, &item, Some(changed.clone())).await;
        assert_eq!(
            (s, a["title"].as_str(), a["version"].as_i64()),
            (StatusCode::OK, Some("Hội nghị quán triệt"), Some(2))
        );
        assert_eq!(w.call("huuthanh", Method::PUT, &item, Some(changed)).await.0, StatusCode::CONFLICT);
        let (s, _) = w
            .call("huuthanh", Method::POST, &format!("{item}/status"), Some(json!({"status": "cancelled"})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = w
            .call("huuthanh", Method::POST, &format!("{item}/status"), Some(json!({"status": "finished"})))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, a) = w
            .call("huuthanh", Method::POST, &format!("{item}/status"), Some(json!({"status": "done"})))
            .await;
        assert_eq!(
            (s, a["status"].as_str(), a["overdue"].as_bool()),
            (StatusCode::OK, Some("done"), Some(false))
        );
        let (s, _) = w
            .call(
                "huuthanh",
                Method::POST,
                &format!("{item}/notes"),
                Some(json!({"on": "2018-03-20", "text": " "})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, n) = w
            .call(
                "huuthanh",
                Method::POST,
                &format!("{item}/notes"),
                Some(json!({"on": "2018-03-20", "text": "Đã họp"})),
            )
            .await;
        assert_eq!((s, n["text"].as_str()), (StatusCode::CREATED, Some("Đã họp")));

        // An open activity past its due date shows in the district's view as overdue; a done one does not.
        let mut late = body.clone();
        late["title"] = json!("Đối thoại với nhân dân");
        assert_eq!(w.call("huuthanh", Method::POST, &plan, Some(late)).await.0, StatusCode::CREATED);
        let (s, _, page) =
            w.send("district", Method::GET, "/schemes/LA-KDV-2017-2020/units/802/roadmaps", None).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Đối thoại với nhân dân") && !page.contains("Hội nghị quán triệt"), "{page}");
        assert!(page.contains("Xã Hựu Thạnh") && page.contains("Chưa lập"));
        // The plan page draws both on its timeline; filters narrow the list.
        let (_, _, page) =
            w.send("huuthanh", Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/plan/2018", None).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(page.matches("class=\"bar ").count(), 2, "{page}");
        let (_, _, page) = w
            .send(
                "huuthanh",
                Method::GET,
                "/schemes/LA-KDV-2017-2020/units/27988/plan/2018?status=done",
                None,
            )
            .await;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("Hội nghị quán triệt") && !page.contains(">Đối thoại với nhân dân<"), "{page}");

        // Evidence of an activity: checked by content, served only within scope.
        let files = format!("/schemes/LA-KDV-2017-2020/units/27988/activities/{id}/files");
        let (s, _, _) = w.multipart("huuthanh", &files, &[], "virus.pdf", b"MZ\x90\x00 not a pdf").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (s, _, _) = w.multipart("huuthanh", &files, &[], "bien ban.pdf", PDF).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, page) = w
            .send(
                "huuthanh",
                Method::GET,
                &format!("/schemes/LA-KDV-2017-2020/units/27988/activities/{id}"),
                None,
            )
            .await;
        let page = String::from_utf8(page).unwrap();
        let href = page
            .split("href=\"")
            .map(|p| p.split('"').next().unwrap())
            .find(|h| h.contains("/files/"))
            .unwrap()
            .to_string();
        let (s, headers, bytes) = w.send("district", Method::GET, &href, None).await;
        assert_eq!((s, bytes.as_slice()), (StatusCode::OK, PDF));
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
        assert_eq!(w.send("haunghia", Method::GET, &href, None).await.0, StatusCode::FORBIDDEN);
        let elsewhere = href.replace("/units/27988/", "/units/27931/");
        assert_eq!(w.send("haunghia", Method::GET, &elsewhere, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            w.send("huuthanh", Method::POST, &format!("{href}/delete"), None).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(w.send("huuthanh", Method::GET, &href, None).await.0, StatusCode::NOT_FOUND);

        assert_eq!(w.call("huuthanh", Method::DELETE, &item, None).await.0, StatusCode::NO_CONTENT);
        assert_eq!(w.call("huuthanh", Method::GET, &item, None).await.0, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn a_plan_goes_out_to_excel_and_comes_back_after_a_preview() {
    use danvan_report::testing::{edit_cell, Edit};
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let plan = format!("{BASE}/27988/plan/2018");
        let page = "/schemes/LA-KDV-2017-2020/units/27988/plan/2018";
        let body = json!({"title": "Hội nghị", "lead_org": "Đảng ủy", "start": "2018-03-01", "due": "2018-03-31"});
        let (_, a) = w.call("huuthanh", Method::POST, &plan, Some(body)).await;
        let id = a["id"].as_i64().unwrap();

        let (s, headers, x) = w.send("huuthanh", Method::GET, &format!("{page}/xlsx"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("ke-hoach-LA-KDV-2017-2020-27988-2018.xlsx"));
        // Row 5 holds the activity; row 6 is the first spare one.
        let x = edit_cell(&x, 1, "B5", Edit::Text("Hội nghị quán triệt"));
        let x = edit_cell(&x, 1, "J5", Edit::Text("Hoàn thành"));
        let x = edit_cell(&x, 1, "B6", Edit::Text("Tập huấn kỹ năng dân vận"));
        let x = edit_cell(&x, 1, "D6", Edit::Text("3.1"));
        let x = edit_cell(&x, 1, "E6", Edit::Text("Đảng ủy"));
        let x = edit_cell(&x, 1, "H6", Edit::Text("01/04/2018"));
        let x = edit_cell(&x, 1, "I6", Edit::Text("30/04/2018"));
        let (s, _, html) = w.multipart("huuthanh", &format!("{page}/xlsx"), &[], "k.xlsx", &x).await;
        let html = String::from_utf8(html).unwrap();
        assert_eq!(s, StatusCode::OK, "{html}");
        assert!(html.contains("Hội nghị → Hội nghị quán triệt") && html.contains("Tập huấn kỹ năng dân vận"), "{html}");
        let (_, list) = w.call("huuthanh", Method::GET, &plan, None).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "nothing applied before the confirmation");
        let payload = hidden_fields(&html).into_iter().find(|(k, _)| k == "payload").unwrap().1;
        let form = |p: &str| format!("payload={}", url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>());

        // Someone changes the activity in between: nothing is applied.
        let (s, _) = w
            .call("huuthanh", Method::POST, &format!("{BASE}/27988/activities/{id}/status"), Some(json!({"status": "in_progress"})))
            .await;
        assert_eq!(s, StatusCode::OK);
        let kind = "application/x-www-form-urlencoded";
        let (s, _, _) = w.send("huuthanh", Method::POST, &format!("{page}/import"), Some((kind, form(&payload).into_bytes()))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(w.call("huuthanh", Method::GET, &plan, None).await.1.as_array().unwrap().len(), 1);

        // Again from a fresh preview: applied.
        let (_, _, html) = w.multipart("huuthanh", &format!("{page}/xlsx"), &[], "k.xlsx", &x).await;
        let payload = hidden_fields(&String::from_utf8(html).unwrap()).into_iter().find(|(k, _)| k == "payload").unwrap().1;
        let (s, headers, _) = w.send("huuthanh", Method::POST, &format!("{page}/import"), Some((kind, form(&payload).into_bytes()))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION].to_str().unwrap().ends_with("done=imported"));
        let (_, list) = w.call("huuthanh", Method::GET, &plan, None).await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!((list[0]["title"].as_str(), list[0]["status"].as_str()), (Some("Hội nghị quán triệt"), Some("done")));
        assert_eq!((list[1]["title"].as_str(), list[1]["targets"][0].as_str()), (Some("Tập huấn kỹ năng dân vận"), Some("3.1")));

        // A forged confirmation is checked like new input; a tampered number is refused.
        let forged = r#"[{"op":"create","input":{"title":" ","lead_org":"","start":"2018-01-01","due":"2018-01-02"},"status":"done","reason":null}]"#;
        let (s, _, _) = w.send("huuthanh", Method::POST, &format!("{page}/import"), Some((kind, form(forged).into_bytes()))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let tampered = edit_cell(&x, 1, "A5", Edit::Number(999.0));
        let (s, _, html) = w.multipart("huuthanh", &format!("{page}/xlsx"), &[], "k.xlsx", &tampered).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(String::from_utf8(html).unwrap().contains("A5"));
        // Another commune cannot import into this plan.
        let (s, _, _) = w.send("haunghia", Method::POST, &format!("{page}/import"), Some((kind, form(&payload).into_bytes()))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(w.call("huuthanh", Method::GET, &plan, None).await.1.as_array().unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_commune_keeps_its_bloc_and_only_its_own() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let api = "/api/v1/units/27988/bloc";
        let member = |name: &str, role: &str, from: &str| {
            json!({"full_name": name, "organisation": "UBMTTQ", "role": role, "phone": "+84 912 345 678", "from": from})
        };
        let (s, a) = w.call("huuthanh", Method::POST, &format!("{api}/members"), Some(member("Nguyễn Văn A", "head", "2018-01-02"))).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        assert_eq!(a["phone"], "0912345678");
        let mut bad = member(" ", "member", "2018-01-02");
        bad["phone"] = json!("12345");
        let (s, err) = w.call("huuthanh", Method::POST, &format!("{api}/members"), Some(bad)).await;
        assert_eq!((s, err["problems"].as_array().map(Vec::len)), (StatusCode::UNPROCESSABLE_ENTITY, Some(2)));
        let (s, _) = w.call("huuthanh", Method::POST, &format!("{api}/members"), Some(member("Trần Thị B", "boss", "2018-01-02"))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "an unknown role is refused");

        // Ending keeps the member in history; the bloc on a past day is as it was.
        let id = a["id"].as_i64().unwrap();
        let (s, ended) =
            w.call("huuthanh", Method::POST, &format!("{api}/members/{id}/end"), Some(json!({"to": "2020-02-29", "reason": "Nghỉ hưu"}))).await;
        assert_eq!((s, ended["to"].as_str()), (StatusCode::OK, Some("2020-02-29")));
        let (_, then) = w.call("huuthanh", Method::GET, &format!("{api}?on=2019-06-01"), None).await;
        assert_eq!(then["members"].as_array().unwrap().len(), 1);
        let (_, now) = w.call("huuthanh", Method::GET, api, None).await;
        assert_eq!((now["members"].as_array().unwrap().len(), now["history"].as_array().unwrap().len()), (0, 1));

        // Scope: the district reads, another commune neither reads nor ends it through its own path.
        assert_eq!(w.call("district", Method::GET, api, None).await.0, StatusCode::OK);
        assert_eq!(w.call("haunghia", Method::GET, api, None).await.0, StatusCode::FORBIDDEN);
        let (s, _) = w.call("haunghia", Method::POST, &format!("/api/v1/units/27931/bloc/members/{id}/end"), Some(json!({"to": "2021-01-01"}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The page shows the bloc on the day asked for, with its phone, to those in scope.
        let (s, _, page) = w.send("huuthanh", Method::GET, "/units/27988/bloc?on=2019-06-01", None).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Nguyễn Văn A") && page.contains("0912345678"), "{page}");
        let (_, _, page) = w.send("huuthanh", Method::GET, "/units/27988/bloc?on=2021-01-01", None).await;
        assert!(String::from_utf8(page).unwrap().contains("id=\"bloc-empty\""));
        let (s, _, page) = w.send("huuthanh", Method::GET, "/units/27988/bloc?on=hôm-qua", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&page));
    })
    .await;
}

const FORM: &str = "application/x-www-form-urlencoded";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn location(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test]
async fn citizens_send_feedback_without_an_account_and_staff_answer_it() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let send = |body: Value| w.call("", Method::POST, "/api/v1/public/feedback", Some(body));
        let letter = json!({"unit": "27988", "name": "Phạm Thị Dân", "phone": "0987 654 321", "email": "dan@example.vn",
            "hamlet": "Ấp Chánh", "category": "Hạ tầng, giao thông", "content": "Đường vào ấp Chánh ngập sau mưa."});

        // Refused, and nothing stored: bad fields, the honeypot, an unknown or non-commune unit.
        let mut bad = letter.clone();
        bad["phone"] = json!("12345");
        bad["category"] = json!("Chuyện khác");
        bad["content"] = json!("ngắn");
        let (s, e) = send(bad).await;
        assert_eq!((s, e["problems"].as_array().map(Vec::len)), (StatusCode::UNPROCESSABLE_ENTITY, Some(3)), "{e}");
        let mut robot = letter.clone();
        robot["website"] = json!("http://spam.example");
        assert_eq!(send(robot).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        let mut nowhere = letter.clone();
        nowhere["unit"] = json!("99999");
        assert_eq!(send(nowhere).await.0, StatusCode::NOT_FOUND);
        let mut district = letter.clone();
        district["unit"] = json!("802");
        assert_eq!(send(district).await.0, StatusCode::NOT_FOUND);
        let (_, none) = w.call("huuthanh", Method::GET, "/api/v1/units/27988/feedback", None).await;
        assert_eq!(none.as_array().map(Vec::len), Some(0));

        // Sent: a code; its public status shows no name, phone or email.
        let (s, sent) = send(letter.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{sent}");
        let code = sent["code"].as_str().unwrap().to_string();
        assert!(code.starts_with("PA-") && code.len() == 12, "{code}");
        let status_path = format!("/api/v1/public/feedback/{}", code.to_lowercase().replace('-', "%20"));
        let (s, status) = w.call("", Method::GET, &status_path, None).await;
        assert_eq!((s, status["status"].as_str(), status["code"].as_str()), (StatusCode::OK, Some("received"), Some(code.as_str())));
        let shown = status.to_string();
        assert!(!shown.contains("Phạm") && !shown.contains("0987654321") && !shown.contains("dan@example"), "{shown}");
        assert_eq!(w.call("", Method::GET, "/api/v1/public/feedback/PA-2222-2222", None).await.0, StatusCode::NOT_FOUND);

        // Staff of the commune see it with the contact; another commune neither sees nor acts.
        let (s, inbox) = w.call("huuthanh", Method::GET, "/api/v1/units/27988/feedback", None).await;
        assert_eq!(s, StatusCode::OK);
        let item = &inbox[0];
        assert_eq!((item["phone"].as_str(), item["status"].as_str(), item["overdue"].as_bool()), (Some("0987654321"), Some("received"), Some(false)));
        let id = item["id"].as_i64().unwrap();
        assert_eq!(w.call("haunghia", Method::GET, "/api/v1/units/27988/feedback", None).await.0, StatusCode::FORBIDDEN);
        let (s, _) = w.call("haunghia", Method::POST, &format!("/api/v1/units/27931/feedback/{id}/answer"), Some(json!({"text": "x"}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(w.call("district", Method::GET, &format!("/units/27988/feedback/{id}"), None).await.0, StatusCode::OK);

        // Assign (to a known organisation only), answer, and the citizen sees the answer.
        let api = format!("/api/v1/units/27988/feedback/{id}");
        let (s, _) = w.call("huuthanh", Method::POST, &format!("{api}/assign"), Some(json!({"text": "Hội Bóng đá"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, a) = w.call("huuthanh", Method::POST, &format!("{api}/assign"), Some(json!({"text": "Hội Nông dân", "version": 1}))).await;
        assert_eq!((s, a["status"].as_str(), a["organisation"].as_str()), (StatusCode::OK, Some("assigned"), Some("Hội Nông dân")));
        let (s, stale) = w.call("huuthanh", Method::POST, &format!("{api}/answer"), Some(json!({"text": "x", "version": 1}))).await;
        // Issue 16, item 13: a stale version is a conflict (409), here as everywhere.
        assert_eq!((s, stale["status"].as_u64()), (StatusCode::CONFLICT, Some(409)), "{stale}");
        let (s, _, _) = w
            .send("huuthanh", Method::POST, &format!("/units/27988/feedback/{id}"), Some((FORM, form(&[("step", "answer"), ("text", "Xã đã nạo vét cống thoát nước."), ("version", "2")]))))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, status) = w.call("", Method::GET, &format!("/api/v1/public/feedback/{code}"), None).await;
        assert_eq!((status["status"].as_str(), status["answer"].as_str()), (Some("answered"), Some("Xã đã nạo vét cống thoát nước.")));
        let (s, _, page) = w.send("", Method::GET, &format!("/feedback/track?code={code}"), None).await;
        let page = text(&page);
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Xã đã nạo vét cống thoát nước.") && !page.contains("Phạm Thị Dân") && !page.contains("0987654321"));
        let (s, closed) = w.call("huuthanh", Method::POST, &format!("{api}/close"), Some(json!({}))).await;
        assert_eq!((s, closed["status"].as_str()), (StatusCode::OK, Some("closed")));
        let (s, _) = w.call("huuthanh", Method::POST, &format!("{api}/answer"), Some(json!({"text": "Lại"}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "a step the status does not allow is a conflict");
        let history = w.store.entity_history("feedback", &id.to_string()).await.unwrap();
        assert_eq!(history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "assign", "answer", "close"]);

        // The public form: a refused letter keeps what was typed; a good one leads to its code.
        let (s, _, page) = w.send("", Method::GET, "/feedback/27988", None).await;
        assert!(s == StatusCode::OK && text(&page).contains("name=\"website\""));
        let typed = [("category", "Đất đai"), ("content", "ngắn"), ("name", "Lê Văn Khách")];
        let (s, _, page) = w.send("", Method::POST, "/feedback/27988", Some((FORM, form(&typed)))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(&page).contains("nội dung cần ít nhất 10 ký tự") && text(&page).contains("Lê Văn Khách"));
        let good = [("category", "Đất đai"), ("content", "Xin hướng dẫn thủ tục cấp sổ đỏ."), ("website", "")];
        let (s, headers, _) = w.send("", Method::POST, "/feedback/27988", Some((FORM, form(&good)))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = location(&headers);
        assert!(to.starts_with("/feedback/track?code=PA-") && to.ends_with("&sent=1"), "{to}");
        let (_, _, page) = w.send("", Method::GET, &to, None).await;
        assert!(text(&page).contains("id=\"fb-code\""));

        // Five an hour from one address: the next is refused, and nothing is stored.
        for _ in 0..3 {
            assert_eq!(send(letter.clone()).await.0, StatusCode::CREATED);
        }
        let (s, e) = send(letter.clone()).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
        let (s, _, _) = w.send("", Method::POST, "/feedback/27988", Some((FORM, form(&good)))).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        let (_, all) = w.call("huuthanh", Method::GET, "/api/v1/units/27988/feedback", None).await;
        assert_eq!(all.as_array().map(Vec::len), Some(5));
    })
    .await;
}

#[tokio::test]
async fn no_public_page_shows_a_citizen_or_member_name_phone_or_email() {
    let w = World::new(
        Store::open(danvan_store::testing::tempfile_dir().join("p.db").to_str().unwrap()).await.unwrap(),
    )
    .await;
    let member = json!({"full_name": "Võ Thành Viên", "organisation": "UBMTTQ", "role": "head", "phone": "0911222333", "from": "2018-01-02"});
    assert_eq!(
        w.call("huuthanh", Method::POST, "/api/v1/units/27988/bloc/members", Some(member)).await.0,
        StatusCode::CREATED
    );
    let letter = json!({"unit": "27988", "name": "Đinh Công Dân", "phone": "0988777666", "email": "congdan@example.vn",
        "hamlet": "Ấp Chánh", "category": "Môi trường", "content": "Bãi rác tự phát gần chợ."});
    let (_, sent) = w.call("", Method::POST, "/api/v1/public/feedback", Some(letter)).await;
    let code = sent["code"].as_str().unwrap().to_string();
    let id = w.call("huuthanh", Method::GET, "/api/v1/units/27988/feedback", None).await.1[0]["id"]
        .as_i64()
        .unwrap();
    w.call(
        "huuthanh",
        Method::POST,
        &format!("/api/v1/units/27988/feedback/{id}/answer"),
        Some(json!({"text": "Đã dọn."})),
    )
    .await;
    let secrets = ["Võ Thành Viên", "0911222333", "Đinh Công Dân", "0988777666", "congdan@example.vn"];

    // An email's signed unsubscribe link, for the staff member of Hựu Thạnh.
    let staff = w.store.user_by_username("huuthanh").await.unwrap().unwrap().id;
    let secret = w.store.server_secret("unsubscribe").await.unwrap();
    let unsubscribe = format!(
        "/thong-bao/huy?u={staff}&k=returned&t={}",
        danvan_web::notices::send::unsubscribe_token(&secret, staff, "returned")
    );
    // Every public GET route, filled in, plus the status page and API with the code.
    let mut pages: Vec<String> = danvan_web::route_table(AppState::new(w.store.clone()))
        .into_iter()
        .filter(|r| r.method == Method::GET && r.access == danvan_web::auth::Access::Public)
        .filter(|r| !r.path.starts_with("/lang/"))
        .map(|r| match r.path {
            "/feedback/{code}"
            | "/units/{code}"
            | "/api/v1/units/{code}"
            | "/api/v1/units/{code}/children"
            | "/api/v1/units/{code}/lineage" => r.path.replace("{code}", "27988"),
            "/schemes/{code}" | "/api/v1/schemes/{code}" => r.path.replace("{code}", "LA-KDV-2017-2020"),
            "/units" | "/api/v1/units" => format!("{}?q=huu", r.path),
            "/thong-bao/huy" => unsubscribe.clone(),
            p => p.replace("{code}", &code),
        })
        .collect();
    pages.extend([format!("/feedback/track?code={code}&sent=1"), "/units/802".into()]);
    assert!(pages.len() >= 15, "{pages:?}");
    for path in &pages {
        let (s, _, body) = w.send("", Method::GET, path, None).await;
        let body = text(&body);
        assert!(s.is_success(), "{path}: {s}");
        for secret in secrets {
            assert!(!body.contains(secret), "{path} shows {secret}");
        }
    }
    // The same pages do show them to the commune's staff, where they belong.
    let (_, _, page) = w.send("huuthanh", Method::GET, &format!("/units/27988/feedback/{id}"), None).await;
    assert!(text(&page).contains("0988777666") && text(&page).contains("Đinh Công Dân"));
}

#[tokio::test]
async fn hamlets_meetings_and_conclusions_feed_the_computed_targets_of_a_review() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        // A broken hamlet list names every bad line and changes nothing.
        let bad = "ten,to_truong,so_thanh_vien,ngay_thanh_lap\nẤp Chánh,Lê Văn Tổ,mười,01/03/2018\nXóm Lạ,,,\n";
        let (s, _, page) = w.multipart("huuthanh", "/units/27988/hamlets/import", &[], "ap.csv", bad.as_bytes()).await;
        let page = text(&page);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("dòng 2:") && page.contains("dòng 3:"), "{page}");
        assert!(w.store.hamlets_of(w.store.unit_by_code("27988", None).await.unwrap().unwrap().id).await.unwrap().is_empty());
        let good = "ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\n\
                    Ấp Chánh,,Lê Văn Tổ,Trần Phó,9,01/QĐ-UBND,01/03/2018\nẤp Mới,,,,,,\nKhu phố 1,,,,,,\n";
        let (s, headers, _) = w.multipart("huuthanh", "/units/27988/hamlets/import", &[], "ap.csv", good.as_bytes()).await;
        assert_eq!((s, location(&headers).as_str()), (StatusCode::SEE_OTHER, "/units/27988/hamlets?done=imported"));
        let (_, hamlets) = w.call("huuthanh", Method::GET, "/api/v1/units/27988/hamlets", None).await;
        assert_eq!(hamlets.as_array().unwrap().len(), 3);
        assert_eq!(w.call("haunghia", Method::GET, "/api/v1/units/27988/hamlets", None).await.0, StatusCode::FORBIDDEN);
        let again = w.multipart("huuthanh", "/units/27988/hamlets/import", &[], "ap.csv", "ten\nẤp Chánh\n".as_bytes()).await;
        assert_eq!(again.0, StatusCode::UNPROCESSABLE_ENTITY, "a name the commune has refuses the list");
        // A team for Ấp Mới, through the page's form.
        let moi = hamlets.as_array().unwrap().iter().find(|h| h["name"] == "Ấp Mới").unwrap()["id"].as_i64().unwrap();
        let team = [("name", "Ấp Mới"), ("kind", "Ấp"), ("leader", "Ngô Tổ Trưởng"), ("deputies", ""), ("member_count", "5"), ("formed_on", "2018-06-01"), ("decision", "")];
        let (s, _, _) = w.send("huuthanh", Method::POST, &format!("/units/27988/hamlets/{moi}"), Some((FORM, form(&team)))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);

        // Members, then a giao ban with one absent and two conclusions.
        let mut ids = Vec::new();
        for (name, trained) in [("Nguyễn Văn A", Some("2018-03-01")), ("Trần Thị B", None)] {
            let body = json!({"full_name": name, "organisation": "UBMTTQ", "role": "member", "from": "2018-01-02", "trained_on": trained});
            let (s, m) = w.call("huuthanh", Method::POST, "/api/v1/units/27988/bloc/members", Some(body)).await;
            assert_eq!(s, StatusCode::CREATED);
            ids.push(m["id"].as_i64().unwrap().to_string());
        }
        let (a, b) = (ids[0].as_str(), ids[1].as_str());
        let present_a = format!("present_{a}");
        let reason_b = format!("reason_{b}");
        let meeting = [
            ("kind", "giao_ban"), ("held_on", "2018-04-05"), ("place", "Hội trường"), ("chair", "Nguyễn Văn A"),
            ("content", "Giao ban quý I"), ("conclusions", "Tổ chức đối thoại ở ấp Mới\nRà soát hộ nghèo"),
            ("member", a), (&present_a, "1"), ("member", b), (&reason_b, "Đi học"),
        ];
        let (s, headers, page) = w.send("huuthanh", Method::POST, "/units/27988/meetings", Some((FORM, form(&meeting)))).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", text(&page));
        let meeting_page = location(&headers);
        let (_, _, page) = w.send("huuthanh", Method::GET, &meeting_page, None).await;
        let page = text(&page);
        assert!(page.contains("Trần Thị B: <strong>vắng</strong> (Đi học)"), "{page}");
        let outsider = [("kind", "giao_ban"), ("held_on", "2018-05-05"), ("member", "999999")];
        let (s, _, page) = w.send("huuthanh", Method::POST, "/units/27988/meetings", Some((FORM, form(&outsider)))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(&page).contains("không thuộc khối vào ngày họp"));
        let (_, list) = w.call("huuthanh", Method::GET, "/api/v1/units/27988/meetings?year=2018", None).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let meeting_id = list[0]["id"].as_i64().unwrap();

        // A conclusion becomes an activity of the 2018 plan in one step, once.
        let (_, m) = w.call("huuthanh", Method::GET, &format!("/api/v1/units/27988/meetings/{meeting_id}"), None).await;
        let first = m["conclusions"][0]["id"].as_i64().unwrap();
        // Issue 14, item 12: the key appeared twice (the given lines, then the records).
        let path = format!("/api/v1/units/27988/meetings/{meeting_id}");
        let (_, _, raw) = w.send("huuthanh", Method::GET, &path, None).await;
        assert_eq!(String::from_utf8(raw).unwrap().matches("\"conclusions\":").count(), 1);
        let make = [("scheme", "LA-KDV-2017-2020"), ("lead_org", "UBMTTQ"), ("responsible", ""), ("due", "2018-06-30")];
        let url = format!("/units/27988/meetings/{meeting_id}/conclusions/{first}/activity");
        let (s, headers, _) = w.send("huuthanh", Method::POST, &url, Some((FORM, form(&make)))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(location(&headers).starts_with("/schemes/LA-KDV-2017-2020/units/27988/activities/"));
        let (_, plan) = w.call("huuthanh", Method::GET, &format!("{BASE}/27988/plan/2018"), None).await;
        assert!(plan.to_string().contains("Tổ chức đối thoại ở ấp Mới"), "{plan}");
        let (s, _, _) = w.send("huuthanh", Method::POST, &url, Some((FORM, form(&make)))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // The 2018 review shows the computed targets live, with links to their records.
        let review = format!("{BASE}/27988/reviews/2018");
        let (_, r) = w.call("huuthanh", Method::GET, &review, None).await;
        assert_eq!((r["values"]["3.1"]["numerator"].as_f64(), r["values"]["3.1"]["denominator"].as_f64()), (Some(1.0), Some(2.0)), "{r}");
        assert_eq!((r["values"]["3.2"]["numerator"].as_f64(), r["values"]["3.2"]["denominator"].as_f64()), (Some(2.0), Some(3.0)));
        assert_eq!(r["values"]["4.1"]["count"].as_f64(), Some(1.0));
        assert_eq!(r["values"]["5.4"]["numerator"].as_f64(), Some(0.0));
        let (_, _, page) = w.send("huuthanh", Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018", None).await;
        let page = text(&page);
        assert!(page.contains("id=\"computed-3.2\">2 / 3<") && page.contains("href=\"/units/27988/hamlets\""), "{page}");
        assert!(page.contains("href=\"/units/27988/meetings?year=2018\""));
    })
    .await;
}

#[tokio::test]
async fn a_province_keeps_its_own_organisations_and_answer_deadline() {
    let w = World::new(
        Store::open(danvan_store::testing::tempfile_dir().join("o.db").to_str().unwrap()).await.unwrap(),
    )
    .await;
    let api = "/api/v1/units/80/organisations";
    let (s, o) = w.call("province", Method::GET, api, None).await;
    assert_eq!(
        (s, o["feedback_answer_days"].as_u64(), o["organisations"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(30), Some(10))
    );
    let (s, o) = w.call("province", Method::POST, api, Some(json!({"name": " Hội  Người cao tuổi "}))).await;
    assert_eq!((s, o["organisations"][10].as_str()), (StatusCode::CREATED, Some("Hội Người cao tuổi")));
    assert_eq!(
        w.call("province", Method::POST, api, Some(json!({"name": "UBND"}))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.call("province", Method::PUT, api, Some(json!({"feedback_answer_days": 0}))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.call("province", Method::PUT, api, Some(json!({"feedback_answer_days": 15}))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.call("huuthanh", Method::POST, api, Some(json!({"name": "X"}))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.call("huuthanh", Method::GET, "/api/v1/units/27988/organisations", None).await.0,
        StatusCode::NOT_FOUND
    );
    // A commune of the province gets its deadline and its organisations.
    let (_, sent) = w
        .call(
            "",
            Method::POST,
            "/api/v1/public/feedback",
            Some(json!({"unit": "27988", "category": "Khác", "content": "Một ý kiến đủ dài."})),
        )
        .await;
    let (_, status) = w
        .call("", Method::GET, &format!("/api/v1/public/feedback/{}", sent["code"].as_str().unwrap()), None)
        .await;
    let received =
        chrono::NaiveDate::parse_from_str(status["received_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let due = chrono::NaiveDate::parse_from_str(status["due_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!((due - received).num_days(), 15);
    let (_, _, page) = w.send("huuthanh", Method::GET, "/units/27988/bloc", None).await;
    assert!(text(&page).contains("<option value=\"Hội Người cao tuổi\">"));
    let (s, _, page) = w.send("province", Method::GET, "/units/80/organisations", None).await;
    assert!(
        s == StatusCode::OK
            && text(&page).contains("id=\"feedback-days\">")
            && text(&page).contains("<strong>15</strong>")
    );
}

#[tokio::test]
async fn dashboard_figures_equal_counts_made_from_the_reviews() {
    use danvan_domain::value::{Milli, Value as V};
    use danvan_domain::workflow::State;
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let scheme = w.store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        let duc_hoa = w.store.unit_by_code("802", Some(day)).await.unwrap().unwrap();
        let communes =
            w.store.units_within(duc_hoa.id, danvan_domain::units::UnitLevel::Commune, day).await.unwrap();
        assert_eq!(communes.len(), 20);
        // Twelve communes report: the first eight meet 2.1 (≥ 95 %), four do not; two are waiting.
        let list: Vec<danvan_store::SampleReview> = communes
            .iter()
            .take(14)
            .enumerate()
            .map(|(i, &u)| danvan_store::SampleReview {
                unit_id: u,
                period: "2019".into(),
                state: if i >= 12 { State::Submitted } else { State::Approved },
                late: i % 4 == 0,
                values: [
                    (
                        "2.1".to_string(),
                        V::Ratio {
                            numerator: Milli(if i < 8 { 9_600 } else { 5_000 }),
                            denominator: Milli(10_000),
                        },
                    ),
                    ("1.1".to_string(), V::YesNo { yes: i < 3 }),
                ]
                .into_iter()
                .collect(),
            })
            .collect();
        w.store.insert_sample_reviews(&Actor::system("t"), scheme.id, &list, &mut |_| {}).await.unwrap();

        let (s, d) =
            w.call("district", Method::GET, &format!("{BASE}/802/dashboard?period=2019"), None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(
            (d["expected"].as_u64(), d["received"].as_u64(), d["on_time"].as_u64()),
            (Some(20), Some(12), Some(9))
        );
        assert_eq!(d["completeness"].as_f64(), Some(60.0));
        let target =
            |code: &str| d["targets"].as_array().unwrap().iter().find(|t| t["code"] == code).unwrap().clone();
        assert_eq!(
            (target("2.1")["met"].as_u64(), target("2.1")["coverage"].as_f64()),
            (Some(8), Some(40.0))
        );
        assert_eq!(target("1.1")["met"].as_u64(), Some(3));
        let children = d["children"].as_array().unwrap();
        assert_eq!(children.len(), 20);
        let top = children.iter().find(|c| c["rank"] == 1).unwrap();
        let scores: Vec<f64> = children.iter().filter_map(|c| c["score"].as_f64()).collect();
        assert_eq!(scores.len(), 12, "only reporting communes have a score");
        assert_eq!(
            top["score"].as_f64(),
            scores.iter().cloned().reduce(f64::max),
            "rank 1 has the best score"
        );
        // Two of twenty targets met by the first three communes: 10 %.
        assert!((top["score"].as_f64().unwrap() - 10.0).abs() < 1e-9, "{top}");

        // The province sees the same figures rolled up over its 15 districts; a commune none.
        let (_, p) = w.call("province", Method::GET, &format!("{BASE}/80/dashboard?period=2019"), None).await;
        assert_eq!(
            (p["expected"].as_u64(), p["received"].as_u64(), p["children"].as_array().map(Vec::len)),
            (Some(186), Some(12), Some(15))
        );
        let dh = p["children"].as_array().unwrap().iter().find(|c| c["code"] == "802").unwrap();
        assert_eq!((dh["received"].as_u64(), dh["expected"].as_u64()), (Some(12), Some(20)));
        // Live: a change written straight to the database (as by another process) shows on the
        // next request, though the dashboards keep what they read in memory.
        use danvan_domain::workflow::Transition;
        let first = w.store.review(scheme.id, communes[0], "2019").await.unwrap().unwrap();
        w.store
            .transition_review(&Actor::system("t"), first.id, None, Transition::Reopen, Some("sửa"), false)
            .await
            .unwrap();
        let (_, p2) =
            w.call("province", Method::GET, &format!("{BASE}/80/dashboard?period=2019"), None).await;
        assert_eq!(p2["received"].as_u64(), Some(11));
        let met = |d: &serde_json::Value| {
            d["targets"].as_array().unwrap().iter().find(|t| t["code"] == "2.1").unwrap()["met"].as_u64()
        };
        assert_eq!(met(&p2), Some(7), "the reopened commune met 2.1");
        for step in [Transition::Submit, Transition::Approve] {
            w.store.transition_review(&Actor::system("t"), first.id, None, step, None, false).await.unwrap();
        }
        let (_, p3) =
            w.call("province", Method::GET, &format!("{BASE}/80/dashboard?period=2019"), None).await;
        assert_eq!((p3["received"].as_u64(), met(&p3)), (Some(12), Some(8)));
        assert_eq!(p3["on_time"].as_u64(), Some(10), "re-submitted on time");
        assert_eq!(
            w.call("district", Method::GET, &format!("{BASE}/80/dashboard?period=2019"), None).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.call("huuthanh", Method::GET, &format!("{BASE}/802/dashboard"), None).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.call("district", Method::GET, &format!("{BASE}/802/dashboard?period=2031"), None).await.0,
            StatusCode::BAD_REQUEST
        );
        let (s, _, page) =
            w.send("district", Method::GET, "/schemes/LA-KDV-2017-2020/units/802?period=2019", None).await;
        let page = text(&page);
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("60% (12/20)") && page.contains("<svg"), "{page}");

        // The same figures as files: Excel (summary + a sheet per task group), CSV, print view.
        let files = "/schemes/LA-KDV-2017-2020/units/802";
        let (s, headers, xlsx) =
            w.send("district", Method::GET, &format!("{files}/matrix.xlsx?period=2019"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            location(&headers).is_empty()
                && headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("chi-tieu-802-2019.xlsx")
        );
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        assert_eq!(book.sheet_names().len(), 1 + scheme.def.groups.len());
        let summary = book.worksheet_range("Tổng hợp").unwrap();
        let ranked: Vec<String> =
            (4..24).map(|r| summary.get_value((r, 2)).map(|c| c.to_string()).unwrap_or_default()).collect();
        assert_eq!(ranked.iter().filter(|n| !n.is_empty()).count(), 20);
        assert_eq!(summary.get_value((4, 3)), Some(&calamine::Data::Float(10.0)), "the best score first");
        let group2 = book.worksheet_range("Nhóm 2").unwrap();
        let col = (2..10)
            .find(|c| group2.get_value((3, *c)).is_some_and(|h| h.to_string().starts_with("2.1 ")))
            .unwrap();
        let met: usize =
            (4..24).filter(|r| group2.get_value((*r, col)) == Some(&calamine::Data::Float(100.0))).count();
        assert_eq!(met, 8, "2.1 met in eight communes");
        let (s, _, csv) =
            w.send("district", Method::GET, &format!("{files}/matrix.csv?period=2019"), None).await;
        let csv = text(&csv);
        assert!(s == StatusCode::OK && csv.starts_with("\u{feff}Hạng,Mã,Đơn vị,"), "{csv}");
        assert_eq!(csv.lines().count(), 21);
        // Issue 16, item 2: a commune that has not reported shows a grey dash, not "0 % ▼".
        let (s, _, page) = w.send("district", Method::GET, &format!("{files}?period=2019"), None).await;
        let page = text(&page);
        assert_eq!(s, StatusCode::OK);
        let silent: Vec<&str> = page.split("<tr>").filter(|r| r.contains("<td>0/1</td>")).collect();
        assert_eq!(silent.len(), 8, "eight communes sent nothing for 2019");
        for row in &silent {
            assert!(
                row.contains("class=\"cell none\">—")
                    && !row.contains("cell poor")
                    && !row.contains("cell good"),
                "{row}"
            );
        }
        assert!(page.contains("chưa báo cáo, không phải 0 %"));
        // Issue 16, item 11: the file for Excel in Vietnam, and a commune's own row.
        let (s, headers, vn) =
            w.send("district", Method::GET, &format!("{files}/matrix.csv?period=2019&csv=vn"), None).await;
        let vn = text(&vn);
        assert!(s == StatusCode::OK && vn.starts_with("\u{feff}Hạng;Mã;Đơn vị;"), "{vn}");
        assert_eq!(vn.lines().count(), 21);
        assert!(vn.lines().skip(1).all(|l| !l.contains('.') || l.contains('"')), "decimal commas: {vn}");
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("excel-vn"));
        let own = "/schemes/LA-KDV-2017-2020/units/27988/matrix.csv?period=2019";
        let (s, _, mine) = w.send("huuthanh", Method::GET, own, None).await;
        let mine = text(&mine);
        assert_eq!(s, StatusCode::OK);
        assert_eq!(mine.lines().count(), 2, "the header and the commune's own row: {mine}");
        assert!(mine.lines().nth(1).unwrap().starts_with("1,27988,"), "{mine}");
        let (s, _, print) =
            w.send("district", Method::GET, &format!("{files}/print?period=2019"), None).await;
        let print = text(&print);
        assert!(
            s == StatusCode::OK
                && print.contains("Kết quả thực hiện chỉ tiêu kỳ 2019")
                && print.contains("Đã nhận 12/20 báo cáo (60%)")
        );
        assert!(
            print.contains("<link rel=\"stylesheet\" href=\"/static/print.css\">")
                && !print.contains("<style")
        );
        let (_, _, css) = w.send("", Method::GET, "/static/print.css", None).await;
        let css = String::from_utf8(css).unwrap();
        assert!(
            css.contains("size: A4") && css.contains("Times New Roman") && css.contains("font-size: 14pt")
        );
        assert_eq!(
            w.send("huuthanh", Method::GET, &format!("{files}/matrix.csv?period=2019"), None).await.0,
            StatusCode::FORBIDDEN
        );

        // The draft reports in Word: the district's from its figures, a commune's from its review.
        let docx_xml = |bytes: Vec<u8>| {
            use std::io::Read;
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            let mut xml = String::new();
            zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
            xml
        };
        let (s, _, doc) =
            w.send("district", Method::GET, &format!("{files}/report.docx?period=2019"), None).await;
        assert_eq!(s, StatusCode::OK);
        let xml = docx_xml(doc);
        // Issue 16, item 8: issued by the district's Ban Dân vận, with its number, its signer and
        // "Nơi nhận:" — not by the province's Ban Thường vụ.
        for part in [
            "HUYỆN ỦY ĐỨC HÒA",
            ">BAN DÂN VẬN<",
            "-BC/BDVHU",
            "ĐẢNG CỘNG SẢN VIỆT NAM",
            ">Nơi nhận:<",
            ">- Ban Dân vận Tỉnh ủy Long An (để báo cáo),<",
            ">- Lưu VT.<",
            ">TRƯỞNG BAN<",
        ] {
            assert!(xml.contains(part), "{part}: {xml}");
        }
        assert!(!xml.contains("THƯỜNG VỤ"), "{xml}");
        // A sơ kết covers the years so far: a table per year and the change from the baseline.
        assert!(xml.contains("Sơ kết 3 năm (2017-2019) thực hiện Đề án “"), "{xml}");
        assert!(xml.contains("Kỳ 2019: đã nhận 12/20 báo cáo (60%)"), "{xml}");
        for t in [
            "PHỤ LỤC 1: KẾT QUẢ THỰC HIỆN CHỈ TIÊU KỲ 2017",
            "PHỤ LỤC 3: KẾT QUẢ THỰC HIỆN CHỈ TIÊU KỲ 2019",
            "PHỤ LỤC 4: THAY ĐỔI SO VỚI NĂM GỐC",
        ] {
            assert!(xml.contains(t), "{t}");
        }
        assert!(!xml.contains("KỲ 2020"), "not a year to come");
        assert!(xml.contains("8/20 đơn vị đạt"), "2.1 in the appendix");
        // A tổng kết covers the whole phase, and its title does not repeat the scheme's years.
        let (s, _, doc) =
            w.send("district", Method::GET, &format!("{files}/report.docx?period=2020"), None).await;
        assert_eq!(s, StatusCode::OK);
        let xml = docx_xml(doc);
        assert!(xml.contains("Tổng kết thực hiện Đề án “"), "{xml}");
        assert_eq!(xml.matches("2017-2020").count(), 1, "the years once, from the scheme's title: {xml}");
        assert!(xml.contains("KỲ 2020") && xml.contains("PHỤ LỤC 5: THAY ĐỔI SO VỚI NĂM GỐC"), "{xml}");
        let first = w.store.unit(communes[0]).await.unwrap().unwrap();
        let (s, _, doc) = w
            .send(
                "district",
                Method::GET,
                &format!("/schemes/LA-KDV-2017-2020/units/{}/report.docx?period=2019", first.code),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let xml = docx_xml(doc);
        assert!(
            xml.contains(&format!("ĐẢNG ỦY {}", first.name.to_uppercase())) && xml.contains("KHỐI DÂN VẬN")
        );
        assert!(xml.contains("Kỳ 2019: Khối dân vận đạt 2/20 chỉ tiêu"), "1.1 and 2.1 met: {xml}");
        assert!(
            xml.contains(">T/M KHỐI DÂN VẬN<") && xml.contains(">TRƯỞNG KHỐI<") && xml.contains("-BC/KDV")
        );
        assert!(xml.contains(">- Ban Dân vận Huyện ủy Đức Hòa (để báo cáo),<"), "{xml}");
    })
    .await;
}

/// The bytes a browser receives for a path, gzip-compressed as the server sends it.
async fn transferred(w: &World, who: &str, path: &str) -> usize {
    let mut req = Request::builder().uri(path).header(header::ACCEPT_ENCODING, "gzip");
    if !who.is_empty() {
        req = req.header(header::COOKIE, format!("danvan_session={who}"));
    }
    let res = w.app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let gzip = res.headers().get(header::CONTENT_ENCODING).is_some_and(|e| e == "gzip");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert!(gzip || bytes.len() < 1024, "{path} is sent compressed");
    bytes.len()
}

#[tokio::test]
async fn every_main_page_with_its_css_and_js_weighs_under_60_kb_compressed() {
    use danvan_domain::value::{Milli, Value as V};
    let w = World::new(
        Store::open(danvan_store::testing::tempfile_dir().join("w.db").to_str().unwrap()).await.unwrap(),
    )
    .await;
    // A full province: every commune reported on every target in 2019.
    let scheme = w.store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap();
    let long_an = w.store.unit_by_code("80", None).await.unwrap().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
    let communes =
        w.store.units_within(long_an.id, danvan_domain::units::UnitLevel::Commune, day).await.unwrap();
    let values: std::collections::BTreeMap<String, V> = scheme
        .def
        .targets
        .iter()
        .map(|t| {
            let v = match t.kind {
                danvan_domain::scheme::TargetKind::Ratio => {
                    V::Ratio { numerator: Milli(7_000), denominator: Milli(10_000) }
                }
                danvan_domain::scheme::TargetKind::Count => V::Count { count: Milli(3_000) },
                danvan_domain::scheme::TargetKind::YesNo => V::YesNo { yes: true },
                danvan_domain::scheme::TargetKind::Level => V::Level { grade: 1 },
            };
            (t.code.clone(), v)
        })
        .collect();
    let list: Vec<danvan_store::SampleReview> = communes
        .iter()
        .map(|&u| danvan_store::SampleReview {
            unit_id: u,
            period: "2019".into(),
            state: danvan_domain::workflow::State::Approved,
            late: false,
            values: values.clone(),
        })
        .collect();
    w.store.insert_sample_reviews(&Actor::system("t"), scheme.id, &list, &mut |_| {}).await.unwrap();

    let assets = transferred(&w, "", "/static/style.css").await + transferred(&w, "", "/static/app.js").await;
    let s = "/schemes/LA-KDV-2017-2020/units";
    let pages = [
        ("", "/".to_string()),
        ("", "/units".to_string()),
        ("", "/units/80".to_string()),
        ("", "/schemes/LA-KDV-2017-2020".to_string()),
        ("", "/feedback/27988".to_string()),
        ("province", format!("{s}/80?period=2019")),
        ("province", format!("{s}/802?period=2019")),
        ("province", format!("{s}/27988?period=2019")),
        ("huuthanh", format!("{s}/27988/reviews/2019")),
        ("huuthanh", format!("{s}/27988/reviews")),
        ("huuthanh", format!("{s}/27988/roadmap")),
        ("huuthanh", format!("{s}/27988/plan/2019")),
        ("huuthanh", "/units/27988/bloc".to_string()),
        ("huuthanh", "/units/27988/hamlets".to_string()),
        ("huuthanh", "/units/27988/meetings".to_string()),
        ("huuthanh", "/units/27988/feedback".to_string()),
        ("district", format!("{s}/802/roadmaps")),
    ];
    let mut report = Vec::new();
    for (who, path) in &pages {
        let total = transferred(&w, who, path).await + assets;
        report.push(format!("{path}: {total} B"));
        assert!(total < 60 * 1024, "{path} weighs {total} bytes with its CSS and JS");
    }
    println!("{}", report.join("\n"));
}

/// Issue 14, defect 1: a small template with one more cell at XFD1048576, uploaded as a review
/// or a plan, aborted the server. It is refused with the cell named, and the server answers on.
#[tokio::test]
async fn a_workbook_with_a_far_away_cell_is_refused_and_the_server_lives() {
    use danvan_report::testing::add_far_cell;
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        for (sheet, name) in [
            ("/schemes/LA-KDV-2017-2020/units/27931/reviews/2018/xlsx", "ra-soat.xlsx"),
            ("/schemes/LA-KDV-2017-2020/units/27931/plan/2018/xlsx", "ke-hoach.xlsx"),
        ] {
            let (s, _, template) = w.send("haunghia", Method::GET, sheet, None).await;
            assert_eq!(s, StatusCode::OK);
            for part in [1, 2] {
                let hostile = add_far_cell(&template, part, "XFD1048576", 1_048_576);
                let (s, _, body) = w.multipart("haunghia", sheet, &[], name, &hostile).await;
                let html = String::from_utf8(body).unwrap();
                assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{sheet} part {part}: {html}");
                assert!(html.contains("XFD1048576"), "{html}");
            }
        }
        let (s, _, _) =
            w.send("haunghia", Method::GET, "/schemes/LA-KDV-2017-2020/units/27931/reviews/2018", None).await;
        assert_eq!(s, StatusCode::OK, "the server answers on");
        let scheme = w.store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap();
        let unit = w.store.unit_by_code("27931", None).await.unwrap().unwrap();
        assert!(w.store.review(scheme.id, unit.id, "2018").await.unwrap().is_none(), "nothing saved");
    })
    .await;
}

/// Issue 17, item 5: a refused file on the review page drew a bare "415 · Yêu cầu không hợp lệ"
/// page whose header said "Đăng nhập" as if the user were signed out, and the place in the
/// review was lost. The error page now keeps the user's frame, names the refusal, and links back
/// to the page the form came from (never to another site).
#[tokio::test]
async fn a_refused_file_keeps_the_user_and_the_way_back() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let (s, _) = w
            .call("huuthanh", Method::PUT, &format!("{BASE}/27988/reviews/2018"), Some(json!({"version": 0})))
            .await;
        assert_eq!(s, StatusCode::OK);
        let review = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018";
        let refused = |referer: &'static str| {
            let (kind, body) = common::multipart_form(&[("target", "1.3")], "x.pdf", b"<html>not a pdf");
            let req = Request::builder()
                .method(Method::POST)
                .uri(format!("{review}/evidence"))
                .header(header::COOKIE, "danvan_session=huuthanh")
                .header(header::CONTENT_TYPE, kind)
                .header(header::HOST, "danvan.example")
                .header(header::REFERER, referer)
                .body(Body::from(body))
                .unwrap();
            let app = w.app.clone();
            async move {
                let res = app.oneshot(req).await.unwrap();
                let status = res.status();
                (
                    status,
                    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap(),
                )
            }
        };
        let (s, html) =
            refused("http://danvan.example/schemes/LA-KDV-2017-2020/units/27988/reviews/2018?tab=2").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(html.contains("Loại tệp không được nhận"), "{html}");
        assert!(html.contains("id=\"nav-account\">huuthanh</a>"), "the frame is the user's: {html}");
        assert!(!html.contains("id=\"nav-login\""), "{html}");
        assert!(html.contains(&format!("href=\"{review}?tab=2\"")), "a way back: {html}");
        let (s, html) = refused("http://elsewhere.example/phish").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(!html.contains("elsewhere.example") && !html.contains("/phish"), "{html}");
        assert!(html.contains("id=\"nav-account\">huuthanh</a>"), "{html}");
    })
    .await;
}

/// Issue 18, item 8: a dashboard, its exports and its print view, and the hierarchy's and
/// schemes' API answer `304 Not Modified` to a client that holds the current answer, and a full
/// answer with a new tag as soon as anything they show changes (an approval, a reopening, an
/// activity planned), whichever process made the change; one user's tag is not another's.
#[tokio::test]
async fn dashboards_and_exports_answer_304_until_what_they_show_changes() {
    use danvan_domain::value::{Milli, Value as V};
    use danvan_domain::workflow::{State, Transition};
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let scheme = w.store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        let duc_hoa = w.store.unit_by_code("802", Some(day)).await.unwrap().unwrap();
        let communes =
            w.store.units_within(duc_hoa.id, danvan_domain::units::UnitLevel::Commune, day).await.unwrap();
        let list: Vec<danvan_store::SampleReview> = communes
            .iter()
            .take(3)
            .map(|&u| danvan_store::SampleReview {
                unit_id: u,
                period: "2019".into(),
                state: State::Approved,
                late: false,
                values: [(
                    "2.1".to_string(),
                    V::Ratio { numerator: Milli(9_600), denominator: Milli(10_000) },
                )]
                .into_iter()
                .collect(),
            })
            .collect();
        w.store.insert_sample_reviews(&Actor::system("t"), scheme.id, &list, &mut |_| {}).await.unwrap();
        let api = format!("{BASE}/802/dashboard?period=2019");
        let (s, h, first) = w.send("district", Method::GET, &api, None).await;
        assert_eq!(s, StatusCode::OK);
        let tag = h[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(
            h[header::CACHE_CONTROL],
            "private, no-cache",
            "kept by the browser, asked about each time"
        );
        let (s, h, body) = w.get_if("district", &api, &tag).await;
        assert_eq!((s, body.len()), (StatusCode::NOT_MODIFIED, 0));
        assert_eq!(h[header::ETAG].to_str().unwrap(), tag);
        // Another user asking with this tag gets their own answer.
        let (s, h, _) = w.get_if("province", &api, &tag).await;
        assert_eq!(s, StatusCode::OK);
        assert_ne!(h[header::ETAG].to_str().unwrap(), tag);
        // Another address, another tag.
        let (s, _, _) = w.get_if("district", &format!("{BASE}/802/dashboard?period=2018"), &tag).await;
        assert_eq!(s, StatusCode::OK);

        // A reopening (straight in the database, as by another server): a full answer, new figures.
        let r = w.store.review(scheme.id, communes[0], "2019").await.unwrap().unwrap();
        w.store
            .transition_review(&Actor::system("t"), r.id, None, Transition::Reopen, Some("sửa"), false)
            .await
            .unwrap();
        let (s, h, after) = w.get_if("district", &api, &tag).await;
        assert_eq!(s, StatusCode::OK);
        assert_ne!(after, first, "the reopened review is no longer counted");
        let tag2 = h[header::ETAG].to_str().unwrap().to_string();
        assert_ne!(tag2, tag);
        assert_eq!(w.get_if("district", &api, &tag2).await.0, StatusCode::NOT_MODIFIED);
        // An activity planned (overdue activities are on the dashboard): a new tag.
        let input = danvan_domain::plan::ActivityInput {
            title: "Tập huấn".into(),
            description: String::new(),
            targets: vec!["2.1".into()],
            lead_org: "UBMTTQ".into(),
            supporting_orgs: vec![],
            responsible: "Ông A".into(),
            start: chrono::NaiveDate::from_ymd_opt(2019, 2, 1).unwrap(),
            due: chrono::NaiveDate::from_ymd_opt(2019, 3, 1).unwrap(),
        };
        w.store.create_activity(&Actor::system("t"), scheme.id, communes[1], 2019, &input).await.unwrap();
        assert_eq!(w.get_if("district", &api, &tag2).await.0, StatusCode::OK);

        // The exports and the pages: the same rule, each its own tag.
        for uri in [
            "/schemes/LA-KDV-2017-2020/units/802/matrix.xlsx?period=2019".to_string(),
            "/schemes/LA-KDV-2017-2020/units/802/matrix.csv?period=2019".to_string(),
            "/schemes/LA-KDV-2017-2020/units/802/report.docx?period=2019".to_string(),
            "/schemes/LA-KDV-2017-2020/units/802/print?period=2019".to_string(),
            "/schemes/LA-KDV-2017-2020/units/802?period=2019".to_string(),
            "/api/v1/units/802/children".to_string(),
            "/api/v1/schemes/LA-KDV-2017-2020".to_string(),
        ] {
            let (s, h, full) = w.send("district", Method::GET, &uri, None).await;
            assert_eq!(s, StatusCode::OK, "{uri}");
            assert!(!full.is_empty());
            let t = h[header::ETAG].to_str().unwrap().to_string();
            let (s, _, body) = w.get_if("district", &uri, &t).await;
            assert_eq!((s, body.len()), (StatusCode::NOT_MODIFIED, 0), "{uri}");
        }
        // A user moved out of the district keeps no way in with the tag they hold.
        let (_, h, _) = w.send("district", Method::GET, &api, None).await;
        let held = h[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(w.get_if("district", &api, &held).await.0, StatusCode::NOT_MODIFIED);
        let me = w.store.user_by_username("district").await.unwrap().unwrap();
        let elsewhere = w.store.unit_by_code("794", Some(day)).await.unwrap().unwrap();
        let change = danvan_store::UserChange {
            display_name: me.display_name.clone(),
            role: me.role,
            scope_unit_id: Some(elsewhere.id),
            active: true,
        };
        w.store.update_user(&Actor::system("t"), me.id, &change).await.unwrap();
        assert_eq!(w.get_if("district", &api, &held).await.0, StatusCode::FORBIDDEN);
        w.store
            .update_user(
                &Actor::system("t"),
                me.id,
                &danvan_store::UserChange { scope_unit_id: me.scope_unit_id, ..change },
            )
            .await
            .unwrap();
        // What a dashboard does not show keeps no tag: the review form, the audit history.
        let (_, h, _) = w.send("district", Method::GET, "/api/v1/units/802/history", None).await;
        assert!(h.get(header::ETAG).is_none());
    })
    .await;
}

/// Issue 19: a return is told at once in the application — the menu's count, the centre with
/// the reason, a link that leads to the review and marks it read — only to its user; the
/// email settings refuse a malformed address and keep what was typed; the unsubscribe link
/// works without sign-in only with its signature, and changes nothing from a plain GET.
#[tokio::test]
async fn a_return_is_told_in_the_centre_read_once_opened_and_unsubscribed_by_a_signed_link() {
    use danvan_web::notices::{run_once, send::unsubscribe_token, Reach};
    on_each_backend(|store| async move {
        let w = World::new(store.clone()).await;
        let scheme = store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap().id;
        let unit = store.unit_by_code("27931", None).await.unwrap().unwrap().id;
        let actor = Actor::system("test");
        let r = store.create_review(&actor, scheme, unit, "2018").await.unwrap();
        let step = |t| store.transition_review(&actor, r.id, None, t, None, false);
        step(danvan_domain::workflow::Transition::Submit).await.unwrap();
        store
            .transition_review(
                &actor,
                r.id,
                None,
                danvan_domain::workflow::Transition::Return,
                Some("2.1: thiếu danh sách hộ"),
                false,
            )
            .await
            .unwrap();
        // The reminders run in January 2019, while the scheme and Long An's 2024 units run.
        let state = AppState::new(store.clone());
        let at = chrono::DateTime::parse_from_rfc3339("2019-01-20T03:00:00Z").unwrap().with_timezone(&Utc);
        let report = run_once(&state, at, Reach::Decisions, false).await.unwrap();
        assert_eq!(report.made.len(), 1, "the return, to Hậu Nghĩa's user only");
        assert!(run_once(&state, at, Reach::Decisions, false).await.unwrap().made.is_empty(), "once");
        let page = |who: &'static str, uri: &'static str| {
            let w = &w;
            async move {
                let (s, h, b) = w.send(who, Method::GET, uri, None).await;
                (s, h, String::from_utf8(b).unwrap())
            }
        };
        let (_, _, home) = page("haunghia", "/").await;
        assert!(home.contains(r#"id="nav-unread""#) && home.contains(">1</span>"), "the menu's count");
        assert!(
            home.contains(r#"href="/thong-bao" id="task-notices""#) && home.contains("1 thông báo chưa đọc"),
            "a task"
        );
        let (_, _, other_home) = page("huuthanh", "/").await;
        assert!(!other_home.contains(r#"id="nav-unread""#), "another commune is told nothing");
        let (s, _, centre) = page("haunghia", "/thong-bao").await;
        assert_eq!(s, StatusCode::OK);
        assert!(centre.contains("Bản rà soát kỳ 2018 bị trả lại (LA-KDV-2017-2020)"), "{centre}");
        assert!(centre.contains("Lý do: 2.1: thiếu danh sách hộ"));
        let id = store
            .notifications_of(store.user_by_username("haunghia").await.unwrap().unwrap().id, 10, 0)
            .await
            .unwrap()[0]
            .id;
        // Another user can neither open nor mark it.
        let open = format!("/thong-bao/{id}");
        let (s, _, _) = w.send("huuthanh", Method::GET, &open, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, _) = w
            .send(
                "huuthanh",
                Method::POST,
                &format!("{open}/da-doc"),
                Some(("application/x-www-form-urlencoded", vec![])),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, _, centre) = page("haunghia", "/thong-bao").await;
        assert!(centre.contains("Chưa đọc: <strong>1</strong>"), "still unread");
        // Its user opens it: led to the review, and it is read.
        let (s, h, _) = w.send("haunghia", Method::GET, &open, None).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/schemes/LA-KDV-2017-2020/units/27931/reviews/2018");
        let (_, _, home) = page("haunghia", "/").await;
        assert!(!home.contains(r#"id="nav-unread""#) && !home.contains("task-notices"));

        // Settings: a malformed address is refused with what was typed, nothing saved.
        let user = store.user_by_username("haunghia").await.unwrap().unwrap().id;
        let form = "application/x-www-form-urlencoded";
        let (s, _, b) = w
            .send(
                "haunghia",
                Method::POST,
                "/thong-bao/cai-dat",
                Some((form, b"email=xa%40haunghia&delivery=daily".to_vec())),
            )
            .await;
        let b = String::from_utf8(b).unwrap();
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(b.contains("không đúng dạng") && b.contains(r#"value="xa@haunghia""#), "{b}");
        assert_eq!(store.notify_settings(user).await.unwrap(), danvan_store::NotifySettings::default());
        let (s, _, _) = w
            .send(
                "haunghia",
                Method::POST,
                "/thong-bao/cai-dat",
                Some((form, b"email=xa%40haunghia.gov.vn&delivery=weekly&immediate_returned=1".to_vec())),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let saved = store.notify_settings(user).await.unwrap();
        assert_eq!(
            (saved.email.as_str(), saved.delivery.as_str(), saved.immediate_kinds.clone()),
            ("xa@haunghia.gov.vn", "weekly", vec!["returned".to_string()])
        );

        // Unsubscribe: a forged token is refused; the page asks; the button (or a mail
        // program's one-click POST) unsubscribes from that kind only.
        let secret = store.server_secret("unsubscribe").await.unwrap();
        let token = unsubscribe_token(&secret, user, "returned");
        let forged =
            format!("/thong-bao/huy?u={user}&k=returned&t={}", unsubscribe_token("đoán", user, "returned"));
        let (s, _, _) = w.send("", Method::GET, &forged, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _, _) =
            w.send("", Method::POST, &forged, Some((form, b"List-Unsubscribe=One-Click".to_vec()))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let link = format!("/thong-bao/huy?u={user}&k=returned&t={token}");
        let (s, _, b) = w.send("", Method::GET, &link, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(String::from_utf8(b).unwrap().contains("Bị trả lại"));
        assert!(store.notify_settings(user).await.unwrap().muted_kinds.is_empty(), "a GET changes nothing");
        let (s, _, b) =
            w.send("", Method::POST, &link, Some((form, b"List-Unsubscribe=One-Click".to_vec()))).await;
        assert_eq!(s, StatusCode::OK);
        assert!(String::from_utf8(b).unwrap().contains(r#"id="unsubscribed""#));
        assert_eq!(store.notify_settings(user).await.unwrap().muted_kinds, vec!["returned".to_string()]);
        // Taken back from the settings.
        let (s, _, _) = w
            .send(
                "haunghia",
                Method::POST,
                "/thong-bao/cai-dat",
                Some((form, b"email=xa%40haunghia.gov.vn&delivery=daily&unmute=1".to_vec())),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(store.notify_settings(user).await.unwrap().muted_kinds.is_empty());

        // An email that fails is shown to the admin on the system page, with its error.
        let new = NewUser {
            username: "admin".into(),
            display_name: "Quản trị".into(),
            password_hash: "x".into(),
            role: Role::Admin,
            scope_unit_id: None,
        };
        let admin = store.create_user(&actor, &new).await.unwrap();
        let now = Utc::now();
        store.start_session(&admin, &secret_hash("admin"), "t", now, now + Duration::days(1)).await.unwrap();
        let mail = danvan_store::NewDelivery {
            key: "n:thu".into(),
            channel: "email".into(),
            user_id: Some(user),
            recipient: "xa@haunghia.gov.vn".into(),
            subject: "Bản rà soát kỳ 2018 bị trả lại".into(),
            body: "…".into(),
            html: "…".into(),
            unsubscribe: String::new(),
        };
        assert!(store.queue_delivery(&mail, &[], now).await.unwrap());
        let claimed = store.claim_deliveries(now, 10, Duration::minutes(5)).await.unwrap();
        store.delivery_failed(claimed[0].id, "550 hộp thư không có", now).await.unwrap();
        let (s, _, b) = w.send("admin", Method::GET, "/admin/system", None).await;
        let b = String::from_utf8(b).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(
            b.contains(r#"id="outbox-troubled""#)
                && b.contains("xa@haunghia.gov.vn")
                && b.contains("550 hộp thư không có"),
            "{b}"
        );
        assert!(b.contains("Sẽ gửi lại (1)"), "{b}");
        // A failed backup is told to the admin, once.
        let failed = danvan_store::BackupRecord {
            started_at: now,
            finished_at: now,
            ok: false,
            location: "/var/lib/danvan/backups/x".into(),
            bytes: 0,
            message: "đĩa đầy".into(),
        };
        store.record_backup(&failed).await.unwrap();
        let made = run_once(&state, now, Reach::Decisions, false).await.unwrap().made;
        assert_eq!(made.len(), 1);
        assert_eq!((made[0].note.user_id, made[0].note.kind.as_str()), (admin.id, "backup_failed"));
        assert_eq!(made[0].note.detail, "đĩa đầy");
        assert!(run_once(&state, now, Reach::Decisions, false).await.unwrap().made.is_empty());
    })
    .await;
}

/// Issue 19, item 6: a scheme that closes entry 10 days after the deadline refuses a save, a
/// submission and a workbook from the commune after that, with the reason; the district reopens
/// the unit's entry with a reason (audited, once), and the save goes through. Another commune
/// stays closed.
#[tokio::test]
async fn a_closed_period_is_reopened_for_one_unit_by_its_approver_with_a_reason() {
    on_each_backend(|store| async move {
        let w = World::new(store.clone()).await;
        let locked =
            SAMPLE.replace("report_deadline_days = 15", "report_deadline_days = 15\nlock_after_days = 10");
        assert_ne!(locked, SAMPLE);
        let def = parse_scheme(&locked).unwrap();
        assert_eq!(def.lock_after_days, Some(10));
        store.import_scheme(&Actor::system("test"), &def, &locked).await.unwrap();
        let path = format!("{BASE}/27988/reviews/2018");
        let body = json!({"version": 0, "values": {"2.1": {"numerator": 5, "denominator": 10}}});
        let (s, e) = w.call("huuthanh", Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let said = e["problems"][0].as_str().unwrap_or_default().to_string()
            + e["error"].as_str().unwrap_or_default();
        assert!(said.contains("đã khóa nhập liệu từ ngày 26/01/2019 (10 ngày sau hạn 15/01/2019)"), "{e}");
        assert!(
            w.store.review(def_id(&w).await, unit(&w, "27988").await, "2018").await.unwrap().is_none(),
            "nothing saved"
        );
        // The page says so, and offers the district (not the commune) to reopen it.
        let page_of = |who: &'static str| {
            let w = &w;
            async move {
                let (_, _, b) = w
                    .send(who, Method::GET, "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018", None)
                    .await;
                String::from_utf8(b).unwrap()
            }
        };
        let page = page_of("huuthanh").await;
        assert!(page.contains(r#"id="entry-locked""#) && !page.contains(r#"id="entry-reopen""#));
        assert!(!page.contains(r#"id="review-form""#), "no form while closed");
        assert!(page_of("district").await.contains(r#"id="entry-reopen""#));
        // The commune may not reopen; the district must give a reason.
        let form = "application/x-www-form-urlencoded";
        let reopen = "/schemes/LA-KDV-2017-2020/units/27988/reviews/2018/entry";
        let (s, _, _) = w
            .send("huuthanh", Method::POST, reopen, Some((form, b"reason=t%E1%BB%B1+m%E1%BB%9F".to_vec())))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = w.send("district", Method::POST, reopen, Some((form, b"reason=+".to_vec()))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let audit_before = w.store.audit_count().await.unwrap();
        let (s, h, _) = w
            .send(
                "district",
                Method::POST,
                reopen,
                Some((form, "reason=Xã bị ngập, nộp muộn có lý do".as_bytes().to_vec())),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().ends_with("?done=entry-reopened"));
        assert_eq!(w.store.audit_count().await.unwrap(), audit_before + 1, "audited");
        let r = w
            .store
            .entry_reopening(def_id(&w).await, unit(&w, "27988").await, "2018")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.reason, "Xã bị ngập, nộp muộn có lý do");
        // Open again for Hựu Thạnh only.
        let (s, r) = w.call("huuthanh", Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, _) = w.call("haunghia", Method::PUT, &format!("{BASE}/27931/reviews/2018"), Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "another commune stays closed");
        // Reopening twice is said plainly, and changes nothing.
        let (s, h, _) =
            w.send("district", Method::POST, reopen, Some((form, b"reason=again".to_vec()))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().ends_with("?done=entry-open"));
    })
    .await;
}

async fn def_id(w: &World) -> i64 {
    w.store.scheme("LA-KDV-2017-2020").await.unwrap().unwrap().id
}

async fn unit(w: &World, code: &str) -> i64 {
    w.store.unit_by_code(code, chrono::NaiveDate::from_ymd_opt(2019, 1, 1)).await.unwrap().unwrap().id
}
