//! Persistence for danvan: one [`Store`] over SQLite (the embedded default) or PostgreSQL.
//!
//! Each query is written once where the SQL is portable and compiled for both backends by
//! [`with_pool!`]; dialects differ only inside this crate.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub mod audit;
mod backup;
mod bloc;
mod community;
mod computed;
mod copy;
mod delivery;
pub mod files;

/// How many records (review evidence and activity files) use the bytes with a SHA-256: files
/// are shared by content, and removed from disk only when nothing uses them any more.
const FILE_USERS: &str = "SELECT (SELECT COUNT(*) FROM evidence WHERE sha256 = $1) + (SELECT COUNT(*) FROM activity_files WHERE sha256 = $1)";
pub mod bench;
mod lineage;
mod notifications;
mod plan_workflow;
mod plans;
mod reviews;
mod roadmaps;
mod sample;
mod schemes;
mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod units;
mod users;
mod workflow;

pub use audit::{Actor, AuditEvent, AuditFilter, AuditPage};
pub use backup::{
    backup_manifest, restore, sqlite_path, verify_backup, BackupRecord, BackupStep, FilesTarget, Manifest,
    Part,
};
pub use bloc::{Decision, Member};
pub use community::{Conclusion, Feedback, FeedbackStep, Hamlet, Meeting, MeetingSummary};
pub use copy::TableCopy;
pub use delivery::{
    Delivery, DeliveryCounts, DocState, NewDelivery, NotifySettings, Reopening, RETRY_AFTER_MINUTES,
};
pub use files::FileStore;
pub use lineage::{LinkedUnit, UnitLineage};
pub use notifications::{NewNotification, Notification};
pub use plan_workflow::PlanRecord;
pub use plans::{Activity, ActivityFile, ActivityNote, NewFile};
pub use reviews::{
    planned_for, Entry, Evidence, JudgedPlan, Narrative, NewEvidence, Review, ReviewMarks, ReviewSummary,
    UnitValue,
};
pub use roadmaps::{RoadmapSummary, StoredRoadmap};
pub use sample::{
    SampleActivity, SampleEvidence, SampleFeedback, SampleHamlet, SampleMeeting, SampleMember, SampleRecords,
    SampleReview,
};
pub use schemes::{SchemeImport, SchemeSummary, StoredScheme};
pub use tasks::Waiting;
pub use units::{ImportSummary, UnitPage};
pub use users::{ApiToken, NewUser, Session, User, UserChange};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Database(sqlx::Error),
    /// The database is busy with other writers (SQLite's lock held past the busy timeout, a
    /// PostgreSQL serialization failure or deadlock, no free connection): nothing was written,
    /// and the same request may be sent again in a moment.
    #[error("cơ sở dữ liệu đang bận, xin thử lại sau giây lát")]
    Busy,
    #[error("lỗi chuyển đổi cơ sở dữ liệu: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("địa chỉ cơ sở dữ liệu không hợp lệ: {0}")]
    Url(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("dữ liệu trong cơ sở dữ liệu bị hỏng: {0}")]
    Corrupt(String),
    /// Reading or writing a file (a kept upload, a backup) failed.
    #[error("lỗi đọc ghi tệp: {0}")]
    Io(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_busy(&err) {
            Self::Busy
        } else {
            Self::Database(err)
        }
    }
}

/// Whether a database error means "busy, try again" rather than a fault: SQLite's BUSY (5),
/// BUSY_SNAPSHOT (517), LOCKED (6) and their extended codes; PostgreSQL's serialization failure
/// (40001), deadlock (40P01) and lock not available (55P03); and a pool with no free connection.
pub fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite: the primary result code is the low byte of the extended one.
                code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
            } else {
                matches!(code, "40001" | "40P01" | "55P03")
            }
        }
        _ => false,
    }
}

/// Whether a code from outside (a unit's, a scheme's, a tracking code) can name anything: a
/// short run of ASCII letters, digits, `-` and `_`. Others (a NUL, which PostgreSQL refuses,
/// or any other control character) name nothing, without a query.
pub(crate) fn plain_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code against whichever pool the store holds. The body is compiled once per
/// backend, so every query in it must be valid SQL for both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads and then writes must upgrade its lock, and
/// when another connection writes meanwhile SQLite answers "database is locked" at once instead
/// of waiting out the busy timeout. PostgreSQL's plain `BEGIN` needs no such care.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, Self::Db>>;
}

