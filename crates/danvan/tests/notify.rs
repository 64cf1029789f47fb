//! Issue 19 from the outside: a scripted month of a commune and its district, driven by
//! `danvan notify run --now …` (a new process each time, so each run is a restart), against a
//! real SMTP server (aiosmtpd) and a webhook receiver started by the test: the exact emails
//! arrive, once each, the first one after a refused try; each event reaches the province's
//! webhook once, signed. On SQLite and on PostgreSQL. Then two `danvan serve` processes on one
//! PostgreSQL database send each reminder once.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use danvan_domain::access::Role;
use danvan_domain::units::parse_unit_list;
use danvan_domain::workflow::Transition;
use danvan_store::testing::{execute, pg_server, strict, tempfile_dir, TestDb};
use danvan_store::{Actor, NewUser, NotifySettings, Store};
use serde_json::Value;

mod support;

const SCHEME: &str = "LA-KDV-2017-2020";
const COMMUNE_MAIL: &str = "tt.haunghia@example.vn";
const DISTRICT_MAIL: &str = "huyen.duchoa@example.vn";
const SECRET: &str = "khóa-ký-webhook-thử";

/// Debian's Python with aiosmtpd (`apt-get install python3-aiosmtpd`), or none (skipped, except
/// in strict mode where it fails).
fn python_with_aiosmtpd() -> Option<&'static str> {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some("/usr/bin/python3");
    }
    if strict() {
        panic!("python3-aiosmtpd is missing, and strict mode forbids skipping the SMTP tests");
    }
    eprintln!("note: /usr/bin/python3 with aiosmtpd is missing; the SMTP test is skipped");
    None
}

/// The mail and webhook sink: its process, its SMTP port, its webhook port.
struct Sink {
    child: Child,
    dir: PathBuf,
    smtp: u16,
    hook: u16,
}

