//! `danvan bench`: builds the national dataset in a fresh database (every commune of the 2024
//! list, the sample scheme's targets over the whole country, seeded reviews for 2017-2020),
//! serves it from a separate `danvan serve` process, and measures the full requests of the
//! national, province, district and commune dashboards, the national Excel export, the floor
//! (the same roll-up as one hand-written SQL query), 32 clients saving reviews at once for 10 s,
//! the server's peak memory, and a bounded load with wrk or oha. It prints a table; nothing here asserts on time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use danvan_domain::period::scheme_periods;
use danvan_domain::units::UnitLevel;
use danvan_store::{Actor, NewUser, Store};

/// The scheme the benchmark fills: the sample scheme, over the whole country.
pub const BENCH_SCHEME: &str = "BENCH-VN-2017-2020";

/// The sample scheme's text turned national: its own code, rooted at the country.
pub fn national_scheme(sample: &str) -> anyhow::Result<String> {
    let mut doc: toml_edit::DocumentMut = sample.parse().context("đề án mẫu sai cú pháp TOML")?;
    doc["scheme"]["code"] = toml_edit::value(BENCH_SCHEME);
    doc["scheme"]["root_unit"] = toml_edit::value(danvan_domain::units::COUNTRY_CODE);
    doc["scheme"]["title"] = toml_edit::value("Đề án mẫu toàn quốc để đo hiệu năng");
    Ok(doc.to_string())
}

pub struct Options {
    /// PostgreSQL server to run on (a fresh database is made there); SQLite when absent.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    /// Requests measured per dashboard.
    pub samples: usize,
    pub load_seconds: u64,
    pub connections: u32,
}

/// Percentiles of a list of durations, in milliseconds.
pub struct Timing {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Timing {
    pub fn of(mut list: Vec<Duration>) -> Timing {
        list.sort();
        let at = |q: f64| {
            let i = ((list.len() as f64 * q).ceil() as usize).clamp(1, list.len().max(1)) - 1;
            list.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN)
        };
        Timing { p50: at(0.50), p95: at(0.95), max: at(1.0) }
    }
}

/// The server process under test; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Peak resident memory so far (VmHWM), in MB.
    fn peak_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start_server(url: &str, data_dir: &Path) -> anyhow::Result<Server> {
    let port = free_port()?;
    let exe = std::env::current_exe().context("không tìm được tệp chạy danvan")?;
    let child = Command::new(exe)
        .arg("--database-url")
        .arg(url)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("serve")
        .env("DANVAN_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("không chạy được máy chủ để đo")?;
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success())
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("máy chủ đo không trả lời sau 10 giây")
}

/// Signs in and returns the session cookie.
async fn sign_in(base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await?;
    let cookie = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    cookie.with_context(|| format!("đăng nhập để đo không được (mã {})", res.status()))
}

/// Times `samples` sequential GETs of a page after `warm_up` unmeasured ones; every one must
/// answer 200. Before each, a counter of the benchmark's own is bumped through `bust`, so that
/// the page is computed again, not served from the answers the server keeps.
async fn time_get(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    samples: usize,
    warm_up: usize,
    bust: &Store,
) -> anyhow::Result<(Timing, usize)> {
    time_get_holding(client, url, cookie, samples, warm_up, None, Some(bust)).await
}

