//! `danvan`: the one binary. Thin over the libraries: parse the command line, call them.

mod bench;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use danvan_domain::scheme::{format_number, parse_scheme};
use danvan_domain::units::{parse_unit_list, UnitLevel, UnitList};
use danvan_store::{Actor, Store};
use danvan_web::auth::AuthConfig;
use danvan_web::{App, Config};

mod notify;
mod ops;
mod users;
use indicatif::{ProgressBar, ProgressStyle};

/// The official 2024 unit list and the sample scheme, built into the binary for the demo.
const UNITS_2024: &[u8] = include_bytes!("../../../data/units-2024-three-level.csv");
const UNITS_2025: &[u8] = include_bytes!("../../../data/units-2025-two-level.csv");
const REFORM_MAP: &[u8] = include_bytes!("../../../data/units-2025-reform-map.csv");
const CURRENT_SCHEME: &str = include_str!("../../../data/schemes/tay-ninh-2026-2030.sample.toml");
const CURRENT_DEMO_SCHEME: &str = "TN-KDV-2026-2030";
/// Old Tây Ninh, which with Long An forms the new Tây Ninh (code 80).
const DEMO_OLD_NEIGHBOUR: &str = "72";
/// The sample scheme's code, as in its file.
const DEMO_SCHEME: &str = "LA-KDV-2017-2020";
const SAMPLE_SCHEME: &str = include_str!("../../../data/schemes/long-an-2017-2020.sample.toml");
const DEMO_PROVINCE: &str = "80";

#[derive(Parser)]
#[command(
    name = "danvan",
    version,
    about = "Theo dõi đề án công tác dân vận / mass mobilization scheme monitoring"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes. Each setting comes from, in order of precedence: the command
/// line, the environment (`DANVAN_*`), the configuration file (`--config`), the default.
#[derive(Args, Clone)]
struct Global {
    /// Configuration file (TOML) with any of: data_dir, database_url, bind, log_format.
    #[arg(long, global = true, env = "DANVAN_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the SQLite database and uploaded files [default: danvan-data].
    #[arg(long, global = true, env = "DANVAN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database: postgres://… for PostgreSQL, sqlite://FILE for SQLite (created when missing)
    /// [default: danvan.db in the data folder].
    #[arg(long, global = true, env = "DANVAN_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Address the server listens on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "DANVAN_BIND")]
    bind: Option<SocketAddr>,
    /// Log format: pretty or json [default: pretty].
    #[arg(long, global = true, env = "DANVAN_LOG_FORMAT")]
    log_format: Option<String>,
    /// Send the session cookie only over HTTPS (set when served behind TLS).
    #[arg(long, global = true, env = "DANVAN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The address users reach the server at, behind a reverse proxy (e.g.
    /// https://danvan.tayninh.gov.vn): browsers' forms are accepted from that origin only.
    #[arg(long, global = true, env = "DANVAN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Where uploaded files are kept: dir (the data folder's files/) or database (shared by
    /// several servers on one PostgreSQL database) [default: dir].
    #[arg(long, global = true, env = "DANVAN_FILES")]
    files: Option<String>,
}

/// The settings in force, once every layer is applied.
struct Settings {
    data_dir: PathBuf,
    database_url: Option<String>,
    bind: SocketAddr,
    log_format: String,
    secure_cookies: bool,
    public_url: Option<url::Url>,
    files: String,
    /// Scheduled backups by `serve`: how often, how many good ones kept, where.
    backup_every: Option<std::time::Duration>,
    backup_keep: usize,
    backup_dir: PathBuf,
    /// A separate address for /metrics (without sign-in); without it /metrics needs an admin.
    metrics_bind: Option<SocketAddr>,
    /// Reminders: email, webhooks, the approvers' wait.
    notify: danvan_web::shell::state::NotifyConfig,
}