impl Sink {
    fn start(python: &str, fail_first: u32) -> Sink {
        let dir = tempfile_dir();
        let mut child = Command::new(python)
            .arg(support::root().join("crates/danvan/tests/support/mailsink.py"))
            .arg(&dir)
            .args(["--fail-first", &fail_first.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mail sink");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.first(), Some(&"READY"), "mail sink: {line}");
        Sink { child, dir, smtp: parts[1].parse().unwrap(), hook: parts[2].parse().unwrap() }
    }

    /// What was received of one kind (`mail` or `hook`), in order.
    fn received(&self, kind: &str) -> Vec<Value> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(&format!("{kind}-")) && n.ends_with(".json"))
            .collect();
        names.sort_by_key(|n| n.trim_start_matches(|c: char| !c.is_ascii_digit()).to_string());
        names
            .iter()
            .map(|n| serde_json::from_str(&std::fs::read_to_string(self.dir.join(n)).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration file of the runs: email through the sink without TLS, the webhook of
/// Long An (80), links on the province's address.
fn config(dir: &Path, sink: &Sink) -> PathBuf {
    let path = dir.join("danvan.toml");
    std::fs::write(
        &path,
        format!(
            "public_url = \"https://danvan.longan.gov.vn\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\n\
             smtp_tls = \"none\"\nmail_from = \"danvan <danvan@longan.gov.vn>\"\n\n[webhooks]\n\"80\" = \"http://127.0.0.1:{}/hook\"\n",
            sink.smtp, sink.hook
        ),
    )
    .unwrap();
    path
}

/// Long An's units, the sample scheme, a commune user and a district user with their email
/// settings: the commune takes a daily digest and returns at once, the district a daily digest.
async fn prepare(url: &str) -> (i64, i64) {
    let (store, _) = support::long_an(url).await;
    let actor = Actor::system("test");
    let on = chrono::NaiveDate::from_ymd_opt(2019, 1, 1);
    let commune = store.unit_by_code("27931", on).await.unwrap().unwrap();
    let district = store.unit_by_code("802", on).await.unwrap().unwrap();
    let mut ids = Vec::new();
    for (name, role, unit, email, immediate) in [
        ("tt.haunghia", Role::Commune, commune.id, COMMUNE_MAIL, vec!["returned".to_string()]),
        ("huyen.duchoa", Role::District, district.id, DISTRICT_MAIL, vec![]),
    ] {
        let user = store
            .create_user(
                &actor,
                &NewUser {
                    username: name.into(),
                    display_name: name.into(),
                    password_hash: "x".into(),
                    role,
                    scope_unit_id: Some(unit),
                },
            )
            .await
            .unwrap();
        let settings = NotifySettings {
            email: email.into(),
            delivery: "daily".into(),
            immediate_kinds: immediate,
            muted_kinds: vec![],
        };
        store.set_notify_settings(&actor, user.id, &settings).await.unwrap();
        ids.push(user.id);
    }
    let scheme = store.scheme(SCHEME).await.unwrap().unwrap().id;
    store.close().await;
    (scheme, commune.id)
}

/// `danvan notify run --now AT` (Vietnam time); its printed report.
fn notify(url: &str, config: &Path, at: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(["--database-url", url, "--config"])
        .arg(config)
        .args(["notify", "run", "--now", at])
        .env("DANVAN_WEBHOOK_SECRET", SECRET)
        .env("DANVAN_LOG", "error")
        .output()
        .expect("run danvan notify");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "notify run at {at}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Sets when a review was submitted (the workflow stamps the real clock; the month is scripted).
async fn submitted_on(store: &Store, review: i64, at_utc: &str) {
    let n = execute(store, &format!("UPDATE reviews SET submitted_at = '{at_utc}' WHERE id = {review}"))
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn scripted_month(url: &str, python: &str) {
    let dir = tempfile_dir();
    let sink = Sink::start(python, 1);
    let cfg = config(&dir, &sink);
    let (scheme, commune) = prepare(url).await;
    let store = Store::open(url).await.unwrap();
    let commune_actor = Actor::system("tt.haunghia");
    let district_actor = Actor::system("huyen.duchoa");
    let mut review = 0;
    for day in 8..=31 {
        let at = format!("2019-01-{day:02}T07:30");
        if day == 17 {
            // The SMTP server says "try later" to the first of the day's two digests: the other
            // is not tried in the same run (no run waits out a server in trouble) and both go
            // the next day, the one not tried first.
            std::fs::write(sink.dir.join("fail-next"), "1").unwrap();
        }
        let report = notify(url, &cfg, &at);
        if day == 17 {
            // The webhook call of the day went (another server); one email failed, one waits.
            assert!(report.contains("Đã gửi 1, lỗi 1"), "{report}");
        }
        if day == 16 {
            // A restart in the middle: the same moment again makes and sends nothing.
            let again = notify(url, &cfg, &at);
            assert!(again.contains("Đã tạo 0 thông báo"), "{again}");
            assert!(again.contains("Đã xếp gửi 0 thư"), "{again}");
            assert!(again.contains("Đã gửi 0, lỗi 0"), "{again}");
        }
        if day == 9 {
            // The SMTP server refuses the first message: kept for a retry, not lost.
            assert!(report.contains("lỗi 1"), "{report}");
        }
        match day {
            18 => {
                // The commune sends its review at 09:00 (02:00 UTC): the late reminders stop.
                let r = store.create_review(&commune_actor, scheme, commune, "2018").await.unwrap();
                store
                    .transition_review(&commune_actor, r.id, None, Transition::Submit, None, true)
                    .await
                    .unwrap();
                submitted_on(&store, r.id, "2019-01-18T02:00:00+00:00").await;
                review = r.id;
            }
            24 => {
                // The district returns it at 10:00 with a reason: told at once.
                store
                    .transition_review(
                        &district_actor,
                        review,
                        None,
                        Transition::Return,
                        Some("2.1: thiếu danh sách hộ"),
                        false,
                    )
                    .await
                    .unwrap();
                let report = notify(url, &cfg, "2019-01-24T10:05");
                assert!(report.contains("Đã tạo 1 thông báo"), "{report}");
                let again = notify(url, &cfg, "2019-01-24T10:06");
                assert!(again.contains("Đã tạo 0 thông báo") && again.contains("Đã gửi 0"), "{again}");
                // The commune works on the returned draft (each save a new version): told once.
                let r = store.review_by_id(review).await.unwrap().unwrap();
                store
                    .save_review(
                        &commune_actor,
                        review,
                        r.version,
                        &r.values,
                        &danvan_store::Narrative::default(),
                    )
                    .await
                    .unwrap();
                let after_save = notify(url, &cfg, "2019-01-24T11:05");
                assert!(after_save.contains("Đã tạo 0 thông báo"), "a save is no new return: {after_save}");
            }
            25 => {
                store
                    .transition_review(&commune_actor, review, None, Transition::Submit, None, true)
                    .await
                    .unwrap();
                submitted_on(&store, review, "2019-01-25T02:00:00+00:00").await;
                let report = notify(url, &cfg, "2019-01-25T09:05");
                assert!(report.contains("Đã tạo 0 thông báo"), "{report}");
            }
            28 => {
                store
                    .transition_review(&district_actor, review, None, Transition::Approve, None, false)
                    .await
                    .unwrap();
                notify(url, &cfg, "2019-01-28T10:05");
            }
            _ => {}
        }
    }
    let mails = sink.received("mail");
    let got: Vec<(String, String)> = mails
        .iter()
        .map(|m| {
            (m["envelope_to"][0].as_str().unwrap().to_string(), m["subject"].as_str().unwrap().to_string())
        })
        .collect();
    let c = |s: &str| (COMMUNE_MAIL.to_string(), s.to_string());
    let d = |s: &str| (DISTRICT_MAIL.to_string(), s.to_string());
    let expected = vec![
        c("danvan: 1 thông báo ngày 09/01/2019"),
        c("danvan: 1 thông báo ngày 10/01/2019"),
        c("danvan: 1 thông báo ngày 15/01/2019"),
        c("danvan: 1 thông báo ngày 16/01/2019"),
        d("danvan: 1 thông báo ngày 17/01/2019"),
        c("danvan: 1 thông báo ngày 17/01/2019"),
        c("danvan: 1 thông báo ngày 18/01/2019"),
        d("danvan: 1 thông báo ngày 22/01/2019"),
        c("danvan: 1 thông báo ngày 24/01/2019"),
        d("danvan: 1 thông báo ngày 24/01/2019"),
        c("Bản rà soát kỳ 2018 bị trả lại (LA-KDV-2017-2020)"),
        c("danvan: 1 thông báo ngày 29/01/2019"),
        d("danvan: 1 thông báo ngày 29/01/2019"),
    ];
    assert_eq!(got, expected, "the month's emails, in order, each once");
    let text = |i: usize| mails[i]["text"].as_str().unwrap().to_string();
    // The first digest: the review due in a week, with its link on the public address.
    assert!(text(0).contains("Rà soát kỳ 2018 (LA-KDV-2017-2020)"), "{}", text(0));
    assert!(text(0).contains("Hạn 15/01/2019 (còn 7 ngày)"), "{}", text(0));
    assert!(
        text(0).contains("https://danvan.longan.gov.vn/schemes/LA-KDV-2017-2020/units/27931/reviews/2018"),
        "{}",
        text(0)
    );
    assert!(text(1).contains("Kế hoạch năm 2019") && text(1).contains("Hạn 16/01/2019 (còn 7 ngày)"));
    assert!(text(5).contains("Quá hạn 1 ngày (hạn 15/01/2019)"), "{}", text(5));
    // The district's Wednesday notice: all 20 of Đức Hòa's communes late; the Monday after,
    // the 19 that still are once Hậu Nghĩa sent its review.
    assert!(text(4).contains("20/20 đơn vị chưa gửi rà soát kỳ 2018"), "{}", text(4));
    assert!(text(7).contains("19/20 đơn vị chưa gửi rà soát kỳ 2018"), "{}", text(7));
    assert!(text(9).contains("Bản rà soát kỳ 2018 của Thị trấn Hậu Nghĩa chờ duyệt 5 ngày"), "{}", text(9));
    // The return, at once, with the reason, and a one-click unsubscribe from returns.
    let returned = &mails[10];
    assert!(text(10).contains("Lý do: 2.1: thiếu danh sách hộ"), "{}", text(10));
    assert!(returned["html"].as_str().unwrap().contains("Lý do: 2.1: thiếu danh sách hộ"));
    let unsubscribe = returned["list_unsubscribe"].as_str().unwrap();
    assert!(unsubscribe.starts_with("<https://danvan.longan.gov.vn/thong-bao/huy?u="), "{unsubscribe}");
    assert!(unsubscribe.contains("&k=returned&t="), "{unsubscribe}");
    assert_eq!(returned["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert_eq!(returned["from"], "danvan <danvan@longan.gov.vn>");
    assert!(text(11).contains("Bản rà soát kỳ 2018 đã được duyệt"), "{}", text(11));
    // Every event once to the province's webhook, signed with its secret.
    let hooks = sink.received("hook");
    let mut keys: Vec<String> =
        hooks.iter().map(|h| h["headers"]["x-danvan-delivery"].as_str().unwrap().to_string()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "no event twice: {keys:?}");
    assert_eq!(n, 13, "9 for the commune, 4 for the district: {keys:?}");
    for h in &hooks {
        let body = h["body"].as_str().unwrap();
        let signature = h["headers"]["x-danvan-signature"].as_str().unwrap();
        assert_eq!(signature, format!("sha256={}", danvan_web::notices::send::sign(SECRET, body.as_bytes())));
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["province"], "80");
        assert!(event["url"].as_str().unwrap().starts_with("https://danvan.longan.gov.vn/"));
    }
    assert!(hooks.iter().any(|h| h["body"].as_str().unwrap().contains("\"event\":\"returned\"")));
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_month_sends_the_exact_emails_and_webhook_calls_once_on_both_databases() {
    let Some(python) = python_with_aiosmtpd() else { return };
    let dir = tempfile_dir();
    let url = format!("sqlite://{}", dir.join("month.db").display());
    scripted_month(&url, python).await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(server) = pg_server() {
        let db = TestDb::create(&server).await;
        let outcome = tokio::spawn({
            let url = db.url.clone();
            async move { scripted_month(&url, python).await }
        })
        .await;
        db.drop_db().await;
        if let Err(e) = outcome {
            eprintln!("(the failure above is on PostgreSQL)");
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Starts `danvan serve` with the configuration (files in the database) and the webhook's secret.
async fn serve(url: &str, config: &Path, data_dir: &Path, port: u16) -> Child {
    let config = config.to_str().unwrap();
    support::serve(
        url,
        data_dir,
        port,
        &["--files", "database", "--config", config],
        &[("DANVAN_WEBHOOK_SECRET", SECRET)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_postgresql_database_send_each_reminder_once() {
    let Some(python) = python_with_aiosmtpd() else { return };
    let Some(server) = pg_server() else { return };
    let db = TestDb::create(&server).await;
    let url = db.url.clone();
    let outcome = tokio::spawn(async move {
        let dir = tempfile_dir();
        let sink = Sink::start(python, 0);
        let cfg = config(&dir, &sink);
        // Today's Tây Ninh (code 80 since the reform) and its Xã Hậu Nghĩa, whose user takes
        // every notice at once; six pieces of citizens' feedback due tomorrow.
        let store = Store::open(&url).await.unwrap();
        let actor = Actor::system("test");
        let units = std::fs::read(support::root().join("data/units-2025-two-level.csv")).unwrap();
        store.import_units(&actor, &parse_unit_list(&units, Some("80")).unwrap(), &mut |_| {}).await.unwrap();
        let today = chrono::Utc::now().with_timezone(&danvan_domain::period::VIETNAM).date_naive();
        let commune = store.unit_by_code("27931", Some(today)).await.unwrap().unwrap();
        let user = store
            .create_user(
                &actor,
                &NewUser {
                    username: "xa.haunghia".into(),
                    display_name: "Xã Hậu Nghĩa".into(),
                    password_hash: "x".into(),
                    role: Role::Commune,
                    scope_unit_id: Some(commune.id),
                },
            )
            .await
            .unwrap();
        let settings = NotifySettings {
            email: COMMUNE_MAIL.into(),
            delivery: "immediate".into(),
            immediate_kinds: vec![],
            muted_kinds: vec![],
        };
        store.set_notify_settings(&actor, user.id, &settings).await.unwrap();
        for i in 0..6 {
            let input = danvan_domain::feedback::FeedbackInput {
                name: None,
                phone: None,
                email: None,
                hamlet: None,
                category: "Khác".into(),
                content: format!("Ý kiến số {i}"),
            };
            store
                .submit_feedback(commune.id, &format!("PA-TEST-{i:04}"), &input, "h", chrono::Utc::now(), 1)
                .await
                .unwrap();
        }
        // Two servers at once, each sweeping at its start.
        let (a, b) = (support::free_port(), support::free_port());
        let (da, db_dir) = (dir.join("a"), dir.join("b"));
        let (mut one, mut two) = tokio::join!(serve(&url, &cfg, &da, a), serve(&url, &cfg, &db_dir, b));
        for _ in 0..200 {
            if sink.received("mail").len() >= 6 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Time for a second sending, if there were to be one.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let mails = sink.received("mail");
        let mut subjects: Vec<String> =
            mails.iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect();
        subjects.sort();
        let expected: Vec<String> =
            (0..6).map(|i| format!("Ý kiến của người dân PA-TEST-{i:04} cần trả lời")).collect();
        assert_eq!(subjects, expected, "each reminder once, by one of the two servers");
        assert_eq!(sink.received("hook").len(), 6, "each event once to the webhook");
        let notes = store.notifications_of(user.id, 100, 0).await.unwrap();
        assert_eq!(notes.len(), 6);
        assert_eq!(store.delivery_counts().await.unwrap().sent, 12, "6 emails and 6 webhook calls, sent");
        for child in [&mut one, &mut two] {
            let _ = child.kill();
            let _ = child.wait();
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
    db.drop_db().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
