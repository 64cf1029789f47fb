//! The command line, end to end: the real binary against fresh databases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use danvan_domain::units::UnitLevel;
use danvan_store::testing::{pg_server, tempfile_dir, TestDb};
use danvan_store::Store;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn danvan(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(args)
        .arg("--database-url")
        .arg(db)
        .env_remove("DANVAN_DATA_DIR")
        .output()
        .expect("run danvan")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn counts(db: &str) -> (usize, usize, usize) {
    let store = Store::connect(db).await.unwrap();
    let n = |l| {
        let s = store.clone();
        async move { s.count_units(l, None).await.unwrap() }
    };
    let out = (n(UnitLevel::Province).await, n(UnitLevel::District).await, n(UnitLevel::Commune).await);
    store.close().await;
    out
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("cli.db").display())
}

/// Imports the whole 2024 national list twice and checks nothing is duplicated. The list has
/// 10,040 rows: 10,035 communes and 5 island districts that have no commune-level units.
async fn national_list_twice(db: &str) {
    let file = root().join("data/units-2024-three-level.csv");
    let file = file.to_str().unwrap();
    let first = danvan(db, &["units", "import", file]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("63 tỉnh, 696 huyện, 10.035 xã"), "{}", stdout(&first));
    assert!(stdout(&first).contains("thêm 10794"), "{}", stdout(&first));
    let second = danvan(db, &["units", "import", file]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stdout(&second).contains("thêm 0, cập nhật 0, không đổi 10794"), "{}", stdout(&second));
    assert_eq!(counts(db).await, (63, 696, 10_035));

    // The 2025 two-level list lives beside it, told apart by validity.
    let file = root().join("data/units-2025-two-level.csv");
    let out = danvan(db, &["units", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("34 tỉnh, 0 huyện, 3.321 xã"), "{}", stdout(&out));
    let store = Store::connect(db).await.unwrap();
    let on = |y, m, d| Some(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
    assert_eq!(store.count_units(UnitLevel::Commune, on(2019, 6, 30)).await.unwrap(), 10_035);
    assert_eq!(store.count_units(UnitLevel::Commune, on(2025, 7, 1)).await.unwrap(), 3_321);
    assert_eq!(store.count_units(UnitLevel::Province, on(2025, 7, 1)).await.unwrap(), 34);
    assert_eq!(store.count_units(UnitLevel::District, on(2025, 7, 1)).await.unwrap(), 0);
    assert_eq!(store.unit_by_code("00004", None).await.unwrap().unwrap().name, "Phường Ba Đình");
    assert_eq!(store.unit_by_code("00004", on(2019, 6, 30)).await.unwrap().unwrap().name, "Phường Trúc Bạch");
    store.close().await;

    // The reform map, recognised by its header: every old commune linked once, idempotently.
    let map = root().join("data/units-2025-reform-map.csv");
    let out = danvan(db, &["units", "import", map.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Đã nhập 10.597 liên kết xã cũ → xã mới từ ngày 01/07/2025 (thêm 10597,"),
        "{}",
        stdout(&out)
    );
    let again = danvan(db, &["units", "import", map.to_str().unwrap()]);
    assert!(stdout(&again).contains("thêm 0, cập nhật 0, không đổi 10597"), "{}", stdout(&again));
    let store = Store::connect(db).await.unwrap();
    assert_eq!(store.successions().await.unwrap().len(), 10_597);

    // Through the API, the country's provinces are those of the day asked for.
    let (base, tx) = danvan_web::App::spawn_local(store, tempfile_dir().join("files")).await.unwrap();
    for (day, n) in [("2024-01-01", 63), ("2025-07-01", 34)] {
        let url = format!("{base}/api/v1/units/VN/children?on={day}");
        let list: Vec<serde_json::Value> = reqwest::get(&url).await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), n, "{url}");
    }
    let lineage: serde_json::Value = reqwest::get(format!("{base}/api/v1/units/80/lineage?on=2025-07-01"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old: Vec<&str> = lineage["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["unit"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(old, ["Tỉnh Long An", "Tỉnh Tây Ninh"], "today's Tây Ninh came from Long An and old Tây Ninh");
    let _ = tx.send(());
}

#[tokio::test]
async fn a_broken_reform_map_imports_nothing_and_names_its_lines() {
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let units = root().join("data/units-2024-three-level.csv");
    assert!(danvan(&db, &["units", "import", units.to_str().unwrap(), "--province", "80"]).status.success());
    let map = dir.join("map.csv");
    std::fs::write(&map, "old_commune_code,new_commune_code,relation\n27931,27931,whole\n27949,2793,whole\n27955,27931,merged\n").unwrap();
    let out = danvan(&db, &["units", "import", map.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("dòng 3, cột new_commune_code: mã \"2793\" phải có đúng 5 chữ số"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("dòng 4, cột relation: quan hệ \"merged\""), "{}", stderr(&out));
    // Well-formed, but the new list is missing: each row refused by its line.
    std::fs::write(&map, "old_commune_code,new_commune_code,relation\n27931,27931,whole\n").unwrap();
    let out = danvan(&db, &["units", "import", map.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("dòng 2: không có xã mã \"27931\" bắt đầu hiệu lực ngày 01/07/2025"),
        "{}",
        stderr(&out)
    );
    let store = Store::connect(&db).await.unwrap();
    assert!(store.successions().await.unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn national_list_imports_idempotently_on_sqlite() {
    let dir = tempfile_dir();
    national_list_twice(&sqlite_url(&dir)).await;
}

#[tokio::test]
async fn national_list_imports_idempotently_on_postgres() {
    let Some(server) = pg_server() else { return };
    let db = TestDb::create(&server).await;
    national_list_twice(&db.url).await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_broken_row_imports_nothing_and_is_named() {
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let csv = std::fs::read_to_string(root().join("data/units-2024-three-level.csv")).unwrap();
    let mut lines: Vec<&str> = csv.lines().take(200).collect();
    let broken = lines[150].replacen(",", ",,", 1);
    lines[150] = &broken;
    let file = dir.join("broken.csv");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = danvan(&db, &["units", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("dòng 151: có 11 cột, cần 10"), "{err}");
    assert!(err.contains("không nhập đơn vị nào"), "{err}");
    assert_eq!(counts(&db).await, (0, 0, 0));

    // A bad number names its field.
    let mut lines: Vec<&str> = csv.lines().take(20).collect();
    let bad = lines[7].rsplitn(2, ',').last().unwrap().to_string() + ",abc";
    lines[7] = &bad;
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = danvan(&db, &["units", "import", file.to_str().unwrap()]);
    assert!(stderr(&out).contains("dòng 8, cột lon: \"abc\" không phải là số"), "{}", stderr(&out));
    assert_eq!(counts(&db).await, (0, 0, 0));
}

#[tokio::test]
async fn a_bad_scheme_file_reports_every_problem_and_stores_nothing() {
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let out = danvan(
        &db,
        &[
            "units",
            "import",
            root().join("data/units-2024-three-level.csv").to_str().unwrap(),
            "--province",
            "80",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 tỉnh, 15 huyện, 186 xã"), "{}", stdout(&out));

    let good = std::fs::read_to_string(root().join("data/schemes/long-an-2017-2020.sample.toml")).unwrap();
    let bad = good
        .replacen("kind = \"ratio\"", "kind = \"percent\"", 1)
        .replacen("name = \"Khối dân vận ban hành quy chế hoạt động\"\n", "", 1)
        .replacen("code = \"6.3\"", "code = \"6.2\"", 1);
    let file = dir.join("bad.toml");
    std::fs::write(&file, &bad).unwrap();
    let out = danvan(&db, &["scheme", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("tệp đề án có 3 lỗi"), "{err}");
    assert!(err.contains("targets[3].kind (dòng"), "{err}");
    assert!(err.contains("\"percent\" không hợp lệ"), "{err}");
    assert!(err.contains("targets[2].name (dòng"), "{err}");
    assert!(err.contains("targets[19].code (dòng"), "{err}");
    assert!(err.contains("mã chỉ tiêu \"6.2\" bị trùng"), "{err}");
    let store = Store::connect(&db).await.unwrap();
    assert!(store.schemes().await.unwrap().is_empty());

    // The good file goes in; importing it again updates the same scheme.
    let file = root().join("data/schemes/long-an-2017-2020.sample.toml");
    let out = danvan(&db, &["scheme", "import", file.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("Đã tạo đề án LA-KDV-2017-2020: 6 nhóm nhiệm vụ, 20 chỉ tiêu (chỉ tiêu mẫu)"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = danvan(&db, &["scheme", "import", file.to_str().unwrap()]);
    assert!(stdout(&out).contains("Đã cập nhật đề án LA-KDV-2017-2020"), "{}", stdout(&out));
    assert_eq!(store.schemes().await.unwrap().len(), 1);
}

#[tokio::test]
async fn migrate_creates_a_missing_sqlite_file() {
    let dir = tempfile_dir();
    let path = dir.join("new.db");
    assert!(!path.exists());
    let out = danvan(&format!("sqlite://{}", path.display()), &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(path.exists());
    let applied = stdout(&out);
    assert!(applied.contains("Đã áp dụng") && !applied.contains("Đã áp dụng 0 "), "{applied}");
    let again = danvan(&format!("sqlite://{}", path.display()), &["migrate"]);
    assert!(stdout(&again).contains("Đã áp dụng 0 bản chuyển đổi"), "{}", stdout(&again));
}

#[test]
fn settings_come_from_flags_then_environment_then_config_file() {
    let dir = tempfile_dir();
    let from_file = dir.join("from-file.db");
    let from_env = dir.join("from-env.db");
    let from_flag = dir.join("from-flag.db");
    let config = dir.join("danvan.toml");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}\"\nlog_format = \"json\"\n", from_file.display()),
    )
    .unwrap();
    let run = |env: Option<&Path>, flag: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_danvan"));
        cmd.arg("--config").arg(&config).arg("migrate").env_remove("DANVAN_DATABASE_URL");
        if let Some(e) = env {
            cmd.env("DANVAN_DATABASE_URL", format!("sqlite://{}", e.display()));
        }
        if let Some(f) = flag {
            cmd.arg("--database-url").arg(format!("sqlite://{}", f.display()));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    run(None, None);
    assert!(from_file.exists() && !from_env.exists());
    run(Some(&from_env), None);
    assert!(from_env.exists() && !from_flag.exists());
    run(Some(&from_env), Some(&from_flag));
    assert!(from_flag.exists());

    std::fs::write(&config, "databse_url = \"x\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("khóa \"databse_url\" không được biết"), "{}", stderr(&out));
}

fn danvan_stdin(db: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(args)
        .arg("--database-url")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn users_are_managed_from_the_command_line() {
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let units = root().join("data/units-2024-three-level.csv");
    assert!(danvan(&db, &["units", "import", units.to_str().unwrap(), "--province", "80"]).status.success());

    let add = [
        "user",
        "add",
        "--username",
        "Xa.HuuThanh",
        "--role",
        "commune",
        "--unit",
        "27988",
        "--display-name",
        "Khối dân vận Hựu Thạnh",
        "--password-stdin",
    ];
    let out = danvan_stdin(&db, &add, "mật khẩu đủ dài\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Đã tạo người dùng xa.huuthanh"), "{}", stdout(&out));
    let again = danvan_stdin(&db, &add, "mật khẩu đủ dài\n");
    assert!(!again.status.success());
    assert!(stderr(&again).contains("đã có người dùng"), "{}", stderr(&again));
    for (args, message) in [
        (vec!["--username", "user2", "--role", "chief", "--unit", "80"], "vai trò \"chief\" không hợp lệ"),
        (vec!["--username", "user2", "--role", "commune"], "cần --unit"),
        (vec!["--username", "user2", "--role", "commune", "--unit", "99999"], "không có đơn vị mã \"99999\""),
        (vec!["--username", "user2", "--role", "admin", "--unit", "80"], "không có đơn vị phạm vi"),
    ] {
        let mut full = vec!["user", "add"];
        full.extend(args);
        full.push("--password-stdin");
        let out = danvan_stdin(&db, &full, "mật khẩu đủ dài\n");
        assert!(!out.status.success());
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
    let short = danvan_stdin(
        &db,
        &["user", "add", "--username", "user3", "--role", "admin", "--password-stdin"],
        "ngắn\n",
    );
    assert!(stderr(&short).contains("ít nhất 10 ký tự"), "{}", stderr(&short));

    // Once the 2025 list is in, a code names two units: today's by default, the other by --on.
    let units_2025 = root().join("data/units-2025-two-level.csv");
    assert!(danvan(&db, &["units", "import", units_2025.to_str().unwrap(), "--province", "80"])
        .status
        .success());
    let with = |name: &str, unit: &str, on: Option<&str>| {
        let mut args = vec!["user", "add", "--username", name, "--role", "commune", "--unit", unit];
        if let Some(d) = on {
            args.extend(["--on", d]);
        }
        args.push("--password-stdin");
        danvan_stdin(&db, &args, "mật khẩu đủ dài\n")
    };
    let new = with("xa.haunghia", "27931", None);
    assert!(stdout(&new).contains("Đơn vị: Xã Hậu Nghĩa, từ 01/07/2025"), "{}{}", stdout(&new), stderr(&new));
    let old = with("tt.haunghia", "27931", Some("2020-01-01"));
    assert!(
        stdout(&old).contains("Đơn vị: Thị trấn Hậu Nghĩa, đến 30/06/2025"),
        "{}{}",
        stdout(&old),
        stderr(&old)
    );
    let gone = with("duclapthuong", "27949", Some("2026-01-01"));
    assert!(!gone.status.success());
    assert!(
        stderr(&gone).contains("Xã Tân Mỹ, đến 30/06/2025") && stderr(&gone).contains("--on"),
        "{}",
        stderr(&gone)
    );

    let store = Store::connect(&db).await.unwrap();
    let scope = |name: &'static str| {
        let store = store.clone();
        async move {
            store
                .unit(store.user_by_username(name).await.unwrap().unwrap().scope_unit_id.unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(scope("xa.haunghia").await.valid_from, chrono::NaiveDate::from_ymd_opt(2025, 7, 1));
    assert_eq!(scope("tt.haunghia").await.valid_to, chrono::NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(store.count_users().await.unwrap(), 3, "failed attempts create nothing");
    let user = store.user_by_username("xa.huuthanh").await.unwrap().unwrap();
    let (_, first_hash) = store.user_for_login("xa.huuthanh").await.unwrap().unwrap();
    assert!(first_hash.starts_with("$argon2id$"), "{first_hash}");

    let out =
        danvan_stdin(&db, &["user", "passwd", "xa.huuthanh", "--password-stdin"], "mật khẩu mới hơn nữa\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(store.user_for_login("xa.huuthanh").await.unwrap().unwrap().1, first_hash);
    // A token for a script: printed once, it signs the user in; a bare name is refused.
    let out = danvan(&db, &["user", "token", "xa.huuthanh", "--name", "  "]);
    assert!(!out.status.success() && stderr(&out).contains("--name"), "{}", stderr(&out));
    assert!(store.api_tokens(user.id).await.unwrap().is_empty(), "a refused token is not kept");
    let out = danvan(&db, &["user", "token", "xa.huuthanh", "--name", "Schemathesis"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_string();
    let by_token = store.user_by_api_token(&danvan_web::auth::secret_hash(&secret), chrono::Utc::now()).await;
    assert_eq!(by_token.unwrap().map(|u| u.username), Some("xa.huuthanh".to_string()));
    assert_eq!(store.api_tokens(user.id).await.unwrap()[0].name, "Schemathesis");
    let out = danvan(&db, &["user", "disable", "xa.huuthanh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!store.user(user.id).await.unwrap().unwrap().active);
    let list = danvan(&db, &["user", "list"]);
    assert!(
        stdout(&list).contains("xa.huuthanh")
            && stdout(&list).contains("khóa")
            && stdout(&list).contains("Xã Hựu Thạnh"),
        "{}",
        stdout(&list)
    );
    let history = store.entity_history("user", &user.id.to_string()).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["create", "password", "update"]
    );
    assert!(history[0].actor.starts_with("cli:"));
    store.close().await;
}

#[tokio::test]
async fn the_audit_log_exports_to_csv_safely() {
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let units = root().join("data/units-2024-three-level.csv");
    assert!(danvan(&db, &["units", "import", units.to_str().unwrap(), "--province", "80"]).status.success());
    let store = Store::connect(&db).await.unwrap();
    store.record_login_failure("=HYPERLINK(\"http://x\")", "10.0.0.1", chrono::Utc::now()).await.unwrap();
    store.close().await;
    let file = dir.join("audit.csv");
    let out = danvan(&db, &["audit", "export", "--from", "2020-01-01", "--output", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Đã xuất 203 sự kiện"), "{}", stderr(&out));
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 203);
    assert_eq!(&records[0][2], "create");
    assert_eq!(&records[0][3], "unit");
    assert!(records[0][7].contains("Tỉnh Long An"));
    let last = records.last().unwrap();
    assert_eq!(&last[2], "login_failed");
    assert_eq!(&last[1], "'=HYPERLINK(\"http://x\")", "a formula becomes text");
    assert_eq!(&last[4], "'=HYPERLINK(\"http://x\")");
    let none = danvan(&db, &["audit", "export", "--to", "2020-01-01"]);
    assert!(stderr(&none).contains("Đã xuất 0 sự kiện"), "{}", stderr(&none));
}

#[test]
fn serve_on_an_empty_user_table_says_how_to_create_the_first_admin() {
    use std::io::BufRead;
    let dir = tempfile_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(sqlite_url(&dir))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("danvan đang chạy tại http://127.0.0.1:");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(text.contains("Chưa có người dùng nào"), "{text}");
    assert!(text.contains("danvan user add --username admin --role admin --password-stdin"), "{text}");
    assert!(text.contains("đang chạy"), "{text}");
}

/// `danvan demo --database-url` fills the database it is given (both hierarchies, the map, both
/// schemes, the accounts) and serves it; a database that already holds data is refused.
#[tokio::test]
async fn the_demo_fills_the_database_it_is_given() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile_dir();
    let db = sqlite_url(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(["demo", "--bind", "127.0.0.1:0", "--database-url", &db])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run danvan demo");
    let mut seen = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("danvan đang chạy tại");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = seen.join("\n");
    assert!(out.contains(&format!("Cơ sở dữ liệu trình diễn: {db}")), "{out}");
    assert!(out.contains("305 liên kết xã cũ → xã mới"), "{out}");
    for account in ["tinh.tayninh", "xa.haunghia", "tt.haunghia", "tinh.longan"] {
        assert!(out.contains(account), "{account}: {out}");
    }
    assert!(!dir.join("data/demo.db").exists(), "the database given is used, not demo.db");
    let store = Store::connect(&db).await.unwrap();
    let schemes: Vec<String> = store.schemes().await.unwrap().into_iter().map(|s| s.code).collect();
    assert_eq!(schemes, ["TN-KDV-2026-2030", "LA-KDV-2017-2020"], "today's scheme first");
    let current = store.scheme("TN-KDV-2026-2030").await.unwrap().unwrap();
    let tay_ninh = store.unit(current.root_unit_id).await.unwrap().unwrap();
    assert_eq!(
        (tay_ninh.name.as_str(), tay_ninh.valid_from),
        ("Tỉnh Tây Ninh", chrono::NaiveDate::from_ymd_opt(2025, 7, 1))
    );
    // Sample reports of 2026 for today's communes, some late.
    let reports = store.reviews_within(current.id, current.root_unit_id, None).await.unwrap();
    let of_2026: Vec<_> = reports.iter().filter(|r| r.period == "2026").collect();
    assert!(of_2026.len() > 80, "{}", of_2026.len());
    assert!(of_2026.iter().any(|r| r.late) && of_2026.iter().any(|r| !r.late));
    let user = store.user_by_username("xa.haunghia").await.unwrap().unwrap();
    let unit = store.unit(user.scope_unit_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(unit.name, "Xã Hậu Nghĩa");
    for scheme in ["LA-KDV-2017-2020", "TN-KDV-2026-2030"] {
        sample_agrees_with_its_records(&store, scheme, &dir.join("data/files")).await;
    }
    store.close().await;

    // Run again on the same database: it holds data now, so the demo refuses and changes nothing.
    let again = danvan(&db, &["demo", "--bind", "127.0.0.1:0"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("đã có dữ liệu"), "{}", stderr(&again));
}

/// Issue 16, item 7: every computed value of a sample review is what its bloc's records count,
/// the records are there to see (members, hamlets, meetings with attendance, feedback), and every
/// target that requires evidence has a file whose bytes are kept: a PDF of one page.
async fn sample_agrees_with_its_records(store: &Store, code: &str, files: &Path) {
    use danvan_domain::period::Period;
    use danvan_domain::scheme::Source;
    let scheme = store.scheme(code).await.unwrap().unwrap();
    let summaries = store.reviews_within(scheme.id, scheme.root_unit_id, None).await.unwrap();
    assert!(summaries.len() > 80, "{code}: {}", summaries.len());
    let (mut computed, mut files_seen, mut records_seen) = (0, 0, 0);
    for s in &summaries {
        let review = store.review(scheme.id, s.unit_id, &s.period).await.unwrap().unwrap();
        let period = Period::parse(&review.period, scheme.def.period).unwrap();
        let evidence = store.evidence_of(review.id).await.unwrap();
        for t in &scheme.def.targets {
            let stored = review.values.get(&t.code).and_then(|e| e.value.clone());
            match t.source {
                Source::Computed(rule) => {
                    let counted = store
                        .computed_value(rule, scheme.id, review.unit_id, period.start(), period.end())
                        .await
                        .unwrap();
                    assert_eq!(stored, counted, "{code} {} #{} {}", t.code, review.unit_id, review.period);
                    computed += usize::from(counted.is_some());
                }
                Source::Reported if t.evidence_required => {
                    let file = evidence.iter().find(|e| e.target_code == t.code);
                    let file =
                        file.unwrap_or_else(|| panic!("{code} {} #{}: no evidence", t.code, review.unit_id));
                    let bytes = std::fs::read(danvan_web::files::path_of(files, &file.sha256)).unwrap();
                    assert_eq!(bytes.len() as i64, file.size);
                    assert!(
                        bytes.starts_with(b"%PDF-") && String::from_utf8_lossy(&bytes).contains("/Count 1")
                    );
                    files_seen += 1;
                }
                Source::Reported => {}
            }
        }
        if records_seen < 3 {
            let unit = review.unit_id;
            let members = store.members_of(unit).await.unwrap();
            let hamlets = store.hamlets_of(unit).await.unwrap();
            let (from, to) = (period.start(), period.end());
            let meetings = store.meetings_of(unit, from - chrono::Days::new(3650), to).await.unwrap();
            let (feedback, _) = store.feedback_of(unit, None, 1000, 0).await.unwrap();
            assert!(members.len() >= 9 && hamlets.len() >= 5, "{code} #{unit}: the bloc and its hamlets");
            assert!(meetings.iter().any(|m| m.present > 0), "{code} #{unit}: meetings with attendance");
            assert!(!feedback.is_empty(), "{code} #{unit}: feedback");
            records_seen += 1;
        }
    }
    assert!(
        computed > summaries.len() * 3,
        "{code}: most computed values have records behind them ({computed})"
    );
    assert!(files_seen > summaries.len(), "{code}: {files_seen} files");
}

/// Issue 14, item 12: `demo` wiped `demo.db` before learning that its port was taken.
#[test]
fn the_demo_wipes_nothing_when_its_port_is_taken() {
    let dir = tempfile_dir();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("demo.db"), b"what was there").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(["demo", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("DANVAN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("không lắng nghe được"), "{}", stderr(&out));
    assert_eq!(std::fs::read(data.join("demo.db")).unwrap(), b"what was there");
}

/// `public_url` (flag, DANVAN_PUBLIC_URL or config file) must be a full http(s) address.
#[test]
fn a_public_url_that_is_not_an_address_is_refused() {
    let dir = tempfile_dir();
    let out = danvan(&sqlite_url(&dir), &["--public-url", "danvan.example.vn", "migrate"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("public_url \"danvan.example.vn\" phải là một địa chỉ đầy đủ"),
        "{}",
        stderr(&out)
    );
    let config = dir.join("danvan.toml");
    std::fs::write(&config, "public_url = \"https://danvan.example.vn\"\n").unwrap();
    let out = danvan(&sqlite_url(&dir), &["--config", config.to_str().unwrap(), "migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
}