impl Settings {
    fn resolve(g: &Global) -> anyhow::Result<Self> {
        let file = match &g.config {
            Some(path) => ConfigFile::read(path)?,
            None => ConfigFile::default(),
        };
        let whole = file.clone();
        let bind = match (g.bind, file.bind) {
            (Some(b), _) => b,
            (None, Some(b)) => b
                .parse()
                .with_context(|| format!("{}: bind \"{b}\" không phải địa chỉ IP:cổng", file.path))?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let log_format = g.log_format.clone().or(file.log_format).unwrap_or_else(|| "pretty".into());
        let files = g.files.clone().or(file.files).unwrap_or_else(|| "dir".into());
        if !matches!(files.as_str(), "dir" | "database") {
            bail!("files phải là dir (thư mục dữ liệu) hoặc database (trong cơ sở dữ liệu), không phải \"{files}\"");
        }
        let backup_every = file
            .backup_every
            .as_deref()
            .map(|t| parse_every(t).with_context(|| format!("{}: backup_every", file.path)))
            .transpose()?;
        let metrics_bind = file
            .metrics_bind
            .as_deref()
            .map(|b| {
                b.parse().with_context(|| {
                    format!("{}: metrics_bind \"{b}\" không phải địa chỉ IP:cổng", file.path)
                })
            })
            .transpose()?;
        let data_dir: PathBuf = g
            .data_dir
            .clone()
            .or(file.data_dir.clone().map(PathBuf::from))
            .unwrap_or_else(|| "danvan-data".into());
        if !matches!(log_format.as_str(), "pretty" | "json") {
            bail!("log_format phải là pretty hoặc json, không phải \"{log_format}\"");
        }
        let public_url = g
            .public_url
            .clone()
            .or(whole.public_url.clone())
            .map(|u| danvan_web::auth::parse_public_url(&u).map_err(anyhow::Error::msg))
            .transpose()?;
        let notify = notify_settings(&whole, public_url.as_ref(), bind)?;
        Ok(Self {
            notify,
            backup_dir: file.backup_dir.map(PathBuf::from).unwrap_or_else(|| data_dir.join("backups")),
            data_dir,
            files,
            backup_every,
            backup_keep: file.backup_keep.unwrap_or(7),
            metrics_bind,
            database_url: g.database_url.clone().or(file.database_url),
            bind,
            log_format,
            secure_cookies: g.secure_cookies || file.secure_cookies,
            public_url,
        })
    }

    fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("không tạo được thư mục dữ liệu {}", self.data_dir.display()))?;
        Ok(format!("sqlite://{}", self.data_dir.join("danvan.db").display()))
    }
}

#[derive(Default, Clone)]
struct ConfigFile {
    path: String,
    data_dir: Option<String>,
    database_url: Option<String>,
    bind: Option<String>,
    log_format: Option<String>,
    secure_cookies: bool,
    public_url: Option<String>,
    files: Option<String>,
    backup_every: Option<String>,
    backup_keep: Option<usize>,
    backup_dir: Option<String>,
    metrics_bind: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_user: Option<String>,
    mail_from: Option<String>,
    notify_waiting_days: Option<i64>,
    notify_every: Option<String>,
    /// A province's code → its webhook's address (`[webhooks]`).
    webhooks: Vec<(String, String)>,
}

/// The keys a configuration file may hold.
const CONFIG_KEYS: &str = "data_dir, database_url, bind, log_format, secure_cookies, public_url, files, backup_every, backup_keep, backup_dir, metrics_bind, smtp_host, smtp_port, smtp_tls, smtp_user, mail_from, notify_waiting_days, notify_every, [webhooks]";

