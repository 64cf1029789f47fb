//! Issue 18, from the outside: the real binary, killed with SIGKILL while 16 writers work,
//! loses no acknowledged write and leaves an intact database (SQLite with files in a folder,
//! PostgreSQL with files in the database); SIGTERM stops it gracefully; two servers on one
//! PostgreSQL database share files, approvals, sessions and login throttling.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use danvan_domain::access::Role;
use danvan_store::testing::{pg_server, tempfile_dir, TestDb};
use danvan_store::{Actor, FileStore, NewUser, Store};
use serde_json::{json, Value};

mod support;

const SCHEME: &str = "LA-KDV-2017-2020";
const PASSWORD: &str = "mật khẩu thử 123";

/// A database with Long An's units, the sample scheme and a province user with an API token;
/// answers the token and the communes' codes.
async fn prepare(url: &str) -> (String, Vec<String>) {
    let (store, list) = support::long_an(url).await;
    let actor = Actor::system("test");
    let on = chrono::NaiveDate::from_ymd_opt(2019, 1, 1);
    let long_an = store.unit_by_code("80", on).await.unwrap().unwrap();
    let hash = danvan_web::auth::hash_password(PASSWORD.into()).await.unwrap();
    let user = store
        .create_user(
            &actor,
            &NewUser {
                username: "tinh.longan".into(),
                display_name: "Trần Thị Tỉnh".into(),
                password_hash: hash,
                role: Role::Province,
                scope_unit_id: Some(long_an.id),
            },
        )
        .await
        .unwrap();
    let token = format!("crash-test-{}", std::process::id());
    store.create_api_token(&actor, &user, "thử", &danvan_web::auth::secret_hash(&token)).await.unwrap();
    let communes = list
        .units
        .iter()
        .filter(|u| u.level == danvan_domain::units::UnitLevel::Commune)
        .map(|u| u.code.clone())
        .collect();
    store.close().await;
    (token, communes)
}

/// Starts `danvan serve` and waits until it answers /readyz.
async fn start(url: &str, data_dir: &Path, files: &str, port: u16) -> Child {
    start_with(url, data_dir, port, &["--files", files]).await
}

/// Starts `danvan serve` with more arguments and waits until it answers /readyz.
async fn start_with(url: &str, data_dir: &Path, port: u16, more: &[&str]) -> Child {
    support::serve(url, data_dir, port, more, &[]).await
}

/// A GET with a bearer token, its answer as JSON.
async fn get_json(client: &reqwest::Client, url: &str, auth: &str) -> Value {
    client.get(url).header("authorization", auth).send().await.unwrap().json().await.unwrap()
}

/// A multipart body with the fields and one file.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "danvan-crash-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/pdf\r\n\r\n",
            file.0
        )
        .bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// What the writers were told was written.
#[derive(Default)]
struct Acked {
    /// By commune: the versions and numerators of the review saves acknowledged.
    reviews: BTreeMap<String, Vec<(i64, i64)>>,
    activities: Vec<i64>,
    /// Evidence ids with the SHA-256 of their bytes.
    evidence: Vec<(i64, String)>,
    feedback: Vec<String>,
}

