//! The bad-input battery (issue 14): every write route of the OpenAPI document, and every upload
//! form, gets malformed and hostile input — NUL and NFD text, huge, negative and fractional
//! numbers, days out of range, broken JSON, wrong content types, empty and oversized bodies, the
//! sparse workbook, a zip bomb, CSV with wrong columns — on both databases. Nothing may answer
//! 5xx, the server must answer on, and a refused request must change nothing (the audit log,
//! which every change writes to, keeps its length). What is accepted is stored clean: no NUL,
//! NFC only.

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
use utoipa::OpenApi;

mod common;

const SAMPLE: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const UNITS: &str = include_str!("../../../data/units-2024-three-level.csv");
const SCHEME: &str = "LA-KDV-2017-2020";
const JSON: &str = "application/json";

struct World {
    store: Store,
    app: Router,
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl World {
    async fn new(store: Store) -> World {
        let actor = Actor::system("test");
        let mut nop = |_: usize| {};
        let list = parse_unit_list(UNITS.as_bytes(), Some("80")).unwrap();
        store.import_units(&actor, &list, &mut nop).await.unwrap();
        store.import_scheme(&actor, &parse_scheme(SAMPLE).unwrap(), SAMPLE).await.unwrap();
        let hash = danvan_web::auth::hash_password("mật khẩu thử 123".into()).await.unwrap();
        for (name, role, unit) in [("admin", Role::Admin, None), ("commune", Role::Commune, Some("27988"))] {
            let scope = match unit {
                Some(c) => Some(store.unit_by_code(c, None).await.unwrap().unwrap().id),
                None => None,
            };
            let new = NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: hash.clone(),
                role,
                scope_unit_id: scope,
            };
            store.create_user(&actor, &new).await.unwrap();
        }
        let files = danvan_store::testing::tempfile_dir();
        let app =
            router(AppState { files: danvan_store::FileStore::Dir(files), ..AppState::new(store.clone()) });
        World { store, app }
    }

    /// A fresh session of a user: its cookie.
    async fn session(&self, name: &str) -> String {
        let user = self.store.user_by_username(name).await.unwrap().unwrap();
        let token = format!("battery-{name}-{}", Utc::now().timestamp_nanos_opt().unwrap());
        let now = Utc::now();
        self.store
            .start_session(&user, &secret_hash(&token), "t", now, now + Duration::days(1))
            .await
            .unwrap();
        format!("danvan_session={token}")
    }

