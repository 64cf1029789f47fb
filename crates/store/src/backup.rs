//! Backups that restore: the database (SQLite's online `VACUUM INTO` copy, or `pg_dump` in its
//! custom format), the uploaded files, and a manifest with the SHA-256 and size of every part
//! and the schema version. A backup is reported good only once the copy passed SQLite's
//! `integrity_check` (or `pg_restore --list` read the dump) and every part was read back against
//! the manifest. A restore checks the manifest first, goes only into a database without data of
//! its own (unless forced), and migrates forward.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::Connection;

use crate::files::{is_sha256, path_of, sha256_hex, write_atomically, FileStore};
use crate::{with_pool, Backend, Result, Store, StoreError};

/// The manifest's file name in a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// The manifest's file name in a backup folder.
pub fn backup_manifest() -> &'static str {
    MANIFEST
}
const SQLITE_PART: &str = "danvan.db";
const PG_PART: &str = "danvan.pgdump";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The manifest's own format (1).
    pub format: u32,
    pub danvan_version: String,
    pub created_at: DateTime<Utc>,
    /// "sqlite" or "postgres": what the database part is.
    pub backend: String,
    /// The last migration applied to the database backed up.
    pub schema_version: i64,
    /// "folder" when the files are parts of the backup (`files/ab/ab12…`), "database" when
    /// they are rows of the database part.
    pub files_in: String,
    /// The database part first, then the files.
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Part {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// The size of every part together.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// How many uploaded files are parts of it.
    pub fn file_count(&self) -> usize {
        self.parts.iter().filter(|p| p.path.starts_with("files/")).count()
    }
}

/// Where a backup stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupStep {
    /// Copying the database.
    Database,
    /// Files copied (or restored) so far, of all.
    Files { done: usize, total: usize },
    /// Parts read back so far, of all.
    Verify { done: usize, total: usize },
}

/// One backup made, as recorded in the database it was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub location: String,
    pub bytes: i64,
    pub message: String,
}

/// Where a restore puts the files.
#[derive(Debug, Clone)]
pub enum FilesTarget {
    Dir(PathBuf),
    Database,
}

fn io(context: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{context}: {e}"))
}

/// Reads a file's SHA-256 and size in 1 MiB pieces (a database part may be large).
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, h.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}

/// The file of a `sqlite://PATH` (or plain path) address.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty() && rest != ":memory:").then(|| PathBuf::from(rest))
}

