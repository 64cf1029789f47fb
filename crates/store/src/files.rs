//! Where uploaded files' bytes are kept, named by their SHA-256: a folder of the data directory
//! (the default, for one server) or the database itself (chunked rows: for several servers on
//! one PostgreSQL database, and a backup of the database then carries the files too).
//!
//! The keeper above this (the web crate's `files`) decides when bytes may be written or
//! removed; this only keeps them.

use std::path::{Path, PathBuf};

use crate::{with_pool, Result, Store, StoreError, WritePool};

/// The largest chunk of a file kept in the database (1 MiB): rows stay small for both
/// databases, and a 10 MB file is ten rows.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Where files are kept.
#[derive(Clone, Debug)]
pub enum FileStore {
    /// A folder: the bytes of `ab12…` in `ROOT/ab/ab12…`.
    Dir(PathBuf),
    /// The database's `file_chunks` table.
    Database(Store),
}

/// Where the bytes of a SHA-256 are kept under `root`.
pub fn path_of(root: &Path, sha256: &str) -> PathBuf {
    root.join(sha256.get(..2).unwrap_or("__")).join(sha256)
}

/// Whether a name is a SHA-256 in lowercase hex (what every kept file is named).
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The SHA-256 of bytes, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes bytes to `path` through a temporary file beside it, synced and renamed into place; on
/// any failure the temporary file is removed and the path is left as it was.
pub async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no folder"))?;
    tokio::fs::create_dir_all(dir).await?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, path).await?;
        // The rename itself is durable only once the folder is synced.
        if let Ok(d) = tokio::fs::File::open(dir).await {
            let _ = d.sync_all().await;
        }
        Ok(())
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    written
}

impl FileStore {
    /// `files = "dir"` (under `dir`) or `files = "database"`.
    pub fn from_setting(setting: &str, dir: PathBuf, store: &Store) -> Result<Self> {
        match setting {
            "dir" => Ok(Self::Dir(dir)),
            "database" => Ok(Self::Database(store.clone())),
            other => Err(StoreError::Invalid(format!(
                "files phải là \"dir\" (thư mục dữ liệu) hoặc \"database\" (trong cơ sở dữ liệu), không phải \"{other}\""
            ))),
        }
    }

    /// The setting's word for this store.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Dir(_) => "dir",
            Self::Database(_) => "database",
        }
    }

    /// Keeps the bytes of `sha256` (which the caller computed from them). Bytes already kept
    /// whole are not written again; a copy of another length (cut short before) is replaced.
    pub async fn put(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        if !is_sha256(sha256) {
            return Err(StoreError::Invalid(format!("\"{sha256}\" không phải mã SHA-256")));
        }
        match self {
            Self::Dir(root) => {
                let path = path_of(root, sha256);
                let whole = tokio::fs::metadata(&path)
                    .await
                    .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
                if !whole {
                    write_atomically(&path, bytes).await.map_err(io)?;
                }
                Ok(())
            }
            Self::Database(store) => store.put_file(sha256, bytes).await,
        }
    }

    /// The bytes of `sha256`, if kept.
    pub async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        match self {
            Self::Dir(root) => match tokio::fs::read(path_of(root, sha256)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(e)),
            },
            Self::Database(store) => store.file_bytes(sha256).await,
        }
    }

    /// Forgets the bytes of `sha256` (nothing when not kept).
    pub async fn remove(&self, sha256: &str) -> Result<()> {
        if !is_sha256(sha256) {
            return Ok(());
        }
        match self {
            Self::Dir(root) => match tokio::fs::remove_file(path_of(root, sha256)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io(e)),
            },
            Self::Database(store) => {
                with_pool!(store, pool => {
                    sqlx::query("DELETE FROM file_chunks WHERE sha256 = $1").bind(sha256).execute(pool).await?;
                });
                Ok(())
            }
        }
    }

    /// The SHA-256 of every file kept, in order.
    pub async fn list(&self) -> Result<Vec<String>> {
        match self {
            Self::Dir(root) => {
                let root = root.clone();
                tokio::task::spawn_blocking(move || list_dir(&root))
                    .await
                    .map_err(|e| StoreError::Invalid(e.to_string()))?
            }
            Self::Database(store) => {
                let names: Vec<String> = with_pool!(store, pool => {
                    sqlx::query_scalar("SELECT DISTINCT sha256 FROM file_chunks ORDER BY sha256")
                        .fetch_all(pool)
                        .await?
                });
                Ok(names)
            }
        }
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The names of the files kept in a folder (temporary files and anything not named by a
/// SHA-256 are left out); a missing folder holds none.
fn list_dir(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let dirs = match std::fs::read_dir(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(e)),
    };
    for dir in dirs {
        let dir = dir.map_err(io)?;
        if !dir.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).map_err(io)? {
            let f = f.map_err(io)?;
            if let Some(name) = f.file_name().to_str().filter(|n| is_sha256(n)) {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Store {
    /// Keeps a file's bytes in `file_chunks`, in one transaction: a file already kept whole is
    /// left; one of another length is replaced.
    async fn put_file(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let kept: Option<i64> = sqlx::query_scalar(
                "SELECT SUM(LENGTH(bytes)) FROM file_chunks WHERE sha256 = $1",
            )
            .bind(sha256)
            .fetch_one(&mut *tx)
            .await?;
            if kept != Some(bytes.len() as i64) {
                sqlx::query("DELETE FROM file_chunks WHERE sha256 = $1").bind(sha256).execute(&mut *tx).await?;
                for (seq, chunk) in bytes.chunks(CHUNK_BYTES).enumerate() {
                    sqlx::query("INSERT INTO file_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)")
                        .bind(sha256)
                        .bind(seq as i64)
                        .bind(chunk)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn file_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let chunks: Vec<Vec<u8>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT bytes FROM file_chunks WHERE sha256 = $1 ORDER BY seq")
                .bind(sha256)
                .fetch_all(pool)
                .await?
        });
        if chunks.is_empty() {
            return Ok(None);
        }
        Ok(Some(chunks.concat()))
    }
}