    async fn send(
        &self,
        method: &Method,
        uri: &str,
        cookie: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = match body {
            Some((kind, bytes)) => req.header(header::CONTENT_TYPE, kind).body(Body::from(bytes)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        Answer { status, body: res.into_body().collect().await.unwrap().to_bytes().to_vec() }
    }

    async fn json(&self, method: Method, uri: &str, cookie: &str, body: Value) -> Answer {
        self.send(&method, uri, Some(cookie), Some((JSON, body.to_string().into_bytes()))).await
    }

    async fn multipart(
        &self,
        uri: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> Answer {
        let (kind, body) = common::multipart_form(fields, name, bytes);
        self.send(&Method::POST, uri, Some(cookie), Some((&kind, body))).await
    }
}

/// The ids a write route's path needs, made by valid requests first.
struct Ids {
    activity: i64,
    member: i64,
    feedback: i64,
    meeting: i64,
    conclusion: i64,
    hamlet: i64,
}

async fn seed(w: &World, admin: &str) -> Ids {
    let base = format!("/api/v1/schemes/{SCHEME}/units/27988");
    let ok = |a: &Answer, what: &str| {
        assert!(a.status.is_success(), "{what}: {} {}", a.status, String::from_utf8_lossy(&a.body))
    };
    let a = w.json(Method::PUT, &format!("{base}/reviews/2018"), admin, json!({"version": 0})).await;
    ok(&a, "review");
    let a = w.json(Method::PUT, &format!("{base}/roadmap"), admin, json!({"version": 0})).await;
    ok(&a, "roadmap");
    let a = w.json(Method::POST, &format!("{base}/plan/2018"), admin, activity_body()).await;
    ok(&a, "activity");
    let activity = a.json()["id"].as_i64().unwrap();
    let a = w.json(Method::POST, "/api/v1/units/27988/bloc/members", admin, member_body()).await;
    ok(&a, "member");
    let member = a.json()["id"].as_i64().unwrap();
    let a = w.json(Method::POST, "/api/v1/units/27988/hamlets", admin, json!([{"name": "Ấp Một"}])).await;
    ok(&a, "hamlet");
    let hamlet = a.json()[0]["id"].as_i64().unwrap();
    let a = w.json(Method::POST, "/api/v1/units/27988/meetings", admin, meeting_body()).await;
    ok(&a, "meeting");
    let meeting = a.json()["id"].as_i64().unwrap();
    let a = w.send(&Method::GET, &format!("/api/v1/units/27988/meetings/{meeting}"), Some(admin), None).await;
    let conclusion = a.json()["conclusions"][0]["id"].as_i64().expect("a conclusion");
    let a = w
        .send(
            &Method::POST,
            "/api/v1/public/feedback",
            None,
            Some((JSON, feedback_body().to_string().into_bytes())),
        )
        .await;
    ok(&a, "feedback");
    let unit = w.store.unit_by_code("27988", None).await.unwrap().unwrap();
    let feedback = w.store.feedback_of(unit.id, None, 10, 0).await.unwrap().0[0].id;
    Ids { activity, member, feedback, meeting, conclusion, hamlet }
}

fn activity_body() -> Value {
    json!({"version": null, "title": "Vận động làm đường", "description": "Mô tả", "targets": ["1.1"],
           "lead_org": "UBMTTQ", "supporting_orgs": ["Hội Nông dân"], "responsible": "Ông A",
           "start": "2018-02-01", "due": "2018-11-30"})
}

fn member_body() -> Value {
    json!({"full_name": "Nguyễn Văn A", "position": "Phó Bí thư", "organisation": "Đảng ủy", "role": "member",
           "phone": "0912345678", "trained": true, "trained_on": "2018-03-01", "from": "2018-01-01"})
}

fn meeting_body() -> Value {
    json!({"kind": "giao_ban", "held_on": "2018-05-02", "place": "Hội trường", "chair": "Ông B",
           "content": "Nội dung", "conclusions": ["Làm đường ấp Một"], "attendance": []})
}

fn feedback_body() -> Value {
    json!({"unit": "27988", "name": "Trần Thị B", "phone": "0912345678", "email": "b@example.vn",
           "hamlet": "Ấp Một", "category": "Khác", "content": "Đường ngập"})
}

/// A valid body for each write route of the API (path as the OpenAPI document writes it).
fn valid_body(method: &str, path: &str) -> Option<Value> {
    let transition = json!({"reason": "Lý do", "version": null});
    Some(match (method, path) {
        ("post", "/api/v1/auth/login") => json!({"username": "commune", "password": "mật khẩu thử 123"}),
        ("post", "/api/v1/auth/logout") => json!({}),
        ("post", "/api/v1/public/feedback") => feedback_body(),
        ("post", p) if p.ends_with("/activities/{id}/notes") => {
            json!({"on": "2018-06-01", "text": "Đã làm xong 50%"})
        }
        ("post", p) if p.ends_with("/activities/{id}/status") => {
            json!({"status": "in_progress", "reason": null, "version": null})
        }
        ("post", p) if p.ends_with("/plan/{year}") => activity_body(),
        ("put", p) if p.ends_with("/activities/{id}") => activity_body(),
        ("delete", p) if p.ends_with("/activities/{id}") => json!({}),
        ("post", "/api/v1/units/{code}/bloc/members") => member_body(),
        ("post", p) if p.ends_with("/bloc/members/{id}/end") => {
            json!({"to": "2019-12-31", "reason": "Nghỉ hưu", "decision_id": null})
        }
        ("post", p) if p.ends_with("/feedback/{id}/assign") => {
            json!({"text": "Hội Nông dân", "version": null})
        }
        ("post", p) if p.ends_with("/feedback/{id}/answer") => {
            json!({"text": "Đã sửa đường", "version": null})
        }
        ("post", p) if p.ends_with("/feedback/{id}/close") => json!({"text": "Đã xong", "version": null}),
        ("post", "/api/v1/units/{code}/hamlets") => {
            json!([{"name": "Ấp Hai", "kind": "Ấp", "team": {"leader": "Ông C", "deputies": ["Bà D"], "member_count": 5, "decision": "12/QĐ", "formed_on": "2018-03-01"}}])
        }
        ("put", "/api/v1/units/{code}/hamlets/{id}") => json!({"name": "Ấp Một", "kind": "Ấp", "team": null}),
        ("post", "/api/v1/units/{code}/meetings") => meeting_body(),
        ("post", p) if p.ends_with("/conclusions/{conclusion}/activity") => {
            json!({"scheme": SCHEME, "lead_org": "UBMTTQ", "targets": ["1.1"], "responsible": "Ông A", "due": "2018-12-31"})
        }
        ("post", "/api/v1/units/{code}/organisations") => json!({"name": "Hội Người cao tuổi"}),
        ("put", "/api/v1/units/{code}/organisations") => {
            json!({"organisations": ["Hội Người cao tuổi"], "feedback_answer_days": 15})
        }
        ("put", p) if p.ends_with("/reviews/{period}") => {
            json!({"version": 1, "values": {"1.1": {"numerator": 8, "denominator": 10, "note": "Ghi chú"}}, "narrative": {"results": "Kết quả", "limitations": "Hạn chế", "next_tasks": "Nhiệm vụ"}})
        }
        ("put", p) if p.ends_with("/roadmap") => {
            json!({"version": 1, "targets": {"1.1": {"planned": {"2018": 0.5, "2019": 0.8}, "meet_year": 2020, "reason": "Lý do"}}})
        }
        // Multipart uploads: any JSON is refused; the hostile files are sent below.
        ("post", p) if p.ends_with("/reviews/{period}/evidence") => json!({}),
        ("delete", p) if p.ends_with("/evidence/{id}") => json!({}),
        ("post", p) if p.ends_with("/activities/{id}/files") => json!({}),
        ("delete", p) if p.ends_with("/files/{file}") => json!({}),
        ("post", p)
            if p.contains("/reviews/{period}/") || p.contains("/roadmap/") || p.contains("/plan/{year}/") =>
        {
            transition
        }
        _ => return None,
    })
}

/// The path with its parameters filled for the seeded records.
fn fill(path: &str, ids: &Ids) -> String {
    let id = if path.contains("/activities/") {
        ids.activity
    } else if path.contains("/members/") {
        ids.member
    } else if path.contains("/feedback/") {
        ids.feedback
    } else if path.contains("/meetings/") {
        ids.meeting
    } else {
        ids.hamlet
    };
    path.replace("{scheme}", SCHEME)
        .replace("{code}", "27988")
        .replace("{period}", "2018")
        .replace("{year}", "2018")
        .replace("{id}", &id.to_string())
        .replace("{conclusion}", &ids.conclusion.to_string())
        .replace("{file}", "1")
}

/// Days no record may hold: each must be refused wherever a day is asked for.
const BAD_DAYS: [&str; 5] = ["0000-01-01", "-0001-01-01", "+10000-01-01", "2019-02-30", "1899-12-31"];

/// What replaces each leaf of a valid body, one at a time.
fn bad_leaves(leaf: &Value) -> Vec<Value> {
    let mut out = vec![
        Value::Null,
        json!([]),
        json!({}),
        json!(true),
        json!("a\u{0}b"),
        json!("Ho\u{0300}a Bi\u{0300}nh"),
        json!("x".repeat(200_000)),
        json!("=HYPERLINK(\"http://evil.example\")"),
        json!(""),
        json!(1e308),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(1.5),
        json!(0),
    ];
    if leaf.as_str().is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()) {
        out.extend(BAD_DAYS.map(|d| json!(d)));
    }
    out
}

/// Every body made from a valid one by replacing one leaf (at any depth) with a bad value, and
/// whether it must be refused (a day out of range in place of a day).
fn mutations(valid: &Value) -> Vec<(Value, bool)> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut leaves = Vec::new();
    walk(valid, &mut Vec::new(), &mut leaves);
    let mut out = Vec::new();
    for leaf in leaves {
        let pointer = format!("/{}", leaf.join("/"));
        let original = valid.pointer(&pointer).cloned().unwrap_or(Value::Null);
        for bad in bad_leaves(&original) {
            let refuse = original.is_string() && bad.as_str().is_some_and(|b| BAD_DAYS.contains(&b));
            let mut body = valid.clone();
            if let Some(slot) = body.pointer_mut(&pointer) {
                *slot = bad;
            }
            out.push((body, refuse));
        }
    }
    out
}

/// Whole bodies that are wrong before any field is read.
fn broken_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (JSON, b"{\"version\": ".to_vec()),
        (JSON, b"null".to_vec()),
        (JSON, b"\"text\"".to_vec()),
        (JSON, b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_vec()),
        (JSON, Vec::new()),
        (JSON, b"\xff\xfe{}".to_vec()),
        (JSON, [b"{\"x\": \"".as_slice(), &vec![b'a'; 2 * 1024 * 1024], b"\"}"].concat()),
        ("text/plain", b"{}".to_vec()),
        ("application/x-www-form-urlencoded", b"version=1&text=x".to_vec()),
        ("application/xml", b"<x/>".to_vec()),
    ]
}