/// The page's entity tag, as a browser that has it would send it back.
async fn tag_of(client: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<String> {
    let res = client.get(url).header(reqwest::header::COOKIE, cookie).send().await?;
    let tag = res.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
    tag.with_context(|| format!("{url} không có ETag"))
}

/// As [`time_get`]; with a tag, as a client that holds the page (`If-None-Match`): every answer
/// must then be 304.
async fn time_get_holding(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    samples: usize,
    warm_up: usize,
    tag: Option<&str>,
    bust: Option<&Store>,
) -> anyhow::Result<(Timing, usize)> {
    let mut times = Vec::with_capacity(samples);
    let mut bytes = 0;
    for i in 0..samples + warm_up {
        if let Some(store) = bust {
            store.bump_change_counter("bench").await?;
        }
        let started = Instant::now();
        let mut req = client.get(url).header(reqwest::header::COOKIE, cookie);
        if let Some(t) = tag {
            req = req.header(reqwest::header::IF_NONE_MATCH, t);
        }
        let res = req.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        let took = started.elapsed();
        let expected =
            if tag.is_some() { status == reqwest::StatusCode::NOT_MODIFIED } else { status.is_success() };
        if !expected {
            bail!("{url}: mã {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
        }
        bytes = body.len();
        if i >= warm_up {
            times.push(took);
        }
    }
    Ok((Timing::of(times), bytes))
}

/// What wrk or oha measured.
pub struct Load {
    pub tool: &'static str,
    pub requests_per_second: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

fn has(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// A duration as wrk prints it ("1.23ms", "456.00us", "1.02s") in milliseconds.
pub fn wrk_ms(text: &str) -> Option<f64> {
    let (num, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    num.parse::<f64>().ok().map(|v| v * factor)
}

/// Reads wrk's `--latency` report.
pub fn parse_wrk(out: &str) -> Option<Load> {
    let mut load = Load { tool: "wrk", requests_per_second: f64::NAN, p99_ms: f64::NAN, errors: 0 };
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            load.requests_per_second = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("99%") {
            load.p99_ms = wrk_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += v.trim().parse::<u64>().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            load.errors +=
                v.split(',').filter_map(|p| p.split_whitespace().nth(1)?.parse::<u64>().ok()).sum::<u64>();
        }
    }
    load.requests_per_second.is_finite().then_some(load)
}

fn run_load(
    url: &str,
    cookie: &str,
    seconds: u64,
    connections: u32,
    tag: Option<&str>,
) -> anyhow::Result<Option<Load>> {
    let header = format!("Cookie: {cookie}");
    let holding = tag.map(|t| format!("If-None-Match: {t}"));
    if has("wrk") {
        let mut args = vec![
            "-t2".to_string(),
            format!("-c{connections}"),
            format!("-d{seconds}s"),
            "--latency".into(),
            "-H".into(),
            header.clone(),
        ];
        if let Some(h) = &holding {
            args.extend(["-H".to_string(), h.clone()]);
        }
        args.push(url.to_string());
        let out = Command::new("wrk").args(&args).output().context("wrk không chạy được")?;
        let text = String::from_utf8_lossy(&out.stdout);
        return parse_wrk(&text)
            .map(Some)
            .with_context(|| format!("không đọc được kết quả của wrk:\n{text}"));
    }
    if has("oha") {
        let out = Command::new("oha")
            .args([
                "-c",
                &connections.to_string(),
                "-z",
                &format!("{seconds}s"),
                "--no-tui",
                "--json",
                "-H",
                &header,
                "-H",
                holding.as_deref().unwrap_or("X-Bench: 1"),
                url,
            ])
            .output()
            .context("oha không chạy được")?;
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("không đọc được kết quả của oha")?;
        let expected = if tag.is_some() { "304" } else { "200" };
        let ok = v["statusCodeDistribution"][expected].as_u64().unwrap_or(0);
        let all: u64 = v["statusCodeDistribution"]
            .as_object()
            .map(|m| m.values().filter_map(|x| x.as_u64()).sum())
            .unwrap_or(0);
        let failed: u64 = v["errorDistribution"]
            .as_object()
            .map(|m| m.values().filter_map(|x| x.as_u64()).sum())
            .unwrap_or(0);
        return Ok(Some(Load {
            tool: "oha",
            requests_per_second: v["summary"]["requestsPerSec"].as_f64().unwrap_or(f64::NAN),
            p99_ms: v["latencyPercentiles"]["p99"].as_f64().unwrap_or(f64::NAN) * 1000.0,
            errors: all - ok + failed,
        }));
    }
    Ok(None)
}

/// The unit of a list with most communes, and how many.
async fn biggest(
    store: &Store,
    units: Vec<danvan_domain::units::Unit>,
    on: chrono::NaiveDate,
) -> anyhow::Result<(usize, danvan_domain::units::Unit)> {
    let mut best: Option<(usize, danvan_domain::units::Unit)> = None;
    for u in units {
        let n = store.units_within(u.id, UnitLevel::Commune, on).await?.len();
        if best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, u));
        }
    }
    best.context("không có đơn vị")
}

/// One line of the printed table.
struct Line {
    what: String,
    p50: String,
    p95: String,
    budget: Option<(f64, f64)>,
}

/// The reminders at the scale of the country: an account for every commune, district and
/// province of 2019, then one whole sweep (what `serve` runs hourly) and one of the decisions
/// alone (what it runs every minute), on 20 January 2019: the first sweep makes the notices,
/// the second is the steady hourly one; the decisions' run is dry.
async fn time_reminders(url: &str, actor: &Actor) -> anyhow::Result<Vec<Line>> {
    use danvan_web::notices::{run_once, Reach};
    let store = Store::open(url).await?;
    let day = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).context("ngày")?;
    let units: Vec<_> =
        store.units_on(day).await?.into_iter().filter(|u| u.level != UnitLevel::Hamlet).collect();
    let bar = crate::progress_bar(units.len(), "Tài khoản nhắc việc");
    for (i, u) in units.iter().enumerate() {
        let role = match u.level {
            UnitLevel::Province => danvan_domain::access::Role::Province,
            UnitLevel::District => danvan_domain::access::Role::District,
            _ => danvan_domain::access::Role::Commune,
        };
        let new = NewUser {
            username: format!("nv{}", u.id),
            display_name: u.name.clone(),
            password_hash: "x".into(),
            role,
            scope_unit_id: Some(u.id),
        };
        store.create_user(actor, &new).await?;
        bar.set_position(i as u64 + 1);
    }
    bar.finish_and_clear();
    let state = danvan_web::AppState::new(store.clone());
    let at = chrono::DateTime::parse_from_rfc3339("2019-01-20T01:00:00Z")?.with_timezone(&chrono::Utc);
    // The first sweep makes every notice due; the next, as every hour after, finds them made.
    let t = Instant::now();
    let full = run_once(&state, at, Reach::All, false).await?;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    run_once(&state, at, Reach::All, false).await?;
    let full_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let decisions = run_once(&state, at, Reach::Decisions, true).await?;
    let decisions_ms = t.elapsed().as_secs_f64() * 1000.0;
    store.close().await;
    Ok(vec![
        Line {
            what: format!(
                "Nhắc việc, lượt đầy đủ đầu tiên: {} tài khoản, tạo {} thông báo",
                units.len(),
                full.made.len()
            ),
            p50: ms(first_ms),
            p95: String::new(),
            budget: None,
        },
        Line {
            what: "Nhắc việc, lượt đầy đủ mỗi giờ sau đó (đã tạo cả)".into(),
            p50: ms(full_ms),
            p95: String::new(),
            budget: None,
        },
        Line {
            // The generator stamps every decision with today's clock, so on 20 January 2019 all
            // of them look just made: the worst case of a minute's run.
            what: format!(
                "Nhắc việc, lượt quyết định (mỗi phút), xấu nhất — mọi quyết định vừa mới: {} thông báo",
                decisions.made.len()
            ),
            p50: ms(decisions_ms),
            p95: String::new(),
            budget: None,
        },
    ])
}

fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

/// The official lists the benchmark loads: 2024, 2025, and the reform map between them.
pub struct Lists<'a> {
    pub units_2024: &'a [u8],
    pub units_2025: &'a [u8],
    pub reform_map: &'a [u8],
}

/// How many clients write at once, and for how long.
const WRITERS: usize = 32;
const WRITE_SECONDS: u64 = 10;

/// Makes a review editable for each of `n` communes under a unit in a period (creating,
/// returning or reopening it); answers their codes.
async fn editable_reviews(
    store: &Store,
    actor: &Actor,
    scheme: &danvan_store::StoredScheme,
    under: i64,
    period: &danvan_domain::period::Period,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    use danvan_domain::workflow::{State, Transition};
    let ids = store.units_within(under, UnitLevel::Commune, period.end()).await?;
    let mut codes = Vec::new();
    for id in ids.into_iter().take(n) {
        let unit = store.unit(id).await?.context("đơn vị đo không có")?;
        match store.review(scheme.id, id, &period.to_string()).await? {
            None => {
                store.create_review(actor, scheme.id, id, &period.to_string()).await?;
            }
            Some(r) => {
                let step = match r.state {
                    State::Approved => Some((Transition::Reopen, Some("đo ghi đồng thời"))),
                    State::Submitted => Some((Transition::Return, Some("đo ghi đồng thời"))),
                    State::Draft | State::Returned => None,
                };
                if let Some((step, reason)) = step {
                    store.transition_review(actor, r.id, None, step, reason, false).await?;
                }
            }
        }
        codes.push(unit.code);
    }
    if codes.len() < n {
        bail!("chỉ có {} xã để đo ghi đồng thời, cần {n}", codes.len());
    }
    Ok(codes)
}