/// The reminders' settings: the configuration file's, each overridden by its `DANVAN_*`
/// variable; the SMTP password and the webhooks' secrets from the environment only.
fn notify_settings(
    file: &ConfigFile,
    public_url: Option<&url::Url>,
    bind: SocketAddr,
) -> anyhow::Result<danvan_web::shell::state::NotifyConfig> {
    use danvan_web::shell::state::{NotifyConfig, SmtpConfig, SmtpTls, Webhook};
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut out = NotifyConfig::default();
    if let Some(host) = env("DANVAN_SMTP_HOST").or(file.smtp_host.clone()) {
        let tls_text = env("DANVAN_SMTP_TLS").or(file.smtp_tls.clone()).unwrap_or_else(|| "starttls".into());
        let tls = SmtpTls::parse(&tls_text).with_context(|| {
            format!("smtp_tls phải là starttls, tls hoặc none, không phải \"{tls_text}\"")
        })?;
        let port = match env("DANVAN_SMTP_PORT") {
            Some(p) => p.parse().with_context(|| format!("DANVAN_SMTP_PORT \"{p}\" không phải số cổng"))?,
            None => file.smtp_port.unwrap_or(match tls {
                SmtpTls::Tls => 465,
                SmtpTls::StartTls => 587,
                SmtpTls::Plain => 25,
            }),
        };
        let from = env("DANVAN_MAIL_FROM").or(file.mail_from.clone()).context(
            "có smtp_host thì cần mail_from (địa chỉ gửi, ví dụ \"danvan <danvan@tayninh.gov.vn>\")",
        )?;
        if !danvan_web::notices::send::valid_mailbox(&from) {
            bail!("mail_from \"{from}\" không phải một địa chỉ thư điện tử");
        }
        out.smtp = Some(SmtpConfig {
            host,
            port,
            tls,
            user: env("DANVAN_SMTP_USER").or(file.smtp_user.clone()),
            password: env("DANVAN_SMTP_PASSWORD"),
            from,
        });
    }
    for (province, url) in &file.webhooks {
        let parsed =
            url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https")).with_context(
                || format!("{}: webhooks.{province} \"{url}\" không phải địa chỉ http(s)", file.path),
            )?;
        let secret = env(&format!("DANVAN_WEBHOOK_SECRET_{province}"))
            .or_else(|| env("DANVAN_WEBHOOK_SECRET"))
            .with_context(|| {
                format!("webhook của tỉnh {province} cần khóa ký: đặt DANVAN_WEBHOOK_SECRET_{province} hoặc DANVAN_WEBHOOK_SECRET")
            })?;
        out.webhooks.insert(province.clone(), Webhook { url: parsed.to_string(), secret });
    }
    if let Some(days) = file.notify_waiting_days {
        out.waiting_days = days;
    }
    if let Some(every) = &file.notify_every {
        out.every = parse_every(every).with_context(|| format!("{}: notify_every", file.path))?;
    }
    out.base_url = match public_url {
        Some(u) => u.as_str().trim_end_matches('/').to_string(),
        None => format!("http://{bind}"),
    };
    Ok(out)
}

/// A period written as a number and a unit: `30m`, `6h`, `1d` (at least a minute).
fn parse_every(text: &str) -> anyhow::Result<std::time::Duration> {
    let t = text.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = n.parse().map_err(|_| anyhow::anyhow!("\"{text}\" cần dạng 30m, 6h hoặc 1d"))?;
    let secs = match unit {
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("\"{text}\" cần dạng 30m, 6h hoặc 1d"),
    };
    if secs < 60 {
        bail!("\"{text}\": ít nhất 1 phút");
    }
    Ok(std::time::Duration::from_secs(secs))
}