/// Text stored from a request: no NUL, no decomposed (NFD) letters.
fn assert_clean(json: &str, what: &str) {
    use unicode_normalization::UnicodeNormalization;
    assert!(!json.contains("\\u0000") && !json.contains('\0'), "{what}: a NUL was stored: {json}");
    let nfc: String = json.nfc().collect();
    assert_eq!(nfc, json, "{what}: text was stored in NFD");
}

struct Battery<'a> {
    w: &'a World,
    sent: usize,
}

impl Battery<'_> {
    /// Sends one request and checks the three rules; answers the status.
    async fn probe(
        &mut self,
        what: &str,
        send: impl std::future::Future<Output = Answer>,
        audited_refusal: bool,
    ) -> StatusCode {
        let before = self.w.store.audit_count().await.unwrap();
        let a = send.await;
        self.sent += 1;
        assert!(
            !a.status.is_server_error(),
            "{what}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body[..a.body.len().min(400)])
        );
        // Issue 16, item 13: every refusal of the API is JSON (ErrorBody), even the framework's
        // own (a broken body, a missing field, a wrong Content-Type), which came as text/plain.
        if a.status.is_client_error() && what.contains(" /api/") {
            let body = a.json();
            assert!(
                body["status"] == a.status.as_u16() && body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{what}: {} answered {}",
                a.status,
                String::from_utf8_lossy(&a.body[..a.body.len().min(300)])
            );
        }
        let health = self.w.send(&Method::GET, "/healthz", None, None).await;
        assert_eq!(health.status, StatusCode::OK, "{what}: the server no longer answers");
        let after = self.w.store.audit_count().await.unwrap();
        if a.status.is_client_error() && !audited_refusal {
            assert_eq!(before, after, "{what}: refused ({}) but something changed", a.status);
        }
        if after > before {
            let page = self.w.store.audit_events(&Default::default(), after - before, 0).await.unwrap();
            for e in page.events {
                for j in [e.before_json, e.after_json].into_iter().flatten() {
                    assert_clean(&j, what);
                }
            }
        }
        a.status
    }
}