/// A PostgreSQL address without its password, and the password (handed to the client tools
/// in `PGPASSWORD`, so that it shows in no process list).
fn without_password(url: &str) -> (String, Option<String>) {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let password = u.password().map(|p| {
                url::form_urlencoded::parse(format!("p={p}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            });
            let _ = u.set_password(None);
            (u.to_string(), password)
        }
        Err(_) => (url.to_string(), None),
    }
}

/// Runs a PostgreSQL client tool, on the database at `url` when given (as `--dbname`); its
/// error output becomes the error.
async fn run_tool(program: &str, url: Option<&str>, args: &[&str]) -> Result<()> {
    let mut cmd = tokio::process::Command::new(program);
    if let Some(url) = url {
        let (plain, password) = without_password(url);
        cmd.arg(format!("--dbname={plain}"));
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
    }
    let out =
        cmd.args(args).stdin(std::process::Stdio::null()).output().await.map_err(|e| {
            StoreError::Io(format!("không chạy được {program} (cài gói postgresql-client): {e}"))
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(StoreError::Io(format!("{program} báo lỗi: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}

impl Store {
    /// Makes a backup into `dir` (created; it must not hold anything yet): the database, the
    /// files of `files`, the manifest; verified before it is answered. On failure what was
    /// written is removed.
    pub async fn backup_to(
        &self,
        files: &FileStore,
        dir: &Path,
        progress: &mut (dyn FnMut(BackupStep) + Send),
    ) -> Result<Manifest> {
        if dir.exists() && std::fs::read_dir(dir).map_err(|e| io("thư mục sao lưu", e))?.next().is_some()
        {
            return Err(StoreError::Conflict(format!(
                "thư mục sao lưu {} đã có tệp; chọn một thư mục mới",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| io("không tạo được thư mục sao lưu", e))?;
        let made = self.write_backup(files, dir, progress).await;
        if made.is_err() {
            let _ = std::fs::remove_dir_all(dir);
        }
        made
    }

    async fn write_backup(
        &self,
        files: &FileStore,
        dir: &Path,
        progress: &mut (dyn FnMut(BackupStep) + Send),
    ) -> Result<Manifest> {
        let created_at = Utc::now();
        progress(BackupStep::Database);
        let schema_version = self.schema_version().await?;
        let (backend, db_part) = match &self.backend {
            Backend::Sqlite(pool) => {
                let target = dir.join(SQLITE_PART);
                let literal = target.to_string_lossy().replace('\'', "''");
                sqlx::query(&format!("VACUUM INTO '{literal}'")).execute(pool).await?;
                check_sqlite_copy(&target, schema_version).await?;
                ("sqlite", SQLITE_PART)
            }
            Backend::Postgres(_) => {
                let target = dir.join(PG_PART);
                let file = target.to_string_lossy().to_string();
                run_tool("pg_dump", Some(&self.url), &["--format=custom", "--no-owner", "--file", &file])
                    .await?;
                run_tool("pg_restore", None, &["--list", &file]).await?;
                ("postgres", PG_PART)
            }
        };
        let mut parts = vec![db_part.to_string()];
        let files_in = match files {
            FileStore::Database(_) => "database",
            FileStore::Dir(_) => {
                let names = files.list().await?;
                let total = names.len();
                for (i, sha) in names.iter().enumerate() {
                    let Some(bytes) = files.get(sha).await? else { continue };
                    if sha256_hex(&bytes) != *sha {
                        return Err(StoreError::Corrupt(format!(
                            "tệp {sha} trong kho tệp không khớp mã SHA-256 của nó"
                        )));
                    }
                    let rel = format!("files/{}/{sha}", &sha[..2]);
                    write_atomically(&dir.join(&rel), &bytes).await.map_err(|e| io(&rel, e))?;
                    parts.push(rel);
                    progress(BackupStep::Files { done: i + 1, total });
                }
                if backend == "sqlite" {
                    let copied: std::collections::BTreeSet<&str> = names.iter().map(String::as_str).collect();
                    let missing = referenced_files(&dir.join(SQLITE_PART))
                        .await?
                        .into_iter()
                        .filter(|s| !copied.contains(s.as_str()))
                        .count();
                    if missing > 0 {
                        return Err(StoreError::Corrupt(format!(
                            "{missing} tệp mà cơ sở dữ liệu nhắc tới không có trong kho tệp"
                        )));
                    }
                }
                "folder"
            }
        };
        let total = parts.len();
        let mut listed = Vec::with_capacity(total);
        for (i, rel) in parts.iter().enumerate() {
            let path = dir.join(rel);
            let (bytes, sha256) = tokio::task::spawn_blocking(move || hash_file(&path))
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
                .map_err(|e| io(rel, e))?;
            if let Some(name) = rel.strip_prefix("files/").and_then(|r| r.get(3..)) {
                if name != sha256 {
                    return Err(StoreError::Corrupt(format!(
                        "bản sao của tệp {name} không khớp khi đọc lại"
                    )));
                }
            }
            listed.push(Part { path: rel.clone(), bytes, sha256 });
            progress(BackupStep::Verify { done: i + 1, total });
        }
        let manifest = Manifest {
            format: 1,
            danvan_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at,
            backend: backend.to_string(),
            schema_version,
            files_in: files_in.to_string(),
            parts: listed,
        };
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Io(e.to_string()))?;
        write_atomically(&dir.join(MANIFEST), &text).await.map_err(|e| io(MANIFEST, e))?;
        verify_backup(dir, &mut |_| {}).await?;
        Ok(manifest)
    }

    /// Records a backup's outcome.
    pub async fn record_backup(&self, r: &BackupRecord) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = crate::WritePool::begin_write(pool).await?;
            sqlx::query(crate::BUMP).bind(crate::BACKUPS_COUNTER).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO backups (started_at, finished_at, ok, location, bytes, message) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.started_at)
            .bind(r.finished_at)
            .bind(r.ok)
            .bind(&r.location)
            .bind(r.bytes)
            .bind(&r.message)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims the scheduled backup of a period (its number): true for the first server to ask,
    /// false for every other, so that several servers on one database back up once.
    pub async fn claim_backup_slot(&self, slot: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query("INSERT INTO backup_slots (slot, claimed_at) VALUES ($1, $2) ON CONFLICT (slot) DO NOTHING")
                .bind(slot)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Gives a claimed period back (its backup failed), so that a retry may claim it again.
    pub async fn release_backup_slot(&self, slot: i64) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM backup_slots WHERE slot = $1").bind(slot).execute(pool).await?;
        });
        Ok(())
    }

    /// The last backups recorded, newest first.
    pub async fn recent_backups(&self, limit: i64) -> Result<Vec<BackupRecord>> {
        type Row = (DateTime<Utc>, DateTime<Utc>, bool, String, i64, String);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT started_at, finished_at, ok, location, bytes, message FROM backups \
                 ORDER BY finished_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(started_at, finished_at, ok, location, bytes, message)| BackupRecord {
                started_at,
                finished_at,
                ok,
                location,
                bytes,
                message,
            })
            .collect())
    }

    /// What is wrong with the database itself: on SQLite, `integrity_check` and
    /// `foreign_key_check`; on either, every row of every table read. Empty when all is well.
    pub async fn check_integrity(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        if let Backend::Sqlite(pool) = &self.backend {
            let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(pool).await?;
            if verdict != ["ok"] {
                problems.extend(verdict);
            }
            let dangling: Vec<(String, i64)> =
                sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check")
                    .fetch_all(pool)
                    .await?;
            problems.extend(
                dangling.into_iter().map(|(t, id)| format!("{t} #{id}: khóa ngoại trỏ tới dòng không có")),
            );
        }
        if let Err(e) = self.table_checksums().await {
            problems.push(e.to_string());
        }
        Ok(problems)
    }

    /// Writes what the write-ahead log holds into the database file and empties the log
    /// (SQLite; nothing on PostgreSQL). Run at a graceful stop.
    pub async fn checkpoint(&self) -> Result<()> {
        if let Backend::Sqlite(pool) = &self.backend {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        }
        Ok(())
    }
}

/// Opens an SQLite copy on its own, read-only: it must pass `integrity_check` and hold the
/// schema version expected.
async fn check_sqlite_copy(path: &Path, schema_version: i64) -> Result<()> {
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await?;
    let _ = conn.close().await;
    if verdict != ["ok"] {
        return Err(StoreError::Corrupt(format!(
            "bản sao không qua kiểm tra toàn vẹn: {}",
            verdict.join("; ")
        )));
    }
    if version != Some(schema_version) {
        return Err(StoreError::Corrupt(format!(
            "bản sao có phiên bản cấu trúc {version:?}, cần {schema_version}"
        )));
    }
    Ok(())
}

/// The SHA-256 of every file that the rows of an SQLite database refer to.
async fn referenced_files(path: &Path) -> Result<Vec<String>> {
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let shas: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM evidence UNION SELECT sha256 FROM activity_files")
            .fetch_all(&mut conn)
            .await?;
    let _ = conn.close().await;
    Ok(shas)
}

/// Reads a backup's manifest and checks every part against it (size and SHA-256), and an SQLite
/// part's integrity. Answers the manifest when all is whole.
pub async fn verify_backup(dir: &Path, progress: &mut (dyn FnMut(BackupStep) + Send)) -> Result<Manifest> {
    let text = std::fs::read(dir.join(MANIFEST))
        .map_err(|e| io(&format!("{} không phải bản sao lưu (thiếu {MANIFEST})", dir.display()), e))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| StoreError::Invalid(format!("{MANIFEST} hỏng: {e}")))?;
    if manifest.format != 1 {
        return Err(StoreError::Invalid(format!(
            "{MANIFEST}: định dạng {} chưa được hỗ trợ",
            manifest.format
        )));
    }
    let expected_db = match manifest.backend.as_str() {
        "sqlite" => SQLITE_PART,
        "postgres" => PG_PART,
        other => return Err(StoreError::Invalid(format!("{MANIFEST}: loại cơ sở dữ liệu \"{other}\" lạ"))),
    };
    if manifest.parts.first().map(|p| p.path.as_str()) != Some(expected_db) {
        return Err(StoreError::Invalid(format!("{MANIFEST}: thiếu phần cơ sở dữ liệu {expected_db}")));
    }
    let mut problems = Vec::new();
    let total = manifest.parts.len();
    for (i, part) in manifest.parts.iter().enumerate() {
        // A part is the database or a file named by its SHA-256: nothing else, nowhere else.
        let plain = part.path == expected_db
            || part.path.strip_prefix("files/").is_some_and(|r| {
                r.len() == 67 && r.get(2..3) == Some("/") && is_sha256(&r[3..]) && r[..2] == r[3..5]
            });
        if !plain {
            problems.push(format!("{}: tên phần không hợp lệ", part.path));
            continue;
        }
        let path = dir.join(&part.path);
        match tokio::task::spawn_blocking(move || hash_file(&path)).await {
            Ok(Ok((bytes, sha))) if bytes == part.bytes && sha == part.sha256 => {}
            Ok(Ok((bytes, _))) => problems.push(format!(
                "{}: nội dung khác với lúc sao lưu ({bytes} byte, cần {})",
                part.path, part.bytes
            )),
            Ok(Err(e)) => problems.push(format!("{}: {e}", part.path)),
            Err(e) => problems.push(format!("{}: {e}", part.path)),
        }
        progress(BackupStep::Verify { done: i + 1, total });
    }
    if !problems.is_empty() {
        return Err(StoreError::Corrupt(format!("bản sao lưu không nguyên vẹn:\n{}", problems.join("\n"))));
    }
    if manifest.backend == "sqlite" {
        check_sqlite_copy(&dir.join(SQLITE_PART), manifest.schema_version).await?;
    }
    Ok(manifest)
}

/// Whether a PostgreSQL database has any table in its schema.
async fn pg_has_tables(url: &str) -> Result<bool> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await?;
    let _ = conn.close().await;
    Ok(n > 0)
}

/// Restores a backup into the database at `url`: checks the manifest, refuses a database with
/// data of its own unless `force`, restores, migrates forward, and puts the files where `files`
/// says. Answers the manifest and the restored store.
pub async fn restore(
    dir: &Path,
    url: &str,
    files: FilesTarget,
    force: bool,
    progress: &mut (dyn FnMut(BackupStep) + Send),
) -> Result<(Manifest, Store)> {
    let manifest = verify_backup(dir, progress).await?;
    let target_is_pg = sqlite_path(url).is_none();
    // What the target holds now.
    let exists = match sqlite_path(url) {
        Some(p) => p.exists(),
        None => pg_has_tables(url).await?,
    };
    if exists {
        let current = Store::connect(url).await?;
        let has_schema = current.schema_version().await.is_ok();
        let full = has_schema && current.holds_data().await?;
        current.close().await;
        if full && !force {
            return Err(StoreError::Conflict(
                "cơ sở dữ liệu đích đã có dữ liệu; khôi phục đè lên bằng --force (dữ liệu hiện có sẽ mất)"
                    .into(),
            ));
        }
    }
    progress(BackupStep::Database);
    let store = match (manifest.backend.as_str(), target_is_pg) {
        ("sqlite", false) => {
            let target = sqlite_path(url).ok_or_else(|| StoreError::Url(url.into()))?;
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io("thư mục cơ sở dữ liệu", e))?;
            }
            let tmp = PathBuf::from(format!("{}.restoring", target.display()));
            std::fs::copy(dir.join(SQLITE_PART), &tmp).map_err(|e| io("chép cơ sở dữ liệu", e))?;
            std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| io("chép cơ sở dữ liệu", e))?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::rename(&tmp, &target).map_err(|e| io("chép cơ sở dữ liệu", e))?;
            Store::open(url).await?
        }
        ("sqlite", true) => {
            // Into PostgreSQL through a copy: the backup's file is copied aside (it stays as it
            // was), brought to this version, and every table copied over.
            let scratch = std::env::temp_dir().join(format!("danvan-restore-{}.db", std::process::id()));
            std::fs::copy(dir.join(SQLITE_PART), &scratch).map_err(|e| io("chép cơ sở dữ liệu", e))?;
            let copied = async {
                let from = Store::open(&format!("sqlite://{}", scratch.display())).await?;
                reset_pg(url).await?;
                let to = Store::open(url).await?;
                let mut quiet = |_: &str, _: u64, _: u64| {};
                let done = from.copy_into(&to, &mut quiet).await;
                from.close().await;
                done.map(|_| to)
            }
            .await;
            let _ = std::fs::remove_file(&scratch);
            copied?
        }
        ("postgres", true) => {
            reset_pg(url).await?;
            let file = dir.join(PG_PART).to_string_lossy().to_string();
            run_tool("pg_restore", Some(url), &["--no-owner", "--no-privileges", "--exit-on-error", &file])
                .await?;
            Store::open(url).await?
        }
        _ => {
            return Err(StoreError::Invalid(
                "bản sao lưu PostgreSQL chỉ khôi phục vào PostgreSQL (rồi dùng danvan copy nếu cần SQLite)"
                    .into(),
            ))
        }
    };
    place_files(dir, &manifest, &store, &files, progress).await?;
    Ok((manifest, store))
}