impl ConfigFile {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("không đọc được tệp cấu hình {}", path.display()))?;
        let doc = toml_edit::ImDocument::parse(text)
            .with_context(|| format!("tệp cấu hình {} sai cú pháp TOML", path.display()))?;
        let mut out = ConfigFile { path: path.display().to_string(), ..Default::default() };
        for (key, item) in doc.as_table().iter() {
            if key == "secure_cookies" {
                out.secure_cookies = item
                    .as_bool()
                    .with_context(|| format!("{}: secure_cookies phải là true hoặc false", out.path))?;
                continue;
            }
            if key == "smtp_port" {
                let n = item.as_integer().filter(|n| (1..=65535).contains(n));
                out.smtp_port =
                    Some(n.with_context(|| format!("{}: smtp_port phải là một số cổng", out.path))? as u16);
                continue;
            }
            if key == "notify_waiting_days" {
                let n = item.as_integer().filter(|n| (1..=90).contains(n));
                out.notify_waiting_days = Some(n.with_context(|| {
                    format!("{}: notify_waiting_days phải là một số từ 1 đến 90", out.path)
                })?);
                continue;
            }
            if key == "smtp_password" {
                bail!(
                    "{}: mật khẩu máy chủ thư không để trong tệp cấu hình; đặt biến môi trường DANVAN_SMTP_PASSWORD",
                    out.path
                );
            }
            if key == "webhooks" {
                let table = item.as_table().with_context(|| {
                    format!("{}: [webhooks] phải là một bảng mã tỉnh = \"địa chỉ\"", out.path)
                })?;
                for (province, url) in table.iter() {
                    if province.is_empty() || !province.chars().all(|c| c.is_ascii_digit()) {
                        bail!("{}: webhooks: \"{province}\" không phải mã tỉnh", out.path);
                    }
                    let url = url
                        .as_str()
                        .with_context(|| format!("{}: webhooks.{province} phải là một địa chỉ", out.path))?;
                    out.webhooks.push((province.to_string(), url.to_string()));
                }
                continue;
            }
            if key == "backup_keep" {
                let n = item.as_integer().filter(|n| (1..=1000).contains(n));
                out.backup_keep = Some(
                    n.with_context(|| format!("{}: backup_keep phải là một số từ 1 đến 1000", out.path))?
                        as usize,
                );
                continue;
            }
            let value = item
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("{}: {key} phải là một chuỗi", out.path))?;
            match key {
                "data_dir" => out.data_dir = Some(value),
                "database_url" => out.database_url = Some(value),
                "bind" => out.bind = Some(value),
                "log_format" => out.log_format = Some(value),
                "public_url" => out.public_url = Some(value),
                "files" => out.files = Some(value),
                "backup_every" => out.backup_every = Some(value),
                "backup_dir" => out.backup_dir = Some(value),
                "metrics_bind" => out.metrics_bind = Some(value),
                "smtp_host" => out.smtp_host = Some(value),
                "smtp_tls" => out.smtp_tls = Some(value),
                "smtp_user" => out.smtp_user = Some(value),
                "mail_from" => out.mail_from = Some(value),
                "notify_every" => out.notify_every = Some(value),
                other => bail!("{}: khóa \"{other}\" không được biết ({CONFIG_KEYS})", out.path),
            }
        }
        Ok(out)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server.
    Serve,
    /// Create a fresh demo database (Long An's units and the sample scheme) in the data folder
    /// and start the server.
    Demo,
    /// Builds the national dataset in a fresh database and measures the dashboards, the
    /// national Excel export, peak memory and a bounded load; prints a table.
    Bench {
        /// Requests measured per dashboard.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Seconds of load (64 connections by default) against a district dashboard.
        #[arg(long, default_value_t = 20)]
        load_seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: u32,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Back up the database and the uploaded files into a new folder, with a manifest, and
    /// verify the copy (no need to stop the server).
    Backup {
        /// The folder to make [default: backups/danvan-YYYYMMDD-HHMMSS in the data folder].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Restore a backup folder into an empty database (the one --database-url names) and put
    /// its files where --files says; then migrate forward. Stop the server first.
    Restore {
        dir: PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
    /// Copy every table of one database into another, empty one (e.g. SQLite to PostgreSQL),
    /// ids kept, then compare row counts and checksums table by table; with --files database,
    /// the files of the data folder go into the target database too.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Administrative units.
    Units {
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// Schemes (đề án).
    Scheme {
        #[command(subcommand)]
        command: SchemeCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Reminders and notifications.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
}

#[derive(Subcommand)]
enum NotifyCommand {
    /// Run the reminders once, as the server does every minute: make the notifications due,
    /// put the emails and webhook calls due in the outbox, and send it.
    Run {
        /// Print what would be made and sent; write and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as at this moment, Vietnam time: 2027-01-08T07:30 or 2027-01-08 (07:00).
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, province, district, commune or viewer.
        #[arg(long)]
        role: String,
        /// The code of the unit whose subtree the user works in (not for admin).
        #[arg(long)]
        unit: Option<String>,
        /// The day on which the unit's code is read (yyyy-mm-dd) [default: today]: a code of a
        /// commune before the 2025 reform needs a day before 1 July 2025.
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// The name shown in the application [default: the username].
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a user's password, read from standard input; ends the user's sessions.
    Passwd {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user and end their sessions.
    Disable { username: String },
    /// Make an API token for a user (for a script or another system) and print it once; it
    /// is revoked on the account page or with a password change.
    Token {
        username: String,
        /// What the token is for, shown on the account page.
        #[arg(long)]
        name: String,
    },
    /// List the users.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write the audit log as CSV (UTF-8 with BOM, for Excel), oldest first.
    Export {
        /// First day (yyyy-mm-dd, Vietnam time).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day (yyyy-mm-dd, Vietnam time).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Output file [default: standard output].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Import an official unit list (three-level 2024 or two-level 2025 CSV), or the 2025 reform
    /// map (old commune → new commune), told apart by the header.
    Import {
        file: PathBuf,
        /// Import only this province's subtree (its code, e.g. 80).
        #[arg(long)]
        province: Option<String>,
    },
}

#[derive(Subcommand)]
enum SchemeCommand {
    /// Check a scheme file and store it (a scheme with the same code is updated).
    Import { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::resolve(&cli.global) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&settings.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lỗi: không khởi động được: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DANVAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, global: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let store = open(&global.database_url()?).await?;
            serve(store, &global).await
        }
        Command::Demo => demo(&global).await,
        Command::Bench { samples, load_seconds, connections } => {
            let opts = bench::Options {
                database_url: global.database_url.clone(),
                data_dir: global.data_dir.clone(),
                samples,
                load_seconds,
                connections,
            };
            let lists =
                bench::Lists { units_2024: UNITS_2024, units_2025: UNITS_2025, reform_map: REFORM_MAP };
            bench::run(opts, lists, SAMPLE_SCHEME).await
        }
        Command::Backup { output } => {
            let store = open(&global.database_url()?).await?;
            let files = file_store(&global, &store)?;
            let dir = output
                .unwrap_or_else(|| danvan_web::ops::backup_folder(&global.backup_dir, chrono::Utc::now()));
            ops::backup(&store, &files, &dir).await
        }
        Command::Restore { dir, force } => {
            let target = match global.files.as_str() {
                "database" => danvan_store::FilesTarget::Database,
                _ => danvan_store::FilesTarget::Dir(global.data_dir.join("files")),
            };
            ops::restore(&dir, &global.database_url()?, target, force).await
        }
        Command::Copy { from, to } => {
            ops::copy(&from, &to, &global.data_dir.join("files"), global.files == "database").await
        }
        Command::Migrate => {
            let store = Store::connect(&global.database_url()?).await?;
            let n = store.migrate().await?;
            println!("Đã áp dụng {n} bản chuyển đổi; cơ sở dữ liệu đã mới nhất.");
            Ok(())
        }
        Command::Units { command: UnitsCommand::Import { file, province } } => {
            let store = open(&global.database_url()?).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("không đọc được tệp {}", file.display()))?;
            if danvan_domain::lineage::is_reform_map(&bytes) {
                import_reform_map(&store, &cli_actor(), &bytes, province.as_deref()).await
            } else {
                import_units(&store, &cli_actor(), &bytes, province.as_deref()).await
            }
        }
        Command::Scheme { command: SchemeCommand::Import { file } } => {
            let store = open(&global.database_url()?).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("không đọc được tệp {} (cần văn bản UTF-8)", file.display()))?;
            import_scheme(&store, &cli_actor(), &text).await
        }
        Command::User { command } => {
            let store = open(&global.database_url()?).await?;
            users::run(&store, command).await
        }
        Command::Notify { command: NotifyCommand::Run { dry_run, now } } => {
            let store = open(&global.database_url()?).await?;
            let now = match now {
                Some(text) => notify::parse_vn_moment(&text)?,
                None => chrono::Utc::now(),
            };
            notify::run(store, &global, now, dry_run).await
        }
        Command::Audit { command: AuditCommand::Export { from, to, output } } => {
            let store = open(&global.database_url()?).await?;
            users::export_audit(&store, from, to, output.as_deref()).await
        }
    }
}

/// The actor of command-line changes: the operating-system user, for the audit log.
fn cli_actor() -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "?".into());
    Actor::system(&format!("cli:{who}"))
}

/// Where uploaded files are kept, by the `files` setting.
fn file_store(global: &Settings, store: &Store) -> anyhow::Result<danvan_store::FileStore> {
    Ok(danvan_store::FileStore::from_setting(&global.files, global.data_dir.join("files"), store)?)
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.with_context(|| "không mở được cơ sở dữ liệu".to_string())
}

async fn serve(store: Store, global: &Settings) -> anyhow::Result<()> {
    let bind = global.bind;
    if store.count_users().await? == 0 {
        println!(
            "Chưa có người dùng nào. Tạo quản trị viên đầu tiên bằng:\n  \
             danvan user add --username admin --role admin --password-stdin"
        );
    }
    let auth = AuthConfig {
        secure_cookies: global.secure_cookies,
        public_url: global.public_url.clone(),
        ..AuthConfig::default()
    };
    let files = file_store(global, &store)?;
    let backups = danvan_web::ops::BackupSchedule {
        every: global.backup_every,
        keep: global.backup_keep,
        dir: global.backup_dir.clone(),
    };
    let config = Config {
        bind,
        auth,
        files,
        backups,
        metrics_bind: global.metrics_bind,
        notify: global.notify.clone(),
    };
    let app =
        App::build(&config, store).await.with_context(|| format!("không lắng nghe được trên {bind}"))?;
    let addr = app.local_addr()?;
    println!("danvan đang chạy tại http://{addr}/  (Ctrl-C để dừng)");
    app.run_until_stopped().await?;
    Ok(())
}

async fn demo(global: &Settings) -> anyhow::Result<()> {
    // Learn that the address is free before anything is wiped.
    drop(std::net::TcpListener::bind(global.bind).with_context(|| {
        format!("không lắng nghe được trên {}; bản trình diễn chưa xóa hay tạo gì", global.bind)
    })?);
    // An explicit database (--database-url, DANVAN_DATABASE_URL or the config file) is used as
    // it is, and must be empty; otherwise a fresh demo.db in the data folder.
    let store = match &global.database_url {
        Some(url) => {
            let store = open(url).await?;
            if store.count_units(UnitLevel::Commune, None).await? > 0 || store.count_users().await? > 0 {
                bail!("cơ sở dữ liệu {url} đã có dữ liệu; bản trình diễn cần một cơ sở dữ liệu trống");
            }
            println!("Cơ sở dữ liệu trình diễn: {url}");
            store
        }
        None => {
            std::fs::create_dir_all(&global.data_dir)
                .with_context(|| format!("không tạo được thư mục dữ liệu {}", global.data_dir.display()))?;
            let db = global.data_dir.join("demo.db");
            remove_database(&db)?;
            let store = open(&format!("sqlite://{}", db.display())).await?;
            println!("Cơ sở dữ liệu trình diễn mới: {}", db.display());
            store
        }
    };
    let actor = Actor::system("demo");
    // Both hierarchies: Long An and old Tây Ninh before the reform, the new Tây Ninh after, and
    // the map between them.
    import_units(&store, &actor, UNITS_2024, Some(DEMO_PROVINCE)).await?;
    import_units(&store, &actor, UNITS_2024, Some(DEMO_OLD_NEIGHBOUR)).await?;
    import_units(&store, &actor, UNITS_2025, Some(DEMO_PROVINCE)).await?;
    import_reform_map(&store, &actor, REFORM_MAP, Some(DEMO_PROVINCE)).await?;
    import_scheme(&store, &actor, CURRENT_SCHEME).await?;
    import_scheme(&store, &actor, SAMPLE_SCHEME).await?;
    for (code, seed, years) in [(DEMO_SCHEME, 2017, "2017-2020"), (CURRENT_DEMO_SCHEME, 2026, "2026")] {
        let bar = progress_bar(0, "Dữ liệu mẫu");
        let mut tick = |done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        };
        let files = file_store(global, &store)?;
        let sample = danvan::demo::fill_sample(&store, &actor, code, seed, Some(&files), &mut tick).await?;
        bar.finish_and_clear();
        println!(
            "{code}: {} bản rà soát, {} lộ trình, {} hoạt động, {} hồ sơ khối dân vận và {} tệp minh chứng mẫu {years} \
             (dữ liệu mẫu, không phải số liệu thật).",
            format_number(sample.reviews as f64),
            format_number(sample.roadmaps as f64),
            format_number(sample.activities as f64),
            format_number(sample.records as f64),
            format_number(sample.evidence as f64)
        );
    }
    let accounts = danvan::demo::create_accounts(&store, &actor, |_| danvan::demo::random_password()).await?;
    println!("Tài khoản trình diễn (mật khẩu mới mỗi lần chạy demo):");
    for a in &accounts {
        println!("  {:<14} {:<14} {:<18} {}", a.username, a.password, a.role.label_vi(), a.unit);
    }
    serve(store, global).await
}

/// A progress bar for long work on the command line.
pub(crate) fn progress_bar(len: usize, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// Removes an SQLite database file with its write-ahead log.
fn remove_database(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("không xóa được {}: {e}", path.display()),
        }
    }
    Ok(())
}

