//! The application's state, and the settings of authentication it carries.

use chrono::Duration;
use danvan_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: AuthConfig,
    /// Where uploaded files are kept (named by their SHA-256).
    pub files: danvan_store::FileStore,
    /// Orders uploads and deletions of kept files (see [`files`]).
    pub file_lock: crate::shell::files::FileLock,
    /// The database holds generated sample data (read when the app is built).
    pub sample: bool,
    /// The dashboards' units and marks, kept while their change counters stand.
    pub cache: std::sync::Arc<crate::shell::cache::Cache>,
    /// The last conditional answers, by tag (see [`crate::shell::conditional`]).
    pub kept: std::sync::Arc<crate::shell::conditional::Kept>,
    /// What this process has served, for `/metrics`.
    pub metrics: std::sync::Arc<crate::shell::metrics::Metrics>,
    /// Where the server's backups go, and how often (if on a schedule).
    pub backups: BackupSchedule,
    /// Held while a backup runs: a graceful stop waits for it, and no two run at once.
    pub backup_running: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Reminders: email, the provinces' webhooks, the approvers' wait.
    pub notify: NotifyConfig,
}

/// How reminders go out (issue 19): by email when `smtp` is set, to a province's webhook when
/// it has one; always in the application.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub smtp: Option<SmtpConfig>,
    /// A province's code (of today's hierarchy or the old one) → its webhook.
    pub webhooks: std::collections::BTreeMap<String, Webhook>,
    /// An approver is told of a submission waiting this many days (then weekly).
    pub waiting_days: i64,
    /// How often `serve` runs the reminders (a minute).
    pub every: std::time::Duration,
    /// The address links in emails and webhooks start with (`public_url`, else the bind
    /// address).
    pub base_url: String,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp: None,
            webhooks: Default::default(),
            waiting_days: danvan_domain::reminders::WAITING_DAYS,
            every: std::time::Duration::from_secs(60),
            base_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// An SMTP server to send through.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    /// From the environment only (`DANVAN_SMTP_PASSWORD`), never the configuration file.
    pub password: Option<String>,
    /// The sender: `danvan <danvan@tayninh.gov.vn>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS on a plain connection (port 587), required.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same machine or network only.
    Plain,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "starttls" => Self::StartTls,
            "tls" => Self::Tls,
            "none" | "plain" => Self::Plain,
            _ => return None,
        })
    }
}

/// A province's webhook: each event is POSTed there as JSON, signed with the secret.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The server's backups (`backup_dir`, `backup_keep`, and `backup_every` for a schedule).
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    /// How often: none, only when an admin asks.
    pub every: Option<std::time::Duration>,
    /// Good backups kept; older ones are removed after a new one is verified.
    pub keep: usize,
    pub dir: std::path::PathBuf,
}

impl AppState {
    /// A state with default settings and files in a folder of the system's temporary folder.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            auth: AuthConfig::default(),
            files: danvan_store::FileStore::Dir(std::env::temp_dir().join("danvan-files")),
            file_lock: Default::default(),
            sample: false,
            cache: Default::default(),
            metrics: Default::default(),
            kept: Default::default(),
            backups: Self::new_backups(),
            backup_running: Default::default(),
            notify: NotifyConfig::default(),
        }
    }
}

impl AppState {
    /// Backups by hand only, into a folder of the system's temporary folder (for tests).
    pub fn new_backups() -> BackupSchedule {
        BackupSchedule {
            every: None,
            keep: 7,
            dir: std::env::temp_dir().join(format!("danvan-backups-{}", std::process::id())),
        }
    }
}

/// Session lifetimes and cookie settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after login, used or not.
    pub absolute: Duration,
    /// Send the session cookie only over HTTPS.
    pub secure_cookies: bool,
    /// The address users reach the server at (behind a reverse proxy, the proxy's): when set,
    /// a state-changing request's `Origin` must be exactly its scheme, host and port.
    pub public_url: Option<url::Url>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle: Duration::hours(4),
            absolute: Duration::days(7),
            secure_cookies: false,
            public_url: None,
        }
    }
}

/// Reads a `public_url` setting: an absolute http(s) address.
pub fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    match url::Url::parse(raw.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        _ => Err(format!(
            "public_url \"{raw}\" phải là một địa chỉ đầy đủ, ví dụ https://danvan.tayninh.gov.vn"
        )),
    }
}

/// The page frame counts what waits for a user from the store alone.
impl axum::extract::FromRef<AppState> for danvan_store::Store {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}