/// One writer: `kind` 0 saves reviews, 1 plans activities, 2 uploads evidence, 3 sends
/// citizens' feedback; each on its own communes, until the server stops answering.
async fn writer(
    base: String,
    token: String,
    kind: usize,
    communes: Vec<String>,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
    seq: u64,
) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let auth = format!("Bearer {token}");
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let code = &communes[n as usize % communes.len()];
        let review = format!("{base}/api/v1/schemes/{SCHEME}/units/{code}/reviews/2018");
        let sent = match kind {
            0 | 2 => {
                let current = client.get(&review).header("authorization", &auth).send().await;
                let Ok(current) = current else { break };
                let Ok(current) = current.json::<Value>().await else { break };
                let version = current["version"].as_i64().unwrap_or(0);
                let numerator = (seq as i64 * 1000 + n) % 1000;
                let body = json!({"version": version, "values": {"2.1": {"numerator": numerator, "denominator": 1000, "note": null}}});
                let res = client.put(&review).header("authorization", &auth).json(&body).send().await;
                let Ok(res) = res else { break };
                if res.status().is_success() {
                    let Ok(saved) = res.json::<Value>().await else { break };
                    let v = saved["version"].as_i64().unwrap_or(-1);
                    acked.lock().unwrap().reviews.entry(code.clone()).or_default().push((v, numerator));
                }
                if kind == 2 {
                    let bytes = format!("%PDF-1.4\n% minh chứng {seq}-{n}-{code}\n%%EOF\n").into_bytes();
                    let (ct, body) = multipart(&[("target", "2.1")], ("bien-ban.pdf", &bytes));
                    let res = client
                        .post(format!("{review}/evidence"))
                        .header("authorization", &auth)
                        .header("content-type", ct)
                        .body(body)
                        .send()
                        .await;
                    let Ok(res) = res else { break };
                    if res.status().as_u16() == 201 {
                        let Ok(ev) = res.json::<Value>().await else { break };
                        let sha = danvan_store::files::sha256_hex(&bytes);
                        acked.lock().unwrap().evidence.push((ev["id"].as_i64().unwrap(), sha));
                    }
                }
                Ok(())
            }
            1 => {
                let body = json!({"version": null, "title": format!("Vận động {seq}-{n}"), "description": "Mô tả",
                    "targets": ["1.1"], "lead_org": "UBMTTQ", "supporting_orgs": [], "responsible": "Ông A",
                    "start": "2018-02-01", "due": "2018-11-30"});
                let res = client
                    .post(format!("{base}/api/v1/schemes/{SCHEME}/units/{code}/plan/2018"))
                    .header("authorization", &auth)
                    .json(&body)
                    .send()
                    .await;
                match res {
                    Ok(res) if res.status().is_success() => match res.json::<Value>().await {
                        Ok(a) => {
                            acked.lock().unwrap().activities.push(a["id"].as_i64().unwrap());
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            _ => {
                let body = json!({"unit": code, "name": "Trần Thị B", "phone": "0912345678", "email": null,
                    "hamlet": "Ấp Một", "category": "Khác", "content": format!("Đường ngập {seq}-{n}")});
                let res = client.post(format!("{base}/api/v1/public/feedback")).json(&body).send().await;
                match res {
                    Ok(res) if res.status().as_u16() == 201 => match res.json::<Value>().await {
                        Ok(f) => {
                            acked.lock().unwrap().feedback.push(f["code"].as_str().unwrap_or("").to_string());
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    // Throttled (one address sends them all): nothing was written.
                    Ok(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if sent.is_err() {
            break;
        }
    }
}

/// Five cycles of: start, 16 writers for a moment, SIGKILL. Then every acknowledged write is
/// in the database, which is intact.
async fn acknowledged_writes_survive_kill_9(url: &str, files: &str) {
    let dir = tempfile_dir();
    let (token, communes) = prepare(url).await;
    let acked = Arc::new(Mutex::new(Acked::default()));
    for cycle in 0..5u64 {
        let port = support::free_port();
        let mut child = start(url, &dir, files, port).await;
        let base = format!("http://127.0.0.1:{port}");
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..16usize {
            // Each writer has its own communes, so that no two race for one review's version.
            let mine: Vec<String> = communes.iter().skip(w).step_by(16).cloned().collect();
            let kind = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3][w];
            writers.push(tokio::spawn(writer(
                base.clone(),
                token.clone(),
                kind,
                mine,
                acked.clone(),
                stop.clone(),
                cycle * 100 + w as u64,
            )));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let store = Store::open(url).await.unwrap();
    assert_eq!(store.check_integrity().await.unwrap(), Vec::<String>::new(), "the database is intact");
    let scheme = store.scheme(SCHEME).await.unwrap().unwrap();
    let saves: usize = acked.reviews.values().map(Vec::len).sum();
    assert!(
        saves > 50 && acked.activities.len() > 20 && acked.evidence.len() > 20,
        "writes were made: {saves} review saves, {} activities, {} files",
        acked.activities.len(),
        acked.evidence.len()
    );
    for (code, saved) in &acked.reviews {
        let unit =
            store.unit_by_code(code, chrono::NaiveDate::from_ymd_opt(2019, 1, 1)).await.unwrap().unwrap();
        let review =
            store.review(scheme.id, unit.id, "2018").await.unwrap().expect("an acknowledged review exists");
        let &(last_version, last_numerator) = saved.iter().max().unwrap();
        assert!(
            review.version >= last_version,
            "{code}: version {} after acknowledged {last_version}",
            review.version
        );
        if review.version == last_version {
            let value = review.values.get("2.1").and_then(|e| e.value.clone());
            assert_eq!(
                value,
                Some(danvan_domain::value::Value::Ratio {
                    numerator: danvan_domain::value::Milli(last_numerator * 1000),
                    denominator: danvan_domain::value::Milli(1_000_000)
                }),
                "{code}"
            );
        }
    }
    for id in &acked.activities {
        assert!(store.activity(*id).await.unwrap().is_some(), "activity {id} was acknowledged");
    }
    let kept = FileStore::from_setting(files, dir.join("files"), &store).unwrap();
    for (id, sha) in &acked.evidence {
        let ev =
            store.evidence(*id).await.unwrap().unwrap_or_else(|| panic!("evidence {id} was acknowledged"));
        assert_eq!(&ev.sha256, sha);
        let bytes = kept.get(sha).await.unwrap().unwrap_or_else(|| panic!("the bytes of evidence {id}"));
        assert_eq!(&danvan_store::files::sha256_hex(&bytes), sha);
    }
    for code in &acked.feedback {
        assert!(store.feedback_by_code(code).await.unwrap().is_some(), "feedback {code} was acknowledged");
    }
    eprintln!(
        "kill -9 × 5 on {files}: {saves} review saves, {} activities, {} files, {} feedback acknowledged, none lost",
        acked.activities.len(),
        acked.evidence.len(),
        acked.feedback.len()
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_to_kill_9_on_sqlite() {
    let dir = tempfile_dir();
    acknowledged_writes_survive_kill_9(&format!("sqlite://{}", dir.join("crash.db").display()), "dir").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_to_kill_9_on_postgres() {
    let Some(server) = pg_server() else { return };
    let db = TestDb::create(&server).await;
    acknowledged_writes_survive_kill_9(&db.url, "database").await;
    db.drop_db().await;
}

/// SIGTERM: the server stops accepting, finishes, checkpoints the write-ahead log and exits 0.
#[tokio::test]
async fn sigterm_stops_the_server_gracefully_and_checkpoints_the_log() {
    let dir = tempfile_dir();
    let db = dir.join("graceful.db");
    let url = format!("sqlite://{}", db.display());
    let (token, communes) = prepare(&url).await;
    let port = support::free_port();
    let child = start(&url, &dir, "dir", port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let review = format!("{base}/api/v1/schemes/{SCHEME}/units/{}/reviews/2018", communes[0]);
    let body = json!({"version": 0, "values": {"2.1": {"numerator": 7, "denominator": 10, "note": null}}});
    let res = client
        .put(&review)
        .header("authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    assert!(wal.metadata().is_ok_and(|m| m.len() > 0), "the write sits in the write-ahead log");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a graceful stop exits 0");
    assert!(wal.metadata().map(|m| m.len()).unwrap_or(0) == 0, "the write-ahead log was checkpointed");
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "it no longer accepts");
    let store = Store::open(&url).await.unwrap();
    let scheme = store.scheme(SCHEME).await.unwrap().unwrap();
    let unit =
        store.unit_by_code(&communes[0], chrono::NaiveDate::from_ymd_opt(2019, 1, 1)).await.unwrap().unwrap();
    assert!(store.review(scheme.id, unit.id, "2018").await.unwrap().is_some());
    store.close().await;
}

/// Two servers on one PostgreSQL database, files in the database: a file uploaded through one
/// downloads through the other, an approval through one shows at once on the other's
/// dashboard, a session made on one works on the other, and failed logins count across both.
#[tokio::test]
async fn two_servers_on_one_postgres_database_share_everything() {
    let Some(server) = pg_server() else { return };
    let db = TestDb::create(&server).await;
    let (token, communes) = prepare(&db.url).await;
    let (dir_a, dir_b) = (tempfile_dir(), tempfile_dir());
    let (pa, pb) = (support::free_port(), support::free_port());
    let mut a = start(&db.url, &dir_a, "database", pa).await;
    let mut b = start(&db.url, &dir_b, "database", pb).await;
    let (base_a, base_b) = (format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}"));
    let client = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let code = &communes[4];
    let review = |base: &str| format!("{base}/api/v1/schemes/{SCHEME}/units/{code}/reviews/2018");
    let submitted = &communes[3];
    let to_approve = format!("{base_a}/api/v1/schemes/{SCHEME}/units/{submitted}/reviews/2018");
    {
        // A review waiting for approval (as a commune would have sent it).
        let store = Store::open(&db.url).await.unwrap();
        let scheme = store.scheme(SCHEME).await.unwrap().unwrap();
        let unit = store
            .unit_by_code(submitted, chrono::NaiveDate::from_ymd_opt(2019, 1, 1))
            .await
            .unwrap()
            .unwrap();
        let value = danvan_domain::value::Value::Ratio {
            numerator: danvan_domain::value::Milli(90_000),
            denominator: danvan_domain::value::Milli(100_000),
        };
        let r = danvan_store::SampleReview {
            unit_id: unit.id,
            period: "2018".into(),
            state: danvan_domain::workflow::State::Submitted,
            late: false,
            values: [("2.1".to_string(), value)].into_iter().collect(),
        };
        store.insert_sample_reviews(&Actor::system("test"), scheme.id, &[r], &mut |_| {}).await.unwrap();
        store.close().await;
    }

    // A file through A, read through B.
    let body = json!({"version": 0, "values": {"2.1": {"numerator": 9, "denominator": 10, "note": null}}});
    let saved: Value = client
        .put(review(&base_a))
        .header("authorization", &auth)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bytes = b"%PDF-1.4\n% bien ban hai may chu\n%%EOF\n".to_vec();
    let (ct, form) = multipart(&[("target", "2.1")], ("bien-ban.pdf", &bytes));
    let up = client
        .post(format!("{}/evidence", review(&base_a)))
        .header("authorization", &auth)
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status().as_u16(), 201);
    let ev: Value = up.json().await.unwrap();
    let href = ev["href"].as_str().unwrap();
    let down = client.get(format!("{base_b}{href}")).header("authorization", &auth).send().await.unwrap();
    assert_eq!(down.status().as_u16(), 200);
    assert_eq!(down.bytes().await.unwrap().to_vec(), bytes, "the bytes uploaded through A, from B");
    assert!(
        !dir_a.join("files").exists() && !dir_b.join("files").exists(),
        "no file on either server's disk"
    );

    // Submitted and approved through A; B's dashboard counts the approval at once.
    let dashboard = |base: &str| format!("{base}/api/v1/schemes/{SCHEME}/units/80/dashboard?period=2018");
    let before = get_json(&client, &dashboard(&base_b), &auth).await;
    assert!(saved["version"].as_i64().unwrap() >= 1);
    let now = get_json(&client, &to_approve, &auth).await;
    assert_eq!(now["status"], "submitted");
    let t = json!({"reason": null, "version": now["version"]});
    let ap = client
        .post(format!("{to_approve}/approve"))
        .header("authorization", &auth)
        .json(&t)
        .send()
        .await
        .unwrap();
    assert!(ap.status().is_success(), "{:?}", ap.text().await);
    let after = get_json(&client, &dashboard(&base_b), &auth).await;
    assert_ne!(before["received"], after["received"], "B sees A's approval: {before} → {after}");
    assert_eq!(after["received"].as_i64().unwrap(), before["received"].as_i64().unwrap() + 1);

    // A session made on A works on B.
    let login = client
        .post(format!("{base_a}/api/v1/auth/login"))
        .json(&json!({"username": "tinh.longan", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success());
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("danvan_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a session cookie");
    let me = client.get(format!("{base_b}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "tinh.longan");

    // Failed logins: three on A and two on B stop the pair on both.
    let wrong = json!({"username": "tinh.longan", "password": "sai mật khẩu"});
    for base in [&base_a, &base_a, &base_a, &base_b, &base_b] {
        let r = client.post(format!("{base}/api/v1/auth/login")).json(&wrong).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let right = json!({"username": "tinh.longan", "password": PASSWORD});
    for base in [&base_a, &base_b] {
        let r = client.post(format!("{base}/api/v1/auth/login")).json(&right).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 429, "five failures across both servers throttle the pair on {base}");
    }
    let _ = a.kill();
    let _ = b.kill();
    let _ = (a.wait(), b.wait());
    db.drop_db().await;
}

/// Issue 18, item 7: `/metrics` needs an admin on the main address, and answers without sign-in
/// on `metrics_bind`, where nothing else is served.
#[tokio::test]
async fn metrics_answer_on_their_own_address_and_only_to_admins_on_the_main_one() {
    let dir = tempfile_dir();
    let url = format!("sqlite://{}", dir.join("metrics.db").display());
    let (token, _) = prepare(&url).await;
    let (port, metrics_port) = (support::free_port(), support::free_port());
    let config = dir.join("danvan.toml");
    std::fs::write(&config, format!("metrics_bind = \"127.0.0.1:{metrics_port}\"\nlog_format = \"json\"\n"))
        .unwrap();
    let mut child = start_with(&url, &dir, port, &["--config", config.to_str().unwrap()]).await;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let open = client.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(open.status().as_u16(), 200);
    let text = open.text().await.unwrap();
    assert!(
        text.contains("danvan_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"2xx\"}"),
        "{text}"
    );
    assert!(text.contains("danvan_database_ready 1"));
    let other = client.get(format!("http://127.0.0.1:{metrics_port}/")).send().await.unwrap();
    assert_eq!(other.status().as_u16(), 404, "only /metrics on that address");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let anonymous = no_redirect.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 303, "a visitor is sent to sign in");
    assert!(anonymous.headers()["location"].to_str().unwrap().starts_with("/login"));
    // The province's token is no admin's.
    let province = client
        .get(format!("{base}/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(province.status().as_u16(), 403);
    let _ = child.kill();
    let _ = child.wait();
}