/// What the concurrent writers did.
struct Written {
    per_second: f64,
    errors: usize,
    timing: Timing,
}

/// One client per code saves that unit's review again and again for [`WRITE_SECONDS`], each
/// save naming the version the last one returned. Any answer but 200 is an error.
async fn concurrent_writes(
    base: &str,
    cookie: &str,
    period: &str,
    codes: &[String],
) -> anyhow::Result<Written> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(WRITE_SECONDS);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for code in codes {
        let url = format!("{base}/api/v1/schemes/{BENCH_SCHEME}/units/{code}/reviews/{period}");
        let (client, cookie) = (client.clone(), cookie.to_string());
        tasks.push(tokio::spawn(async move {
            let current: serde_json::Value =
                client.get(&url).header(reqwest::header::COOKIE, &cookie).send().await?.json().await?;
            let mut version = current["version"].as_i64().unwrap_or(0);
            let (mut times, mut errors, mut n) = (Vec::new(), 0_usize, 0_u64);
            while Instant::now() < deadline {
                n += 1;
                let body = serde_json::json!({
                    "version": version,
                    "narrative": {"results": format!("Lần lưu thứ {n}"), "limitations": "", "next_tasks": ""},
                });
                let sent = Instant::now();
                let res =
                    client.put(&url).header(reqwest::header::COOKIE, &cookie).json(&body).send().await?;
                let status = res.status();
                let answer: serde_json::Value = res.json().await.unwrap_or_default();
                times.push(sent.elapsed());
                match answer["version"].as_i64() {
                    Some(v) if status.is_success() => version = v,
                    _ => errors += 1,
                }
            }
            Ok::<_, anyhow::Error>((times, errors))
        }));
    }
    let (mut times, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (t, e) = task.await??;
        times.extend(t);
        errors += e;
    }
    let per_second = times.len() as f64 / started.elapsed().as_secs_f64();
    Ok(Written { per_second, errors, timing: Timing::of(times) })
}

pub async fn run(opts: Options, lists: Lists<'_>, sample_scheme: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("không tạo được thư mục {}", opts.data_dir.display()))?;
    let (url, pg_name, backend) = match &opts.database_url {
        Some(server) if server.starts_with("postgres") => {
            let (name, url) = danvan_store::bench::create_postgres_database(server).await?;
            (url, Some(name), "PostgreSQL")
        }
        Some(other) => bail!(
            "--database-url của bench phải là postgres://… (SQLite dùng tệp tạm), không phải \"{other}\""
        ),
        None => {
            let db = opts.data_dir.join("bench.db");
            crate::remove_database(&db)?;
            (format!("sqlite://{}", db.display()), None, "SQLite")
        }
    };
    let result = measure(&opts, &url, backend, &lists, sample_scheme).await;
    // The dataset is thrown away: a PostgreSQL database is dropped, an SQLite file removed.
    match (&opts.database_url, &pg_name) {
        (Some(server), Some(name)) => danvan_store::bench::drop_postgres_database(server, name).await?,
        _ => crate::remove_database(&opts.data_dir.join("bench.db"))?,
    }
    result
}