#[tokio::test]
async fn every_write_route_survives_the_bad_input_battery() {
    on_each_backend(|store| async move {
        let w = World::new(store).await;
        let admin = w.session("admin").await;
        let ids = seed(&w, &admin).await;
        let doc = danvan_web::openapi::ApiDoc::openapi();
        let mut routes = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [("post", &item.post), ("put", &item.put), ("delete", &item.delete), ("patch", &item.patch)] {
                if op.is_some() {
                    let body = valid_body(method, path)
                        .unwrap_or_else(|| panic!("the battery has no valid body for {method} {path}: add one"));
                    routes.push((method, path.clone(), body));
                }
            }
        }
        assert!(routes.len() >= 25, "{} write routes", routes.len());
        // Records first, then steps that change state, deletion and sign-out last.
        let rank = |m: &str, p: &str| match () {
            _ if p.ends_with("/logout") => 4,
            _ if m == "delete" => 3,
            _ if p.contains("/reviews/{period}/")
                || p.contains("/roadmap/")
                || p.contains("/plan/{year}/")
                || p.ends_with("/close")
                || p.ends_with("/end") =>
            {
                2
            }
            _ => 1,
        };
        routes.sort_by_key(|(m, p, _)| (rank(m, p), p.clone()));
        let mut battery = Battery { w: &w, sent: 0 };
        for (method, path, valid) in &routes {
            let uri = fill(path, &ids);
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let anonymous = path.contains("/public/") || path.ends_with("/auth/login");
            // A failed sign-in is recorded (throttling) by design.
            let audited_refusal = path.ends_with("/auth/login");
            let mut bodies: Vec<(&str, Vec<u8>, bool)> =
                mutations(valid).into_iter().map(|(b, refuse)| (JSON, b.to_string().into_bytes(), refuse)).collect();
            bodies.extend(broken_bodies().into_iter().map(|(k, b)| (k, b, true)));
            for (kind, bytes, refuse) in bodies {
                // Each request starts from the current version, so that the bad value is what
                // the server judges, not a stale version.
                let mut bytes = bytes;
                if valid.get("version").is_some_and(Value::is_i64) {
                    if let Ok(mut body) = serde_json::from_slice::<Value>(&bytes) {
                        let current = w.send(&Method::GET, &uri, Some(&admin), None).await.json()["version"].as_i64();
                        if let (Some(v), Some(slot)) = (current, body.get_mut("version")) {
                            if slot.is_i64() {
                                *slot = json!(v);
                            }
                        }
                        bytes = body.to_string().into_bytes();
                    }
                }
                let cookie = if anonymous {
                    None
                } else if path.ends_with("/logout") {
                    Some(w.session("admin").await)
                } else {
                    Some(admin.clone())
                };
                let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(160)]).into_owned();
                let what = format!("{method} {uri} ({kind}) {shown}");
                let status =
                    battery.probe(&what, w.send(&m, &uri, cookie.as_deref(), Some((kind, bytes))), audited_refusal).await;
                // Sign-out needs no body: whatever is sent, it signs out.
                if refuse && !path.ends_with("/logout") && !(path.ends_with("/activities/{id}") && m == Method::DELETE) {
                    assert!(status.is_client_error(), "{what}: must be refused, got {status}");
                }
            }
        }

        // Upload forms: empty, oversized, disguised, sparse, a zip bomb, broken CSV.
        let review_sheet = format!("/schemes/{SCHEME}/units/27988/reviews/2018/xlsx");
        let plan_sheet = format!("/schemes/{SCHEME}/units/27988/plan/2018/xlsx");
        let template = w.send(&Method::GET, &review_sheet, Some(&admin), None).await.body;
        let plan_template = w.send(&Method::GET, &plan_sheet, Some(&admin), None).await.body;
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("oversized", vec![b'%'; 12 * 1024 * 1024]),
            ("html as pdf", b"%PDF-<html><script>alert(1)</script></html>".to_vec()),
            ("exe", b"MZ\x90\x00\x03 a program".to_vec()),
            ("sparse review", danvan_report::testing::add_far_cell(&template, 2, "XFD1048576", 1_048_576)),
            ("sparse plan", danvan_report::testing::add_far_cell(&plan_template, 2, "XFD1048576", 1_048_576)),
            ("zip bomb", zip_bomb()),
            ("not a zip", b"PK\x03\x04 truncated".to_vec()),
            ("short csv", "ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\nẤp 9,Ấp,A\n".into()),
            ("open quote csv", "ten,loai,to_truong,to_pho,so_thanh_vien,quyet_dinh,ngay_thanh_lap\n\"Ấp 9,,,,,,\nẤp 10,,,,,,\n".into()),
            ("latin-1 csv", b"ten\n\xc1p 9\n".to_vec()),
        ];
        // The battery deleted the seeded activity: a new one takes files.
        let plan = format!("/api/v1/schemes/{SCHEME}/units/27988/plan/2018");
        // The battery's valid steps may have left the year's plan sent or approved (its
        // activities fixed): open it again.
        for step in ["return", "reopen"] {
            w.json(Method::POST, &format!("{plan}/{step}"), &admin, json!({"reason": "Mở lại để thử tệp"})).await;
        }
        // The battery's members made the bloc's organisations its own: the activity names one.
        let mut body = activity_body();
        body["lead_org"] = json!("Đảng ủy");
        body["supporting_orgs"] = json!([]);
        let created = w.json(Method::POST, &plan, &admin, body).await;
        let activity = created.json()["id"].as_i64().unwrap_or_else(|| panic!("{:?}", created.json()));
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/schemes/{SCHEME}/units/27988/reviews/2018/evidence"), vec![("target", "1.3")]),
            (format!("/api/v1/schemes/{SCHEME}/units/27988/reviews/2018/evidence"), vec![("target", "1.3")]),
            (review_sheet.clone(), vec![]),
            (plan_sheet.clone(), vec![]),
            (format!("/schemes/{SCHEME}/units/27988/activities/{activity}/files"), vec![]),
            (format!("/api/v1/schemes/{SCHEME}/units/27988/activities/{activity}/files"), vec![]),
            ("/units/27988/hamlets/import".into(), vec![]),
        ];
        // The review must be editable for its uploads to be judged on their content.
        let review = w.send(&Method::GET, &format!("/api/v1/schemes/{SCHEME}/units/27988/reviews/2018"), Some(&admin), None).await.json();
        if review["state"] != "draft" && review["state"] != "returned" {
            let reopen = format!("/api/v1/schemes/{SCHEME}/units/27988/reviews/2018/reopen");
            w.json(Method::POST, &reopen, &admin, json!({"reason": "Sửa lại"})).await;
        }
        for (uri, fields) in &forms {
            for (name, bytes) in &files {
                let what = format!("upload {name} to {uri}");
                let status = battery.probe(&what, w.multipart(uri, &admin, fields, &format!("{name}.xlsx"), bytes), false).await;
                // A workbook, even a hostile one, is a fine file to keep as evidence: it is
                // stored as it came and never opened. Everything else is refused.
                let kept_as_file = (uri.ends_with("/evidence") || uri.ends_with("/files"))
                    && matches!(*name, "sparse review" | "sparse plan" | "zip bomb");
                assert_eq!(status.is_client_error(), !kept_as_file, "{what}: {status}");
            }
        }
        println!("bad-input battery: {} requests on {:?}", battery.sent, w.store.kind());
        assert!(battery.sent > 1000, "{}", battery.sent);
    })
    .await;
}

/// A 300 KB zip that unpacks to 300 MB: an .xlsx whose sheet is a sea of zeros.
fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("[Content_Types].xml", deflate).unwrap();
    out.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
    out.start_file("xl/workbook.xml", deflate).unwrap();
    out.write_all(b"<?xml version=\"1.0\"?><workbook><sheets><sheet name=\"danvan\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>").unwrap();
    out.start_file("xl/worksheets/sheet1.xml", deflate.large_file(true)).unwrap();
    let zeros = vec![b'0'; 1024 * 1024];
    for _ in 0..300 {
        out.write_all(&zeros).unwrap();
    }
    out.finish().unwrap().into_inner()
}