/// Prints each problem of a refused file, by line, and says that nothing was imported.
fn refused(problems: &[impl std::fmt::Display], what: &str) -> anyhow::Error {
    for p in problems {
        eprintln!("  {p}");
    }
    anyhow::anyhow!("tệp có {} lỗi; không nhập {what} nào", problems.len())
}

async fn import_units(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    province: Option<&str>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let list: UnitList = parse_unit_list(bytes, province).map_err(|p| refused(&p, "đơn vị"))?;
    let bar = progress_bar(list.units.len(), "Nhập đơn vị");
    let mut tick = |n: usize| bar.set_position(n as u64);
    let summary = store.import_units(actor, &list, &mut tick).await?;
    bar.finish_and_clear();
    let n = |level| format_number(list.count(level) as f64);
    println!(
        "Đã nhập {} tỉnh, {} huyện, {} xã (thêm {}, cập nhật {}, không đổi {}) trong {} giây.",
        n(UnitLevel::Province),
        n(UnitLevel::District),
        n(UnitLevel::Commune),
        summary.inserted,
        summary.updated,
        summary.unchanged,
        format_number((started.elapsed().as_secs_f64() * 10.0).round() / 10.0)
    );
    Ok(())
}

/// Imports the reform map: which 2024 commune went into which 2025 one. Both lists must be
/// imported first; one transaction, every problem by line.
async fn import_reform_map(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    province: Option<&str>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = danvan_domain::lineage::parse_reform_map(bytes).map_err(|p| refused(&p, "liên kết"))?;
    let bar = progress_bar(rows.len(), "Nhập liên kết sắp xếp");
    let mut tick = |n: usize| bar.set_position(n as u64);
    let day = danvan_domain::lineage::reform_date();
    let result = store.import_successions(actor, &rows, day, province, &mut tick).await;
    bar.finish_and_clear();
    let summary = match result {
        Ok(s) => s,
        Err(danvan_store::StoreError::Invalid(m)) => {
            for line in m.lines() {
                eprintln!("  {line}");
            }
            bail!("không nhập liên kết nào");
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "Đã nhập {} liên kết xã cũ → xã mới từ ngày {} (thêm {}, cập nhật {}, không đổi {}) trong {} giây.",
        format_number((summary.inserted + summary.updated + summary.unchanged) as f64),
        day.format("%d/%m/%Y"),
        summary.inserted,
        summary.updated,
        summary.unchanged,
        format_number((started.elapsed().as_secs_f64() * 10.0).round() / 10.0)
    );
    Ok(())
}

async fn import_scheme(store: &Store, actor: &Actor, text: &str) -> anyhow::Result<()> {
    let def = match parse_scheme(text) {
        Ok(def) => def,
        Err(problems) => {
            for p in &problems {
                eprintln!("  {p}");
            }
            bail!("tệp đề án có {} lỗi; không lưu gì", problems.len());
        }
    };
    let outcome = store.import_scheme(actor, &def, text).await?;
    println!(
        "Đã {} đề án {}: {} nhóm nhiệm vụ, {} chỉ tiêu{}.",
        if outcome.created { "tạo" } else { "cập nhật" },
        def.code,
        def.groups.len(),
        def.targets.len(),
        if def.sample { " (chỉ tiêu mẫu)" } else { "" }
    );
    Ok(())
}