async fn measure(
    opts: &Options,
    url: &str,
    backend: &str,
    lists: &Lists<'_>,
    sample_scheme: &str,
) -> anyhow::Result<()> {
    let store = Store::open(url).await?;
    let actor = Actor::system("bench");
    println!("Đo trên {backend}: dựng dữ liệu toàn quốc…");
    let started = Instant::now();
    // Both hierarchies and the map, as a database that lived through the reform holds them.
    for bytes in [lists.units_2024, lists.units_2025] {
        let list = danvan_domain::units::parse_unit_list(bytes, None)
            .map_err(|p| anyhow::anyhow!("danh sách đơn vị lỗi: {} lỗi", p.len()))?;
        let bar = crate::progress_bar(list.units.len(), "Nhập đơn vị");
        store.import_units(&actor, &list, &mut |n| bar.set_position(n as u64)).await?;
        bar.finish_and_clear();
    }
    let rows = danvan_domain::lineage::parse_reform_map(lists.reform_map)
        .map_err(|p| anyhow::anyhow!("bảng sắp xếp lỗi: {} lỗi", p.len()))?;
    let bar = crate::progress_bar(rows.len(), "Nhập liên kết sắp xếp");
    let reform = danvan_domain::lineage::reform_date();
    store.import_successions(&actor, &rows, reform, None, &mut |n| bar.set_position(n as u64)).await?;
    bar.finish_and_clear();
    let text = national_scheme(sample_scheme)?;
    let def = danvan_domain::scheme::parse_scheme(&text)
        .map_err(|p| anyhow::anyhow!("đề án đo lỗi: {:?}", p.first()))?;
    store.import_scheme(&actor, &def, &text).await?;
    let bar = crate::progress_bar(0, "Bản rà soát mẫu");
    let mut tick = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let reviews =
        danvan::demo::fill_sample(&store, &actor, BENCH_SCHEME, 2017, None, &mut tick).await?.reviews;
    bar.finish_and_clear();
    let generation = started.elapsed();
    let first = scheme_periods(&def).first().map(|p| p.end()).context("đề án không có kỳ")?;
    let communes = store.count_units(UnitLevel::Commune, Some(first)).await?;
    println!(
        "Đã dựng {communes} xã, {reviews} bản rà soát ({} chỉ tiêu mỗi bản) trong {:.1} giây.",
        def.targets.len(),
        generation.as_secs_f64()
    );

    // The units measured: the country, the province with most communes, its district with
    // most communes, and that district's first commune.
    let scheme = store.scheme(BENCH_SCHEME).await?.context("đề án đo không có")?;
    let period = scheme_periods(&scheme.def).last().cloned().context("đề án không có kỳ")?;
    let on = period.end();
    let country = store
        .unit_by_code(danvan_domain::units::COUNTRY_CODE, None)
        .await?
        .context("không có đơn vị Việt Nam")?;
    let mut provinces = store.children(country.id).await?;
    provinces.retain(|p| p.valid_on(on));
    let national = format!("Toàn quốc ({} tỉnh)", provinces.len());
    let (province_n, province) = biggest(&store, provinces, on).await?;
    let (district_n, district) = biggest(&store, store.children(province.id).await?, on).await?;
    let commune = store.children(district.id).await?.into_iter().next().context("huyện không có xã")?;

    let password = danvan::demo::random_password()?;
    let hash = danvan_web::auth::hash_password(password.clone()).await?;
    store
        .create_user(
            &actor,
            &NewUser {
                username: "bench".into(),
                display_name: "Đo hiệu năng".into(),
                password_hash: hash,
                role: danvan_domain::access::Role::Admin,
                scope_unit_id: None,
            },
        )
        .await?;
    let writers = editable_reviews(&store, &actor, &scheme, province.id, &period, WRITERS).await?;
    store.close().await;

    let server = start_server(url, &opts.data_dir).await?;
    let cookie = sign_in(&server.base, "bench", &password).await?;
    let client = reqwest::Client::new();
    let buster = Store::connect(url).await?;
    let page = |code: &str| format!("{}/schemes/{BENCH_SCHEME}/units/{code}?period={period}", server.base);
    let mut lines = Vec::new();
    let mut over = Vec::new();
    let sqlite = backend == "SQLite";
    for (label, unit, n, budget, samples) in [
        (national, &country, communes, 100.0, opts.samples.min(60)),
        (format!("Tỉnh: {}", province.name), &province, province_n, 25.0, opts.samples),
        (format!("Huyện: {}", district.name), &district, district_n, 10.0, opts.samples),
        (format!("Xã: {}", commune.name), &commune, 1, 10.0, opts.samples),
    ] {
        let (t, bytes) = time_get(&client, &page(&unit.code), &cookie, samples, 3, &buster).await?;
        if sqlite && t.p95 > budget {
            over.push(format!("{label}: p95 {} > {budget} ms", ms(t.p95)));
        }
        lines.push(Line {
            what: format!("Bảng theo dõi {label} — {n} xã, {} KB", bytes / 1024),
            p50: ms(t.p50),
            p95: ms(t.p95),
            budget: Some((budget, t.p95)),
        });
        if unit.id == country.id {
            // A browser that already holds the national dashboard asks whether it changed.
            let tag = tag_of(&client, &page(&unit.code), &cookie).await?;
            let (t, _) =
                time_get_holding(&client, &page(&unit.code), &cookie, samples, 3, Some(&tag), None).await?;
            if sqlite && t.p95 > 20.0 {
                over.push(format!("{label}, đã có trong trình duyệt: p95 {} > 20 ms", ms(t.p95)));
            }
            let (kept, _) =
                time_get_holding(&client, &page(&unit.code), &cookie, samples, 3, None, None).await?;
            lines.push(Line {
                what: format!("Bảng theo dõi {label}, không đổi từ lần trước (trả lời máy chủ đã giữ)"),
                p50: ms(kept.p50),
                p95: ms(kept.p95),
                budget: Some((20.0, kept.p95)),
            });
            lines.push(Line {
                what: format!("Bảng theo dõi {label}, trình duyệt đã có (If-None-Match → 304)"),
                p50: ms(t.p50),
                p95: ms(t.p95),
                budget: Some((20.0, t.p95)),
            });
        }
    }
    // Right after an approval the scheme's marks are read again: a review of the commune is
    // reopened, submitted and approved (through the database, as another process would)
    // before each request.
    {
        let store = Store::connect(url).await?;
        let review = store
            .reviews_within(scheme.id, commune.id, Some(danvan_domain::workflow::State::Approved))
            .await?
            .into_iter()
            .next()
            .context("xã đo không có bản rà soát đã duyệt")?;
        let mut times = Vec::new();
        for _ in 0..opts.samples.min(30) {
            use danvan_domain::workflow::Transition;
            for (step, reason) in [
                (Transition::Reopen, Some("đo hiệu năng")),
                (Transition::Submit, None),
                (Transition::Approve, None),
            ] {
                store.transition_review(&actor, review.id, None, step, reason, false).await?;
            }
            let (t, _) = time_get(&client, &page(&country.code), &cookie, 1, 0, &buster).await?;
            times.push(Duration::from_secs_f64(t.p50 / 1000.0));
        }
        store.close().await;
        let t = Timing::of(times);
        if sqlite && t.p95 > 100.0 {
            over.push(format!("Toàn quốc ngay sau một lần duyệt: p95 {} > 100 ms", ms(t.p95)));
        }
        lines.push(Line {
            what: "Bảng theo dõi Toàn quốc ngay sau một lần duyệt (đọc lại dấu đạt)".into(),
            p50: ms(t.p50),
            p95: ms(t.p95),
            budget: Some((100.0, t.p95)),
        });
    }
    // The same history read under today's units: 10,035 communes of then regrouped into the
    // 3,321 of now, provinces of now.
    {
        let url = format!("{}&units={reform}", page(&country.code));
        let (t, bytes) = time_get(&client, &url, &cookie, opts.samples.min(60), 3, &buster).await?;
        if sqlite && t.p95 > 100.0 {
            over.push(format!("Toàn quốc theo đơn vị sau sắp xếp: p95 {} > 100 ms", ms(t.p95)));
        }
        lines.push(Line {
            what: format!("Bảng theo dõi Toàn quốc đọc theo đơn vị sau sắp xếp — {} KB", bytes / 1024),
            p50: ms(t.p50),
            p95: ms(t.p95),
            budget: Some((100.0, t.p95)),
        });
    }
    let xlsx_url =
        format!("{}/schemes/{BENCH_SCHEME}/units/{}/matrix.xlsx?period={period}", server.base, country.code);
    let (x, xbytes) = time_get(&client, &xlsx_url, &cookie, 10, 1, &buster).await?;
    if sqlite && x.max > 3000.0 {
        over.push(format!("Excel toàn quốc: {} > 3000 ms", ms(x.max)));
    }
    lines.push(Line {
        what: format!("Excel toàn quốc ({} KB)", xbytes / 1024),
        p50: ms(x.p50),
        p95: ms(x.p95),
        budget: Some((3000.0, x.max)),
    });

    // Writers: each saves its own review as fast as the server answers, all at once.
    let written = concurrent_writes(&server.base, &cookie, &period.to_string(), &writers).await?;
    if written.errors > 0 {
        over.push(format!("{} lần ghi lỗi khi {WRITERS} người cùng ghi", written.errors));
    }
    lines.push(Line {
        what: format!(
            "Ghi đồng thời (SQLite: WAL, synchronous=FULL): {WRITERS} người × {WRITE_SECONDS} s lưu bản rà soát — {:.0} lần ghi/s, {} lỗi {}",
            written.per_second,
            written.errors,
            if written.errors == 0 { "✓" } else { "✗" }
        ),
        p50: ms(written.timing.p50),
        p95: ms(written.timing.p95),
        budget: None,
    });

    // The floor: the national roll-up as one hand-written query, through the same driver.
    let store = Store::connect(url).await?;
    let mut floor_times = Vec::new();
    let mut floor_lines = 0;
    for i in 0..23 {
        let started = Instant::now();
        let rows = store.floor_rollup(scheme.id, scheme.def.targets.len(), &period.to_string(), on).await?;
        if i >= 3 {
            floor_times.push(started.elapsed());
        }
        floor_lines = rows.len();
    }
    store.close().await;
    let floor = Timing::of(floor_times);
    lines.push(Line {
        what: format!("Sàn: cùng phép tổng hợp toàn quốc bằng một câu SQL ({floor_lines} dòng)"),
        p50: ms(floor.p50),
        p95: ms(floor.p95),
        budget: None,
    });
    let national = lines[0].p50.trim_end_matches(" ms").parse::<f64>().unwrap_or(f64::NAN);
    let ratio = national / floor.p50;
    if sqlite && ratio > 1.5 {
        over.push(format!("tỷ lệ bảng toàn quốc / sàn {ratio:.2} > 1.5"));
    }

    let load_url = page(&district.code);
    let load = run_load(&load_url, &cookie, opts.load_seconds, opts.connections, None)?;
    let tag = tag_of(&client, &load_url, &cookie).await?;
    let held = run_load(&load_url, &cookie, opts.load_seconds, opts.connections, Some(&tag))?;
    let peak = server.peak_mb();
    drop(server);
    lines.extend(time_reminders(url, &actor).await?);
    if let Some(p) = peak {
        if sqlite && p > 100.0 {
            over.push(format!("bộ nhớ đỉnh {p:.0} MB > 100 MB"));
        }
    }
    for l in load.iter().chain(&held) {
        if l.errors > 0 {
            over.push(format!("{} lỗi khi chịu tải", l.errors));
        }
    }
    if let Some(l) = held.as_ref().filter(|l| sqlite && l.requests_per_second < 1500.0) {
        over.push(format!("tải có điều kiện {:.0} yêu cầu/s < 1.500", l.requests_per_second));
    }

    println!();
    println!(
        "| Đo ({backend}, {} lõi) | p50 | p95 | ngân sách (SQLite) |",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("|---|---|---|---|");
    println!(
        "| Dựng dữ liệu: {communes} xã × {} kỳ | {:.1} s | | |",
        scheme_periods(&scheme.def).len(),
        generation.as_secs_f64()
    );
    for l in &lines {
        let budget = match l.budget {
            Some((b, got)) => format!("≤ {b} ms {}", if got <= b { "✓" } else { "✗" }),
            None => String::new(),
        };
        println!("| {} | {} | {} | {budget} |", l.what, l.p50, l.p95);
    }
    println!(
        "| Tỷ lệ bảng toàn quốc / sàn (p50) | {ratio:.2} | | ≤ 1.5 {} |",
        if ratio <= 1.5 { "✓" } else { "✗" }
    );
    match peak {
        Some(p) => println!(
            "| Bộ nhớ đỉnh của tiến trình máy chủ (VmHWM) | {p:.1} MB | | ≤ 100 MB {} |",
            if p <= 100.0 { "✓" } else { "✗" }
        ),
        None => println!("| Bộ nhớ đỉnh | không đọc được /proc | | |"),
    }
    match &load {
        Some(l) => println!(
            "| Tải {} kết nối × {} s ({}) vào bảng huyện không đổi (trả lời đã giữ) | {:.0} yêu cầu/s | p99 {} | {} lỗi {} |",
            opts.connections,
            opts.load_seconds,
            l.tool,
            l.requests_per_second,
            ms(l.p99_ms),
            l.errors,
            if l.errors == 0 { "✓" } else { "✗" }
        ),
        None => println!("| Tải | không có wrk hoặc oha (apt-get install wrk) | | |"),
    }
    if let Some(l) = &held {
        println!(
            "| Tải {} kết nối × {} s ({}) vào bảng huyện, trình duyệt đã có (304) | {:.0} yêu cầu/s | p99 {} | ≥ 1.500/s {} |",
            opts.connections,
            opts.load_seconds,
            l.tool,
            l.requests_per_second,
            ms(l.p99_ms),
            if l.requests_per_second >= 1500.0 && l.errors == 0 { "✓" } else { "✗" }
        );
    }
    println!();
    if !sqlite {
        println!("Ngân sách chỉ áp dụng cho SQLite; trên {backend} bảng trên để so sánh.");
    } else if over.is_empty() {
        println!("Mọi số đo nằm trong ngân sách.");
    } else {
        println!("Vượt ngân sách:");
        for o in &over {
            println!("  - {o}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 20s test @ http://127.0.0.1:8080/x
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    86.12ms   20.01ms 250.00ms   70.00%
  Latency Distribution
     50%   84.00ms
     75%   95.00ms
     90%  110.00ms
     99%    1.02s
  14822 requests in 20.02s, 1.10GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:    740.35
Transfer/sec:     56.20MB
";

    #[test]
    fn wrk_reports_are_read() {
        let load = parse_wrk(WRK).unwrap();
        assert_eq!(load.requests_per_second, 740.35);
        assert_eq!(load.p99_ms, 1020.0);
        assert_eq!(load.errors, 9, "socket errors and non-2xx responses");
        assert!(parse_wrk("nothing here").is_none());
        assert_eq!(wrk_ms("456.00us"), Some(0.456));
        assert_eq!(wrk_ms("1.5ms"), Some(1.5));
        assert_eq!(wrk_ms("x"), None);
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let list: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let t = Timing::of(list);
        assert_eq!((t.p50, t.p95, t.max), (50.0, 95.0, 100.0));
        let one = Timing::of(vec![Duration::from_millis(7)]);
        assert_eq!((one.p50, one.p95), (7.0, 7.0));
    }

    #[test]
    fn the_national_scheme_is_the_sample_rooted_at_the_country() {
        let sample = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
        let def = danvan_domain::scheme::parse_scheme(&national_scheme(sample).unwrap()).unwrap();
        let original = danvan_domain::scheme::parse_scheme(sample).unwrap();
        assert_eq!((def.code.as_str(), def.root_unit.as_str()), (BENCH_SCHEME, "VN"));
        assert_eq!(def.targets, original.targets);
    }
}