/// Empties a PostgreSQL database's schema (a restore goes into a clean one).
async fn reset_pg(url: &str) -> Result<()> {
    if !pg_has_tables(url).await? {
        return Ok(());
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("DROP SCHEMA public CASCADE").execute(&mut conn).await?;
    sqlx::query("CREATE SCHEMA public").execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(())
}

/// Puts the backup's files where the restored server keeps them.
async fn place_files(
    dir: &Path,
    manifest: &Manifest,
    store: &Store,
    files: &FilesTarget,
    progress: &mut (dyn FnMut(BackupStep) + Send),
) -> Result<()> {
    let target = match files {
        FilesTarget::Dir(root) => FileStore::Dir(root.clone()),
        FilesTarget::Database => FileStore::Database(store.clone()),
    };
    match (manifest.files_in.as_str(), files) {
        ("folder", _) => {
            let names: Vec<&Part> = manifest.parts.iter().filter(|p| p.path.starts_with("files/")).collect();
            let total = names.len();
            for (i, part) in names.iter().enumerate() {
                let bytes = std::fs::read(dir.join(&part.path)).map_err(|e| io(&part.path, e))?;
                target.put(&part.sha256, &bytes).await?;
                progress(BackupStep::Files { done: i + 1, total });
            }
        }
        ("database", FilesTarget::Dir(root)) => {
            // Files came inside the database; this server keeps them in a folder.
            let inside = FileStore::Database(store.clone());
            let names = inside.list().await?;
            let total = names.len();
            for (i, sha) in names.iter().enumerate() {
                if let Some(bytes) = inside.get(sha).await? {
                    write_atomically(&path_of(root, sha), &bytes).await.map_err(|e| io(sha, e))?;
                }
                progress(BackupStep::Files { done: i + 1, total });
            }
            with_pool!(store, pool => { sqlx::query("DELETE FROM file_chunks").execute(pool).await?; });
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_leaves_the_address_for_the_environment() {
        let (plain, password) =
            without_password("postgres://danvan:m%E1%BA%ADt%40kh%E1%BA%A9u@db:5432/danvan");
        assert_eq!(plain, "postgres://danvan@db:5432/danvan");
        assert_eq!(password.as_deref(), Some("mật@khẩu"));
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".into(), None)
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/danvan/danvan.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/danvan/danvan.db"))
        );
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
