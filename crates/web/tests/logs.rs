//! No password, token or session id reaches a log line. A test binary of its own: tracing
//! caches per call site whether anyone listens, process-wide, so a test that listens through a
//! thread's own subscriber must not share its process with tests that do not.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use danvan_domain::access::Role;
use danvan_domain::units::parse_unit_list;
use danvan_store::testing::tempfile_dir;
use danvan_store::{Actor, NewUser, Store};
use danvan_web::auth::hash_password;
use danvan_web::{router, AppState};
use http_body_util::BodyExt;
use tower::ServiceExt;

const UNITS: &str = include_str!("../../../data/units-2024-three-level.csv");
const PASSWORD: &str = "mật khẩu thử 123";

/// A writer that keeps what the logger writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn send(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, cookie, String::from_utf8_lossy(&bytes).into_owned())
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn passwords_and_tokens_appear_in_no_log_line() {
    let dir = tempfile_dir();
    let store = Store::open(dir.join("t.db").to_str().unwrap()).await.unwrap();
    let actor = Actor::system("test");
    let list = parse_unit_list(UNITS.as_bytes(), Some("80")).unwrap();
    store.import_units(&actor, &list, &mut |_| {}).await.unwrap();
    let scope = store.unit_by_code("27988", None).await.unwrap().map(|u| u.id);
    let new = NewUser {
        username: "commune".into(),
        display_name: "Xã".into(),
        password_hash: hash_password(PASSWORD.into()).await.unwrap(),
        role: Role::Commune,
        scope_unit_id: scope,
    };
    store.create_user(&actor, &new).await.unwrap();
    let app = router(AppState {
        files: danvan_store::FileStore::Dir(tempfile_dir().join("files")),
        ..AppState::new(store)
    });

    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let form = "application/x-www-form-urlencoded";
    let login =
        |password: &str| format!("username=commune&password={}&next=%2Faccount", url_encode(password));
    let (status, cookie, _) =
        send(&app, Method::POST, "/login", &[("content-type", form)], &login(PASSWORD)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    send(&app, Method::POST, "/login", &[("content-type", form)], &login("một mật khẩu sai")).await;
    let (_, _, created) =
        send(&app, Method::POST, "/account/tokens", &[("content-type", form), ("cookie", &cookie)], "name=t")
            .await;
    let token = created.split("id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    send(&app, Method::GET, "/api/v1/me", &[("authorization", &format!("Bearer {token}"))], "").await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 200, "the logger did capture the requests: {logs}");
    let session_id = cookie.trim_start_matches("danvan_session=");
    for secret in [PASSWORD, "một mật khẩu sai", &url_encode(PASSWORD), &token, session_id] {
        assert!(!logs.contains(secret), "{secret:?} leaked into the logs");
    }
    // Issue 18, item 7: every line written while a request is served carries its id.
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 4);
    for line in &lines {
        assert!(line.contains("request_id="), "a log line without the request id: {line}");
    }
}