impl WritePool for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// The address it was opened with (for `pg_dump`; never logged: it may hold a password).
    pub(crate) url: std::sync::Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.kind())
    }
}

impl Store {
    /// Opens a database: `postgres://…` for PostgreSQL, `sqlite://PATH` (created when missing)
    /// or a plain file path for SQLite. Does not run migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            return Ok(Self { backend: Backend::Postgres(pool), url: url.into() });
        }
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?
        } else if url.contains("://") {
            return Err(StoreError::Url(format!(
                "\"{url}\": chỉ hỗ trợ sqlite://ĐƯỜNG_DẪN hoặc postgres://…"
            )));
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        Ok(Self { backend: Backend::Sqlite(pool), url: url.into() })
    }

    /// Opens a database and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        store.mark_unmarked_reviews().await?;
        Ok(store)
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Applies the embedded migrations that have not been applied yet; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let before = self.applied_migrations().await.unwrap_or(0);
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(n as usize)
    }

    /// Refreshes the query planner's statistics: run after loading much data at once, which
    /// PostgreSQL would otherwise plan for as if the tables were still empty.
    pub async fn refresh_statistics(&self) -> Result<()> {
        with_pool!(self, pool => { sqlx::query("ANALYZE").execute(pool).await?; });
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    /// Whether the database takes writes: a write in a transaction that is rolled back (a
    /// read-only or locked-out database fails here while `ping` still answers).
    pub async fn ready(&self) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO change_counters (name, n) VALUES ('ready-check', 0) ON CONFLICT (name) DO NOTHING")
                .execute(&mut *tx)
                .await?;
            tx.rollback().await?;
        });
        Ok(())
    }

    /// The connection pool: connections open, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        with_pool!(self, pool => (pool.size(), pool.num_idle()))
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// Bumps a change counter (`$1`): run in the transaction of the change it counts.
pub(crate) const BUMP: &str = "INSERT INTO change_counters (name, n) VALUES ($1, 1) \
     ON CONFLICT (name) DO UPDATE SET n = change_counters.n + 1";

/// Notes on a review (`$2`) the value of its scheme's marks counter (`$1`), bumped just before.
pub(crate) const MARK_SEQ: &str =
    "UPDATE reviews SET marks_seq = (SELECT n FROM change_counters WHERE name = $1) WHERE id = $2";

/// The counter of workflow transitions (submissions, approvals, returns, reopenings) of every
/// kind of document: what waits for approvers.
pub const WORKFLOW_COUNTER: &str = "workflow";

/// The counter of scheme imports.
pub const SCHEMES_COUNTER: &str = "schemes";

/// The counter of backups recorded.
pub const BACKUPS_COUNTER: &str = "backups";

/// The counter of changes to the hierarchy of units.
pub const UNITS_COUNTER: &str = "units";

/// The counter of changes to the plan activities of a scheme (bumped by the database's own
/// triggers).
pub fn activities_counter(scheme_id: i64) -> String {
    format!("activities:{scheme_id}")
}

/// The counter of changes to the approved reviews (and so the marks) of a scheme.
pub fn marks_counter(scheme_id: i64) -> String {
    format!("marks:{scheme_id}")
}

impl Store {
    /// The current values of change counters, in the order asked (0 for one never bumped).
    /// Whatever was read while a counter had a value is still current while it keeps it.
    pub async fn change_counters(&self, names: &[&str]) -> Result<Vec<i64>> {
        let rows = self.all_change_counters().await?;
        Ok(names.iter().map(|n| rows.iter().find(|(k, _)| k == n).map(|(_, v)| *v).unwrap_or(0)).collect())
    }

    /// Every change counter with its value, by name: together they name the state of all that
    /// dashboards and lists show.
    pub async fn all_change_counters(&self) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT name, n FROM change_counters WHERE name <> 'ready-check' ORDER BY name")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}

/// Turns a unique-constraint violation into a clear conflict; other errors pass through.
pub(crate) fn on_unique(err: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::from(err),
    }
}
